package registry

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recv reads one event or fails after a second.
func recv(t testing.TB, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("events channel closed")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("no event within a second")
	}
	return Event{}
}

// drain reads events until none comes for 100ms.
func drain(ch <-chan Event) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		case <-time.After(100 * time.Millisecond):
			return out
		}
	}
}

func wantClosed(t testing.TB, ch <-chan Event) {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("events channel not closed after its context ended")
		}
	}
}

func TestEventBus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b := NewEventBus(4)
	ch := b.Subscribe(ctx)
	// Duplicates and older indexes are dropped; Resets go through.
	for _, ev := range []Event{{Index: 1}, {Index: 1}, {Index: 0}, {Index: 2}, {Reset: true}, {Reset: true}, {Index: 3}} {
		b.Publish(ev)
	}
	got := drain(ch)
	want := []Event{{Index: 1}, {Index: 2}, {Reset: true}, {Index: 3}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	cancel()
	wantClosed(t, ch)
	deadline := time.Now().Add(time.Second)
	for b.Subscribers() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := b.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after cancel", n)
	}
}

// TestEventBusSlowSubscriber: Publish never blocks, and a subscriber that
// does not keep up gets a Reset, then the latest events, never silence, while
// one that keeps up gets everything.
func TestEventBusSlowSubscriber(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := NewEventBus(8)
	slow := b.Subscribe(ctx)
	fast := b.Subscribe(ctx)
	for i := range 50 {
		b.Publish(Event{Index: uint64(i)})
		if ev := recv(t, fast); ev.Reset || ev.Index != uint64(i) {
			t.Fatalf("fast subscriber got %+v, want index %d", ev, i)
		}
	}
	start := time.Now()
	for i := 50; i < 100000; i++ {
		b.Publish(Event{Index: uint64(i)})
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("publishing took %v", d)
	}
	for _, ch := range []<-chan Event{slow, fast} {
		got := drain(ch)
		sawReset := false
		var last int64 = -1
		for _, ev := range got {
			if ev.Reset {
				sawReset = true
				continue
			}
			if int64(ev.Index) <= last {
				t.Fatalf("out of order: %d after %d", ev.Index, last)
			}
			last = int64(ev.Index)
		}
		if !sawReset || last != 99999 || len(got) > 2*8+2 {
			t.Errorf("overflowed subscriber got %d events (reset %v, last %d)", len(got), sawReset, last)
		}
	}
}

func TestLeafEvent(t *testing.T) {
	w := newIssuerWorld(t)
	op := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, nil, w.u)
	c, _ := Canonical(op)
	ev := LeafEvent(Leaf{Index: 7, Subject: op.Subject, Seq: 1, Hash: OpHash(c), Data: c})
	if ev != (Event{Index: 7, Subject: op.Subject, Seq: 1, Type: StatusListCreate, Hash: OpHash(c)}) {
		t.Errorf("LeafEvent = %+v", ev)
	}
	if ev := LeafEvent(Leaf{Index: 1, Subject: "s", Seq: 2, Hash: "h", Data: []byte("not json")}); ev != (Event{Index: 1, Subject: "s", Seq: 2, Hash: "h"}) {
		t.Errorf("LeafEvent of non-op data = %+v", ev)
	}
}

// TestLogEventsLocal: a store without an EventSource: the Log's own appends,
// in order, with their types.
func TestLogEventsLocal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	w := newLogWorld(t)
	ch := w.log.Subscribe(ctx)
	const url = "https://status.example.com/l"
	r1 := w.must(statusCreate(t, url, w.issuer, MinStatusListBits, nil, w.u))
	r2 := w.must(statusUpdate(t, w.state(w.log, url), 2, []int{1}, nil, w.u))
	for _, want := range []Event{
		{Index: r1.Index, Subject: url, Seq: 1, Type: StatusListCreate, Hash: r1.Hash},
		{Index: r2.Index, Subject: url, Seq: 2, Type: StatusListUpdate, Hash: r2.Hash},
	} {
		if got := recv(t, ch); got != want {
			t.Fatalf("event %+v, want %+v", got, want)
		}
	}
	// A rejected op is no event.
	_, err := w.submit(statusUpdate(t, w.state(w.log, url), 3, []int{2}, nil, edKey(t, 5)))
	wantRule(t, err, ErrUnauthorizedKey, "")
	if evs := drain(ch); len(evs) != 0 {
		t.Fatalf("events after a rejection: %+v", evs)
	}
	cancel()
	wantClosed(t, ch)
}

func TestLogEventsOverflow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newLogWorld(t, WithEventBuffer(2))
	ch := w.log.Subscribe(ctx)
	const url = "https://status.example.com/l"
	w.must(statusCreate(t, url, w.issuer, MinStatusListBits, nil, w.u))
	var last Receipt
	for i := range 8 {
		last = w.must(statusUpdate(t, w.state(w.log, url), 2+i, []int{i}, nil, w.u))
	}
	got := drain(ch)
	sawReset := false
	for _, ev := range got {
		sawReset = sawReset || ev.Reset
	}
	if !sawReset || len(got) == 0 || got[len(got)-1].Index != last.Index {
		t.Fatalf("overflowing subscriber got %+v", got)
	}
}

