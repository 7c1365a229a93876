package witness

import (
	"errors"
	"strings"
	"testing"
)

// wantFault checks that a round fails at every target with a fault wrapping
// want, and that Fault and Status report it.
func wantFault(t *testing.T, p *Publisher, r Round, want error) {
	t.Helper()
	if r.Witnessed || len(r.Cosigned) != 0 {
		t.Errorf("round witnessed %v, cosigned %v; want nothing", r.Witnessed, r.Cosigned)
	}
	for _, st := range p.Status() {
		if !errors.Is(r.Failed[st.Name], want) || !errors.Is(st.Fault, want) {
			t.Errorf("%s: round failure %v, status fault %v; want %v", st.Name, r.Failed[st.Name], st.Fault, want)
		}
	}
	if err := p.Fault(); !errors.Is(err, want) {
		t.Errorf("Fault() = %v, want %v", err, want)
	}
}

func wantNoFault(t *testing.T, p *Publisher) {
	t.Helper()
	if err := p.Fault(); err != nil {
		t.Errorf("Fault() = %v, want nil", err)
	}
	for _, st := range p.Status() {
		if st.Fault != nil {
			t.Errorf("%s: fault %v", st.Name, st.Fault)
		}
	}
}

// TestPublishRollback: the log's store restored from an older backup (same
// key, fewer entries) is a rollback, for a publisher that saw the witnesses'
// sizes and for a fresh one; restoring the entries clears it.
func TestPublishRollback(t *testing.T) {
	k := newLedgerKey(t)
	orig := grow(t, newLedger(t, k), 5)
	src := newSwapSource(orig)
	ws := startWitnesses(t, k, 3)
	p := newPublisher(t, src, targetsOf(ws), 2, nil)
	if r := publish(t, p); !r.Witnessed {
		t.Fatalf("round failed: %v", r.Failed)
	}

	restored := replay(t, k, orig, 3)
	src.set(restored)
	r := publish(t, p)
	wantFault(t, p, r, ErrRollback)
	if msg := p.Fault().Error(); !strings.Contains(msg, "size 5 signed by the log, the log has 3") {
		t.Errorf("Fault() = %q, want the sizes", msg)
	}
	fresh := newPublisher(t, restored, targetsOf(ws), 2, nil)
	wantFault(t, fresh, publish(t, fresh), ErrRollback)
	if w, err := p.Witnessed(t.Context()); err != nil || sizeOfNote(t, w) != 5 {
		t.Errorf("Witnessed after the rollback = %v; want size 5 still", err)
	}

	src.set(orig)
	if r := publish(t, p); !r.Witnessed {
		t.Fatalf("round after the restore: %v", r.Failed)
	}
	wantNoFault(t, p)
}

// TestPublishFork: a log with the same key but other entries, at the size
// the witnesses hold or larger, is a fork; the log with the original entries
// and more clears it.
func TestPublishFork(t *testing.T) {
	for _, extra := range []int{0, 2} {
		t.Run(map[int]string{0: "same size", 2: "larger"}[extra], func(t *testing.T) {
			k := newLedgerKey(t)
			orig := grow(t, newLedger(t, k), 4)
			src := newSwapSource(orig)
			ws := startWitnesses(t, k, 3)
			p := newPublisher(t, src, targetsOf(ws), 2, nil)
			if r := publish(t, p); !r.Witnessed {
				t.Fatalf("round failed: %v", r.Failed)
			}

			forked := grow(t, newLedger(t, k), 4+extra)
			src.set(forked)
			wantFault(t, p, publish(t, p), ErrFork)
			fresh := newPublisher(t, forked, targetsOf(ws), 2, nil)
			wantFault(t, fresh, publish(t, fresh), ErrFork)

			src.set(grow(t, orig, 1))
			if r := publish(t, p); !r.Witnessed || r.Size != 5 {
				t.Fatalf("round after the restore: size %d, %v", r.Size, r.Failed)
			}
			wantNoFault(t, p)
		})
	}
}
