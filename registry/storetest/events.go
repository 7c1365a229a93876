package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/registry"
)

func testEvents(t *testing.T, s registry.Store) {
	src, ok := s.(registry.EventSource)
	if !ok {
		t.Fatal("every registry driver must implement registry.EventSource (verifiers are invalidated by registry events)")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var subs []<-chan registry.Event
	for range 2 {
		ch, err := src.Events(ctx)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		subs = append(subs, ch)
	}

	// Concurrent appenders on four subjects, a failed append among them, and
	// a leaf whose data is an op (its type is in the event).
	const subjects, per = 4, 10
	var wg sync.WaitGroup
	for i := range subjects {
		wg.Go(func() {
			subject := fmt.Sprintf("did:credence:events-%d", i)
			var head registry.Head
			for seq := uint64(1); seq <= per; seq++ {
				l := mkLeaf(subject, seq)
				if _, err := s.Append(ctx, head, l); err != nil {
					t.Errorf("Append(%s seq %d): %v", subject, seq, err)
					return
				}
				head = headOf(l)
			}
		})
	}
	wg.Wait()
	if _, err := s.Append(ctx, registry.Head{}, mkLeaf("did:credence:events-0", 1)); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("conflicting Append: %v", err)
	}
	op := registry.Leaf{Subject: "https://example.com/l", Seq: 1, Hash: "op-hash", Data: []byte(`{"subject":"https://example.com/l","type":"statuslist.create"}`)}
	mustAppend(t, s, registry.Head{}, op)
	const total = subjects*per + 1

	for n, ch := range subs {
		for i := range uint64(total) {
			var ev registry.Event
			select {
			case e, ok := <-ch:
				if !ok {
					t.Fatalf("subscription %d closed after %d events", n, i)
				}
				ev = e
			case <-time.After(5 * time.Second):
				t.Fatalf("subscription %d: no event %d within 5s", n, i)
			}
			stored, err := s.Leaf(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			stored.Index = i
			if want := registry.LeafEvent(stored); ev != want {
				t.Fatalf("subscription %d event %d = %+v, want %+v", n, i, ev, want)
			}
			if i == total-1 && ev.Type != registry.StatusListCreate {
				t.Fatalf("the op leaf's event has type %q", ev.Type)
			}
		}
		select {
		case ev := <-ch:
			t.Fatalf("subscription %d: extra event %+v", n, ev)
		case <-time.After(50 * time.Millisecond):
		}
	}

	// A subscription opened now sees only what is appended from now on.
	late, err := src.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l2 := registry.Leaf{Subject: op.Subject, Seq: 2, Hash: "op-hash-2", Data: []byte(`{"seq":2}`)}
	idx := mustAppend(t, s, headOf(op), l2)
	select {
	case ev := <-late:
		if ev.Index != idx || ev.Subject != l2.Subject || ev.Seq != 2 || ev.Hash != l2.Hash || ev.Reset {
			t.Fatalf("late subscription got %+v, want index %d", ev, idx)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("late subscription: no event within 5s")
	}

	cancel()
	for n, ch := range append(subs, late) {
		deadline := time.After(5 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("subscription %d not closed after its context ended", n)
			}
		}
	}
}
