package boltstore

import (
	"bytes"
	"context"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// Append appends leaf if the subject's head is still want (see the package
// documentation for how concurrent appends share a commit). It returns the
// leaf's index once its commit is fsynced.
func (s *Store) Append(ctx context.Context, want registry.Head, leaf registry.Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

// AppendGuarded is Append that also requires every guard's subject to have
// the guard's head, checked in the same transaction (registry.ErrConflict
// otherwise, nothing written).
func (s *Store) AppendGuarded(ctx context.Context, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	if err := registry.CheckAppend(want, guards, leaf); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.writable(); err != nil {
		return 0, err
	}
	wantEnc := encodeHead(want)
	newHead := encodeHead(registry.Head{Seq: leaf.Seq, Hash: leaf.Hash})
	recordHash := tlog.RecordHash(leaf.Data)

	// Results of the last run of fn; reset on every run (Batch may retry).
	var (
		index    uint64
		conflict bool
	)
	fn := func(tx *bbolt.Tx) error {
		index, conflict = 0, false
		heads := tx.Bucket(bucketHeads)
		cur := heads.Get([]byte(leaf.Subject))
		if !headIs(cur, want, wantEnc) {
			conflict = true
			return nil // write nothing, but do not fail the batch
		}
		for _, g := range guards {
			if !headIs(heads.Get([]byte(g.Subject)), g.Head, encodeHead(g.Head)) {
				conflict = true
				return nil
			}
		}
		n, err := treeSize(tx)
		if err != nil {
			return err
		}
		hashes, err := tlog.StoredHashesForRecordHash(int64(n), recordHash, txReader(tx))
		if err != nil {
			return fmt.Errorf("failed to compute tree hashes: %w", err)
		}
		l := leaf
		l.Index = n
		rec, err := registry.EncodeLeaf(l)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketLeaves).Put(be64(n), rec); err != nil {
			return err
		}
		hb := tx.Bucket(bucketHashes)
		base := tlog.StoredHashIndex(0, int64(n))
		for i, h := range hashes {
			if err := hb.Put(be64(uint64(base)+uint64(i)), bytes.Clone(h[:])); err != nil {
				return err
			}
		}
		if err := heads.Put([]byte(leaf.Subject), newHead); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHistory).Put(historyKey(leaf.Subject, leaf.Seq), be64(n)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keySize, be64(n+1)); err != nil {
			return err
		}
		index = n
		return nil
	}

	var err error
	if s.inflight.Add(1) == 1 {
		err = s.db.Update(fn) // alone: commit now
	} else {
		err = s.db.Batch(fn) // share a commit with the others in flight
	}
	s.inflight.Add(-1)
	if err != nil {
		return 0, fmt.Errorf("failed to append leaf: %w", err)
	}
	if conflict {
		return 0, registry.ErrConflict
	}
	ev := registry.LeafEvent(leaf)
	ev.Index = index
	s.publish(ev)
	return index, nil
}

// headIs reports whether a stored head value cur is want (encoded wantEnc).
func headIs(cur []byte, want registry.Head, wantEnc []byte) bool {
	if cur == nil {
		return want == (registry.Head{})
	}
	return bytes.Equal(cur, wantEnc)
}

// maxPendingEvents bounds the events held back waiting for an earlier index
// (which only another Store on the same database could have taken): beyond
// it, subscribers get a Reset and the gap is skipped.
const maxPendingEvents = 4096

// publish hands an appended leaf's event to subscribers in index order:
// Appends sharing a commit return in any order, so events wait for the
// earlier indexes.
func (s *Store) publish(ev registry.Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if ev.Index < s.evNext {
		return
	}
	s.evPending[ev.Index] = ev
	if len(s.evPending) > maxPendingEvents {
		// A gap that does not fill: another Store appends to this database.
		s.events.Publish(registry.Event{Reset: true})
		s.evNext = ev.Index
		for i := range s.evPending {
			s.evNext = min(s.evNext, i)
		}
	}
	for {
		e, ok := s.evPending[s.evNext]
		if !ok {
			return
		}
		delete(s.evPending, s.evNext)
		s.events.Publish(e)
		s.evNext++
	}
}

// Events reports every leaf appended through this Store from now on, in index
// order (see registry.EventSource). The embedded store has one process, so the
// events are in-process: use one Store per database.
func (s *Store) Events(ctx context.Context) (<-chan registry.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.events.Subscribe(ctx), nil
}
