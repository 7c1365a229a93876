package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// TestCommitDelay: an append to an idle chain is written at once; an append
// that follows the previous batch closely waits out the commit delay, and
// the appends that arrive meanwhile share its write.
func TestCommitDelay(t *testing.T) {
	store := &countingStore{Store: memkv.New()}
	l := audit.New(store, newSigner("k"), audit.WithCommitDelay(time.Hour))
	sleeping := make(chan time.Duration, 1)
	release := make(chan struct{})
	audit.SetSleep(l, func(d time.Duration) { sleeping <- d; <-release })

	// Idle: the first append is written without waiting.
	if r := await(t, start(t.Context(), l, "c", 1)); r.err != nil || r.e.Seq != 1 {
		t.Fatalf("first append = %+v, %v", r.e, r.err)
	}
	select {
	case d := <-sleeping:
		t.Fatalf("an append to an idle chain waited %v", d)
	default:
	}

	// Busy (the last batch was stored just now, well within two delays):
	// the committer waits, and the nine appends queued during the wait go
	// out in one write.
	first := start(t.Context(), l, "c", 2)
	select {
	case d := <-sleeping:
		if d != time.Hour {
			t.Fatalf("waited %v, want the commit delay", d)
		}
	case <-time.After(waitLimit):
		t.Fatal("an append right after a batch did not wait for the commit delay")
	}
	rest := []<-chan result{first}
	for i := 3; i <= 10; i++ {
		rest = append(rest, start(t.Context(), l, "c", i))
	}
	waitQueued(t, l, "c", 9)
	if w := store.writes.Load(); w != 1 {
		t.Fatalf("%d writes during the delay, want 1 (the first append's)", w)
	}
	close(release)
	for _, ch := range rest {
		if r := await(t, ch); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if w := store.writes.Load(); w != 2 {
		t.Fatalf("10 appends took %d writes, want 2", w)
	}
	if es := stored(t, l, "c"); len(es) != 10 {
		t.Fatalf("%d entries stored, want 10", len(es))
	}
}

// TestCommitDelayOff: WithCommitDelay(0) never waits.
func TestCommitDelayOff(t *testing.T) {
	l := audit.New(memkv.New(), newSigner("k"), audit.WithCommitDelay(0))
	audit.SetSleep(l, func(d time.Duration) { t.Errorf("waited %v with the commit delay off", d) })
	for i := range 5 {
		if _, err := l.Append(context.Background(), decision("c", i)); err != nil {
			t.Fatal(err)
		}
	}
}
