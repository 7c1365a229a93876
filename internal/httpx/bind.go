package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"

	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
)

// BindStrict decodes a JSON object body into v — repeated member names,
// unknown members and trailing data are 400 — and answers the problem
// itself on failure. Numbers bound to interface values stay json.Number.
// With optional, an empty body leaves v as it is.
func BindStrict(c *gin.Context, log *slog.Logger, v any, optional bool) bool {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		Error(c, log, err)
		return false
	}
	if optional && len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		WriteProblem(c, BadRequest("the body is not a JSON object: "+err.Error()))
		return false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		WriteProblem(c, BadRequest("invalid request: "+err.Error()))
		return false
	}
	return true
}
