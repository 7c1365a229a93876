package witness

import (
	"errors"
	"io"
	"net/http"
	"strconv"
)

// Media types of the witness's answers.
const (
	// ContentTypeSize is the media type of a 409 answer's body, the
	// witness's latest cosigned size in decimal and a newline.
	ContentTypeSize = "text/x.tlog.size"
	// contentTypeText is the media type of every other body: signature
	// lines, checkpoints and error messages.
	contentTypeText = "text/plain; charset=utf-8"
)

// Handler serves the witness's HTTP interface (c2sp.org/tlog-witness), with
// the same submission and monitoring prefix; mount it under a prefix with
// http.StripPrefix.
//
//   - POST /add-checkpoint takes an AddRequest body of at most MaxRequestSize
//     bytes and answers 200 with the cosignature lines, 409 with
//     ContentTypeSize and the witness's size, or 400, 403, 404 or 422 with a
//     one-line message (see StatusOf); 413 for a larger body, and 500 with a
//     generic message when the store or the key fails (the cause is logged).
//   - GET /<origin hash>/checkpoint, where the origin hash is the lowercase
//     hex SHA-256 of a log's origin, answers the latest checkpoint the
//     witness cosigned for that log (see Latest), or 404.
//
// Requests carry nothing secret and the handler logs no request bodies,
// only refused checkpoints (which are public) and internal failures.
func (w *Witness) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", w.serveAdd)
	mux.HandleFunc("GET /{hash}/checkpoint", w.serveCheckpoint)
	return mux
}

func (w *Witness) serveAdd(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxRequestSize))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeText(rw, http.StatusRequestEntityTooLarge, "request body larger than "+strconv.Itoa(MaxRequestSize)+" bytes\n")
		return
	}
	if err != nil {
		writeText(rw, http.StatusBadRequest, "failed to read the request body\n")
		return
	}
	req, err := ParseAddCheckpoint(body)
	if err != nil {
		writeError(rw, err)
		return
	}
	lines, err := w.AddCheckpoint(r.Context(), req.OldSize, req.Proof, req.Checkpoint)
	if err != nil {
		writeError(rw, err)
		return
	}
	writeText(rw, http.StatusOK, string(lines))
}

func (w *Witness) serveCheckpoint(rw http.ResponseWriter, r *http.Request) {
	origin, ok := w.byHash[r.PathValue("hash")]
	if !ok {
		writeText(rw, http.StatusNotFound, "unknown log\n")
		return
	}
	cp, err := w.Latest(r.Context(), origin)
	switch {
	case errors.Is(err, ErrNotFound):
		writeText(rw, http.StatusNotFound, "no checkpoint cosigned for this log\n")
	case err != nil:
		w.log.ErrorContext(r.Context(), "witness: reading the latest checkpoint failed", "origin", origin, "error", err)
		writeText(rw, http.StatusInternalServerError, "internal error\n")
	default:
		writeText(rw, http.StatusOK, string(cp))
	}
}

// writeError answers an AddCheckpoint or ParseAddCheckpoint error with the
// status tlog-witness gives it. 4xx bodies are the error message, which holds
// only what the client sent and public checkpoint data; a 500 says nothing
// (AddCheckpoint logged the cause).
func writeError(rw http.ResponseWriter, err error) {
	var conflict *ConflictError
	if errors.As(err, &conflict) {
		rw.Header().Set("Content-Type", ContentTypeSize)
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		rw.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(rw, strconv.FormatUint(conflict.Size, 10)+"\n")
		return
	}
	status := StatusOf(err)
	if status == http.StatusInternalServerError {
		writeText(rw, status, "internal error\n")
		return
	}
	writeText(rw, status, err.Error()+"\n")
}

func writeText(rw http.ResponseWriter, status int, body string) {
	rw.Header().Set("Content-Type", contentTypeText)
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(status)
	_, _ = io.WriteString(rw, body)
}
