package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/credence/credence/registry"
)

func testConcurrentDistinctSubjects(t *testing.T, s registry.Store) {
	ctx := t.Context()
	const workers, per = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			subject := fmt.Sprintf("did:credence:worker-%d", w)
			var head registry.Head
			for seq := uint64(1); seq <= per; seq++ {
				l := mkLeaf(subject, seq)
				if _, err := s.Append(ctx, head, l); err != nil {
					errs <- fmt.Errorf("worker %d seq %d: %w", w, seq, err)
					return
				}
				head = headOf(l)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantSize(t, s, workers*per)
	seen := map[string]uint64{}
	for i := range uint64(workers * per) {
		l, err := s.Leaf(ctx, i)
		if err != nil {
			t.Fatalf("Leaf(%d): %v", i, err)
		}
		key := fmt.Sprintf("%s#%d", l.Subject, l.Seq)
		if prev, dup := seen[key]; dup {
			t.Fatalf("%s is at both index %d and %d", key, prev, i)
		}
		seen[key] = i
		if want := mkLeaf(l.Subject, l.Seq); l.Hash != want.Hash || !bytes.Equal(l.Data, want.Data) {
			t.Fatalf("Leaf(%d) = %s, want %s", i, showLeaf(l), showLeaf(want))
		}
	}
	for w := range workers {
		subject := fmt.Sprintf("did:credence:worker-%d", w)
		var want []uint64
		for seq := uint64(1); seq <= per; seq++ {
			idx, ok := seen[fmt.Sprintf("%s#%d", subject, seq)]
			if !ok {
				t.Fatalf("%s seq %d is missing", subject, seq)
			}
			want = append(want, idx)
		}
		wantHistory(t, s, subject, want)
		wantHead(t, s, subject, headOf(mkLeaf(subject, per)))
	}
	ref := referenceOf(t, s, workers*per)
	wantSameHashes(t, s, ref, workers*per)
}

func testConcurrentSameSubject(t *testing.T, s registry.Store) {
	ctx := t.Context()
	const racers = 8
	const subject = "did:credence:contested"
	// A bystander first, so the contested leaf is not leaf 0.
	mustAppend(t, s, registry.Head{}, mkLeaf("did:credence:bystander", 1))
	var wg sync.WaitGroup
	results := make([]error, racers)
	indexes := make([]uint64, racers)
	start := make(chan struct{})
	for r := range racers {
		wg.Go(func() {
			l := mkLeaf(subject, 1)
			l.Hash = fmt.Sprintf("racer-%d", r)
			l.Data = fmt.Appendf(nil, `{"racer":%d}`, r)
			<-start
			indexes[r], results[r] = s.Append(ctx, registry.Head{}, l)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for r, err := range results {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both appended seq 1", winner, r)
			}
			winner = r
		case !errors.Is(err, registry.ErrConflict):
			t.Fatalf("racer %d: %v, want nil or ErrConflict", r, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer appended")
	}
	if indexes[winner] != 1 {
		t.Fatalf("winner's index = %d, want 1", indexes[winner])
	}
	wantSize(t, s, 2)
	wantHead(t, s, subject, registry.Head{Seq: 1, Hash: fmt.Sprintf("racer-%d", winner)})
	wantHistory(t, s, subject, []uint64{1})
	l, err := s.Leaf(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(l.Data) != fmt.Sprintf(`{"racer":%d}`, winner) {
		t.Fatalf("Leaf(1).Data = %q, want the winner's (%d)", l.Data, winner)
	}
	wantSameHashes(t, s, referenceOf(t, s, 2), 2)
}
