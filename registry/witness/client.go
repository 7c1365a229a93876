package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// maxResponseSize bounds the answer Add reads: 16 signature lines, even
// ML-DSA-44 ones, fit with room to spare.
const maxResponseSize = 64 << 10

// Add submits a signed checkpoint to a witness (POST <witnessURL>/add-checkpoint,
// c2sp.org/tlog-witness), with the consistency proof from oldSize, the size
// of the latest checkpoint the caller believes the witness cosigned (0 for
// none or to learn it). c nil means http.DefaultClient.
//
// It returns the witness's signature lines (200), unverified: pass them to
// AppendCosignatures with the witness's verifier. A 409 answer is a
// *ConflictError with the witness's size, so the caller can retry with a
// proof from that size; 400, 403, 404 and 422 give errors wrapping
// ErrMalformed, ErrBadSignature, ErrUnknownLog and ErrBadProof.
func Add(ctx context.Context, c *http.Client, witnessURL string, oldSize uint64, proof []tlog.Hash, signed []byte) ([]byte, error) {
	if len(proof) > MaxProofHashes {
		return nil, fmt.Errorf("witness: a consistency proof of %d hashes exceeds the protocol's %d", len(proof), MaxProofHashes)
	}
	u, err := parseWitnessURL(witnessURL)
	if err != nil {
		return nil, err
	}
	u = u.JoinPath("add-checkpoint")
	body := AddRequest{OldSize: oldSize, Proof: proof, Checkpoint: signed}.Marshal()
	resp, b, err := exchange(ctx, c, http.MethodPost, u, body, maxResponseSize)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := checkSignatureLines(b); err != nil {
			return nil, fmt.Errorf("witness: the answer of %s: %w", u.Redacted(), err)
		}
		return b, nil
	case http.StatusConflict:
		return nil, parseConflict(resp.Header.Get("Content-Type"), b, u.Redacted())
	}
	msg := fmt.Sprintf("witness: %s answered %s: %.200q", u.Redacted(), resp.Status, firstLine(b))
	if sentinel := errorOf(resp.StatusCode); sentinel != nil {
		return nil, fmt.Errorf("%w (%s)", sentinel, msg)
	}
	return nil, errors.New(msg)
}

// maxCheckpointSize bounds the checkpoint Latest reads: no larger than a
// checkpoint an add-checkpoint request may carry.
const maxCheckpointSize = MaxRequestSize

// Latest fetches the latest checkpoint a witness cosigned for the log origin
// from its monitoring endpoint (GET <witnessURL>/<lowercase hex SHA-256 of
// origin>/checkpoint, as Handler serves it). The note is returned unverified:
// open it with the log's key (merkle.Open) before trusting anything in it. A
// 404 answer gives an error wrapping ErrNotFound; any other status but 200,
// or a body over MaxRequestSize bytes, an error. c nil means
// http.DefaultClient.
func Latest(ctx context.Context, c *http.Client, witnessURL, origin string) ([]byte, error) {
	u, err := parseWitnessURL(witnessURL)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(origin))
	u = u.JoinPath(hex.EncodeToString(h[:]), "checkpoint")
	resp, b, err := exchange(ctx, c, http.MethodGet, u, nil, maxCheckpointSize)
	switch {
	case err != nil:
		return nil, err
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s answered %s", ErrNotFound, u.Redacted(), resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("witness: %s answered %s: %.200q", u.Redacted(), resp.Status, firstLine(b))
	}
	return b, nil
}

// exchange makes one request to a witness (c nil: http.DefaultClient) and
// reads its answer, refusing one over limit bytes.
func exchange(ctx context.Context, c *http.Client, method string, u *url.URL, body []byte, limit int) (*http.Response, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, nil, fmt.Errorf("witness: %w", err)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("witness: %s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("witness: reading the answer of %s: %w", u.Redacted(), err)
	}
	if len(b) > limit {
		return nil, nil, fmt.Errorf("witness: the answer of %s exceeds %d bytes", u.Redacted(), limit)
	}
	return resp, b, nil
}

// parseWitnessURL checks that a witness URL is an absolute http(s) URL.
func parseWitnessURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("witness: the witness URL must be an absolute http(s) URL")
	}
	return u, nil
}

// parseConflict reads a 409 answer: ContentTypeSize and "<size>\n".
func parseConflict(contentType string, body []byte, where string) error {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != ContentTypeSize {
		return fmt.Errorf("witness: %s answered 409 with Content-Type %.60q, want %s", where, contentType, ContentTypeSize)
	}
	num, ok := bytes.CutSuffix(body, []byte("\n"))
	size, err := parseSize(num)
	if !ok || err != nil {
		return fmt.Errorf("witness: %s answered 409 with a malformed size %.40q", where, body)
	}
	return &ConflictError{Size: size}
}

// checkSignatureLines checks that b is one or more note signature lines,
// each "— <name> <base64>\n".
func checkSignatureLines(b []byte) error {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return errors.New("not signature lines ending in a newline")
	}
	for _, line := range strings.Split(string(b[:len(b)-1]), "\n") {
		rest, ok := strings.CutPrefix(line, "— ")
		name, b64, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !validKeyName(name) || b64 == "" {
			return fmt.Errorf("malformed signature line %.100q", line)
		}
	}
	return nil
}

func firstLine(b []byte) []byte {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return line
}

// AppendCosignatures returns the signed checkpoint with the witness's
// cosignatures from lines (an Add answer) added, replacing any it already
// carried from that witness. Only lines that verify under witness (see
// NewVerifier) are kept; other keys' lines are ignored, as tlog-witness
// requires. It fails if no line verifies or a line of the witness's key does
// not, so a faulty or lying witness is noticed.
func AppendCosignatures(signed, lines []byte, witness note.Verifier) ([]byte, error) {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("witness: the checkpoint is not a signed note")
	}
	text, sigs := signed[:i+1], signed[i+2:]
	n, err := note.Open(append(append(bytes.Clone(text), '\n'), lines...), note.VerifierList(witness))
	if err != nil {
		return nil, fmt.Errorf("witness: cosignature by %s: %w", witness.Name(), err)
	}
	out := append(bytes.Clone(text), '\n')
	for _, line := range bytes.SplitAfter(sigs, []byte("\n")) {
		if len(line) > 0 && !isLineOf(line, witness) {
			out = append(out, line...)
		}
	}
	for _, s := range n.Sigs {
		out = append(out, "— "+s.Name+" "+s.Base64+"\n"...)
	}
	return out, nil
}

// isLineOf reports whether a signature line carries v's name and key ID.
func isLineOf(line []byte, v note.Verifier) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimSuffix(line, []byte("\n")), []byte("— "+v.Name()+" "))
	if !ok {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(string(rest))
	return err == nil && len(sig) >= 4 && binary.BigEndian.Uint32(sig) == v.KeyHash()
}
