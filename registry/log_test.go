package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/registry/merkle"
	"golang.org/x/mod/sumdb/tlog"
)

// memStore is a minimal in-memory Store for the Log's tests (the drivers import
// this package, so they cannot be used here; they pass registry/storetest).
type memStore struct {
	mu     sync.Mutex
	tree   merkle.MemoryTree
	leaves []Leaf
	heads  map[string]Head
	hist   map[string][]uint64
	cpSize uint64
	cp     []byte
}

func newMemStore() *memStore {
	return &memStore{heads: map[string]Head{}, hist: map[string][]uint64{}}
}

func (m *memStore) Append(ctx context.Context, want Head, leaf Leaf) (uint64, error) {
	return m.AppendGuarded(ctx, want, nil, leaf)
}

func (m *memStore) AppendGuarded(_ context.Context, want Head, guards []Guard, leaf Leaf) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heads[leaf.Subject] != want {
		return 0, ErrConflict
	}
	for _, g := range guards {
		if m.heads[g.Subject] != g.Head {
			return 0, ErrConflict
		}
	}
	idx, err := m.tree.Append(leaf.Data)
	if err != nil {
		return 0, err
	}
	leaf.Index = idx
	m.leaves = append(m.leaves, leaf)
	m.heads[leaf.Subject] = Head{Seq: leaf.Seq, Hash: leaf.Hash}
	m.hist[leaf.Subject] = append(m.hist[leaf.Subject], idx)
	return idx, nil
}

func (m *memStore) Leaf(_ context.Context, i uint64) (Leaf, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i >= uint64(len(m.leaves)) {
		return Leaf{}, ErrNotFound
	}
	return m.leaves[i], nil
}

func (m *memStore) Size(context.Context) (uint64, error) { return m.tree.Size(), nil }
func (m *memStore) Head(_ context.Context, s string) (Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heads[s], nil
}
func (m *memStore) History(_ context.Context, s string) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint64(nil), m.hist[s]...), nil
}
func (m *memStore) ReadHashes(_ context.Context, idx []int64) ([]tlog.Hash, error) {
	return m.tree.ReadHashes(idx)
}
func (m *memStore) SaveCheckpoint(_ context.Context, size uint64, signed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size < m.cpSize {
		return errors.New("checkpoint would go backwards")
	}
	m.cpSize, m.cp = size, signed
	return nil
}
func (m *memStore) Checkpoint(context.Context) (uint64, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cp == nil {
		return 0, nil, ErrNotFound
	}
	return m.cpSize, m.cp, nil
}
func (m *memStore) Close() error { return nil }

func newTestLog(t testing.TB, now time.Time) (*Log, *memStore) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/log", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/log", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	return NewLog(st, signer, verifier, WithClock(func() time.Time { return now })), st
}

// newLogOn returns another Log (another process, as far as the cache goes) on
// store, with l's checkpoint key.
func newLogOn(l *Log, store Store, opts ...LogOption) *Log {
	return NewLog(store, l.signer, l.verifier, append([]LogOption{WithClock(l.now)}, opts...)...)
}

func submit(t *testing.T, l *Log, op *Op) (Receipt, error) {
	t.Helper()
	raw, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	return l.Submit(context.Background(), raw)
}

