package witness

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
)

// stores are the kv drivers the witness runs on.
var stores = map[string]func(t *testing.T) kv.Store{
	"memkv": func(*testing.T) kv.Store { return memkv.New() },
	"boltkv": func(t *testing.T) kv.Store {
		s, err := boltkv.Open(filepath.Join(t.TempDir(), "witness.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	},
	"rediskv": func(t *testing.T) kv.Store {
		return rediskv.New(testredis.Client(t), testredis.Prefix(t))
	},
}

// TestConcurrentAdd: of concurrent add-checkpoint calls from the same old
// size, exactly one succeeds and the others get a conflict at its size, on
// every kv driver, whether the checkpoints are consistent (a race between
// two log replicas) or forks (an equivocating log racing itself).
func TestConcurrentAdd(t *testing.T) {
	const racers = 8
	for name, open := range stores {
		for _, forked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/forks=%v", name, forked), func(t *testing.T) {
				ctx := t.Context()
				l := newTestLog(t, "credence.test/log").grow(4+racers, "base")
				w, _ := newWitness(t, NewKVStore(open(t), ""), l)
				if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(4)); err != nil {
					t.Fatal(err)
				}
				logs := make([]*testLog, racers)
				for i := range logs {
					logs[i] = l // racer i submits size 5+i of the same log
					if forked {
						logs[i] = l.fork(4).grow(1+i, fmt.Sprintf("fork%d", i))
					}
				}
				var wg sync.WaitGroup
				errs := make([]error, racers)
				for i, lg := range logs {
					size := uint64(5 + i)
					signed, proof := lg.checkpoint(size), lg.proof(4, size)
					wg.Go(func() { _, errs[i] = w.AddCheckpoint(ctx, 4, proof, signed) })
				}
				wg.Wait()
				state, err := w.Latest(ctx, l.origin)
				if err != nil {
					t.Fatal(err)
				}
				now, _ := parseStored(state, l.origin)
				winners := 0
				for i, err := range errs {
					var conflict *ConflictError
					switch {
					case err == nil:
						winners++
						if want := logs[i].cp(uint64(5 + i)); now.Size != want.Size || now.Root != want.Root {
							t.Fatalf("racer %d won but the witness is at size %d", i, now.Size)
						}
					case errors.As(err, &conflict):
						if conflict.Size != now.Size {
							t.Fatalf("racer %d: conflict at size %d, the witness is at %d", i, conflict.Size, now.Size)
						}
					default:
						t.Fatalf("racer %d: %v", i, err)
					}
				}
				if winners != 1 {
					t.Fatalf("%d racers succeeded from the same old size, want exactly 1", winners)
				}
			})
		}
	}
}

func TestKVStore(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := NewKVStore(open(t), "")
			if _, err := s.Latest(ctx, "o"); !errors.Is(err, ErrNotFound) || !errors.Is(err, kv.ErrNotFound) {
				t.Fatalf("Latest of nothing = %v, want ErrNotFound", err)
			}
			stop := errors.New("stop")
			if err := s.Update(ctx, "o", func(old []byte) ([]byte, error) { return nil, stop }); err != stop {
				t.Fatalf("Update returned %v, want fn's error unchanged", err)
			}
			if err := s.Update(ctx, "o", func(old []byte) ([]byte, error) {
				if old != nil {
					return nil, fmt.Errorf("old = %q, want nil", old)
				}
				return []byte("v1"), nil
			}); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Latest(ctx, "o"); err != nil || string(v) != "v1" {
				t.Fatalf("Latest = %q, %v", v, err)
			}
		})
	}
}

// racyStore is a broken Store: Update reads, waits until every racer has
// read, then writes, as a store without compare-and-swap would.
type racyStore struct {
	mu      sync.Mutex
	value   []byte
	barrier sync.WaitGroup
}

func (s *racyStore) Latest(context.Context, string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value, nil
}

func (s *racyStore) Update(ctx context.Context, origin string, fn func([]byte) ([]byte, error)) error {
	old, _ := s.Latest(ctx, origin)
	s.barrier.Done()
	s.barrier.Wait()
	v, err := fn(old)
	if err == nil {
		s.mu.Lock()
		s.value = v
		s.mu.Unlock()
	}
	return err
}

// TestRacyStoreIsCaught is the control of TestConcurrentAdd: without an
// atomic Store.Update, several racers do get cosignatures from one old size
// (and the witness rolls back), so the single winner above is the store's
// compare-and-swap at work, not luck of scheduling.
func TestRacyStoreIsCaught(t *testing.T) {
	const racers = 4
	l := newTestLog(t, "credence.test/log").grow(4+racers, "base")
	st := &racyStore{}
	w, _ := newWitness(t, st, l)
	st.barrier.Add(1)
	if _, err := w.AddCheckpoint(t.Context(), 0, nil, l.checkpoint(4)); err != nil {
		t.Fatal(err)
	}
	st.barrier.Add(racers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range racers {
		size := uint64(5 + i)
		signed, proof := l.checkpoint(size), l.proof(4, size)
		wg.Go(func() {
			if _, err := w.AddCheckpoint(t.Context(), 4, proof, signed); err == nil {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if winners != racers {
		t.Fatalf("%d of %d racers won on a racy store; the control expects all", winners, racers)
	}
}
