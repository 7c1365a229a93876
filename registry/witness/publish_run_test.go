package witness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/registrytest"
)

// countingSource counts rounds (Checkpoint reads) and, while gate is set,
// holds a round until the gate is closed.
type countingSource struct {
	*registry.Log
	mu     sync.Mutex
	rounds int
	gate   chan struct{}
}

func (s *countingSource) Checkpoint(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	s.rounds++
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return s.Log.Checkpoint(ctx)
}

func (s *countingSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rounds
}

func (s *countingSource) setGate(g chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = g
}

// handlerTransport serves requests with a handler, in memory, so that the
// test's bubble holds no network I/O.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestPublisherRun runs Run in a synctest bubble (fake time): a round at
// start, wake-ups during a round coalesced into one more, a round every
// interval, retries with a doubling backoff while rounds fail, a closed wake
// channel, and a return when ctx ends.
func TestPublisherRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		ledger := registrytest.NewLog(t)
		createDID(t, ledger)
		w, err := New(newCosigner(t, "witness.credence.test/w1"), NewKVStore(memkv.New(), ""),
			[]Log{{Origin: ledger.Origin(), Keys: []note.Verifier{ledger.Verifier()}}})
		if err != nil {
			t.Fatal(err)
		}
		var down atomic.Bool
		h := http.StripPrefix("/w", w.Handler())
		client := &http.Client{Transport: handlerTransport{http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(rw, "down", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(rw, r)
		})}}
		src := &countingSource{Log: ledger}
		p := newPublisher(t, src, []Target{{URL: "http://witness.test/w", Verifier: w.Cosigner().Verifier()}}, 1, nil,
			WithHTTPClient(client), WithInterval(time.Hour), WithBackoff(time.Second, 4*time.Second))
		wake := make(chan struct{})
		done := make(chan struct{})
		go func() { p.Run(ctx, wake); close(done) }()
		rounds := func(want int) {
			t.Helper()
			synctest.Wait()
			if got := src.count(); got != want {
				t.Fatalf("%d rounds, want %d", got, want)
			}
		}

		rounds(1)
		wantWitnessedSize(t, p, 1)

		// Wake-ups during a round: one more round after it.
		gate := make(chan struct{})
		src.setGate(gate)
		wake <- struct{}{}
		rounds(2)
		for range 5 {
			wake <- struct{}{} // Run receives them while the round is held
		}
		src.setGate(nil)
		close(gate)
		rounds(3)

		// Nothing more until the interval.
		time.Sleep(time.Hour - time.Millisecond)
		rounds(3)
		time.Sleep(time.Millisecond)
		rounds(4)

		// Failed rounds retry after 1 s, 2 s, 4 s, 4 s; a success resets.
		down.Store(true)
		wake <- struct{}{}
		rounds(5)
		for i, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
			time.Sleep(d - time.Millisecond)
			rounds(5 + i)
			time.Sleep(time.Millisecond)
			rounds(6 + i)
		}
		down.Store(false)
		createDID(t, ledger)
		time.Sleep(4 * time.Second)
		rounds(10)
		wantWitnessedSize(t, p, 2)
		time.Sleep(time.Hour - time.Millisecond)
		rounds(10)
		close(wake) // no more wake-ups, and no busy loop
		rounds(10)
		time.Sleep(time.Millisecond)
		rounds(11)

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Run did not return after ctx ended")
		}
	})
}

func wantWitnessedSize(t *testing.T, p *Publisher, want uint64) {
	t.Helper()
	w, err := p.Witnessed(t.Context())
	if err != nil || sizeOfNote(t, w) != want {
		t.Fatalf("Witnessed = %v; want size %d", err, want)
	}
}
