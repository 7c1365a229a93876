package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// waitLimit bounds every wait of these tests.
const waitLimit = 10 * time.Second

// write is one entry write (Create or CreateMany) held by a heldStore until
// the test decides it.
type write struct {
	ctx   context.Context
	keys  []string
	reply chan action
}

// action decides a held write: apply it to the store or not, then return err
// (after applying: a lost answer).
type action struct {
	apply bool
	err   error
}

func (w *write) do(apply bool, err error) { w.reply <- action{apply, err} }

// heldStore hands every entry write to the test through writes and waits
// for its decision (or the write's context). Other calls go through.
type heldStore struct {
	kv.Store
	writes chan *write
}

func newHeldStore(s kv.Store) *heldStore {
	return &heldStore{Store: s, writes: make(chan *write)}
}

func (h *heldStore) hold(ctx context.Context, items []kv.Item, apply func() error) error {
	w := &write{ctx: ctx, reply: make(chan action, 1)}
	for _, it := range items {
		w.keys = append(w.keys, it.Key)
	}
	select {
	case h.writes <- w:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case a := <-w.reply:
		if a.apply {
			if err := apply(); err != nil {
				return err
			}
		}
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *heldStore) Create(ctx context.Context, bucket, key string, value []byte) error {
	return h.hold(ctx, []kv.Item{{Key: key, Value: value}}, func() error {
		return h.Store.Create(ctx, bucket, key, value)
	})
}

func (h *heldStore) CreateMany(ctx context.Context, bucket string, items []kv.Item) error {
	return h.hold(ctx, items, func() error { return h.Store.CreateMany(ctx, bucket, items) })
}

// next returns the next held write.
func (h *heldStore) next(t *testing.T) *write {
	t.Helper()
	select {
	case w := <-h.writes:
		return w
	case <-time.After(waitLimit):
		t.Fatal("no write reached the store")
		return nil
	}
}

// result is what one Append returned.
type result struct {
	e   audit.Entry
	err error
}

// start appends decision(chain, i) in a goroutine.
func start(ctx context.Context, l *audit.Log, chain string, i int) <-chan result {
	ch := make(chan result, 1)
	go func() {
		e, err := l.Append(ctx, decision(chain, i))
		ch <- result{e, err}
	}()
	return ch
}

// await returns an Append's result.
func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitLimit):
		t.Fatal("Append did not return")
		return result{}
	}
}

