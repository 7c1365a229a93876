package verifierapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/verifier/audit"
	"github.com/gin-gonic/gin"
)

// MediaNDJSON is the media type of an audit export.
const MediaNDJSON = "application/x-ndjson"

// Audit serves the audit log of verification decisions: a verifier reads
// its own chain, an admin any chain.
type Audit struct {
	Log    *audit.Log
	Logger *slog.Logger
}

// Routes mounts, on tenant (behind RequireTenant), GET /verifier/audit (the
// caller's chain as a signed export) and GET /verifier/audit/head; on admin
// (behind the admin scope), GET /admin/audit/:chain (any chain's export).
func (a *Audit) Routes(tenant, admin gin.IRoutes) {
	tenant.GET("/verifier/audit", a.exportOwn)
	tenant.GET("/verifier/audit/head", a.head)
	admin.GET("/admin/audit/:chain", a.exportAny)
}

func (a *Audit) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// ownChain is the chain of the caller's tenant (audit.DefaultChain for an
// admin token). ok is false, and the request answered 401, when no token
// was checked: the routes must be mounted behind RequireTenant.
func ownChain(c *gin.Context) (string, bool) {
	if Requester(c) == Anonymous {
		c.Header("WWW-Authenticate", `Bearer realm="credence"`)
		httpx.WriteProblem(c, httpx.Unauthorized("the audit log requires a verifier bearer token"))
		return "", false
	}
	if t := Tenant(c); t != "" {
		return t, true
	}
	return audit.DefaultChain, true
}

func (a *Audit) exportOwn(c *gin.Context) {
	if chain, ok := ownChain(c); ok {
		a.export(c, chain)
	}
}

func (a *Audit) exportAny(c *gin.Context) {
	if tok, ok := httpx.TokenOf(c); !ok || !tok.Allows(auth.ScopeAdmin) {
		httpx.WriteProblem(c, httpx.Forbidden("reading any audit chain requires an admin token"))
		return
	}
	chain := c.Param("chain")
	if !audit.ValidChain(chain) {
		httpx.WriteProblem(c, httpx.BadRequest("a chain name is 1 to 128 letters, digits, '.', '_' or '-'"))
		return
	}
	a.export(c, chain)
}

func (a *Audit) head(c *gin.Context) {
	chain, ok := ownChain(c)
	if !ok {
		return
	}
	h, err := a.Log.Head(c.Request.Context(), chain)
	if err != nil {
		httpx.Error(c, a.logger(), err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", h)
}

// export streams the chain. A failure before the first byte is an ordinary
// problem response; after it, the export lacks its signed head, which any
// verifier reports as a truncated export, and the cause is logged.
func (a *Audit) export(c *gin.Context, chain string) {
	h := c.Writer.Header()
	h.Set("Content-Type", MediaNDJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="audit-`+chain+`.jsonl"`)
	w := &startWriter{w: c.Writer}
	err := a.Log.Export(c.Request.Context(), chain, w)
	switch {
	case err == nil:
	case !w.started:
		h.Del("Content-Disposition")
		if errors.Is(err, audit.ErrInvalidChain) {
			httpx.WriteProblem(c, httpx.BadRequest("invalid chain name"))
			return
		}
		httpx.Error(c, a.logger(), err)
	default:
		a.logger().ErrorContext(c.Request.Context(), "audit export failed after it started",
			"request_id", httpx.RequestID(c), "chain", chain, "err", err)
	}
}

// startWriter records whether anything was written.
type startWriter struct {
	w       gin.ResponseWriter
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	s.started = true
	n, err := s.w.Write(p)
	s.w.Flush()
	return n, err
}
