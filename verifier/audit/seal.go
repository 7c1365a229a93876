package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// An entry is sealed in two steps. Append, in the caller's goroutine, makes
// its form: the canonical (JCS) form of the entry without hash and with seq,
// time and prev at their zero values, and where those values and the hash
// member go. That is the one canonicalization, the expensive part, and it
// runs in parallel across requests. The committer then only fills in seq,
// time, prev and hash: JCS orders members by name, never by value, and these
// values are written canonically as they are (digits, an RFC 3339 time, a
// "sha256:" digest: nothing to escape), so the filled form is the canonical
// form of the whole entry, as EntryHash and parseEntry compute it.
type form struct {
	c []byte // canonical form without hash, seq 0, zero time, prev ""
	// Offsets in c: where the hash member goes (before "holder" or
	// "kind", the first members after "hash") and where the zero values of
	// prev, seq and time are.
	hashAt, prevAt, seqAt, timeAt int
}

// The zero values in a form, as JCS writes them.
const (
	zeroPrev = `""`
	zeroSeq  = `0`
	zeroTime = `"0001-01-01T00:00:00Z"`
	// hashMember is the hash member without its value, as it goes in; the
	// value is a quoted Digest.
	hashMember = `,"hash":`
)

// digestLen is the length of a Digest.
const digestLen = len("sha256:") + 2*sha256.Size

// maxExactSeq is the largest seq JCS writes exactly (numbers are IEEE 754
// doubles).
const maxExactSeq = 1<<53 - 1

var errForm = errors.New("failed to encode audit entry: unexpected canonical form")

// newForm makes the form of e, a normalized and valid entry; e's seq, time,
// prev and hash are ignored.
func newForm(e Entry) (*form, error) {
	e.Seq, e.Time, e.Prev, e.Hash = 0, time.Time{}, "", ""
	c, err := canonicalEntry(&e)
	if err != nil {
		return nil, fmt.Errorf("failed to encode audit entry: %w", err)
	}
	// The top-level members are found by ',"name":': inside a JSON string
	// every '"' is escaped, and nested objects (credentials, checks) have no
	// members of these names, so each occurs once. None is the first member
	// ("chain" is).
	f := &form{c: c, hashAt: bytes.Index(c, []byte(`,"kind":`))}
	if h := bytes.Index(c, []byte(`,"holder":`)); h >= 0 {
		f.hashAt = h
	}
	var ok bool
	if f.prevAt, ok = valueAt(c, `,"prev":`, zeroPrev); !ok {
		return nil, errForm
	}
	if f.seqAt, ok = valueAt(c, `,"seq":`, zeroSeq); !ok {
		return nil, errForm
	}
	if f.timeAt, ok = valueAt(c, `,"time":`, zeroTime); !ok {
		return nil, errForm
	}
	if f.hashAt < 0 || f.hashAt >= f.prevAt || f.prevAt >= f.seqAt || f.seqAt >= f.timeAt {
		return nil, errForm
	}
	return f, nil
}

// valueAt returns the offset of member's value in c, which must be zero.
func valueAt(c []byte, member, zero string) (int, bool) {
	i := bytes.Index(c, []byte(member+zero))
	if i < 0 {
		return 0, false
	}
	return i + len(member), true
}

// minSize is a lower bound of the size of every filled form: filling in
// values never shortens the form, and the hash member is added.
func (f *form) minSize() int { return len(f.c) + len(hashMember) + 2 + digestLen }

// fill sets e's seq, time and prev (e is the entry f was made of), computes
// and sets e.Hash and returns e's stored form, the canonical form of the
// whole entry.
func (f *form) fill(e *Entry) ([]byte, error) {
	if e.Seq > maxExactSeq {
		return nil, fmt.Errorf("failed to encode audit entry: seq %d is too large", e.Seq)
	}
	if e.Prev != "" && !isDigest(e.Prev) {
		return nil, fmt.Errorf("failed to encode audit entry: prev %q is not a digest", e.Prev)
	}
	tm, err := e.Time.MarshalJSON() // what json.Marshal writes, and JCS keeps
	if err != nil {
		return nil, fmt.Errorf("failed to encode audit entry: %w", err)
	}
	var seq [20]byte
	c := f.c
	// The form without hash, in pieces: what EntryHash hashes.
	parts := [...][]byte{
		c[:f.prevAt], []byte(`"` + e.Prev + `"`),
		c[f.prevAt+len(zeroPrev) : f.seqAt], strconv.AppendUint(seq[:0], e.Seq, 10),
		c[f.seqAt+len(zeroSeq) : f.timeAt], tm,
		c[f.timeAt+len(zeroTime):],
	}
	h := sha256.New()
	size := len(hashMember) + 2 + digestLen
	for _, p := range parts {
		h.Write(p)
		size += len(p)
	}
	if size > MaxEntryBytes {
		return nil, invalid("entry", fmt.Sprintf("encodes to %d bytes, more than %d", size, MaxEntryBytes))
	}
	var sum [sha256.Size]byte
	e.Hash = "sha256:" + hex.EncodeToString(h.Sum(sum[:0]))
	raw := make([]byte, 0, size)
	raw = append(raw, c[:f.hashAt]...)
	raw = append(raw, hashMember+`"`...)
	raw = append(raw, e.Hash...)
	raw = append(raw, '"')
	raw = append(raw, c[f.hashAt:f.prevAt]...)
	for _, p := range parts[1:] {
		raw = append(raw, p...)
	}
	return raw, nil
}

// isDigest reports whether s has the form of a Digest (what digestHex
// matches), so it is written in JSON as it is.
func isDigest(s string) bool {
	if len(s) != digestLen || s[:7] != "sha256:" {
		return false
	}
	for _, r := range s[7:] {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