// waitQueued waits until n appends to chain are queued.
func waitQueued(t *testing.T, l *audit.Log, chain string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for audit.Queued(l, chain) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends queued, want %d", audit.Queued(l, chain), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// entryKeys are the keys of entries from..to of chain.
func entryKeys(chain string, from, to int) []string {
	var keys []string
	for s := from; s <= to; s++ {
		keys = append(keys, fmt.Sprintf("e/%s/%020d", chain, s))
	}
	return keys
}

// stored returns the chain as stored, checked by Entries and by Verify of
// its export.
func stored(t *testing.T, l *audit.Log, chain string) []audit.Entry {
	t.Helper()
	var es []audit.Entry
	if err := l.Entries(t.Context(), chain, 1, func(e audit.Entry) error { es = append(es, e); return nil }); err != nil {
		t.Fatal(err)
	}
	checkChain(t, es)
	signer := newSigner("k")
	rep, err := audit.Verify(bytes.NewReader(export(t, l, chain)), signer.Public())
	if err != nil || rep.Size != uint64(len(es)) {
		t.Fatalf("Verify = %+v, %v; want an intact chain of %d", rep, err, len(es))
	}
	return es
}

// queueBehind blocks the first append of chain in the store and queues n
// more behind it, in order: decision(chain, 1..n). It returns the first
// append's held write and result, and the others' results.
func queueBehind(t *testing.T, ctxs []context.Context, l *audit.Log, h *heldStore, chain string) (*write, <-chan result, []<-chan result) {
	t.Helper()
	first := start(t.Context(), l, chain, 0)
	w := h.next(t)
	var rest []<-chan result
	for i, ctx := range ctxs {
		rest = append(rest, start(ctx, l, chain, i+1))
		waitQueued(t, l, chain, i+1)
	}
	return w, first, rest
}

func contexts(n int) []context.Context {
	ctxs := make([]context.Context, n)
	for i := range ctxs {
		ctxs[i] = context.Background()
	}
	return ctxs
}

// TestBatch: appends queued while a write is under way are written together,
// in one CreateMany, in the order they came, linked to the entry before.
func TestBatch(t *testing.T) {
	h := newHeldStore(memkv.New())
	l := audit.New(h, newSigner("k"), audit.WithClock(newClock().now))
	w, first, rest := queueBehind(t, contexts(10), l, h, "c")
	if !slices.Equal(w.keys, entryKeys("c", 1, 1)) {
		t.Fatalf("first write = %q", w.keys)
	}
	w.do(true, nil)
	if r := await(t, first); r.err != nil || r.e.Seq != 1 {
		t.Fatalf("first Append = seq %d, %v", r.e.Seq, r.err)
	}
	w = h.next(t)
	if !slices.Equal(w.keys, entryKeys("c", 2, 11)) {
		t.Fatalf("second write = %q, want the 10 queued entries", w.keys)
	}
	w.do(true, nil)
	var rs []result
	for _, ch := range rest {
		rs = append(rs, await(t, ch))
	}
	es := stored(t, l, "c")
	if len(es) != 11 {
		t.Fatalf("%d entries stored, want 11", len(es))
	}
	for i, r := range rs {
		if r.err != nil || r.e.Seq != uint64(i+2) || r.e.Hash != es[i+1].Hash || r.e.Request != fmt.Sprint("req-", i+1) {
			t.Fatalf("queued Append %d = %+v, %v; want seq %d as stored", i, r.e, r.err, i+2)
		}
	}
}

// TestBatchFails: a batch whose write fails gives every append in it the
// error, and the chain stays valid: refused, nothing is stored and the next
// append takes the batch's first seq; applied with the answer lost, the
// next append links to the batch.
func TestBatchFails(t *testing.T) {
	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			h := newHeldStore(memkv.New())
			l := audit.New(h, newSigner("k"))
			w, first, rest := queueBehind(t, contexts(10), l, h, "c")
			w.do(true, nil)
			await(t, first)
			w = h.next(t)
			if len(w.keys) != 10 {
				t.Fatalf("batch of %d, want 10", len(w.keys))
			}
			errDown := errors.New("store went away")
			w.do(applied, errDown)
			for i, ch := range rest {
				if r := await(t, ch); !errors.Is(r.err, errDown) {
					t.Fatalf("Append %d in the failed batch = %+v, %v; want the store's error", i, r.e, r.err)
				}
			}
			want := 1
			if applied {
				want = 11
			}
			if es := stored(t, l, "c"); len(es) != want {
				t.Fatalf("%d entries stored, want %d", len(es), want)
			}
			next := start(t.Context(), l, "c", 99)
			h.next(t).do(true, nil)
			if r := await(t, next); r.err != nil || r.e.Seq != uint64(want+1) {
				t.Fatalf("Append after the failed batch = seq %d, %v; want seq %d", r.e.Seq, r.err, want+1)
			}
			stored(t, l, "c")
		})
	}
}

// TestBatchLosesRace: another log takes the seqs a batch was linked for; the
// batch is linked again after its entries and stored whole.
func TestBatchLosesRace(t *testing.T) {
	store := memkv.New()
	h := newHeldStore(store)
	l, other := audit.New(h, newSigner("k")), audit.New(store, newSigner("k"))
	w, first, rest := queueBehind(t, contexts(5), l, h, "c")
	w.do(true, nil)
	await(t, first)
	w = h.next(t) // linked as 2..6
	appendN(t, other, "c", 3)
	w.do(true, nil) // ErrExists: nothing written
	w = h.next(t)
	if !slices.Equal(w.keys, entryKeys("c", 5, 9)) {
		t.Fatalf("write after the lost race = %q, want entries 5..9", w.keys)
	}
	w.do(true, nil)
	var rs []result
	for _, ch := range rest {
		rs = append(rs, await(t, ch))
	}
	es := stored(t, l, "c")
	if len(es) != 9 {
		t.Fatalf("%d entries stored, want 9", len(es))
	}
	for i, r := range rs {
		if r.err != nil || r.e.Seq != uint64(i+5) || r.e.Hash != es[i+4].Hash {
			t.Fatalf("Append %d = seq %d, %v; want seq %d", i, r.e.Seq, r.err, i+5)
		}
	}
}

