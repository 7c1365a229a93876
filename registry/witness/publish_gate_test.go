package witness

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
)

// faultCountingStore counts the Updates of the publisher's faults.
type faultCountingStore struct {
	kv.Store
	faultWrites atomic.Int64
}

func (s *faultCountingStore) Update(ctx context.Context, bucket, key string, fn func([]byte) ([]byte, error)) error {
	if key == keyFaults {
		s.faultWrites.Add(1)
	}
	return s.Store.Update(ctx, bucket, key, fn)
}

func wantGate(t *testing.T, p *Publisher, want error) {
	t.Helper()
	err := p.Gate(t.Context())
	if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
		t.Errorf("Gate() = %v, want %v", err, want)
	}
}

// TestGateKeepsFaultsAcrossRestarts: a fault one publisher found closes the
// gate of a publisher started later on the same store (a restart, or a
// replica) before that one runs a round, only for witnesses it is
// configured with under the same key; a cosignature by the faulted
// witnesses opens it again. Rounds that change nothing do not write.
func TestGateKeepsFaultsAcrossRestarts(t *testing.T) {
	k := newLedgerKey(t)
	orig := grow(t, newLedger(t, k), 5)
	src := newSwapSource(orig)
	ws := startWitnesses(t, k, 3)
	store := &faultCountingStore{Store: memkv.New()}
	p := newPublisher(t, src, targetsOf(ws), 2, store)
	publish(t, p)
	publish(t, p)
	if n := store.faultWrites.Load(); n != 0 {
		t.Errorf("%d writes of the faults by healthy rounds, want 0", n)
	}
	wantGate(t, p, nil)

	src.set(replay(t, k, orig, 3))
	wantFault(t, p, publish(t, p), ErrRollback)
	wantGate(t, p, ErrRollback)
	writes := store.faultWrites.Load()
	if writes != 1 {
		t.Errorf("%d writes of the faults when they were found, want 1", writes)
	}
	wantFault(t, p, publish(t, p), ErrRollback)
	if n := store.faultWrites.Load(); n != writes {
		t.Errorf("a round finding the same faults wrote them again (%d writes)", n-writes)
	}

	restarted := newPublisher(t, src, targetsOf(ws), 2, store)
	if err := restarted.Fault(); err != nil {
		t.Errorf("Fault() before any round = %v; the stored faults are Gate's", err)
	}
	wantGate(t, restarted, ErrRollback)
	if err := restarted.Gate(t.Context()); !strings.Contains(err.Error(), "size 5 signed by the log, the log has 3") {
		t.Errorf("Gate() = %q, want the stored proof's sizes", err)
	}

	// Only the witnesses a publisher is configured with count, under the
	// keys they had: a witness replaced by one with the same name and
	// another key (startWitnesses names them w1, w2, ...) has no fault.
	replaced := startWitnesses(t, k, 1)
	wantGate(t, newPublisher(t, src, targetsOf(replaced), 1, store), nil)
	wantGate(t, newPublisher(t, src, targetsOf(ws)[2:], 1, store), ErrRollback)

	src.set(orig)
	if r := publish(t, restarted); !r.Witnessed {
		t.Fatalf("round after the restore: %v", r.Failed)
	}
	wantGate(t, restarted, nil)
	wantGate(t, newPublisher(t, src, targetsOf(ws), 2, store), nil)
	// p still knows its own rounds' faults until it publishes again.
	wantGate(t, p, ErrRollback)
	publish(t, p)
	wantGate(t, p, nil)
}

// TestGateStoreFailure: a gate that cannot read the stored faults stays
// closed.
func TestGateStoreFailure(t *testing.T) {
	k := newLedgerKey(t)
	src := newSwapSource(grow(t, newLedger(t, k), 2))
	ws := startWitnesses(t, k, 1)
	store := memkv.New()
	p := newPublisher(t, src, targetsOf(ws), 1, store)
	if err := store.Put(t.Context(), testBucket, keyFaults, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if err := p.Gate(t.Context()); err == nil || !strings.Contains(err.Error(), "stored faults") {
		t.Errorf("Gate() with unreadable faults = %v, want an error", err)
	}
	// A round rewrites them from what it finds.
	if r := publish(t, p); !r.Witnessed {
		t.Fatalf("round: %v", r.Failed)
	}
	wantGate(t, p, nil)
}
