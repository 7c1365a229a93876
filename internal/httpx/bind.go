package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"

	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"
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
	// jsontext validates (syntax, UTF-8, unique names at every level)
	// without building the value; vc.DecodeObject explains a failure.
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' || !jsontext.Value(raw).IsValid() {
		detail := "must be an object"
		if _, err := vc.DecodeObject(raw); err != nil {
			detail = err.Error()
		}
		WriteProblem(c, BadRequest("the body is not a JSON object: "+detail))
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