// TestCancelQueued: an append that gives up while queued returns at once and
// is never written; the others go on without it.
func TestCancelQueued(t *testing.T) {
	h := newHeldStore(memkv.New())
	l := audit.New(h, newSigner("k"))
	ctx, cancel := context.WithCancel(context.Background())
	ctxs := contexts(5)
	ctxs[2] = ctx
	w, first, rest := queueBehind(t, ctxs, l, h, "c")
	cancel()
	if r := await(t, rest[2]); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Append = %+v, %v; want context.Canceled", r.e, r.err)
	}
	w.do(true, nil)
	await(t, first)
	w = h.next(t)
	if !slices.Equal(w.keys, entryKeys("c", 2, 5)) {
		t.Fatalf("batch = %q, want the 4 appends still waiting", w.keys)
	}
	if w.ctx.Err() != nil {
		t.Fatal("the batch's write has a cancelled context")
	}
	w.do(true, nil)
	for i, ch := range rest {
		if i == 2 {
			continue
		}
		if r := await(t, ch); r.err != nil {
			t.Fatalf("Append %d: %v", i, r.err)
		}
	}
	for _, e := range stored(t, l, "c") {
		if e.Request == "req-3" {
			t.Fatalf("the cancelled append was written as entry %d", e.Seq)
		}
	}
}

// TestCancelInFlight: an append that gives up while its batch is being
// written returns at once; the write goes on for the others, whose contexts
// it keeps, and ends when the last of them gives up.
func TestCancelInFlight(t *testing.T) {
	h := newHeldStore(memkv.New())
	l := audit.New(h, newSigner("k"))
	ctxs := make([]context.Context, 3)
	cancels := make([]context.CancelFunc, 3)
	for i := range ctxs {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
	}
	w, first, rest := queueBehind(t, ctxs, l, h, "c")
	w.do(true, nil)
	await(t, first)
	w = h.next(t) // entries 2..4
	cancels[1]()
	if r := await(t, rest[1]); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Append = %+v, %v; want context.Canceled", r.e, r.err)
	}
	if w.ctx.Err() != nil {
		t.Fatal("one append giving up cancelled its batch's write")
	}
	w.do(true, nil)
	for _, i := range []int{0, 2} {
		if r := await(t, rest[i]); r.err != nil || r.e.Seq != uint64(i+2) {
			t.Fatalf("Append %d = seq %d, %v", i, r.e.Seq, r.err)
		}
	}
	if es := stored(t, l, "c"); len(es) != 4 {
		t.Fatalf("%d entries stored, want 4 (the cancelled one's batch was written)", len(es))
	}

	// Every append of a batch gives up: the write's context ends, and the
	// log goes on.
	ctx, cancel := context.WithCancel(context.Background())
	ch := start(ctx, l, "c", 7)
	w = h.next(t)
	cancel()
	if r := await(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled Append = %v", r.err)
	}
	select {
	case <-w.ctx.Done():
	case <-time.After(waitLimit):
		t.Fatal("the write went on after every append of its batch gave up")
	}
	ch = start(t.Context(), l, "c", 8)
	h.next(t).do(true, nil)
	if r := await(t, ch); r.err != nil || r.e.Seq != 5 {
		t.Fatalf("Append after = seq %d, %v; want 5", r.e.Seq, r.err)
	}
	stored(t, l, "c")
}

