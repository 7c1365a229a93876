package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/credence/credence/internal/config"
	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route a server
// of all roles serves. It is written by hand; the tests in openapi_test.go
// hold it to the routes the server mounts (both ways), to the routes' auth
// behaviour, to the status codes and media types they answer, and to the
// OpenAPI 3.1 specification (an independent validator).
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIRoutes mounts GET /openapi.json: the document, with servers naming
// this server's public URL. It is public and cacheable (revalidate with the
// ETag), and any origin may read it. Until setOpenAPI (after the roles are
// mounted) it is the whole document.
func (s *Server) openAPIRoutes(e *gin.Engine) {
	s.setOpenAPI(openAPIDocument)
	e.GET("/openapi.json", func(c *gin.Context) {
		doc, etag := s.openAPI.doc, s.openAPI.etag
		c.Header("Cache-Control", "public, max-age=300")
		c.Header("ETag", etag)
		c.Header("Access-Control-Allow-Origin", "*")
		if etagMatches(c.GetHeader("If-None-Match"), etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json", doc)
	})
}

// setOpenAPI serves doc, with servers naming the public URL.
func (s *Server) setOpenAPI(doc []byte) {
	out, err := withServers(doc, s.cfg.PublicURL)
	if err != nil { // only a broken embedded document; its test fails first
		s.log.Error("failed to set the servers of openapi.json; serving it as embedded", "err", err)
		out = doc
	}
	s.openAPI.doc, s.openAPI.etag = out, fmt.Sprintf(`"%x"`, sha256.Sum256(out))
}

// openAPIForRoles serves the document of the routes this server mounted:
// a server of some roles describes only what it answers.
func (s *Server) openAPIForRoles() {
	doc, err := forOperations(openAPIDocument, servedOperations(s.routeTable, s.cfg.Serves(config.RoleRegistry)))
	if err != nil { // only a broken embedded document; its test fails first
		s.log.Error("failed to trim openapi.json to this server's roles; serving the whole document", "err", err)
		return
	}
	s.setOpenAPI(doc)
}

// withServers returns doc, compacted, with its servers naming url alone,
// placed after info; the other members keep their order.
func withServers(doc []byte, url string) ([]byte, error) {
	top, err := members(doc)
	if err != nil {
		return nil, err
	}
	servers, err := json.Marshal([]map[string]string{{"url": url, "description": "This server"}})
	if err != nil {
		return nil, err
	}
	var out []member
	for _, m := range top {
		if m.name == "servers" {
			continue
		}
		out = append(out, m)
		if m.name == "info" {
			out = append(out, member{"servers", servers})
		}
	}
	var b bytes.Buffer
	if err := json.Compact(&b, object(out)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// etagMatches reports whether an If-None-Match header names etag (a list,
// weak comparison, or "*").
func etagMatches(header, etag string) bool {
	for _, m := range strings.Split(header, ",") {
		if m = strings.TrimPrefix(strings.TrimSpace(m), "W/"); m == etag || m == "*" {
			return true
		}
	}
	return false
}
