package watch

import (
	"context"
	"testing"
	"time"

	"github.com/credence/credence/vc/status"
)

// A process that recorded a change but died before queueing it leaves an
// outbox entry; an Add that died before its record leaves index entries.
// Once they are older than their grace, another process finishes the first
// and deletes the second.
func TestCrashLeftoversAreRecovered(t *testing.T) {
	c := newClock()
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(c)...)
	ctx := context.Background()
	wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	var lost delivery
	err := s.updateRecord(ctx, "hospital-a", wt.ID, func(r *record) error {
		d, err := s.newDelivery(r, TypeRevoked, eventID(r.ID, EntryKey(r.Entries[0]), 1), c.Now(), changeData(r.Entries[0], listRead{}))
		r.Outbox, lost = append(r.Outbox, d), d
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	orphan := watchKey("hospital-a", randomID())
	if err := w.store.Put(ctx, bucketWatchers+listHash(w.rev), orphan, unixValue(c.Now())); err != nil {
		t.Fatal(err)
	}

	// Young leftovers belong to a process that may still be working.
	stop := run(t, s)
	time.Sleep(50 * time.Millisecond)
	stop()
	if n := len(w.recv.requests()); n != 0 {
		t.Fatalf("a young outbox entry was taken over: %d requests", n)
	}

	c.Add(orphanGrace + time.Minute)
	run(t, New(w.store, w.ledger, testOpts(c)...))
	got := waitN(t, w.recv, 1)
	if got[0].ID != lost.ID || got[0].Event.Type != TypeRevoked {
		t.Fatalf("recovered %s", got[0].Body)
	}
	waitFor(t, "the orphan index entry to go", func() bool {
		_, err := w.store.Get(ctx, bucketWatchers+listHash(w.rev), orphan)
		return err != nil
	})
	r, err := s.getRecord(ctx, "hospital-a", wt.ID)
	if err != nil || len(r.Outbox) != 0 {
		t.Fatalf("outbox after recovery %+v, %v", r, err)
	}
}
