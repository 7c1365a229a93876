package witness

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

// The registry's log is what the server publishes.
var _ Source = (*registry.Log)(nil)

// ledgerOrigin is the origin (and key name) of the test ledgers.
const ledgerOrigin = "credence.test/log"

// ledgerKey is a checkpoint key that several ledgers may share, as a log
// restored from a backup, or a forked one, keeps its key.
type ledgerKey struct {
	signer   note.Signer
	verifier note.Verifier
}

func newLedgerKey(t testing.TB) ledgerKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := merkle.NewSigner(ledgerOrigin, pub, func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := merkle.VerifierKey(ledgerOrigin, pub)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return ledgerKey{signer, verifier}
}

// newLedger returns a registry log signing with k on a fresh bbolt store.
func newLedger(t testing.TB, k ledgerKey) *registry.Log {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return registry.NewLog(st, k.signer, k.verifier)
}

// grow appends n new DIDs to l.
func grow(t *testing.T, l *registry.Log, n int) *registry.Log {
	t.Helper()
	for range n {
		createDID(t, l)
	}
	return l
}

// replay returns a ledger signing with k that holds the first n ops of l:
// l's store restored from an older backup.
func replay(t *testing.T, k ledgerKey, l *registry.Log, n int) *registry.Log {
	t.Helper()
	r := newLedger(t, k)
	for i := range n {
		leaf, err := l.Leaf(t.Context(), uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Submit(t.Context(), leaf.Data); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func checkpointOf(t *testing.T, l *registry.Log) []byte {
	t.Helper()
	cp, err := l.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// swapSource is a Source whose log the test replaces: the operator
// restoring a backup, or an attacker swapping the store.
type swapSource struct{ l atomic.Pointer[registry.Log] }

func newSwapSource(l *registry.Log) *swapSource {
	s := &swapSource{}
	s.l.Store(l)
	return s
}

func (s *swapSource) set(l *registry.Log) { s.l.Store(l) }

func (s *swapSource) Checkpoint(ctx context.Context) ([]byte, error) {
	return s.l.Load().Checkpoint(ctx)
}
func (s *swapSource) Verifier() note.Verifier                  { return s.l.Load().Verifier() }
func (s *swapSource) Size(ctx context.Context) (uint64, error) { return s.l.Load().Size(ctx) }
func (s *swapSource) ProveConsistency(ctx context.Context, from, to uint64) (merkle.ConsistencyProof, error) {
	return s.l.Load().ProveConsistency(ctx, from, to)
}

// testWitness is a Witness served over HTTP under /witness, which the test
// can take down (503).
type testWitness struct {
	*Witness
	url  string
	down atomic.Bool
	adds atomic.Int64 // add-checkpoint requests
}

// startWitnesses starts n witnesses following the log with key k.
func startWitnesses(t *testing.T, k ledgerKey, n int) []*testWitness {
	t.Helper()
	var ws []*testWitness
	for i := range n {
		cos := newCosigner(t, fmt.Sprintf("witness.credence.test/w%d", i+1))
		w, err := New(cos, NewKVStore(memkv.New(), ""), []Log{{Origin: ledgerOrigin, Keys: []note.Verifier{k.verifier}}})
		if err != nil {
			t.Fatal(err)
		}
		tw := &testWitness{Witness: w}
		h := http.StripPrefix("/witness", w.Handler())
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				tw.adds.Add(1)
			}
			if tw.down.Load() {
				http.Error(rw, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(rw, r)
		}))
		t.Cleanup(srv.Close)
		tw.url = srv.URL + "/witness"
		ws = append(ws, tw)
	}
	return ws
}

func (w *testWitness) target() Target {
	return Target{URL: w.url, Verifier: w.Cosigner().Verifier()}
}

func targetsOf(ws []*testWitness) []Target {
	var ts []Target
	for _, w := range ws {
		ts = append(ts, w.target())
	}
	return ts
}

func verifiersOf(ts []Target) []note.Verifier {
	var vs []note.Verifier
	for _, t := range ts {
		vs = append(vs, t.Verifier)
	}
	return vs
}

const testBucket = "witness-publisher"

func newPublisher(t *testing.T, src Source, targets []Target, quorum int, store kv.Store, opts ...PublisherOption) *Publisher {
	t.Helper()
	if store == nil {
		store = memkv.New()
	}
	opts = append([]PublisherOption{WithPublishLogger(slog.New(slog.NewTextHandler(t.Output(), nil)))}, opts...)
	p, err := NewPublisher(src, targets, quorum, store, testBucket, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// publish runs a round that must not fail as a whole.
func publish(t *testing.T, p *Publisher) Round {
	t.Helper()
	r, err := p.Publish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sizeOfNote is the size of a stored or served checkpoint note.
func sizeOfNote(t testing.TB, signed []byte) uint64 {
	t.Helper()
	c, err := merkle.ParseCheckpoint(noteBody(signed))
	if err != nil {
		t.Fatalf("not a checkpoint note: %v\n%s", err, signed)
	}
	return c.Size
}