// TestOversizedEntryTakesNoSeq: an entry that only exceeds MaxEntryBytes once
// linked (prev is a hash) fails alone and leaves no gap.
func TestOversizedEntryTakesNoSeq(t *testing.T) {
	l := audit.New(memkv.New(), newSigner("k"))
	first := mustAppend(t, l, decision("c", 0))
	big := nearMax(t, audit.MaxEntryBytes-20)
	if _, err := l.Append(t.Context(), big); !errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("Append of an entry over the limit once linked = %v, want ErrInvalidEntry", err)
	}
	second := mustAppend(t, l, decision("c", 2))
	checkChain(t, []audit.Entry{first, second})
	stored(t, l, "c")
}

// nearMax is an entry whose stored form has at least atLeast and at most
// MaxEntryBytes bytes before it is linked (seq, time, prev and hash filled).
func nearMax(t *testing.T, atLeast int) audit.Entry {
	t.Helper()
	// size(n) grows with n: n/1000 credentials with a 500-byte id and issuer,
	// and one with the rest of n as id and issuer.
	build := func(n int) audit.Entry {
		e := decision("c", 1)
		e.Credentials = nil
		for ; n >= 0; n -= 1000 {
			k := min(n, 999)
			e.Credentials = append(e.Credentials, audit.CredentialRef{
				ID: strings.Repeat("i", min(k, 500)), Issuer: strings.Repeat("s", max(k-500, 0)), Digest: audit.Digest(nil),
			})
		}
		return e
	}
	lo, hi := 0, audit.MaxCredentials*1000-1 // size(lo) fits, size(hi) does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if audit.MinSize(build(mid)) <= audit.MaxEntryBytes {
			lo = mid
		} else {
			hi = mid
		}
	}
	e := build(lo)
	for audit.MinSize(e) < atLeast {
		e.Request += "r"
	}
	if n := audit.MinSize(e); n < atLeast || n > audit.MaxEntryBytes {
		t.Fatalf("test entry has a minimum size of %d, want %d..%d", n, atLeast, audit.MaxEntryBytes)
	}
	return e
}

// countingStore counts entry writes, and those that lost a race.
type countingStore struct {
	kv.Store
	writes, lost atomic.Int64
}

func (c *countingStore) count(err error) error {
	c.writes.Add(1)
	if errors.Is(err, kv.ErrExists) {
		c.lost.Add(1)
	}
	return err
}

func (c *countingStore) Create(ctx context.Context, bucket, key string, value []byte) error {
	return c.count(c.Store.Create(ctx, bucket, key, value))
}

func (c *countingStore) CreateMany(ctx context.Context, bucket string, items []kv.Item) error {
	return c.count(c.Store.CreateMany(ctx, bucket, items))
}

// TestConcurrentAppendsBolt: 800 concurrent appends of one log on bbolt make
// one gapless chain that verifies, in fewer writes than entries.
func TestConcurrentAppendsBolt(t *testing.T) {
	for _, d := range drivers {
		if d.name != "boltkv" {
			continue
		}
		const n = 800
		store := &countingStore{Store: d.open(t)}
		l := audit.New(store, newSigner("k"))
		var wg sync.WaitGroup
		seqs := make(chan uint64, n)
		for i := range n {
			wg.Go(func() {
				e, err := l.Append(context.Background(), decision("shared", i))
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- e.Seq
			})
		}
		wg.Wait()
		close(seqs)
		seen := map[uint64]bool{}
		for s := range seqs {
			if seen[s] || s < 1 || s > n {
				t.Fatalf("seq %d given twice or out of 1..%d", s, n)
			}
			seen[s] = true
		}
		if len(seen) != n {
			t.Fatalf("%d appends succeeded, want %d", len(seen), n)
		}
		if es := stored(t, l, "shared"); len(es) != n {
			t.Fatalf("%d entries stored, want %d", len(es), n)
		}
		if w := store.writes.Load(); w >= n {
			t.Fatalf("%d appends took %d writes: no batching", n, w)
		}
		t.Logf("%d appends in %d writes", n, store.writes.Load())
	}
}
