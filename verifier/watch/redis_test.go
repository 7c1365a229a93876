package watch

import (
	"context"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/status"
)

// Two processes share the Redis kv store and the ledger, each gets every
// event: each change is delivered once, by one of them.
func TestTwoProcessesOverRedis(t *testing.T) {
	w := newWorld(t)
	client := testredis.Client(t)
	w.store = rediskv.New(client, testredis.Prefix(t))
	a := New(w.store, w.ledger, testOpts(nil)...)
	b := New(w.store, w.ledger, testOpts(nil)...)
	ctx := context.Background()
	w.add(t, a, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	w.add(t, b, "hospital-a", credential("urn:uuid:2", time.Time{}, entry(status.PurposeSuspension, w.sus, 1), entry(status.PurposeRevocation, w.rev, 2)))
	run(t, a)
	run(t, b)

	w.is.change(w.rev, []int{1, 2}, nil)
	w.is.change(w.sus, []int{1}, nil)
	got := waitN(t, w.recv, 3)
	seen := map[string]bool{}
	for _, r := range got {
		if seen[r.ID] {
			t.Fatalf("delivered twice: %s", r.Body)
		}
		seen[r.ID] = true
	}
	for _, p := range []*Service{a, b} {
		list, err := p.List(ctx, "hospital-a")
		if err != nil || len(list) != 2 || list[0].State != StateRevoked || list[1].State != StateRevoked {
			t.Fatalf("List: %+v, %v", list, err)
		}
	}
	if n := w.queued(t); n != 0 {
		t.Fatalf("%d deliveries still queued", n)
	}
}
