package registry

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"golang.org/x/mod/sumdb/note"
)

// fakeCosignatures is one witness's cosignatures, as a publisher keeps
// them: the latest witnessed checkpoint, and nothing newer.
type fakeCosignatures struct {
	witnessed []byte
	err       error
}

func (f *fakeCosignatures) Witnessed(context.Context) ([]byte, error) {
	if f.witnessed == nil && f.err == nil {
		return nil, errors.New("none yet")
	}
	return f.witnessed, f.err
}

func (f *fakeCosignatures) Attach(_ context.Context, signed []byte) ([]byte, error) {
	if f.witnessed != nil && bytes.HasPrefix(f.witnessed, signed) {
		return f.witnessed, nil
	}
	return signed, nil
}

func TestBundlesCarryCosignatures(t *testing.T) {
	ctx := context.Background()
	base, store := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	cosigs := &fakeCosignatures{}
	log := newLogOn(base, store, WithCosignatures(cosigs))
	cos, err := witness.NewCosigner("witness.test/w", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	quorum := func(signed []byte) error {
		_, err := witness.VerifyCosigned(signed, log.Verifier(), []note.Verifier{cos.Verifier()}, 1)
		return err
	}
	upd, rec := edKey(t, 1), edKey(t, 2)
	a := newCreate(t, []testKey{upd}, []testKey{rec}, nil)
	b := newCreate(t, []testKey{edKey(t, 3)}, []testKey{edKey(t, 4)}, nil)
	for _, op := range []*Op{a, b} {
		if _, err := submit(t, log, op); err != nil {
			t.Fatal(err)
		}
	}
	// The witness cosigns size 2; then a's DID moves on to size 3.
	signed, _ := log.Checkpoint(ctx)
	cp, _ := merkle.Open(signed, log.Verifier())
	line, err := cos.Cosign(signed[:bytes.Index(signed, []byte("\n\n"))+1], 1_900_000_000)
	if err != nil {
		t.Fatal(err)
	}
	cosigs.witnessed = append(bytes.Clone(signed), line...)
	st, _ := log.State(ctx, a.Subject, 0)
	update := nextOp(t, st, DIDUpdate, 5)
	update.Doc = testDoc(t, a.Subject, "v2", upd)
	if _, err := submit(t, log, sign(t, update, upd)); err != nil {
		t.Fatal(err)
	}

	bundle := func(subject string) []byte {
		ops, err := log.History(ctx, subject)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := log.Bundle(ctx, ops)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// b's chain is inside the witnessed checkpoint: proved against it,
	// cosignature included.
	if _, err := VerifyBundle(bundle(b.Subject), log.Verifier(), quorum); err != nil {
		t.Errorf("b's bundle does not carry the witness's cosignature: %v", err)
	}
	// a's latest op is newer: proved against the latest checkpoint, which
	// nobody cosigned yet; valid on the log's signature alone.
	raw := bundle(a.Subject)
	if st, err := VerifyBundle(raw, log.Verifier()); err != nil || st.Seq != 2 {
		t.Fatalf("a's bundle: seq %d, %v", st.Seq, err)
	}
	if _, err := VerifyBundle(raw, log.Verifier(), quorum); !errors.Is(err, witness.ErrNoQuorum) {
		t.Errorf("a's uncosigned bundle passed a quorum check: %v", err)
	}
	// When the publisher fails, bundles stand on the log's signature.
	cosigs.witnessed, cosigs.err = nil, errors.New("store down")
	if _, err := VerifyBundle(bundle(b.Subject), log.Verifier()); err != nil {
		t.Errorf("bundle without the publisher: %v", err)
	}
	if cp.Size != 2 {
		t.Fatalf("witnessed size %d", cp.Size)
	}
}
