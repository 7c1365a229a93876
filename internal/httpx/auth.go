package httpx

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/credence/credence/internal/auth"
	"github.com/gin-gonic/gin"
)

const tokenKey = "credence.token"

// Authenticator resolves a bearer secret to a token.
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (auth.Token, error)
}

// Require admits requests whose bearer token grants scope: 401 without a valid
// token (with a WWW-Authenticate challenge), 403 when the token lacks the scope.
func Require(a Authenticator, log *slog.Logger, scope string) gin.HandlerFunc {
	return RequireScope(a, log, func(*gin.Context) string { return scope })
}

// RequireScope is Require with the scope computed per request, e.g. from a
// path parameter ("issuer:" + c.Param("issuer")).
func RequireScope(a Authenticator, log *slog.Logger, scopeOf func(*gin.Context) string) gin.HandlerFunc {
	return func(c *gin.Context) {
		scope := scopeOf(c)
		h := c.GetHeader("Authorization")
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || secret == "" {
			c.Header("WWW-Authenticate", `Bearer realm="credence"`)
			WriteProblem(c, Unauthorized("this endpoint requires a bearer token"))
			return
		}
		tok, err := a.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
		if errors.Is(err, auth.ErrInvalidToken) {
			c.Header("WWW-Authenticate", `Bearer realm="credence", error="invalid_token"`)
			WriteProblem(c, Unauthorized("the bearer token is not valid"))
			return
		}
		if err != nil {
			Error(c, log, err)
			return
		}
		if !tok.Allows(scope) {
			c.Header("WWW-Authenticate", `Bearer realm="credence", error="insufficient_scope", scope="`+scope+`"`)
			WriteProblem(c, Forbidden("the token does not grant scope "+scope))
			return
		}
		c.Set(tokenKey, tok)
		c.Next()
	}
}

// TokenOf returns the token Require admitted.
func TokenOf(c *gin.Context) (auth.Token, bool) {
	v, ok := c.Get(tokenKey)
	if !ok {
		return auth.Token{}, false
	}
	t, ok := v.(auth.Token)
	return t, ok
}
