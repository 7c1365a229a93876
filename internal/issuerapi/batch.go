package issuerapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
)

// MediaNDJSON is newline-delimited JSON, the batch's request and response.
const MediaNDJSON = "application/x-ndjson"

// batchLine is one line of the batch response: a result, an item error, or
// the closing summary.
type batchLine struct {
	Index                *int                 `json:"index,omitempty"`
	VerifiableCredential any                  `json:"verifiableCredential,omitempty"`
	Error                *httpx.Problem       `json:"error,omitempty"`
	Summary              *issuer.BatchSummary `json:"summary,omitempty"`
}

// batch streams bulk issuance: the body is NDJSON, one VC-API issue request
// per line ({"credential": ..., "options": ...}); ?format= sets the format
// of lines that do not choose one. The response is NDJSON in input order:
// {"index": i, "verifiableCredential": ...} or {"index": i, "error":
// problem}, flushed chunk by chunk (progress), then {"summary": ...}. Every
// credential a client has received is already in the inventory.
func (a *API) batch(c *gin.Context) {
	format := c.Query("format")
	sc := bufio.NewScanner(c.Request.Body)
	sc.Buffer(make([]byte, 64<<10), vc.MaxDocumentBytes+64<<10)
	next := func() (issuer.IssueRequest, error) {
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			return decodeLine(line, format)
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return issuer.IssueRequest{}, fmt.Errorf("a line is longer than %d bytes", vc.MaxDocumentBytes)
			}
			return issuer.IssueRequest{}, err
		}
		return issuer.IssueRequest{}, io.EOF
	}
	c.Header("Content-Type", MediaNDJSON)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	flushed := 0
	emit := func(r issuer.BatchResult) error {
		i := r.Index
		line := batchLine{Index: &i}
		if r.Err != nil {
			line.Error = a.itemProblem(c, r.Err)
		} else {
			line.VerifiableCredential = r.Issued.Credential
		}
		if err := enc.Encode(line); err != nil {
			return err
		}
		if i-flushed >= issuer.BatchChunk-1 {
			c.Writer.Flush()
			flushed = i
		}
		return nil
	}
	sum, err := a.Issuer.IssueBatch(c.Request.Context(), c.Param("issuer"), next, emit)
	if err != nil {
		_ = enc.Encode(batchLine{Error: a.itemProblem(c, err)})
		return
	}
	_ = enc.Encode(batchLine{Summary: &sum})
}

func decodeLine(line []byte, format string) (issuer.IssueRequest, error) {
	var req issuer.IssueRequest
	if _, err := vc.DecodeObject(line); err != nil {
		return req, err
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(&req); err != nil {
		return req, fmt.Errorf("%w: %w", vc.ErrMalformed, err)
	}
	if req.Options.Format == "" {
		req.Options.Format = format
	}
	return req, nil
}

// itemProblem renders an item's error; internal errors are logged and
// reported generically.
func (a *API) itemProblem(c *gin.Context, err error) *httpx.Problem {
	if p, ok := Problem(err); ok {
		return p
	}
	if errors.Is(err, vc.ErrMalformed) {
		return httpx.BadRequest(err.Error())
	}
	a.Log.ErrorContext(c.Request.Context(), "batch item failed", "request_id", httpx.RequestID(c), "err", err)
	return httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal server error", "the server failed to issue this credential")
}