// sourceStore is a memStore with an in-process EventSource fed by its
// appends, standing in for a driver; failures makes Events fail that many
// times first, and kill closes the open event channels.
type sourceStore struct {
	*memStore
	bus      *EventBus
	failures atomic.Int64
	opened   atomic.Int64

	mu    sync.Mutex
	kills []context.CancelFunc
}

func newSourceStore() *sourceStore {
	return &sourceStore{memStore: newMemStore(), bus: NewEventBus(0)}
}

func (s *sourceStore) Append(ctx context.Context, want Head, leaf Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

func (s *sourceStore) AppendGuarded(ctx context.Context, want Head, guards []Guard, leaf Leaf) (uint64, error) {
	s.memStore.mu.Lock() // hold the store so events leave in index order
	defer s.memStore.mu.Unlock()
	if s.memStore.heads[leaf.Subject] != want {
		return 0, ErrConflict
	}
	for _, g := range guards {
		if s.memStore.heads[g.Subject] != g.Head {
			return 0, ErrConflict
		}
	}
	idx, err := s.memStore.tree.Append(leaf.Data)
	if err != nil {
		return 0, err
	}
	leaf.Index = idx
	s.memStore.leaves = append(s.memStore.leaves, leaf)
	s.memStore.heads[leaf.Subject] = Head{Seq: leaf.Seq, Hash: leaf.Hash}
	s.memStore.hist[leaf.Subject] = append(s.memStore.hist[leaf.Subject], idx)
	s.bus.Publish(LeafEvent(leaf))
	return idx, nil
}

func (s *sourceStore) Events(ctx context.Context) (<-chan Event, error) {
	if s.failures.Add(-1) >= 0 {
		return nil, errors.New("source down")
	}
	s.opened.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.kills = append(s.kills, cancel)
	s.mu.Unlock()
	return s.bus.Subscribe(ctx), nil
}

func (s *sourceStore) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.kills {
		k()
	}
	s.kills = nil
}

// TestLogEventsFromSource: two Logs on a store with an EventSource each see
// the other's appends; one source is shared by a Log's subscribers and
// stopped with the last; a failing or dropped source gives a Reset.
func TestLogEventsFromSource(t *testing.T) {
	ctx := context.Background()
	base, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	store := newSourceStore()
	a, b := newLogOn(base, store), newLogOn(base, store)
	u, r := edKey(t, 1), edKey(t, 2)

	sctx, cancel := context.WithCancel(ctx)
	chB1 := b.Subscribe(sctx)
	chB2 := b.Subscribe(sctx)
	if n := store.opened.Load(); n != 1 {
		t.Fatalf("%d sources opened for two subscribers of one Log", n)
	}
	create := newCreate(t, []testKey{u}, []testKey{r}, nil)
	rec, err := a.Submit(ctx, mustJSON(t, create))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{Index: rec.Index, Subject: create.Subject, Seq: 1, Type: DIDCreate, Hash: rec.Hash}
	for _, ch := range []<-chan Event{chB1, chB2} {
		if got := recv(t, ch); got != want {
			t.Fatalf("b's subscriber got %+v, want %+v", got, want)
		}
	}
	cancel()
	wantClosed(t, chB1)
	wantClosed(t, chB2)
	deadline := time.Now().Add(time.Second)
	for store.bus.Subscribers() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := store.bus.Subscribers(); n != 0 {
		t.Fatalf("the source stays open without subscribers (%d)", n)
	}

	// The source fails twice before it opens: Subscribe does not wait for it
	// forever, and a Reset says events may have been missed.
	store.failures.Store(2)
	sctx, cancel = context.WithCancel(ctx)
	defer cancel()
	ch := b.Subscribe(sctx)
	if ev := recv(t, ch); !ev.Reset {
		t.Fatalf("first event after a failing source: %+v, want a Reset", ev)
	}
	st, _ := a.State(ctx, create.Subject, 0)
	up := nextOp(t, st, DIDUpdate, 1)
	up.Doc = testDoc(t, create.Subject, "v2", u)
	rec, err = a.Submit(ctx, mustJSON(t, sign(t, up, u)))
	if err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, ch); ev.Index != rec.Index || ev.Type != DIDUpdate {
		t.Fatalf("event %+v, want index %d", ev, rec.Index)
	}

	// The source's channel closes under it: reopened, with a Reset.
	store.kill()
	if ev := recv(t, ch); !ev.Reset {
		t.Fatalf("after the source dropped: %+v, want a Reset", ev)
	}
	st, _ = a.State(ctx, create.Subject, 0)
	up = nextOp(t, st, DIDDeactivate, 2)
	rec, err = a.Submit(ctx, mustJSON(t, sign(t, up, r)))
	if err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, ch); ev.Index != rec.Index || ev.Type != DIDDeactivate {
		t.Fatalf("event %+v, want index %d", ev, rec.Index)
	}
}
