package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/credence/credence/registry"
	"github.com/gin-gonic/gin"
)

// ProblemBase prefixes the stable type URI of every Credence problem.
const ProblemBase = "urn:credence:problem:"

// MediaProblem is the RFC 9457 media type.
const MediaProblem = "application/problem+json"

// Problem is an RFC 9457 problem details object. It is also an error, so domain code
// can return one and Error renders it as is.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// Errors lists per-field problems of invalid input.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid input field.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// NewProblem builds a problem whose type is ProblemBase+name.
func NewProblem(status int, name, title, detail string) *Problem {
	return &Problem{Type: ProblemBase + name, Title: title, Status: status, Detail: detail}
}

// Common problems.
func BadRequest(detail string) *Problem {
	return NewProblem(http.StatusBadRequest, "bad-request", "Bad request", detail)
}

// Unauthorized is a missing or invalid bearer token.
func Unauthorized(detail string) *Problem {
	return NewProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
}

// Forbidden is a valid token without the needed permission.
func Forbidden(detail string) *Problem {
	return NewProblem(http.StatusForbidden, "forbidden", "Forbidden", detail)
}

// NotFound is a missing resource.
func NotFound(detail string) *Problem {
	return NewProblem(http.StatusNotFound, "not-found", "Not found", detail)
}

// Conflict is a resource that already exists or changed concurrently.
func Conflict(detail string) *Problem {
	return NewProblem(http.StatusConflict, "conflict", "Conflict", detail)
}

// Error answers a request with the problem err carries. An error that is not a
// *Problem (nor wraps one) is an internal failure: it is logged once with the
// request id and the client gets a generic 500 that leaks nothing. The one
// exception is a ledger that refuses writes (registry.ErrReadOnly: its store
// does not match its last checkpoint, or a witness proved it rolled back):
// that is the 503 problem registry:read-only, logged as an error, whatever
// the route that needed the write.
func Error(c *gin.Context, log *slog.Logger, err error) {
	var p *Problem
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &p):
		cp := *p
		p = &cp
	case errors.As(err, &maxErr):
		p = NewProblem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large",
			"the request body exceeds the limit of this endpoint")
	case errors.Is(err, registry.ErrReadOnly):
		log.ErrorContext(c.Request.Context(), "the ledger refuses writes", "request_id", RequestID(c), "route", c.FullPath(), "err", err)
		p = NewProblem(http.StatusServiceUnavailable, "registry:read-only", registry.ErrReadOnly.Error(),
			"the ledger refuses writes until an operator restores it; reads keep working")
	default:
		log.ErrorContext(c.Request.Context(), "internal error", "request_id", RequestID(c), "route", c.FullPath(), "err", err)
		p = NewProblem(http.StatusInternalServerError, "internal", "Internal server error",
			"the server failed to process the request; quote the request id when reporting it")
	}
	WriteProblem(c, p)
}

// WriteProblem writes p with the request id and aborts the handler chain.
func WriteProblem(c *gin.Context, p *Problem) {
	p.RequestID = RequestID(c)
	if p.Instance == "" {
		p.Instance = c.Request.URL.Path
	}
	c.Header("Content-Type", MediaProblem)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, p)
}

// JSON writes v without HTML escaping ("&", "<", ">" stay as they are), so signed
// or canonical JSON embedded in a response keeps its exact bytes.
func JSON(c *gin.Context, status int, contentType string, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		Error(c, slog.Default(), err)
		return
	}
	c.Data(status, contentType, buf.Bytes())
}
