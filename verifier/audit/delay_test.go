package audit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// TestCommitDelay: once appends arrive while a batch is written, the
// committer lets the queue fill (in steps of an eighth of the delay, while
// appends keep coming) and the appends that arrived share one write.
func TestCommitDelay(t *testing.T) {
	h := newHeldStore(memkv.New())
	l := audit.New(h, newSigner("k"), audit.WithCommitDelay(8*time.Hour))
	sleeping := make(chan time.Duration, 1)
	release := make(chan struct{})
	audit.SetSleep(l, func(d time.Duration) {
		select {
		case sleeping <- d:
		default:
		}
		<-release
	})

	// Append 1 is written while append 2 arrives: the chain is busy.
	first := start(t.Context(), l, "c", 1)
	w1 := h.next(t)
	second := start(t.Context(), l, "c", 2)
	waitQueued(t, l, "c", 1)
	w1.do(true, nil)
	if r := await(t, first); r.err != nil || r.e.Seq != 1 {
		t.Fatalf("first append = %+v, %v", r.e, r.err)
	}
	select {
	case d := <-sleeping:
		if d != time.Hour {
			t.Fatalf("waited %v, want a step of an eighth of the delay", d)
		}
	case <-time.After(waitLimit):
		t.Fatal("the committer of a busy chain did not wait for more appends")
	}
	// Eight more arrive during the wait: the nine go out in one write.
	rest := []<-chan result{second}
	for i := 3; i <= 10; i++ {
		rest = append(rest, start(t.Context(), l, "c", i))
	}
	waitQueued(t, l, "c", 9)
	close(release)
	w2 := h.next(t)
	if len(w2.keys) != 9 {
		t.Fatalf("the write after the delay holds %d entries, want 9", len(w2.keys))
	}
	w2.do(true, nil)
	for _, ch := range rest {
		if r := await(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if es := stored(t, l, "c"); len(es) != 10 {
		t.Fatalf("%d entries stored, want 10", len(es))
	}
	if s := l.Stats(); s != (audit.Stats{Appends: 10, Writes: 2}) {
		t.Fatalf("Stats = %+v, want 10 appends in 2 writes", s)
	}
}

// TestCommitDelayAlone: a lone caller appending one entry after another
// never waits, nor does anyone with the delay off.
func TestCommitDelayAlone(t *testing.T) {
	for _, d := range []time.Duration{time.Hour, 0} {
		l := audit.New(memkv.New(), newSigner("k"), audit.WithCommitDelay(d))
		audit.SetSleep(l, func(s time.Duration) { t.Errorf("delay %v: a lone caller waited %v", d, s) })
		for i := range 5 {
			if _, err := l.Append(context.Background(), decision("c", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestCommitDelayFollowsTheLoad: the committer's step is twice the mean
// time between the appends of its last cycle when that is longer than an
// eighth of the delay, so a wait under steady load does not end at the
// first step that happens to see no arrival; and no step outlasts the
// delay.
func TestCommitDelayFollowsTheLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cycle time.Duration // between the first two takes, of two appends
		want  time.Duration
		delay time.Duration
	}{
		{name: "gap longer than an eighth", cycle: 40 * time.Millisecond, delay: 80 * time.Millisecond, want: 40 * time.Millisecond},
		{name: "gap shorter than an eighth", cycle: 4 * time.Millisecond, delay: 80 * time.Millisecond, want: 10 * time.Millisecond},
		{name: "never past the delay", cycle: 400 * time.Millisecond, delay: 80 * time.Millisecond, want: 80 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &setClock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
			h := newHeldStore(memkv.New())
			l := audit.New(h, newSigner("k"), audit.WithCommitDelay(tc.delay), audit.WithClock(clk.now))
			steps := make(chan time.Duration, 16)
			audit.SetSleep(l, func(d time.Duration) { steps <- d })

			// Take 1 (one append) while two more queue; the second take,
			// a cycle later, holds those two.
			first := start(t.Context(), l, "c", 1)
			w1 := h.next(t)
			second, third := start(t.Context(), l, "c", 2), start(t.Context(), l, "c", 3)
			waitQueued(t, l, "c", 2)
			clk.add(tc.cycle)
			w1.do(true, nil)
			w2 := h.next(t)
			if len(w2.keys) != 2 {
				t.Fatalf("second write holds %d entries, want 2", len(w2.keys))
			}
			<-steps // the first wait knew no cycle yet
			// One more queues while the second batch is written: the
			// committer waits for others with the step the last cycle
			// gives, and, nothing new coming, writes it.
			fourth := start(t.Context(), l, "c", 4)
			waitQueued(t, l, "c", 1)
			w2.do(true, nil)
			select {
			case d := <-steps:
				if d != tc.want {
					t.Fatalf("step %v, want %v", d, tc.want)
				}
			case <-time.After(waitLimit):
				t.Fatal("the committer of a busy chain did not wait")
			}
			h.next(t).do(true, nil)
			for _, ch := range []<-chan result{first, second, third, fourth} {
				if r := await(t, ch); r.err != nil {
					t.Fatal(r.err)
				}
			}
		})
	}
}

// setClock is a clock that moves only when told.
type setClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *setClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *setClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
