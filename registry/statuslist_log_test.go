package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hookStore wraps memStore, counting reads and running a hook before appends.
type hookStore struct {
	*memStore
	leafReads    atomic.Int64
	historyReads atomic.Int64
	appends      atomic.Int64
	// beforeAppend, when set, runs before the n-th append (1-based) reaches
	// the store.
	beforeAppend func(n int64)
}

func (h *hookStore) Leaf(ctx context.Context, i uint64) (Leaf, error) {
	h.leafReads.Add(1)
	return h.memStore.Leaf(ctx, i)
}

func (h *hookStore) History(ctx context.Context, s string) ([]uint64, error) {
	h.historyReads.Add(1)
	return h.memStore.History(ctx, s)
}

func (h *hookStore) Append(ctx context.Context, want Head, leaf Leaf) (uint64, error) {
	return h.AppendGuarded(ctx, want, nil, leaf)
}

func (h *hookStore) AppendGuarded(ctx context.Context, want Head, guards []Guard, leaf Leaf) (uint64, error) {
	n := h.appends.Add(1)
	if h.beforeAppend != nil {
		h.beforeAppend(n)
	}
	return h.memStore.AppendGuarded(ctx, want, guards, leaf)
}

func (h *hookStore) reads() int64 { return h.leafReads.Load() }

// logWorld is a Log with one issuer DID (update key u, recovery key r).
type logWorld struct {
	t      testing.TB
	log    *Log
	store  *hookStore
	u, r   testKey
	issuer string
}

func newLogWorld(t testing.TB, opts ...LogOption) *logWorld {
	t.Helper()
	base, mem := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	store := &hookStore{memStore: mem}
	w := &logWorld{t: t, store: store, u: edKey(t, 101), r: edKey(t, 102)}
	w.log = newLogOn(base, store, opts...)
	create := newCreate(t, []testKey{w.u}, []testKey{w.r}, nil)
	w.must(create)
	w.issuer = create.Subject
	return w
}

func (w *logWorld) submit(op *Op) (Receipt, error) {
	w.t.Helper()
	return w.log.Submit(context.Background(), mustJSON(w.t, op))
}

func (w *logWorld) must(op *Op) Receipt {
	w.t.Helper()
	r, err := w.submit(op)
	if err != nil {
		w.t.Fatalf("%s seq %d of %s: %v", op.Type, op.Seq, op.Subject, err)
	}
	return r
}