func TestLogLifecycleCheckpointsAndProofs(t *testing.T) {
	ctx := context.Background()
	log, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	upd, rec, upd2 := edKey(t, 1), edKey(t, 2), edKey(t, 3)
	create := newCreate(t, []testKey{upd}, []testKey{rec}, nil)
	r1, err := submit(t, log, create)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := submit(t, log, create); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed create: %v", err)
	}
	st, _ := log.State(ctx, create.Subject, 0)
	update := nextOp(t, st, DIDUpdate, 5)
	update.Doc = testDoc(t, create.Subject, "rotated", upd2)
	update.UpdateKeys = mks(upd2)
	r2, err := submit(t, log, sign(t, update, upd))
	if err != nil {
		t.Fatal(err)
	}
	if r2.Index != r1.Index+1 || r2.Seq != 2 {
		t.Errorf("receipts %+v %+v", r1, r2)
	}
	// The rotated-out key can no longer sign.
	st, _ = log.State(ctx, create.Subject, 0)
	stale := nextOp(t, st, DIDUpdate, 6)
	stale.Doc = testDoc(t, create.Subject, "stale", upd)
	if _, err := submit(t, log, sign(t, stale, upd)); !errors.Is(err, ErrUnauthorizedKey) {
		t.Errorf("rotated-out key: %v", err)
	}
	// Old versions stay resolvable.
	if v1, _ := log.State(ctx, create.Subject, 1); v1.Seq != 1 || v1.UpdateKeys[0] != upd.mk {
		t.Errorf("version 1 state = %+v", v1)
	}
	// The checkpoint covers both ops and proofs verify offline against it.
	cpText, err := log.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := merkle.Open(cpText, log.Verifier())
	if err != nil || cp.Size != 2 {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	for _, r := range []Receipt{r1, r2} {
		leaf, _ := log.Leaf(ctx, r.Index)
		p, err := log.ProveInclusion(ctx, r.Index, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := merkle.VerifyCheckpointInclusion(cp, p, leaf.Data); err != nil {
			t.Errorf("inclusion of %d: %v", r.Index, err)
		}
	}
	old, _ := merkle.Open([]byte(r1.Checkpoint), log.Verifier())
	cons, err := log.ProveConsistency(ctx, old.Size, cp.Size)
	if err != nil || merkle.VerifyCheckpointConsistency(old, cp, cons) != nil {
		t.Errorf("consistency %d→%d: %v", old.Size, cp.Size, err)
	}
	if _, err := log.ProveInclusion(ctx, 0, 3); !errors.Is(err, merkle.ErrOutOfRange) {
		t.Errorf("out-of-range proof: %v", err)
	}
}

func TestLogRejectsFutureOpsAndKeepsConcurrentAppendsConsistent(t *testing.T) {
	log, store := newTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// Op times are in March 2026; the sequencer's clock says January.
	future := newCreate(t, []testKey{edKey(t, 9)}, []testKey{edKey(t, 10)}, nil)
	if _, err := submit(t, log, future); !errors.Is(err, ErrTimeInFuture) {
		t.Fatalf("future op: %v", err)
	}
	if n, _ := store.Size(context.Background()); n != 0 {
		t.Fatalf("rejected op was appended")
	}
	log.now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			op := newCreate(t, []testKey{edKey(t, byte(20+i))}, []testKey{edKey(t, byte(40+i))}, nil)
			_, err := submit(t, log, op)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	cp, err := merkle.Open(store.cp, log.Verifier())
	if err != nil || cp.Size != 8 {
		t.Fatalf("final checkpoint %+v %v", cp, err)
	}
	root, _ := merkle.TreeRoot(&store.tree, 8)
	if cp.Root != root {
		t.Errorf("checkpoint root does not match the tree")
	}
}

func TestWriteGateRefusesAppendsWhileClosed(t *testing.T) {
	ctx := context.Background()
	base, store := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var closed error
	log := newLogOn(base, store, WithWriteGate(func(context.Context) error { return closed }))
	first := newCreate(t, []testKey{edKey(t, 1)}, []testKey{edKey(t, 2)}, nil)
	if _, err := submit(t, log, first); err != nil {
		t.Fatal(err)
	}
	closed = errors.New("witness proved a rollback")
	second := newCreate(t, []testKey{edKey(t, 3)}, []testKey{edKey(t, 4)}, nil)
	_, err := submit(t, log, second)
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "witness proved a rollback") {
		t.Fatalf("append through a closed gate: %v", err)
	}
	if n, _ := log.Size(ctx); n != 1 {
		t.Fatalf("size %d after a refused append, want 1", n)
	}
	if _, err := log.State(ctx, first.Subject, 0); err != nil {
		t.Errorf("reads while the gate is closed: %v", err)
	}
	closed = nil
	if _, err := submit(t, log, second); err != nil {
		t.Fatalf("append after the gate reopened: %v", err)
	}
}
