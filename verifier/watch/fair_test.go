package watch

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
)

// These tests run no Run loop: each deliverDue scans the queue and starts
// what the scheduler picks, so what is in flight right after it is exactly
// what it started.

// inFlight returns the keys of the attempts s has under way.
func inFlight(s *Service) []string {
	s.sched.mu.Lock()
	defer s.sched.mu.Unlock()
	return slices.Sorted(maps.Keys(s.sched.keys))
}

// settle waits until s has no attempt under way.
func settled(t testing.TB, s *Service) {
	t.Helper()
	waitFor(t, "the attempts under way to end", func() bool { return len(inFlight(s)) == 0 })
}

// arrivals records which receiver got each request, in order.
type arrivals struct {
	mu  sync.Mutex
	seq []string
}

func (a *arrivals) on(r *receiver, name string) {
	r.arrive = func() {
		a.mu.Lock()
		a.seq = append(a.seq, name)
		a.mu.Unlock()
	}
}

func (a *arrivals) get() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.seq)
}

// queueEvent adds a watch of verifier with recv's webhook and queues one
// event for it.
func queueEvent(t testing.TB, s *Service, verifier string, recv *receiver) delivery {
	t.Helper()
	d, secret := queueTo(t, s, verifier, recv.url())
	recv.secret(secret)
	return d
}

