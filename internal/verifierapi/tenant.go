package verifierapi

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

// Keys of the request context set by the tenant middleware.
const (
	tenantKey    = "credence.verifier"
	requesterKey = "credence.requester"
)

// Anonymous is the requester of a request without a bearer token.
const Anonymous = "anonymous"

// Tenant is the verifier tenant of the request: the id a verifier token
// names, or "" for an anonymous request or an admin token (which use the
// default policy).
func Tenant(c *gin.Context) string { return c.GetString(tenantKey) }

// Requester is who asked: the id of the bearer token ("tok_…", never the
// secret) or Anonymous.
func Requester(c *gin.Context) string {
	if r := c.GetString(requesterKey); r != "" {
		return r
	}
	return Anonymous
}

// RequireTenant admits requests with a verifier token (scope
// verifier:<id>, whose id becomes Tenant) or an admin token (Tenant "").
// Without a valid token: 401; with another kind of token: 403.
func RequireTenant(a httpx.Authenticator, log *slog.Logger) gin.HandlerFunc {
	return tenantMiddleware(a, log, false)
}

// OptionalTenant is RequireTenant for routes anyone may call (the VC-API
// verify routes): a request without an Authorization header is anonymous;
// one with a header must carry a valid verifier or admin token.
func OptionalTenant(a httpx.Authenticator, log *slog.Logger) gin.HandlerFunc {
	return tenantMiddleware(a, log, true)
}

func tenantMiddleware(a httpx.Authenticator, log *slog.Logger, optional bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" && optional {
			c.Next()
			return
		}
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(secret) == "" {
			c.Header("WWW-Authenticate", `Bearer realm="credence"`)
			httpx.WriteProblem(c, httpx.Unauthorized("this endpoint requires a verifier bearer token"))
			return
		}
		tok, err := a.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
		if errors.Is(err, auth.ErrInvalidToken) {
			c.Header("WWW-Authenticate", `Bearer realm="credence", error="invalid_token"`)
			httpx.WriteProblem(c, httpx.Unauthorized("the bearer token is not valid"))
			return
		}
		if err != nil {
			httpx.Error(c, log, err)
			return
		}
		id, ok := tenantOf(tok)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="credence", error="insufficient_scope", scope="verifier"`)
			httpx.WriteProblem(c, httpx.Forbidden("the token is not a verifier's token"))
			return
		}
		c.Set(tenantKey, id)
		c.Set(requesterKey, tok.ID)
		c.Next()
	}
}

// tenantOf finds the verifier a token acts for: the id of its one
// verifier:<id> scope, or "" for an admin token.
func tenantOf(tok auth.Token) (string, bool) {
	for _, s := range tok.Scopes {
		if id, ok := strings.CutPrefix(s, verifier.ScopePrefix); ok && id != "" {
			return id, true
		}
	}
	if tok.Allows(auth.ScopeAdmin) {
		return "", true
	}
	return "", false
}
