package witness

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestAddLogSide is the log side's loop: submit, learn the witness's size
// from a 409, resubmit with the proof from that size, keep the verified
// cosignature, and satisfy a verifier's quorum.
func TestAddLogSide(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(12, "a")
	w, _ := newWitness(t, nil, l)
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(10)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()
	signed := l.checkpoint(12)

	_, err := Add(ctx, srv.Client(), srv.URL+"/", 0, nil, signed)
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Size != 10 || !errors.Is(err, ErrConflict) {
		t.Fatalf("Add from 0 = %v, want a conflict at 10", err)
	}
	lines, err := Add(ctx, srv.Client(), srv.URL, conflict.Size, l.proof(conflict.Size, 12), signed)
	if err != nil {
		t.Fatal(err)
	}
	full, err := AppendCosignatures(signed, lines, w.Cosigner().Verifier())
	if err != nil {
		t.Fatal(err)
	}
	c, err := VerifyCosigned(full, l.verifier, []note.Verifier{w.Cosigner().Verifier()}, 1)
	if err != nil || c.Size != 12 {
		t.Fatalf("VerifyCosigned = %+v, %v", c, err)
	}

	other := newTestLog(t, "credence.test/other").grow(1, "o")
	impostor := newTestLog(t, "credence.test/log").grow(13, "a")
	for name, tc := range map[string]struct {
		err  error
		call func() error
	}{
		"404": {ErrUnknownLog, func() error { _, err := Add(ctx, nil, srv.URL, 0, nil, other.checkpoint(1)); return err }},
		"403": {ErrBadSignature, func() error { _, err := Add(ctx, nil, srv.URL, 12, nil, impostor.checkpoint(13)); return err }},
		"422": {ErrBadProof, func() error { _, err := Add(ctx, nil, srv.URL, 12, l.proof(11, 12), l.checkpoint(12)); return err }},
		"400": {ErrMalformed, func() error { _, err := Add(ctx, nil, srv.URL, 13, nil, l.checkpoint(12)); return err }},
	} {
		if err := tc.call(); !errors.Is(err, tc.err) {
			t.Errorf("%s: Add = %v, want %v", name, err, tc.err)
		}
	}
}

// TestAddBadAnswers: Add refuses answers that do not follow the protocol and
// never reports a conflict it cannot read.
func TestAddBadAnswers(t *testing.T) {
	spec, err := os.ReadFile("testdata/add-checkpoint-response.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, contentType, body string
		status                  int
		ok                      bool
	}{
		{"spec example answer", "text/plain", string(spec), 200, true},
		{"empty 200", "text/plain", "", 200, false},
		{"not signature lines", "text/plain", "hello\n", 200, false},
		{"no final newline", "text/plain", "— w AAAA", 200, false},
		{"blank line", "text/plain", "— w AAAA\n\n", 200, false},
		{"409 without its media type", "text/plain", "10\n", 409, false},
		{"409 with a bad size", ContentTypeSize, "010\n", 409, false},
		{"409 without newline", ContentTypeSize, "10", 409, false},
		{"500", "text/plain", "boom\n", 500, false},
		{"too large", "text/plain", strings.Repeat("— w AAAA\n", 10000), 200, false},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || r.URL.Path != "/prefix/add-checkpoint" {
				http.Error(rw, "wrong request", 418)
				return
			}
			rw.Header().Set("Content-Type", tt.contentType)
			rw.WriteHeader(tt.status)
			_, _ = rw.Write([]byte(tt.body))
		}))
		lines, err := Add(t.Context(), nil, srv.URL+"/prefix", 0, nil, []byte("x\n"))
		srv.Close()
		if tt.ok != (err == nil) || errors.Is(err, ErrConflict) {
			t.Errorf("%s: Add = %q, %v", tt.name, lines, err)
		}
		if tt.ok && string(lines) != tt.body {
			t.Errorf("%s: lines %q, want the body", tt.name, lines)
		}
	}
}

func TestAddRedactsURL(t *testing.T) {
	_, err := Add(t.Context(), nil, "http://user:secret@127.0.0.1:1/w", 0, nil, []byte("x\n"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want an error without the password", err)
	}
	for _, u := range []string{"", "/relative", "ftp://h/x", "http://"} {
		if _, err := Add(t.Context(), nil, u, 0, nil, []byte("x\n")); err == nil {
			t.Errorf("Add to %q succeeded", u)
		}
	}
}

func TestAppendCosignatures(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	w1 := newCosigner(t, "witness.credence.test/w1")
	w2 := newCosigner(t, "witness.credence.test/w2")
	body := l.cp(3).Marshal()
	line := func(c *Cosigner, ts uint64) []byte {
		b, err := c.Cosign(body, ts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed := cosigned(l.checkpoint(3), line(w2, 5))
	signed = cosigned(signed, line(w1, 6)) // an older cosignature by w1

	got, err := AppendCosignatures(signed, cosigned(line(w2, 9), line(w1, 7)), w1.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	want := cosigned(cosigned(l.checkpoint(3), line(w2, 5)), line(w1, 7))
	if string(got) != string(want) {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := AppendCosignatures(signed, line(w2, 9), w1.Verifier()); err == nil {
		t.Error("accepted lines without a cosignature by the witness")
	}
	if _, err := AppendCosignatures(signed, corruptLastSignature(t, line(w1, 8)), w1.Verifier()); err == nil {
		t.Error("accepted an invalid cosignature by the witness")
	}
	if _, err := AppendCosignatures([]byte("no note"), line(w1, 8), w1.Verifier()); err == nil {
		t.Error("accepted a checkpoint that is not a note")
	}
}