func (w *logWorld) state(l *Log, subject string) SubjectState {
	w.t.Helper()
	st, err := l.State(context.Background(), subject, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// rotate rotates the issuer's update key to k (signed by the current from).
func (w *logWorld) rotate(from, k testKey, minutes int) {
	w.t.Helper()
	st := w.state(w.log, w.issuer)
	op := nextOp(w.t, st, DIDUpdate, minutes)
	op.Doc, op.UpdateKeys = testDoc(w.t, w.issuer, fmt.Sprintf("v%d", st.Seq+1), k), mks(k)
	w.must(sign(w.t, op, from))
}

func TestLogStatusListsSurviveIssuerRotation(t *testing.T) {
	ctx := context.Background()
	w := newLogWorld(t)
	const url = "https://status.example.com/board/rev-1"
	u2 := edKey(t, 103)

	w.must(statusCreate(t, url, w.issuer, MinStatusListBits, nil, w.u))
	w.must(statusUpdate(t, w.state(w.log, url), 2, []int{10}, nil, w.u))
	w.rotate(w.u, u2, 3)

	// After the rotation the old key no longer signs status ops; the new one does.
	st := w.state(w.log, url)
	_, err := w.submit(statusUpdate(t, st, 4, []int{11}, nil, w.u))
	wantRule(t, err, ErrUnauthorizedKey, "not a current update key of the issuer "+w.issuer)
	w.must(statusUpdate(t, st, 4, []int{11}, nil, u2))
	want := w.state(w.log, url)
	if !StatusBit(want.StatusList.Bits, 10) || !StatusBit(want.StatusList.Bits, 11) || want.Seq != 3 {
		t.Fatalf("list state %+v", want)
	}

	// A fresh Log (no cache), and one without a cache at all, replay the
	// list: the ops signed by u before the rotation still validate there.
	for _, l := range []*Log{newLogOn(w.log, w.store), newLogOn(w.log, w.store, WithStateCache(0, 0))} {
		got, err := l.StatusList(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != want.Hash || got.StatusList.ListHash != want.StatusList.ListHash || !slices.Equal(got.StatusList.Bits, want.StatusList.Bits) {
			t.Fatalf("replayed %+v, want %+v", got, want)
		}
		v2, err := l.State(ctx, url, 2)
		if err != nil || v2.Seq != 2 || StatusBit(v2.StatusList.Bits, 11) || !StatusBit(v2.StatusList.Bits, 10) {
			t.Fatalf("version 2: %+v, %v", v2, err)
		}
	}

	// The audit agrees, and counts the status ops.
	rep, err := Audit(ctx, StoreLeaves(ctx, w.store), uint64(len(w.store.leaves)), w.store.cp, w.log.Verifier())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OpsByType[StatusListCreate] != 1 || rep.OpsByType[StatusListUpdate] != 2 || rep.OpsByType[DIDCreate] != 1 ||
		rep.OpsByType[DIDUpdate] != 1 || rep.Subjects != 2 || rep.StatusLists != 1 || rep.Ops != 5 {
		t.Errorf("audit report %+v", rep)
	}

	// Forgeries appended straight to the store (no Submit): a status op by
	// the rotated-out key after the rotation, and one by a stranger. Replay and
	// audit both reject them at their position.
	for _, forger := range []testKey{w.u, edKey(t, 99)} {
		f := newLogWorld(t)
		f.must(statusCreate(t, url, f.issuer, MinStatusListBits, nil, f.u))
		f.rotate(f.u, u2, 3)
		st := f.state(f.log, url)
		op := statusUpdate(t, st, 4, []int{12}, nil, forger)
		c, _ := Canonical(op)
		if _, err := f.store.Append(ctx, st.head(), Leaf{Subject: url, Seq: op.Seq, Hash: OpHash(c), Data: c}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.log.SignCheckpoint(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := newLogOn(f.log, f.store).State(ctx, url, 0)
		if !errors.Is(err, ErrUnauthorizedKey) || !strings.Contains(err.Error(), "ledger op 3 of "+url+" no longer validates") {
			t.Errorf("replay of a forged op: %v", err)
		}
		_, err = Audit(ctx, StoreLeaves(ctx, f.store), uint64(len(f.store.leaves)), f.store.cp, f.log.Verifier())
		wantLeafError(t, err, 3, ErrUnauthorizedKey)
	}
}

func (s SubjectState) head() Head { return Head{Seq: s.Seq, Hash: s.Hash} }

func TestLogStatusListNotFoundAndCopies(t *testing.T) {
	ctx := context.Background()
	w := newLogWorld(t)
	const url = "https://status.example.com/l"
	if _, err := w.log.StatusList(ctx, url); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown list: %v", err)
	}
	if _, err := w.log.StatusList(ctx, w.issuer); !errors.Is(err, ErrNotFound) {
		t.Errorf("a DID: %v", err)
	}
	w.must(statusCreate(t, url, w.issuer, MinStatusListBits, []int{1}, w.u))
	// What State returns is the caller's: changing it does not reach the cache.
	st := w.state(w.log, url)
	st.StatusList.Bits[0] = 0xff
	st.StatusList.ListHash = "x"
	again, _ := w.log.StatusList(ctx, url)
	if again.StatusList.Bits[0] != 0x40 || again.StatusList.ListHash == "x" {
		t.Fatalf("the cached state was modified through State's result: %x", again.StatusList.Bits[0])
	}
	// The issuer deactivated: its list takes no more ops, and still reads.
	w.must(sign(t, nextOp(t, w.state(w.log, w.issuer), DIDDeactivate, 5), w.r))
	_, err := w.submit(statusUpdate(t, again, 6, []int{2}, nil, w.u))
	wantRule(t, err, ErrDeactivated, "its status lists take no more ops")
	if _, err := newLogOn(w.log, w.store).StatusList(ctx, url); err != nil {
		t.Fatal(err)
	}
}

// TestLogCacheAvoidsReplay: with the subject's head unchanged, a submit reads
// no leaf; when another Log appended meanwhile, only the missing leaves are
// read.
func TestLogCacheAvoidsReplay(t *testing.T) {
	ctx := context.Background()
	a := newLogWorld(t)
	b := newLogOn(a.log, a.store)
	const url = "https://status.example.com/l"
	a.must(statusCreate(t, url, a.issuer, MinStatusListBits, nil, a.u))
	for i := range 5 {
		a.must(statusUpdate(t, a.state(a.log, url), 2+i, []int{i}, nil, a.u))
	}
	before := a.store.reads()
	for i := range 3 {
		a.must(statusUpdate(t, a.state(a.log, url), 10+i, []int{100 + i}, nil, a.u))
	}
	if n := a.store.reads() - before; n != 0 {
		t.Errorf("3 submits on a cached list read %d leaves, want 0", n)
	}

	// b has not seen the list: a full replay (9 list ops, and the issuer's 1
	// for its state as of each of them).
	before = a.store.reads()
	if st := a.state(b, url); st.Seq != 9 {
		t.Fatalf("b sees seq %d", st.Seq)
	}
	if n := a.store.reads() - before; n != 10 {
		t.Errorf("first read by another Log read %d leaves, want 10", n)
	}
	// a appends two more; b catches up reading only those two (the issuer's
	// chain, needed as of their positions, is one more leaf).
	a.must(statusUpdate(t, a.state(a.log, url), 20, []int{200}, nil, a.u))
	a.must(statusUpdate(t, a.state(a.log, url), 21, []int{201}, nil, a.u))
	before = a.store.reads()
	st := a.state(b, url)
	if n := a.store.reads() - before; n != 3 {
		t.Errorf("catching up on 2 ops read %d leaves, want 3", n)
	}
	if want := a.state(a.log, url); st.Hash != want.Hash || !slices.Equal(st.StatusList.Bits, want.StatusList.Bits) {
		t.Fatalf("b caught up to %+v, want %+v", st, want)
	}
	// And b submits on top of it; a then catches up on b's op.
	r, err := b.Submit(ctx, mustJSON(t, statusUpdate(t, st, 22, []int{202}, nil, a.u)))
	if err != nil || r.Seq != 12 {
		t.Fatalf("b's submit: %+v %v", r, err)
	}
	if st := a.state(a.log, url); st.Seq != 12 || !StatusBit(st.StatusList.Bits, 202) {
		t.Fatalf("a sees %+v", st)
	}
}

// TestLogCacheInconsistentFallsBack: a cached chain that does not fit the
// store is replaced by a full replay.
func TestLogCacheInconsistentFallsBack(t *testing.T) {
	ctx := context.Background()
	w := newLogWorld(t)
	const url = "https://status.example.com/l"
	w.must(statusCreate(t, url, w.issuer, MinStatusListBits, nil, w.u))
	w.must(statusUpdate(t, w.state(w.log, url), 2, []int{1}, nil, w.u))
	good := w.state(w.log, url)
	c := w.log.cache.get(url)

	for name, bogus := range map[string]*chain{
		// Behind the store, but its last index is not the store's seq-1 leaf.
		"wrong last index": {st: w.log.cache.get(url).st, hashes: c.hashes[:1], last: 99},
		// Same seq, other hash.
		"other hash": func() *chain { b := *c; b.st.Hash = strings.Repeat("0", 64); return &b }(),
		// Ahead of the store.
		"ahead": func() *chain { b := *c; b.st.Seq = 7; return &b }(),
	} {
		t.Run(name, func(t *testing.T) {
			if name == "wrong last index" {
				bogus.st.Seq = 1
			}
			w.log.cache.drop(url)
			w.log.cache.put(url, bogus)
			st, err := w.log.State(ctx, url, 0)
			if err != nil || st.Hash != good.Hash || !slices.Equal(st.StatusList.Bits, good.StatusList.Bits) {
				t.Fatalf("state %+v, %v; want %+v", st, err, good)
			}
			if got := w.log.cache.get(url); got.st.Hash != good.Hash {
				t.Fatal("the bogus chain stayed cached")
			}
		})
	}
}

// TestLogConflictRetry drives the compare-and-append retry: another Log's
// append lands between this Log's validation and its append.
func TestLogConflictRetry(t *testing.T) {
	ctx := context.Background()
	const url = "https://status.example.com/l"
	setup := func(t *testing.T) (*logWorld, *Log, SubjectState) {
		w := newLogWorld(t)
		w.must(statusCreate(t, url, w.issuer, MinStatusListBits, nil, w.u))
		other := newLogOn(w.log, w.store)
		return w, other, w.state(w.log, url)
	}
	once := func(w *logWorld, fn func()) {
		at := w.store.appends.Load() + 1
		w.store.beforeAppend = func(n int64) {
			if n == at {
				fn()
			}
		}
	}

	t.Run("issuer changed meanwhile, keys kept", func(t *testing.T) {
		w, other, st := setup(t)
		once(w, func() {
			ist, _ := other.State(ctx, w.issuer, 0)
			op := nextOp(t, ist, DIDUpdate, 2)
			op.Doc = testDoc(t, w.issuer, "moved", w.u)
			if _, err := other.Submit(ctx, mustJSON(t, sign(t, op, w.u))); err != nil {
				t.Error(err)
			}
		})
		r, err := w.submit(statusUpdate(t, st, 3, []int{5}, nil, w.u))
		if err != nil || r.Seq != 2 {
			t.Fatalf("retried submit: %+v %v", r, err)
		}
		// The guard made the first attempt fail: the op landed after the
		// issuer's update, and replays there.
		if r.Index != 3 {
			t.Errorf("status op at index %d, want 3 (after the issuer's update at 2)", r.Index)
		}
		if _, err := newLogOn(w.log, w.store).State(ctx, url, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("issuer rotated meanwhile", func(t *testing.T) {
		w, other, st := setup(t)
		u2 := edKey(t, 103)
		once(w, func() {
			ist, _ := other.State(ctx, w.issuer, 0)
			op := nextOp(t, ist, DIDUpdate, 2)
			op.Doc, op.UpdateKeys = testDoc(t, w.issuer, "rotated", u2), mks(u2)
			if _, err := other.Submit(ctx, mustJSON(t, sign(t, op, w.u))); err != nil {
				t.Error(err)
			}
		})
		_, err := w.submit(statusUpdate(t, st, 3, []int{5}, nil, w.u))
		wantRule(t, err, ErrUnauthorizedKey, "not a current update key")
		if got := w.state(w.log, url); got.Seq != 1 {
			t.Fatalf("the op signed by the rotated-out key landed: %+v", got)
		}
		if _, err := newLogOn(w.log, w.store).State(ctx, url, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the same op landed meanwhile", func(t *testing.T) {
		w, other, st := setup(t)
		op := statusUpdate(t, st, 3, []int{5}, nil, w.u)
		once(w, func() {
			if _, err := other.Submit(ctx, mustJSON(t, op)); err != nil {
				t.Error(err)
			}
		})
		_, err := w.submit(op)
		wantRule(t, err, ErrReplay, "already on the ledger")
	})
	t.Run("another op landed meanwhile", func(t *testing.T) {
		w, other, st := setup(t)
		once(w, func() {
			if _, err := other.Submit(ctx, mustJSON(t, statusUpdate(t, st, 3, []int{6}, nil, w.u))); err != nil {
				t.Error(err)
			}
		})
		_, err := w.submit(statusUpdate(t, st, 3, []int{5}, nil, w.u))
		wantRule(t, err, ErrFork, "differs from the ledger's")
	})
}

func TestLogCacheBounded(t *testing.T) {
	ctx := context.Background()
	w := newLogWorld(t, WithStateCache(2, 1<<30))
	var urls []string
	for i := range 5 {
		url := fmt.Sprintf("https://status.example.com/l%d", i)
		urls = append(urls, url)
		w.must(statusCreate(t, url, w.issuer, MinStatusListBits, []int{i}, w.u))
	}
	if n := w.log.cache.len(); n > 2 {
		t.Errorf("cache holds %d subjects, max 2", n)
	}
	for i, url := range urls {
		st, err := w.log.StatusList(ctx, url)
		if err != nil || !StatusBit(st.StatusList.Bits, i) {
			t.Fatalf("%s: %+v %v", url, st, err)
		}
	}
	// A byte budget below one list's bits keeps lists out of the cache.
	small := newLogOn(w.log, w.store, WithStateCache(100, 4096))
	if _, err := small.StatusList(ctx, urls[0]); err != nil {
		t.Fatal(err)
	}
	if small.cache.get(urls[0]) != nil {
		t.Error("a list larger than the byte budget was cached")
	}
}

// TestLogConcurrentStatusUpdates: several writers on several lists, through
// two Logs on one store, with readers; every op lands once and replays.
func TestLogConcurrentStatusUpdates(t *testing.T) {
	ctx := context.Background()
	w := newLogWorld(t)
	logs := []*Log{w.log, newLogOn(w.log, w.store)}
	const lists, per = 4, 8
	for i := range lists {
		w.must(statusCreate(t, fmt.Sprintf("https://status.example.com/c%d", i), w.issuer, MinStatusListBits, nil, w.u))
	}
	var wg sync.WaitGroup
	for i := range lists {
		for j, l := range logs {
			wg.Go(func() {
				url := fmt.Sprintf("https://status.example.com/c%d", i)
				done := 0
				for attempt := 0; done < per && attempt < 200; attempt++ {
					st, err := l.State(ctx, url, 0)
					if err != nil {
						t.Error(err)
						return
					}
					idx := 1000*j + done
					_, err = l.Submit(ctx, mustJSON(t, statusUpdate(t, st, 10, []int{idx}, nil, w.u)))
					switch {
					case err == nil:
						done++
					case errors.Is(err, ErrFork) || errors.Is(err, ErrConflict) || errors.Is(err, ErrReplay):
					default:
						t.Error(err)
						return
					}
				}
				if done != per {
					t.Errorf("%s: only %d of %d updates landed", url, done, per)
				}
			})
		}
	}
	wg.Wait()
	for i := range lists {
		url := fmt.Sprintf("https://status.example.com/c%d", i)
		fresh, err := newLogOn(w.log, w.store).StatusList(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range logs {
			st, err := l.StatusList(ctx, url)
			if err != nil || st.Hash != fresh.Hash || st.Seq != 1+2*per {
				t.Fatalf("%s: %+v %v; fresh replay %+v", url, st, err, fresh)
			}
		}
		for j := range logs {
			for k := range per {
				if !StatusBit(fresh.StatusList.Bits, 1000*j+k) {
					t.Fatalf("%s: bit %d missing", url, 1000*j+k)
				}
			}
		}
	}
}

// updateChain returns n signed statuslist.updates following st, each setting
// one more bit, encoded.
func updateChain(t testing.TB, st SubjectState, n int, k testKey, issuer SubjectState) [][]byte {
	t.Helper()
	l := newLedger(t)
	l.st = st
	l.ctrl = func(string) (SubjectState, error) { return issuer, nil }
	out := make([][]byte, n)
	for i := range n {
		op := statusUpdate(t, l.st, 30, []int{(int(l.st.Seq)*7919 + 13) % l.st.StatusList.Size}, nil, k)
		out[i] = mustJSON(t, op)
		if err := l.tryRaw(out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// BenchmarkStatusListSubmit measures Submit of a statuslist.update: the 1st
// update of a list and the ~1000th, with the state cache (the default) and
// without it (every submit replays the whole list). Run with
//
//	go test -run '^$' -bench StatusListSubmit -benchtime 200x ./registry/
func BenchmarkStatusListSubmit(b *testing.B) {
	for _, cached := range []bool{true, false} {
		name := "cache"
		var opts []LogOption
		if !cached {
			name = "nocache"
			opts = append(opts, WithStateCache(0, 0))
		}
		b.Run(name+"/update-1", func(b *testing.B) {
			ctx := context.Background()
			w := newLogWorld(b)
			l := newLogOn(w.log, w.store, opts...)
			issuer := w.state(w.log, w.issuer)
			ops := make([][]byte, b.N)
			for i := range b.N {
				url := fmt.Sprintf("https://status.example.com/b/%d", i)
				w.must(statusCreate(b, url, w.issuer, MinStatusListBits, nil, w.u))
				ops[i] = updateChain(b, w.state(w.log, url), 1, w.u, issuer)[0]
				l.State(ctx, url, 0) // warm the cache as the creating Log would have it
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := l.Submit(ctx, ops[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/update-1000", func(b *testing.B) {
			ctx := context.Background()
			w := newLogWorld(b)
			issuer := w.state(w.log, w.issuer)
			const url = "https://status.example.com/b/long"
			w.must(statusCreate(b, url, w.issuer, MinStatusListBits, nil, w.u))
			for _, raw := range updateChain(b, w.state(w.log, url), 999, w.u, issuer) {
				if _, err := w.log.Submit(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
			l := newLogOn(w.log, w.store, opts...)
			ops := updateChain(b, w.state(w.log, url), b.N, w.u, issuer)
			l.State(ctx, url, 0)
			b.ResetTimer()
			for i := range b.N {
				if _, err := l.Submit(ctx, ops[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
