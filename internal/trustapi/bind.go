package trustapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
)

// bindStrict decodes a JSON object body of at most MaxBodyBytes into v,
// rejecting unknown members, duplicate names and trailing data, and answers
// 400 (413 for a body too large) itself on failure. With optional, an empty
// body leaves v as it is.
func bindStrict(c *gin.Context, log *slog.Logger, v any, optional bool) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		httpx.Error(c, log, err)
		return false
	}
	if optional && len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("the body is not a JSON object: "+err.Error()))
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("invalid request: "+err.Error()))
		return false
	}
	return true
}
