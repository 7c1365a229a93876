package audit_test

import (
	"context"
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
