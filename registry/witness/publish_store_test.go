package witness

import (
	"bytes"
	"errors"
	"testing"

	"github.com/credence/credence/internal/kv/memkv"
)

// TestPublisherStoredNotes: a stored note with a bad signature (log
// signature, a cosignature) is an error for Witnessed, never a pass, and
// adds nothing to Attach, which serves the log's checkpoint all the same;
// one with too few cosignatures is no witnessed checkpoint (ErrNotFound).
// The next round replaces either.
func TestPublisherStoredNotes(t *testing.T) {
	ctx := t.Context()
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 2)
	targets := targetsOf(startWitnesses(t, k, 2))
	store := memkv.New()
	p := newPublisher(t, ledger, targets, 2, store)
	good := publish(t, p).Note
	cp := checkpointOf(t, ledger)
	other := newLedgerKey(t)

	for name, tc := range map[string]struct {
		bad      []byte
		notFound bool
	}{
		"garbage":                   {bad: []byte("not a note")},
		"a cosignature corrupted":   {bad: corruptLastSignature(t, good)},
		"no cosignature":            {bad: cp, notFound: true},
		"signed by another log key": {bad: checkpointOf(t, grow(t, newLedger(t, other), 2))},
	} {
		for _, key := range []string{keyCosigned, keyWitnessed} {
			if err := store.Put(ctx, testBucket, key, tc.bad); err != nil {
				t.Fatal(err)
			}
		}
		_, err := p.Witnessed(ctx)
		if err == nil || errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%s: Witnessed = %v, want not found %v", name, err, tc.notFound)
		}
		if got, err := p.Attach(ctx, cp); err != nil || !bytes.Equal(got, cp) {
			t.Errorf("%s: Attach = %v, %q; want the checkpoint unchanged", name, err, got)
		}
		if r := publish(t, p); !r.Witnessed {
			t.Fatalf("%s: round failed: %v", name, r.Failed)
		}
		if _, err := p.Witnessed(ctx); err != nil {
			t.Errorf("%s: Witnessed after a round = %v", name, err)
		}
		if got, err := p.Attach(ctx, cp); err != nil || bytes.Equal(got, cp) {
			t.Errorf("%s: Attach after a round = %v, without cosignatures", name, err)
		}
	}
	if _, err := p.Attach(ctx, []byte("no blank line")); err == nil {
		t.Error("Attach of a non-note succeeded")
	}
}

// TestPublisherConfigurationChange: after the quorum rises (or a witness is
// added) while the new witness is down, the checkpoint is still served with
// the cosignature it has and there is no witnessed checkpoint yet, instead
// of errors; once a round reaches the new quorum it is witnessed again.
func TestPublisherConfigurationChange(t *testing.T) {
	ctx := t.Context()
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 2)
	ws := startWitnesses(t, k, 2)
	store := memkv.New()
	if r := publish(t, newPublisher(t, ledger, targetsOf(ws[:1]), 1, store)); !r.Witnessed {
		t.Fatalf("one witness, quorum 1: %v", r.Failed)
	}
	cp := checkpointOf(t, ledger)

	ws[1].down.Store(true)
	p := newPublisher(t, ledger, targetsOf(ws), 2, store)
	if _, err := p.Witnessed(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Witnessed under the new quorum = %v, want ErrNotFound", err)
	}
	got, err := p.Attach(ctx, cp)
	if err != nil {
		t.Fatalf("Attach under the new quorum: %v", err)
	}
	if _, err := VerifyCosigned(got, ledger.Verifier(), verifiersOf(targetsOf(ws[:1])), 1); err != nil {
		t.Errorf("Attach lost the first witness's cosignature: %v", err)
	}
	if r := publish(t, p); r.Witnessed {
		t.Fatal("witnessed with a witness of the quorum down")
	}

	ws[1].down.Store(false)
	if r := publish(t, p); !r.Witnessed {
		t.Fatalf("round with both up: %v", r.Failed)
	}
	if _, err := p.Witnessed(ctx); err != nil {
		t.Errorf("Witnessed once the new quorum cosigned: %v", err)
	}
}
