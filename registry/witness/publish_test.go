package witness

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestPublishQuorum publishes a registry log to three witnesses with a
// quorum of two: what each round collects, what Witnessed and Attach serve,
// and how witnesses being down shows.
func TestPublishQuorum(t *testing.T) {
	ctx := t.Context()
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 1)
	older := checkpointOf(t, ledger)
	grow(t, ledger, 1)
	ws := startWitnesses(t, k, 3)
	targets := targetsOf(ws)
	vs := verifiersOf(targets)
	p := newPublisher(t, ledger, targets, 2, nil)

	r := publish(t, p)
	if r.Size != 2 || !r.Witnessed || len(r.Cosigned) != 3 || len(r.Failed) != 0 {
		t.Fatalf("round = size %d, witnessed %v, cosigned %v, failed %v", r.Size, r.Witnessed, r.Cosigned, r.Failed)
	}
	if _, err := VerifyCosigned(r.Note, k.verifier, vs, 3); err != nil {
		t.Fatalf("the round's note: %v", err)
	}
	wantWitnessed(t, p, k, vs, 2)

	// Attach adds the cosignatures to the same checkpoint only.
	current := checkpointOf(t, ledger)
	full, err := p.Attach(ctx, current)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := VerifyCosigned(full, k.verifier, vs, 3); err != nil || c.Size != 2 {
		t.Fatalf("Attach(current) = size %d, %v", c.Size, err)
	}
	newer := checkpointOf(t, grow(t, ledger, 1))
	for name, cp := range map[string][]byte{"older": older, "newer": newer} {
		got, err := p.Attach(ctx, cp)
		if err != nil || !bytes.Equal(got, cp) {
			t.Errorf("Attach(%s) = %v, %q; want it unchanged", name, err, got)
		}
	}

	// One witness down: still witnessed, and the round says why it failed.
	ws[2].down.Store(true)
	r = publish(t, p)
	if !r.Witnessed || !slices.Equal(r.Cosigned, []string{vs[0].Name(), vs[1].Name()}) || r.Failed[vs[2].Name()] == nil {
		t.Fatalf("one down: witnessed %v, cosigned %v, failed %v", r.Witnessed, r.Cosigned, r.Failed)
	}
	wantWitnessed(t, p, k, vs, 3)
	st := p.Status()
	if st[2].LastError == "" || st[2].Size != 2 || st[0].LastError != "" || st[0].Size != 3 || st[0].LastSuccess.IsZero() {
		t.Errorf("Status = %+v", st)
	}

	// Two down: not witnessed; Witnessed stays, Attach adds the one there is.
	ws[1].down.Store(true)
	cp4 := checkpointOf(t, grow(t, ledger, 1))
	r = publish(t, p)
	if r.Witnessed || len(r.Cosigned) != 1 || len(r.Failed) != 2 {
		t.Fatalf("two down: witnessed %v, cosigned %v, failed %v", r.Witnessed, r.Cosigned, r.Failed)
	}
	wantWitnessed(t, p, k, vs, 3)
	full, err = p.Attach(ctx, cp4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCosigned(full, k.verifier, vs, 1); err != nil {
		t.Errorf("Attach after a round cosigned by one: %v", err)
	}
	if _, err := VerifyCosigned(full, k.verifier, vs, 2); !errors.Is(err, ErrNoQuorum) {
		t.Errorf("Attach after a round cosigned by one, quorum 2: %v, want ErrNoQuorum", err)
	}

	// The other two cosign the same checkpoint: witnessed now, and the
	// stored cosignatures of both rounds are merged.
	ws[0].down.Store(true)
	ws[1].down.Store(false)
	ws[2].down.Store(false)
	if r = publish(t, p); !r.Witnessed || r.Size != 4 {
		t.Fatalf("round = size %d, witnessed %v, failed %v", r.Size, r.Witnessed, r.Failed)
	}
	wantWitnessed(t, p, k, vs, 4)
	if full, err = p.Attach(ctx, cp4); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyCosigned(full, k.verifier, vs, 3); err != nil {
		t.Errorf("Attach after two rounds at the same size: %v", err)
	}
}

// wantWitnessed checks that Witnessed serves a checkpoint of size want with
// a quorum of 2.
func wantWitnessed(t *testing.T, p *Publisher, k ledgerKey, vs []note.Verifier, want uint64) {
	t.Helper()
	w, err := p.Witnessed(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c, err := VerifyCosigned(w, k.verifier, vs, 2); err != nil || c.Size != want {
		t.Fatalf("Witnessed = size %d, %v; want size %d", c.Size, err, want)
	}
}

// TestPublishLearnsWitnessSize: a publisher that knows nothing (a restarted
// replica) against a witness at size 3 gets a 409 and cosigns in the same
// round, then remembers the size.
func TestPublishLearnsWitnessSize(t *testing.T) {
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 3)
	ws := startWitnesses(t, k, 1)
	if _, err := ws[0].AddCheckpoint(t.Context(), 0, nil, checkpointOf(t, ledger)); err != nil {
		t.Fatal(err)
	}
	grow(t, ledger, 2)
	p := newPublisher(t, ledger, targetsOf(ws), 1, nil)
	if _, err := p.Witnessed(t.Context()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Witnessed before a round = %v, want ErrNotFound", err)
	}

	r := publish(t, p)
	if !r.Witnessed || r.Size != 5 || ws[0].adds.Load() != 2 {
		t.Fatalf("round = size %d, witnessed %v, failed %v, after %d requests", r.Size, r.Witnessed, r.Failed, ws[0].adds.Load())
	}
	grow(t, ledger, 1)
	if r = publish(t, p); !r.Witnessed || ws[0].adds.Load() != 3 {
		t.Fatalf("next round: witnessed %v, failed %v, %d requests in all (want 3)", r.Witnessed, r.Failed, ws[0].adds.Load())
	}
	if st := p.Status(); st[0].Size != 6 {
		t.Errorf("Status size = %d, want 6", st[0].Size)
	}
}

// lagSource serves a stale checkpoint first, as a replica reading a
// checkpoint just before another one appended.
type lagSource struct {
	*swapSource
	stale []byte
}

func (s *lagSource) Checkpoint(ctx context.Context) ([]byte, error) {
	if stale := s.stale; stale != nil {
		s.stale = nil
		return stale, nil
	}
	return s.swapSource.Checkpoint(ctx)
}

// TestPublishRace: a witness ahead of the round's checkpoint because the log
// grew meanwhile is no fault; the round asks for another at once.
func TestPublishRace(t *testing.T) {
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 3)
	stale := checkpointOf(t, ledger)
	grow(t, ledger, 2)
	ws := startWitnesses(t, k, 1)
	if _, err := ws[0].AddCheckpoint(t.Context(), 0, nil, checkpointOf(t, ledger)); err != nil {
		t.Fatal(err)
	}
	src := &lagSource{swapSource: newSwapSource(ledger), stale: stale}
	p := newPublisher(t, src, targetsOf(ws), 1, nil)

	r, again, err := p.round(t.Context())
	if err != nil || !again || r.Witnessed || !errors.Is(r.Failed[ws[0].Cosigner().Name()], errRace) || p.Fault() != nil {
		t.Fatalf("round = %v, again %v, failed %v, fault %v", err, again, r.Failed, p.Fault())
	}
	if r, again, err = p.round(t.Context()); err != nil || again || !r.Witnessed || r.Size != 5 {
		t.Fatalf("next round = %v, again %v, witnessed %v, size %d", err, again, r.Witnessed, r.Size)
	}
}
