package issuerapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/credence/credence/internal/httpx"
	"github.com/gin-gonic/gin"
)

// Assets serves the JSON-LD contexts and JSON Schemas credentials refer to,
// from the copies embedded in the binary: a context or schema whose URL is
// https://host/p is served at /contexts/host/p or /schemas/host/p, and the
// healthcare context also at /contexts/healthcare/v1. Verifiers never need
// these (they embed the same bytes); people and other implementations do.
type Assets struct {
	Contexts map[string][]byte // URL -> bytes
	Schemas  map[string][]byte // URL -> bytes
	// Aliases maps extra paths (e.g. "/contexts/healthcare/v1") to URLs.
	Aliases map[string]string
}

// Routes mounts the asset routes.
func (a *Assets) Routes(r gin.IRoutes) {
	r.GET("/contexts/*path", a.serve("/contexts", a.Contexts, "application/ld+json"))
	r.GET("/schemas/*path", a.serve("/schemas", a.Schemas, "application/schema+json"))
}

func (a *Assets) serve(prefix string, files map[string][]byte, media string) gin.HandlerFunc {
	byPath := map[string][]byte{}
	for u, b := range files {
		if p, ok := localPath(u); ok {
			byPath[prefix+p] = b
		}
	}
	for alias, u := range a.Aliases {
		if strings.HasPrefix(alias, prefix+"/") {
			if b, ok := files[u]; ok {
				byPath[alias] = b
			}
		}
	}
	return func(c *gin.Context) {
		b, ok := byPath[prefix+c.Param("path")]
		if !ok {
			httpx.WriteProblem(c, httpx.NotFound("no such document"))
			return
		}
		c.Header("Cache-Control", "public, max-age=86400, immutable")
		c.Header("Access-Control-Allow-Origin", "*")
		c.Data(http.StatusOK, media, b)
	}
}

// localPath maps https://host/p to /host/p.
func localPath(u string) (string, bool) {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return "", false
	}
	return path.Clean("/" + pu.Host + "/" + strings.TrimPrefix(pu.Path, "/")), true
}
