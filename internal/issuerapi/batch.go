package issuerapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

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
// problem}, flushed chunk by chunk (progress), then {"summary": ...}, or a
// final {"error": problem} when the batch stopped. Every credential a client
// has received is already in the inventory.
//
// A line over MaxBatchLineBytes is an item error (line-too-large) and the
// batch goes on; the server reads chunks of at most issuer.MaxChunkBytes of
// requests, and runs at most MaxBatches batches at once (limitBatches).
func (a *API) batch(c *gin.Context) {
	format := c.Query("format")
	in := lineReader{bufio.NewReaderSize(c.Request.Body, MaxBatchLineBytes+1)}
	next := func() (issuer.IssueRequest, int, error) {
		line, err := in.next()
		if err != nil {
			return issuer.IssueRequest{}, 0, err
		}
		req, err := decodeLine(line, format)
		return req, len(line), err
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

// limitBatches lets at most n batches run at once. Another is refused before
// its body is read, with 503 batch-busy and Retry-After: the limit is the
// process's, shared by every tenant, so the client has not exceeded a rate
// of its own (429 rate-limited) but found the server busy.
func limitBatches(n int) gin.HandlerFunc {
	slots := make(chan struct{}, n)
	return func(c *gin.Context) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
			c.Next()
		default:
			c.Header("Retry-After", strconv.Itoa(BatchRetryAfter))
			httpx.WriteProblem(c, httpx.NewProblem(http.StatusServiceUnavailable, "batch-busy", "Too many batches running",
				fmt.Sprintf("the server is running as many batches as it takes at once: retry in %d seconds", BatchRetryAfter)))
		}
	}
}

// lineReader reads a bulk body line by line, holding at most
// MaxBatchLineBytes+1 bytes (a line and its newline) however long a line is.
type lineReader struct{ r *bufio.Reader }

// next returns the next line that is not blank, valid until the next call;
// a *lineTooLong error, having skipped the line, for a line over
// MaxBatchLineBytes; io.EOF at the end.
func (l lineReader) next() ([]byte, error) {
	for {
		line, err := l.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, l.skip(len(line))
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if n := len(bytes.TrimSuffix(line, []byte("\n"))); n > MaxBatchLineBytes {
			return nil, &lineTooLong{n: n}
		}
		if len(bytes.TrimSpace(line)) > 0 {
			return line, nil
		}
		if err != nil {
			return nil, io.EOF
		}
	}
}

// skip reads past the rest of a line of which n bytes were read.
func (l lineReader) skip(n int) error {
	for {
		line, err := l.r.ReadSlice('\n')
		n += len(line)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
		case err == nil:
			return &lineTooLong{n: n - 1}
		case errors.Is(err, io.EOF):
			return &lineTooLong{n: n}
		default:
			return err
		}
	}
}

// lineTooLong is a bulk request line over MaxBatchLineBytes. It fails its
// item only: it wraps vc.ErrMalformed.
type lineTooLong struct{ n int }

func (e *lineTooLong) Error() string {
	return fmt.Sprintf("the line is %d bytes, and a batch line is at most %d: issue this credential on its own (POST /issuers/{issuer}/credentials/issue)", e.n, MaxBatchLineBytes)
}

func (e *lineTooLong) Unwrap() error { return vc.ErrMalformed }

// decodeLine decodes one issue request; on error the request is empty (a
// batch holds the requests of a chunk, failed or not).
func decodeLine(line []byte, format string) (issuer.IssueRequest, error) {
	var req issuer.IssueRequest
	if _, err := vc.DecodeObject(line); err != nil {
		return req, err
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	d.UseNumber()
	if err := d.Decode(&req); err != nil {
		return issuer.IssueRequest{}, fmt.Errorf("%w: %w", vc.ErrMalformed, err)
	}
	if req.Options.Format == "" {
		req.Options.Format = format
	}
	return req, nil
}

// itemProblem renders an item's error, or the error that stopped the batch;
// internal errors are logged and reported generically.
func (a *API) itemProblem(c *gin.Context, err error) *httpx.Problem {
	if p, ok := Problem(err); ok {
		return p
	}
	var long *lineTooLong
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &long):
		return httpx.NewProblem(http.StatusRequestEntityTooLarge, "line-too-large", "Batch line too large", err.Error())
	case errors.As(err, &tooLarge):
		return httpx.NewProblem(http.StatusRequestEntityTooLarge, "too-large", "Request body too large",
			fmt.Sprintf("the batch stopped at the body limit of %d bytes: send the rest in another batch", tooLarge.Limit))
	case errors.Is(err, vc.ErrMalformed):
		return httpx.BadRequest(err.Error())
	}
	a.Log.ErrorContext(c.Request.Context(), "batch item failed", "request_id", httpx.RequestID(c), "err", err)
	return httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal server error", "the server failed to issue this credential")
}
