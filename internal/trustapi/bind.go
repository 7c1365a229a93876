package trustapi

import (
	"log/slog"
	"net/http"

	"github.com/credence/credence/internal/httpx"
	"github.com/gin-gonic/gin"
)

// bindStrict is httpx.BindStrict over a body of at most MaxBodyBytes (413
// beyond).
func bindStrict(c *gin.Context, log *slog.Logger, v any, optional bool) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes)
	return httpx.BindStrict(c, log, v, optional)
}
