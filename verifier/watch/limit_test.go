package watch

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/status"
)

// stores are the kv drivers the limit must hold on.
var stores = []struct {
	name string
	open func(t *testing.T) kv.Store
}{
	{"memkv", func(*testing.T) kv.Store { return memkv.New() }},
	{"boltkv", func(t *testing.T) kv.Store {
		s, err := boltkv.Open(filepath.Join(t.TempDir(), "kv.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"rediskv", func(t *testing.T) kv.Store { return rediskv.New(testredis.Client(t), testredis.Prefix(t)) }},
}

// gate is a polled status list that answers once every Add of a round has
// either reached it or returned: all of them are inside Add at once.
type gate struct {
	adds    int
	arrived atomic.Int64
	open    chan struct{}
	once    sync.Once
}

func newGate(adds int) *gate { return &gate{adds: adds, open: make(chan struct{})} }

// pass counts an Add that reached the list or returned.
func (g *gate) pass() {
	if g.arrived.Add(1) == int64(g.adds) {
		g.once.Do(func() { close(g.open) })
	}
}

func (g *gate) ListBits(ctx context.Context, _ string) ([]byte, error) {
	g.pass()
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	return make([]byte, 16384), nil
}

const gatedList = "https://lists.example/gated"

// Concurrent Adds of one verifier store exactly maxWatches watches.
func TestLimitHoldsUnderConcurrency(t *testing.T) {
	const limit, adds = 5, 20
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			g := newGate(adds)
			s := New(st.open(t), nil, testOpts(nil, WithMaxWatches(limit), WithPolling(g, time.Hour))...)
			cred := credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, gatedList, 1))
			var ok, full atomic.Int64
			var wg sync.WaitGroup
			for range adds {
				wg.Go(func() {
					_, _, err := s.Add(context.Background(), "hospital-a", cred, "https://hooks.example.com/x")
					entered := err == nil || !errors.Is(err, ErrLimit)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, ErrLimit):
						full.Add(1)
					default:
						t.Errorf("Add: %v", err)
					}
					if !entered {
						g.pass() // it never reached the list
					}
				})
			}
			wg.Wait()
			list, err := s.List(context.Background(), "hospital-a")
			if err != nil {
				t.Fatal(err)
			}
			if ok.Load() != limit || full.Load() != adds-limit || len(list) != limit {
				t.Fatalf("%d added, %d refused, %d stored; want %d, %d, %d", ok.Load(), full.Load(), len(list), limit, adds-limit, limit)
			}
		})
	}
}

// Removing a watch frees its slot, once however many Removes race; a failed
// Add gives its slot back.
func TestRemoveFreesSlot(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			w := newWorld(t)
			w.store = st.open(t)
			s := New(w.store, w.ledger, testOpts(nil, WithMaxWatches(2))...)
			ctx := context.Background()
			cred := credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1))
			first := w.add(t, s, "hospital-a", cred)
			w.add(t, s, "hospital-a", cred)
			unknown := credential("urn:uuid:2", time.Time{}, entry(status.PurposeRevocation, "https://nowhere.example/l", 1))
			if _, _, err := s.Add(ctx, "hospital-a", unknown, w.recv.url()); !errors.Is(err, ErrLimit) {
				t.Fatalf("a third Add: %v, want ErrLimit", err)
			}
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					if err := s.Remove(ctx, "hospital-a", first.ID); err != nil && !errors.Is(err, ErrNotFound) {
						t.Errorf("Remove: %v", err)
					}
				})
			}
			wg.Wait()
			if _, _, err := s.Add(ctx, "hospital-a", unknown, w.recv.url()); !errors.Is(err, ErrStatusUnavailable) {
				t.Fatalf("a failing Add: %v, want ErrStatusUnavailable", err)
			}
			w.add(t, s, "hospital-a", cred)
			if _, _, err := s.Add(ctx, "hospital-a", cred, w.recv.url()); !errors.Is(err, ErrLimit) {
				t.Fatalf("after one Remove and two Adds: %v, want ErrLimit", err)
			}
		})
	}
}

// Watches stored before counts were kept are counted on first use, by an
// Add or by a Remove.
func TestLimitCountsExistingWatches(t *testing.T) {
	for _, first := range []string{"add", "remove"} {
		t.Run(first, func(t *testing.T) {
			w := newWorld(t)
			s := New(w.store, w.ledger, testOpts(nil, WithMaxWatches(4))...)
			ctx := context.Background()
			cred := credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1))
			var ids []string
			for range 3 {
				ids = append(ids, w.add(t, s, "hospital-a", cred).ID)
			}
			w.add(t, s, "hospital-b", cred)
			// As stored by the version without counts.
			if err := w.store.Delete(ctx, bucketCount, "hospital-a"); err != nil {
				t.Fatal(err)
			}
			want := 1 // free slots
			if first == "remove" {
				if err := s.Remove(ctx, "hospital-a", ids[0]); err != nil {
					t.Fatal(err)
				}
				want = 2
			}
			for range want {
				w.add(t, s, "hospital-a", cred)
			}
			if _, _, err := s.Add(ctx, "hospital-a", cred, w.recv.url()); !errors.Is(err, ErrLimit) {
				t.Fatalf("past the limit: %v, want ErrLimit", err)
			}
			if n := countOf(t, w.store, "hospital-a"); n != 4 {
				t.Fatalf("count %d, want 4", n)
			}
		})
	}
}

func countOf(t testing.TB, store kv.Store, verifier string) int {
	t.Helper()
	b, err := store.Get(context.Background(), bucketCount, esc(verifier))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
