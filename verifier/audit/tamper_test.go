package audit_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// validExport is the export of a chain of six entries, one line each, then
// the head (line 7).
func validExport(t testing.TB, signer keySigner) [][]byte {
	t.Helper()
	l := audit.New(memkv.New(), signer, audit.WithClock(newClock().now))
	appendN(t, l, "hospital-a", 6)
	return bytes.SplitAfter(export(t, l, "hospital-a"), []byte("\n"))[:7]
}

// decodeLine and encodeLine turn an entry line into an Entry and back (in
// canonical form, with its hash recomputed when rehash).
func decodeLine(t *testing.T, line []byte) audit.Entry {
	t.Helper()
	var e audit.Entry
	if err := json.Unmarshal(line, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func encodeLine(t *testing.T, e audit.Entry, rehash bool) []byte {
	t.Helper()
	if rehash {
		e.Hash, _ = audit.EntryHash(e)
	}
	return canon(t, e)
}

func canon(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = jcs.Transform(b); err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// resign replaces the head line with a head for the entries before it,
// signed by signer, edited by edit.
func resign(t *testing.T, lines [][]byte, signer keySigner, edit func(*audit.SignedHead)) [][]byte {
	t.Helper()
	var h audit.SignedHead
	if err := json.Unmarshal(lines[len(lines)-1], &h); err != nil {
		t.Fatal(err)
	}
	last := decodeLine(t, lines[len(lines)-2])
	h.Size, h.Hash, h.Signature = last.Seq, last.Hash, ""
	if edit != nil {
		edit(&h)
	}
	h.Key = multikey(t, signer)
	b, _ := json.Marshal(h)
	b, _ = jcs.Transform(b)
	sig, _ := signer.Sign(t.Context(), append([]byte(audit.HeadContext), b...))
	h.Signature = base64.RawURLEncoding.EncodeToString(sig)
	return append(lines[:len(lines)-1:len(lines)-1], canon(t, h))
}

func TestVerifyTampered(t *testing.T) {
	signer := newSigner("audit")
	other := newSigner("mallory")
	cases := []struct {
		name   string
		tamper func(t *testing.T, l [][]byte) [][]byte
		line   int
		seq    uint64
		reason string
	}{
		{"field changed", func(t *testing.T, l [][]byte) [][]byte {
			e := decodeLine(t, l[3])
			e.Decision = "accept"
			l[3] = encodeLine(t, e, false)
			return l
		}, 4, 4, "hash does not match"},
		{"byte changed", func(t *testing.T, l [][]byte) [][]byte {
			l[1] = bytes.Replace(l[1], []byte(`"req-1"`), []byte(`"req-7"`), 1)
			return l
		}, 2, 2, "hash does not match"},
		{"field changed and re-hashed", func(t *testing.T, l [][]byte) [][]byte {
			e := decodeLine(t, l[3])
			e.Errors = nil
			l[3] = encodeLine(t, e, true)
			return l
		}, 5, 5, "prev does not match the hash of seq 4"},
		{"rewritten from seq 3 on", func(t *testing.T, l [][]byte) [][]byte {
			prev := decodeLine(t, l[1]).Hash
			for i := 2; i < 6; i++ {
				e := decodeLine(t, l[i])
				e.Holder, e.Prev = "did:key:z6MkOther", prev
				l[i] = encodeLine(t, e, true)
				prev = decodeLine(t, l[i]).Hash
			}
			return l
		}, 7, 6, "the chain was rewritten"},
		{"entry deleted", func(t *testing.T, l [][]byte) [][]byte { return slices.Delete(l, 2, 3) }, 3, 3, "seq 4 where 3 belongs"},
		{"first entry deleted", func(t *testing.T, l [][]byte) [][]byte { return l[1:] }, 1, 1, "seq 2 where 1 belongs"},
		{"entries reordered", func(t *testing.T, l [][]byte) [][]byte {
			l[2], l[3] = l[3], l[2]
			return l
		}, 3, 3, "seq 4 where 3 belongs"},
		{"entry repeated", func(t *testing.T, l [][]byte) [][]byte { return slices.Insert(l, 3, l[2]) }, 4, 4, "seq 3 where 4 belongs"},
		{"entry renumbered", func(t *testing.T, l [][]byte) [][]byte {
			e := decodeLine(t, l[2])
			e.Seq = 9
			l[2] = encodeLine(t, e, true)
			return l
		}, 3, 3, "seq 9 where 3 belongs"},
		{"entry of another chain", func(t *testing.T, l [][]byte) [][]byte {
			e := decodeLine(t, l[2])
			e.Chain = "hospital-b"
			l[2] = encodeLine(t, e, true)
			return l
		}, 3, 3, `chain "hospital-b"`},
		{"end truncated, head kept", func(t *testing.T, l [][]byte) [][]byte { return slices.Delete(l, 4, 6) }, 5, 5, "covers 6 entries, the export has 4: it was truncated"},
		{"head removed", func(t *testing.T, l [][]byte) [][]byte { return l[:6] }, 7, 0, "ends without a signed head"},
		{"cut mid-line", func(t *testing.T, l [][]byte) [][]byte {
			l[5] = l[5][:40]
			return l[:6]
		}, 6, 6, "not a JSON object"},
		{"empty", func(t *testing.T, l [][]byte) [][]byte { return nil }, 1, 0, "ends without a signed head"},
		{"head re-signed by another key", func(t *testing.T, l [][]byte) [][]byte { return resign(t, l, other, nil) }, 7, 0, "not by the expected key"},
		{"head signature changed", func(t *testing.T, l [][]byte) [][]byte {
			h := l[6]
			i := bytes.Index(h, []byte(`"signature":"`)) + len(`"signature":"`) + 3
			h[i] ^= 'A' ^ 'B'
			return l
		}, 7, 0, "signature does not verify"},
		{"head size changed", func(t *testing.T, l [][]byte) [][]byte {
			l[6] = bytes.Replace(l[6], []byte(`"size":6`), []byte(`"size":5`), 1)
			return l
		}, 7, 0, "signature does not verify"},
		{"entries appended after a head", func(t *testing.T, l [][]byte) [][]byte {
			e := decodeLine(t, l[5])
			e.Seq, e.Prev = 7, e.Hash
			return slices.Insert(l, 6, encodeLine(t, e, true))
		}, 8, 7, "covers 6 entries, the export has 7: entries were added"},
		{"data after the head", func(t *testing.T, l [][]byte) [][]byte { return append(l, []byte("{}\n")) }, 8, 0, "data after the signed head"},
		{"two heads", func(t *testing.T, l [][]byte) [][]byte { return append(l, l[6]) }, 8, 0, "data after the signed head"},
		{"head of another chain", func(t *testing.T, l [][]byte) [][]byte {
			return resign(t, l, signer, func(h *audit.SignedHead) { h.Chain = "hospital-b" })
		}, 7, 0, `head is for chain "hospital-b"`},
		{"head of another version", func(t *testing.T, l [][]byte) [][]byte {
			return resign(t, l, signer, func(h *audit.SignedHead) { h.V = "credence.audit.head/2" })
		}, 7, 0, "not a canonical signed head"},
		{"CRLF line ends", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = append(bytes.TrimSuffix(l[0], []byte("\n")), '\r', '\n')
			return l
		}, 1, 1, "not the canonical"},
		{"whitespace added", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`{"chain"`), []byte(`{ "chain"`), 1)
			return l
		}, 1, 1, "not the canonical"},
		{"unknown member", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`{"chain"`), []byte(`{"a":1,"chain"`), 1)
			return l
		}, 1, 1, "not the canonical"},
		{"repeated member", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`"verified":false`), []byte(`"verified":true,"verified":false`), 1)
			return l
		}, 1, 1, "not the canonical"},
		{"member name case changed", func(t *testing.T, l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`"decision"`), []byte(`"Decision"`), 1)
			return l
		}, 1, 1, "not the canonical"},
		{"blank line", func(t *testing.T, l [][]byte) [][]byte { return slices.Insert(l, 2, []byte("\n")) }, 3, 3, "not a JSON object"},
		{"line too long", func(t *testing.T, l [][]byte) [][]byte {
			return slices.Insert(l, 2, append([]byte(`{"chain":"`+strings.Repeat("x", audit.MaxEntryBytes)), '\n'))
		}, 3, 3, "longer than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := c.tamper(t, validExport(t, signer))
			rep, err := audit.Verify(bytes.NewReader(bytes.Join(lines, nil)), signer.Public())
			var ve *audit.VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("Verify = %+v, %v; want a *VerifyError", rep, err)
			}
			if ve.Line != c.line || ve.Seq != c.seq || !strings.Contains(ve.Reason, c.reason) {
				t.Errorf("Verify: %v; want line %d, seq %d, reason containing %q", err, c.line, c.seq, c.reason)
			}
		})
	}
}

