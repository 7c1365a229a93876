package witness

import (
	"context"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry/merkle"
)

// watchedKV is a replica's view of the shared kv.Store: it fails the test
// if an Update moves a stored checkpoint to a smaller size, and runs hold
// (if set) before each Update.
type watchedKV struct {
	kv.Store
	t    *testing.T
	hold func()
}

func (s *watchedKV) Update(ctx context.Context, bucket, key string, fn func([]byte) ([]byte, error)) error {
	if s.hold != nil {
		s.hold()
	}
	return s.Store.Update(ctx, bucket, key, func(old []byte) ([]byte, error) {
		v, err := fn(old)
		if err != nil || old == nil {
			return v, err
		}
		from, err1 := merkle.ParseCheckpoint(noteBody(old))
		to, err2 := merkle.ParseCheckpoint(noteBody(v))
		if err1 != nil || err2 != nil || to.Size < from.Size {
			s.t.Errorf("%s moved from %q to %q", key, noteBody(old), noteBody(v))
		}
		return v, nil
	})
}

// TestPublishReplicas runs two publishers (two replicas of the log) on one
// kv.Store, with every kv driver: a round that finishes late never moves the
// stored checkpoints back, concurrent rounds keep them moving forward, and
// both end cosigned.
func TestPublishReplicas(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) { testPublishReplicas(t, open(t)) })
	}
}

func testPublishReplicas(t *testing.T, shared kv.Store) {
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 3)
	ws := startWitnesses(t, k, 3)
	targets := targetsOf(ws)
	entered, release := make(chan struct{}), make(chan struct{})
	holdOnce := sync.OnceFunc(func() { entered <- struct{}{}; <-release })
	a := newPublisher(t, ledger, targets, 2, &watchedKV{Store: shared, t: t})
	b := newPublisher(t, ledger, targets, 2, &watchedKV{Store: shared, t: t, hold: holdOnce})

	// b gets size 3 cosigned, and stalls before storing it; meanwhile the
	// log grows and a publishes size 5.
	late := make(chan Round, 1)
	go func() { r, _ := b.Publish(t.Context()); late <- r }()
	<-entered
	grow(t, ledger, 2)
	if r := publish(t, a); !r.Witnessed || r.Size != 5 {
		t.Fatalf("a's round: size %d, failed %v", r.Size, r.Failed)
	}
	close(release)
	if r := <-late; !r.Witnessed || r.Size != 3 {
		t.Fatalf("b's round: size %d, failed %v", r.Size, r.Failed)
	}
	vs := verifiersOf(targets)
	wantWitnessed(t, b, k, vs, 5)
	full, err := b.Attach(t.Context(), checkpointOf(t, ledger))
	if _, err2 := VerifyCosigned(full, k.verifier, vs, 3); err != nil || err2 != nil {
		t.Fatalf("Attach = %v, %v", err, err2)
	}

	// Concurrent rounds while the log grows.
	var wg sync.WaitGroup
	for range 4 {
		grow(t, ledger, 1)
		for _, p := range []*Publisher{a, b} {
			wg.Go(func() {
				if _, err := p.Publish(t.Context()); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	for _, p := range []*Publisher{a, b} {
		if r := publish(t, p); !r.Witnessed || len(r.Cosigned) != 3 || r.Size != 9 {
			t.Errorf("final round: size %d, cosigned %v, failed %v", r.Size, r.Cosigned, r.Failed)
		}
		wantNoFault(t, p)
	}
	wantWitnessed(t, a, k, vs, 9)
}
