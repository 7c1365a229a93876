package witness

import (
	"errors"
	"testing"

	"github.com/credence/credence/internal/kv/memkv"
)

// TestPublisherStoredNotes: a stored note that does not verify (log
// signature, cosignatures, quorum) is an error for Witnessed and Attach, not
// a silent pass, and the next round replaces it.
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

	for name, bad := range map[string][]byte{
		"garbage":                   []byte("not a note"),
		"a cosignature corrupted":   corruptLastSignature(t, good),
		"no cosignature":            cp,
		"signed by another log key": checkpointOf(t, grow(t, newLedger(t, other), 2)),
	} {
		for _, key := range []string{keyCosigned, keyWitnessed} {
			if err := store.Put(ctx, testBucket, key, bad); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.Witnessed(ctx); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: Witnessed = %v, want an error", name, err)
		}
		if _, err := p.Attach(ctx, cp); err == nil {
			t.Errorf("%s: Attach succeeded", name)
		}
		if r := publish(t, p); !r.Witnessed {
			t.Fatalf("%s: round failed: %v", name, r.Failed)
		}
		if _, err := p.Witnessed(ctx); err != nil {
			t.Errorf("%s: Witnessed after a round = %v", name, err)
		}
		if _, err := p.Attach(ctx, cp); err != nil {
			t.Errorf("%s: Attach after a round = %v", name, err)
		}
	}
	if _, err := p.Attach(ctx, []byte("no blank line")); err == nil {
		t.Error("Attach of a non-note succeeded")
	}
}