func TestVerifyKeys(t *testing.T) {
	signer, other := newSigner("audit"), newSigner("mallory")
	valid := bytes.Join(validExport(t, signer), nil)

	// Without a key, the head's own key is used and reported.
	rep, err := audit.Verify(bytes.NewReader(valid), nil)
	if err != nil || rep.Key != multikey(t, signer) || rep.Size != 6 {
		t.Fatalf("Verify(nil key) = %+v, %v; want intact, signed by %s", rep, err, multikey(t, signer))
	}
	// A head re-signed by another key verifies on its own terms only: the
	// report names that key, for the caller to compare.
	forged := bytes.Join(resign(t, validExport(t, signer), other, nil), nil)
	rep, err = audit.Verify(bytes.NewReader(forged), nil)
	if err != nil || rep.Key != multikey(t, other) {
		t.Fatalf("Verify(nil key) of a re-signed export = %+v, %v; want key %s reported", rep, err, multikey(t, other))
	}
	if _, err := audit.Verify(bytes.NewReader(valid), other.Public()); !errors.Is(err, audit.ErrTampered) {
		t.Errorf("Verify with another key = %v, want ErrTampered", err)
	}
	// A key that is not Ed25519 is a usage error, not a verdict.
	if _, err := audit.Verify(bytes.NewReader(valid), "not a key"); err == nil || errors.Is(err, audit.ErrTampered) {
		t.Errorf("Verify with a non-Ed25519 key = %v, want a usage error", err)
	}
	// No final newline is still intact (JSON Lines allows it).
	if _, err := audit.Verify(bytes.NewReader(bytes.TrimSuffix(valid, []byte("\n"))), signer.Public()); err != nil {
		t.Errorf("Verify without a final newline: %v", err)
	}
}

func TestVerifyReadError(t *testing.T) {
	valid := bytes.Join(validExport(t, newSigner("audit")), nil)
	r := &failingReader{data: valid[:len(valid)/2]}
	if _, err := audit.Verify(r, nil); err == nil || errors.Is(err, audit.ErrTampered) {
		t.Errorf("Verify of a failing reader = %v, want the read error", err)
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func multikey(t testing.TB, s keySigner) string {
	t.Helper()
	k, err := did.EncodeMultikey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}
