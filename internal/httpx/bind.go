package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"
)

// BindStrict decodes a JSON object body into v — repeated member names,
// unknown members and trailing data are 400 — and answers the problem
// itself on failure. Numbers bound to interface values stay json.Number.
// With optional, an empty body leaves v as it is.
func BindStrict(c *gin.Context, log *slog.Logger, v any, optional bool) bool {
	raw, err := readBody(c.Request)
	if err != nil {
		Error(c, log, err)
		return false
	}
	if optional && len(bytes.TrimSpace(raw)) == 0 {
		return true
	}
	if su, ok := v.(StrictUnmarshaler); ok {
		if err := su.UnmarshalStrict(raw); err != nil {
			WriteProblem(c, BadRequest("invalid request: "+err.Error()))
			return false
		}
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

// StrictUnmarshaler is a body that decodes itself in one pass with the
// checks BindStrict makes (one JSON object, valid UTF-8, no repeated names
// at any depth, no unknown members, nothing after it): the verify routes,
// whose bodies carry whole credentials, use it to read them once.
type StrictUnmarshaler interface {
	UnmarshalStrict(raw []byte) error
}

// DecodeMembers reads raw, which must be exactly one JSON object, with
// jsontext (duplicate names and invalid UTF-8 are errors at every depth)
// and hands each member's name and raw value to member, which answers an
// error for an unknown name. The value is a subslice of raw: the callee may
// keep it as long as raw is not modified.
func DecodeMembers(raw []byte, member func(name string, value []byte) error) error {
	// From a bytes.Buffer jsontext parses in place, without copying raw
	// into a buffer of its own.
	d := jsontext.NewDecoder(bytes.NewBuffer(raw))
	tok, err := d.ReadToken()
	if err != nil {
		return err
	}
	if tok.Kind() != '{' {
		return errors.New("the body is not a JSON object")
	}
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String() // before the next read voids tok
		val, err := d.ReadValue()
		if err != nil {
			return err
		}
		end := int(d.InputOffset())
		if err := member(name, raw[end-len(val):end:end]); err != nil {
			return err
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// UnmarshalMember decodes a small member strictly (unknown fields are
// errors; numbers in interface values stay json.Number).
func UnmarshalMember(name string, value []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(value))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// readBody reads the whole request body. A body that states its length is
// read into one buffer of that size (io.ReadAll would grow one step by
// step); the server's body limit still applies, since it wraps the body.
func readBody(r *http.Request) ([]byte, error) {
	n := r.ContentLength
	if n <= 0 || n > 64<<20 {
		return io.ReadAll(r.Body)
	}
	buf := make([]byte, n+1)
	got, err := io.ReadFull(r.Body, buf)
	switch {
	case err == nil: // more than it said: read on
		rest, err := io.ReadAll(r.Body)
		return append(buf, rest...), err
	case int64(got) == n && errors.Is(err, io.ErrUnexpectedEOF):
		return buf[:got], nil
	case int64(got) < n && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		return nil, io.ErrUnexpectedEOF // shorter than it said
	default:
		return nil, err
	}
}