// queueTo adds a watch of verifier with webhook and queues one event for it;
// it returns the delivery and the watch's secret.
func queueTo(t testing.TB, s *Service, verifier, webhook string) (delivery, string) {
	t.Helper()
	ctx := context.Background()
	wt, secret, err := s.Add(ctx, verifier, credential("", time.Now().Add(365*24*time.Hour)), webhook)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.getRecord(ctx, verifier, wt.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.newDelivery(r, TypeRevoked, eventID(r.ID, "test", 1), s.now(), EventData{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.flush(ctx, verifier, wt.ID, []delivery{d}); err != nil {
		t.Fatal(err)
	}
	return d, secret
}

// newService is a Service without Run whose attempts under way end before
// the test's receivers close.
func newService(t testing.TB, c *clock, opts ...Option) *Service {
	s := New(memkv.New(), nil, testOpts(c, opts...)...)
	t.Cleanup(s.sched.wg.Wait)
	return s
}

// stall makes recv hold every request until released (one per send on the
// returned channel) or the test ends.
func stall(t testing.TB, recv *receiver) chan struct{} {
	hold := make(chan struct{})
	recv.hold = hold
	t.Cleanup(func() { close(hold) })
	return hold
}

func tenantsOf(keys []string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k[:strings.IndexByte(k, '/')])
	}
	return out
}

// A tenant with many deliveries to a stalling endpoint holds one worker: a
// tenant sorting after it is delivered at once.
func TestStallingTenantHoldsOneWorker(t *testing.T) {
	s := newService(t, newClock(), WithWorkers(2))
	slow, fast := newReceiver(t, http.StatusNoContent), newReceiver(t, http.StatusNoContent)
	for range 10 {
		queueEvent(t, s, "a-hospital", slow)
	}
	queueEvent(t, s, "b-hospital", fast)
	stall(t, slow)
	answer := stall(t, fast) // so that what is in flight stays

	if err := s.deliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := tenantsOf(inFlight(s)), []string{"a-hospital", "b-hospital"}; !slices.Equal(got, want) {
		t.Fatalf("in flight for %v, want %v", got, want)
	}
	answer <- struct{}{}
	waitN(t, fast, 1) // while a-hospital's endpoint stalls
}

// With one worker, a stalling tenant delays another by one attempt: the next
// turn is the other tenant's, not its own next delivery.
func TestTenantsTakeTurns(t *testing.T) {
	s := newService(t, newClock(), WithWorkers(1))
	slow, fast := newReceiver(t, http.StatusNoContent), newReceiver(t, http.StatusNoContent)
	var seen arrivals
	seen.on(slow, "a")
	seen.on(fast, "b")
	for range 5 {
		queueEvent(t, s, "a-hospital", slow)
	}
	queueEvent(t, s, "b-hospital", fast)
	hold := stall(t, slow)
	stall(t, fast) // so that what is in flight stays
	ctx := context.Background()

	if err := s.deliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a-hospital's first request", func() bool { return len(seen.get()) == 1 })
	hold <- struct{}{} // its answer
	settled(t, s)
	if err := s.deliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a second request", func() bool { return len(seen.get()) == 2 })
	if got, want := seen.get(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("requests went to %v, want %v", got, want)
	}
	if got := tenantsOf(inFlight(s)); !slices.Equal(got, []string{"b-hospital"}) {
		t.Fatalf("in flight for %v, want b-hospital", got)
	}
}

// Two tenants whose webhooks share a host get one attempt at a time there,
// also with deliveries queued before they kept their host.
func TestOneAttemptPerHost(t *testing.T) {
	for _, kept := range []bool{true, false} {
		t.Run(map[bool]string{true: "host kept", false: "queued without host"}[kept], func(t *testing.T) {
			s := newService(t, newClock(), WithWorkers(4))
			shared := newReceiver(t, http.StatusNoContent)
			var seen arrivals
			seen.on(shared, "shared")
			for _, tenant := range []string{"a-hospital", "b-hospital"} {
				d := queueEvent(t, s, tenant, shared)
				if !kept {
					d.Host = ""
					b, _ := json.Marshal(d)
					if err := s.kv.Put(context.Background(), bucketQueue, d.key(), b); err != nil {
						t.Fatal(err)
					}
				}
			}
			hold := stall(t, shared)
			ctx := context.Background()

			if err := s.deliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			if got := tenantsOf(inFlight(s)); !slices.Equal(got, []string{"a-hospital"}) {
				t.Fatalf("in flight for %v, want a-hospital only", got)
			}
			waitFor(t, "the first request", func() bool { return len(seen.get()) == 1 })
			hold <- struct{}{}
			settled(t, s)
			if err := s.deliverDue(ctx); err != nil {
				t.Fatal(err)
			}
			if got := tenantsOf(inFlight(s)); !slices.Equal(got, []string{"b-hospital"}) {
				t.Fatalf("in flight for %v, want b-hospital", got)
			}
		})
	}
}

// After BreakerFailures consecutive faults a host is held: its deliveries
// stay queued and unattempted (another host is not held) until a probe after
// the cool-down, which doubles when the probe fails, succeeds.
func TestBreakerHoldsFailingHost(t *testing.T) {
	c := newClock()
	s := newService(t, c, WithWorkers(4), WithSchedule([]time.Duration{time.Hour, time.Hour}, false))
	codes := slices.Repeat([]int{http.StatusServiceUnavailable}, BreakerFailures+1) // then 204
	failing, other := newReceiver(t, append(codes, http.StatusNoContent)...), newReceiver(t, http.StatusNoContent)
	var ds []delivery
	for range BreakerFailures + 3 {
		ds = append(ds, queueEvent(t, s, "a-hospital", failing))
	}
	ctx := context.Background()
	step := func() {
		t.Helper()
		if err := s.deliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		settled(t, s)
	}
	for range BreakerFailures {
		step()
	}
	queueEvent(t, s, "b-hospital", other)
	step()
	step()
	if n := len(failing.requests()); n != BreakerFailures {
		t.Fatalf("%d requests to the failing host, want %d", n, BreakerFailures)
	}
	if n := len(other.requests()); n != 1 {
		t.Fatalf("%d requests to another host, want 1", n)
	}
	held := 0
	for _, d := range ds {
		q := queuedDelivery(t, s, d)
		if q.Attempts == 0 {
			held++
			if !q.Due.Equal(d.Due) {
				t.Errorf("a held delivery was rescheduled: due %v, was %v", q.Due, d.Due)
			}
		}
	}
	if held != 3 {
		t.Fatalf("%d deliveries held unattempted, want 3", held)
	}

	c.Add(BreakerCooldown)
	step() // the probe fails: held for twice as long
	c.Add(BreakerCooldown)
	step()
	if n := len(failing.requests()); n != BreakerFailures+1 {
		t.Fatalf("%d requests after the first hold, want %d", n, BreakerFailures+1)
	}
	c.Add(BreakerCooldown)
	step() // the probe succeeds
	step()
	if n := len(failing.requests()); n != BreakerFailures+3 {
		t.Fatalf("%d requests after the host recovered, want %d", n, BreakerFailures+3)
	}
}

// queuedDelivery reads d as queued now.
func queuedDelivery(t testing.TB, s *Service, d delivery) delivery {
	t.Helper()
	b, err := s.kv.Get(context.Background(), bucketQueue, d.key())
	if err != nil {
		t.Fatal(err)
	}
	var q delivery
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestBreakerCooldowns(t *testing.T) {
	now := time.Unix(1e9, 0)
	var b breaker
	var holds []time.Duration
	for range BreakerFailures + 8 {
		if h := b.record("h", true, now); h > 0 {
			holds = append(holds, h)
		}
	}
	want := []time.Duration{BreakerCooldown, 2 * BreakerCooldown, 4 * BreakerCooldown, 8 * BreakerCooldown,
		16 * BreakerCooldown, 32 * BreakerCooldown, BreakerMaxCooldown, BreakerMaxCooldown, BreakerMaxCooldown}
	if !slices.Equal(holds, want) {
		t.Fatalf("holds %v, want %v", holds, want)
	}
	if b.allow("h", now.Add(BreakerMaxCooldown-time.Second)) || !b.allow("h", now.Add(BreakerMaxCooldown)) || !b.allow("other", now) {
		t.Fatal("allow does not follow the hold")
	}
	b.record("h", false, now)
	if !b.allow("h", now) || b.record("h", true, now) != 0 {
		t.Fatal("an answer did not close the breaker")
	}
}
