package witness

import (
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/registry/merkle"
)

func TestVerifyCosigned(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(5, "a")
	impostor := newTestLog(t, "credence.test/log").grow(5, "a")
	ws := []*Cosigner{newCosigner(t, "w1.test"), newCosigner(t, "w2.test"), newCosigner(t, "w3.test")}
	stranger := newCosigner(t, "stranger.test")
	vs := []note.Verifier{ws[0].Verifier(), ws[1].Verifier(), ws[2].Verifier()}
	body := l.cp(5).Marshal()
	sig := func(c *Cosigner) []byte {
		b, err := c.Cosign(body, 100)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	signed := l.checkpoint(5)
	with := func(base []byte, cs ...*Cosigner) []byte {
		for _, c := range cs {
			base = cosigned(base, sig(c))
		}
		return base
	}
	// An impostor's note with w1's and w2's genuine cosignatures of the same
	// body: the cosignatures verify, the log signature does not.
	unsignedByLog := with(impostor.checkpoint(5), ws[0], ws[1])

	tests := []struct {
		name      string
		signed    []byte
		witnesses []note.Verifier
		quorum    int
		want      error // nil, ErrNoQuorum or merkle.ErrBadCheckpoint
	}{
		{"two of three, quorum 2", with(signed, ws[0], ws[2]), vs, 2, nil},
		{"three of three, quorum 2", with(signed, ws...), vs, 2, nil},
		{"one of three, quorum 2", with(signed, ws[1]), vs, 2, ErrNoQuorum},
		{"none, quorum 1", signed, vs, 1, ErrNoQuorum},
		{"quorum 0, no cosignatures", signed, vs, 0, nil},
		{"same witness twice counts once", with(signed, ws[0], ws[0]), vs, 2, ErrNoQuorum},
		{"witness listed twice counts once", with(signed, ws[0]), []note.Verifier{vs[0], vs[0]}, 2, ErrNoQuorum},
		{"unknown witnesses are ignored", with(signed, stranger, ws[1]), vs, 1, nil},
		{"unknown witnesses do not count", with(signed, stranger, ws[1]), vs, 2, ErrNoQuorum},
		{"invalid cosignature by a known witness", corruptLastSignature(t, with(signed, ws[0], ws[1])), vs, 1, merkle.ErrBadCheckpoint},
		{"invalid cosignature, quorum 0", corruptLastSignature(t, with(signed, ws[0])), vs, 0, merkle.ErrBadCheckpoint},
		{"no log signature", unsignedByLog, vs, 2, merkle.ErrBadCheckpoint},
		{"quorum above the witnesses", with(signed, ws...), vs[:1], 2, ErrNoQuorum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := VerifyCosigned(tt.signed, l.verifier, tt.witnesses, tt.quorum)
			if tt.want == nil {
				if err != nil || c.Size != 5 || c.Root != l.cp(5).Root {
					t.Fatalf("VerifyCosigned = %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyCosignedRejectsBadConfig(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(1, "a")
	w := newCosigner(t, "w1.test")
	signed := l.checkpoint(1)
	for name, call := range map[string]func() error{
		"nil log verifier":     func() error { _, err := VerifyCosigned(signed, nil, nil, 0); return err },
		"negative quorum":      func() error { _, err := VerifyCosigned(signed, l.verifier, nil, -1); return err },
		"nil witness":          func() error { _, err := VerifyCosigned(signed, l.verifier, []note.Verifier{nil}, 0); return err },
		"log key as a witness": func() error { _, err := VerifyCosigned(signed, l.verifier, []note.Verifier{l.verifier}, 1); return err },
		"witness key as the log": func() error {
			_, err := VerifyCosigned(cosigned(signed, mustCosign(t, w, l.cp(1).Marshal())), w.Verifier(), nil, 0)
			return err
		},
	} {
		if call() == nil {
			t.Errorf("%s: VerifyCosigned succeeded", name)
		}
	}
}

func mustCosign(t *testing.T, c *Cosigner, body []byte) []byte {
	t.Helper()
	b, err := c.Cosign(body, 1)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
