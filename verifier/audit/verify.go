package audit

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/credence/credence/did"
)

// ErrTampered is matched by the *VerifyError Verify returns for an export
// that is not intact.
var ErrTampered = errors.New("the audit export is not intact")

// maxLine bounds one line of an export: an entry is at most MaxEntryBytes
// and a head much less.
const maxLine = MaxEntryBytes

// Report describes a verified export (or, with an error, what was verified
// before the first bad line).
type Report struct {
	Chain string `json:"chain"`
	// Size is the number of entries; Hash the last one's hash.
	Size uint64 `json:"size"`
	Hash string `json:"hash"`
	// Key is the Multikey that signed the head.
	Key string `json:"key,omitempty"`
	// Signed is the head's time; First and Last the entries' times.
	Signed time.Time `json:"signed,omitzero"`
	First  time.Time `json:"first,omitzero"`
	Last   time.Time `json:"last,omitzero"`
}

// VerifyError pinpoints the first bad line of an export.
type VerifyError struct {
	// Line is the 1-based line number (one past the last line when the
	// export ends too early).
	Line int `json:"line"`
	// Seq is the seq the line should hold (0 when no seq is involved).
	Seq    uint64 `json:"seq,omitempty"`
	Reason string `json:"reason"`
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d (seq %d): %s", e.Line, e.Seq, e.Reason)
}

// Is makes a *VerifyError match ErrTampered.
func (e *VerifyError) Is(target error) bool { return target == ErrTampered }

// Verify checks an export read from r: every line canonical, every hash,
// every prev link, one chain, seqs contiguous from 1, and a final signed
// head that names the last entry and the number of entries and whose
// signature verifies. With pub (an ed25519.PublicKey) the head must be
// signed by pub; with pub nil, by the key the head names, which the Report
// gives so the caller can compare it with the one it trusts. An export that
// is not intact yields a *VerifyError (matching ErrTampered); a read failure
// is returned as it is.
func Verify(r io.Reader, pub crypto.PublicKey) (Report, error) {
	var want ed25519.PublicKey
	if pub != nil {
		k, ok := pub.(ed25519.PublicKey)
		if !ok || len(k) != ed25519.PublicKeySize {
			return Report{}, errNotEd25519
		}
		want = k
	}
	v := verifier{}
	tr := &trackReader{r: r}
	sc := bufio.NewScanner(tr)
	sc.Buffer(make([]byte, 0, 4096), maxLine+1)
	sc.Split(scanLines)
	for sc.Scan() {
		v.line++
		if err := v.next(sc.Bytes()); err != nil {
			if tr.err != nil { // the line was cut short by the failure
				return v.rep, fmt.Errorf("failed to read the export: %w", tr.err)
			}
			return v.rep, err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return v.rep, v.fail(v.line+1, v.seq+1, fmt.Sprintf("a line is longer than %d bytes", maxLine))
	} else if err != nil {
		return v.rep, fmt.Errorf("failed to read the export: %w", err)
	}
	if v.head == nil {
		return v.rep, v.fail(v.line+1, 0, "the export ends without a signed head: it was truncated")
	}
	return v.rep, v.checkHead(want)
}

// verifier is the state of one Verify.
type verifier struct {
	rep  Report
	line int
	seq  uint64
	head *SignedHead
}

func (v *verifier) fail(line int, seq uint64, reason string) error {
	return &VerifyError{Line: line, Seq: seq, Reason: reason}
}

// next checks one line.
func (v *verifier) next(b []byte) error {
	if v.head != nil {
		return v.fail(v.line, 0, "data after the signed head")
	}
	var probe struct {
		V *string `json:"v"`
	}
	if json.Unmarshal(b, &probe) != nil {
		return v.fail(v.line, v.seq+1, "not a JSON object")
	}
	if probe.V != nil {
		return v.readHead(b)
	}
	e, err := parseEntry(b)
	switch {
	case err != nil:
		return v.fail(v.line, v.seq+1, err.Error())
	case e.Seq != v.seq+1:
		return v.fail(v.line, v.seq+1, fmt.Sprintf("seq %d where %d belongs: an entry is missing, repeated or out of order", e.Seq, v.seq+1))
	case v.seq > 0 && e.Chain != v.rep.Chain:
		return v.fail(v.line, e.Seq, fmt.Sprintf("entry of chain %q in an export of chain %q", e.Chain, v.rep.Chain))
	case e.Prev != v.rep.Hash:
		return v.fail(v.line, e.Seq, fmt.Sprintf("prev does not match the hash of seq %d: an entry before it was changed or removed", v.seq))
	}
	if v.seq == 0 {
		v.rep.Chain, v.rep.First = e.Chain, e.Time
	}
	v.seq = e.Seq
	v.rep.Size, v.rep.Hash, v.rep.Last = e.Seq, e.Hash, e.Time
	return nil
}

func (v *verifier) readHead(b []byte) error {
	var h SignedHead
	err := json.Unmarshal(b, &h)
	if err == nil {
		var c []byte
		c, err = canonical(h)
		if err == nil && !bytes.Equal(c, b) {
			err = errors.New("not canonical")
		}
	}
	if err != nil || h.V != HeadVersion || h.Signature == "" {
		return v.fail(v.line, 0, "not a canonical signed head of version "+HeadVersion)
	}
	v.head = &h
	return nil
}

// checkHead checks the signature, then that the head covers exactly the
// entries read.
func (v *verifier) checkHead(want ed25519.PublicKey) error {
	h := v.head
	v.rep.Key, v.rep.Signed = h.Key, h.Time
	key, err := did.DecodeMultikey(h.Key)
	named, ok := key.(ed25519.PublicKey)
	switch {
	case err != nil || !ok:
		return v.fail(v.line, 0, "the head's key is not an Ed25519 Multikey")
	case want != nil && !want.Equal(named):
		return v.fail(v.line, 0, "the head is signed by "+h.Key+", not by the expected key")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(h.Signature)
	msg, merr := h.message()
	if err != nil || merr != nil || !ed25519.Verify(named, msg, sig) {
		return v.fail(v.line, 0, "the head's signature does not verify: the head was changed or not signed by its key")
	}
	if v.seq == 0 {
		v.rep.Chain = h.Chain
	}
	switch {
	case h.Chain != v.rep.Chain:
		return v.fail(v.line, 0, fmt.Sprintf("the head is for chain %q, the entries for %q", h.Chain, v.rep.Chain))
	case h.Size > v.seq:
		return v.fail(v.line, v.seq+1, fmt.Sprintf("the head covers %d entries, the export has %d: it was truncated", h.Size, v.seq))
	case h.Size < v.seq:
		return v.fail(v.line, h.Size+1, fmt.Sprintf("the head covers %d entries, the export has %d: entries were added", h.Size, v.seq))
	case h.Hash != v.rep.Hash:
		return v.fail(v.line, v.seq, "the last entry's hash is not the one the head signs: the chain was rewritten")
	}
	return nil
}

// scanLines splits at '\n' only, keeping any '\r' in the line (so that it
// fails the canonical check rather than being silently dropped).
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// trackReader remembers the first read error: the Scanner hands out the
// partial line before it, which must not be reported as tampering.
type trackReader struct {
	r   io.Reader
	err error
}

func (t *trackReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}
