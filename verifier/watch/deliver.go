package watch

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// delivery is one queued notification (key: verifier/watch/id).
type delivery struct {
	ID       string          `json:"id"` // the webhook-id
	Verifier string          `json:"verifier"`
	WatchID  string          `json:"watchId"`
	Type     string          `json:"type"`
	Body     json.RawMessage `json:"body"`
	Created  time.Time       `json:"created"`
	Due      time.Time       `json:"due"`
	Lease    time.Time       `json:"lease,omitzero"`
	Attempts int             `json:"attempts,omitempty"`
	// Host is the webhook's host (hostOf); empty in deliveries queued
	// before it was kept, whose watch is read for it.
	Host string `json:"host,omitempty"`
}

func (d delivery) key() string { return watchKey(d.Verifier, d.WatchID) + "/" + d.ID }

// poke wakes the delivery loop: new deliveries are queued.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// lease is how long a claimed delivery is left to its claimer.
func (s *Service) lease() time.Duration { return 2*s.timeout + 30*time.Second }

// deliverDue scans the queue for due, unclaimed deliveries, then starts
// attempts while workers are free.
func (s *Service) deliverDue(ctx context.Context) error {
	cs, err := s.scan(ctx)
	if err != nil {
		return err
	}
	s.sched.load(cs)
	return s.dispatch(ctx)
}

// scan returns the due, unclaimed deliveries of the queue.
func (s *Service) scan(ctx context.Context) ([]candidate, error) {
	vals, keys, err := s.keys(ctx, bucketQueue, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	hosts := map[string]string{} // of watches, for deliveries without Host
	var out []candidate
	for _, k := range keys {
		var d delivery
		if json.Unmarshal(vals[k], &d) != nil || d.Due.After(now) || d.Lease.After(now) {
			continue
		}
		if d.Host == "" {
			d.Host = s.watchHost(ctx, d, hosts)
		}
		out = append(out, candidate{key: k, tenant: d.Verifier, host: d.Host, due: d.Due})
	}
	return out, nil
}

// watchHost is the webhook host of d's watch ("" when it cannot be read: the
// attempt finds out why).
func (s *Service) watchHost(ctx context.Context, d delivery, cache map[string]string) string {
	k := watchKey(d.Verifier, d.WatchID)
	if h, ok := cache[k]; ok {
		return h
	}
	var h string
	if r, err := s.getRecord(ctx, d.Verifier, d.WatchID); err == nil {
		h = hostOf(r.Webhook)
	}
	cache[k] = h
	return h
}

// dispatch claims and starts the deliveries the scheduler picks (in turn by
// tenant, within the per-tenant and per-host limits, skipping held hosts)
// while workers are free. It reads no more than the last scan.
func (s *Service) dispatch(ctx context.Context) error {
	for {
		now := s.now()
		c, ok := s.sched.next(s.workers, func(host string) bool { return s.breaker.allow(host, now) })
		if !ok {
			return nil
		}
		d, ok, err := s.claim(ctx, c.key, now)
		if err != nil || !ok {
			s.sched.done(c)
			if err != nil {
				return err
			}
			continue
		}
		go func() {
			defer s.finish(c)
			s.attempt(ctx, c.host, c.key, d)
		}()
	}
}

// finish ends an attempt and wakes the loop to start the next one.
func (s *Service) finish(c candidate) {
	s.sched.done(c)
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

// claim leases a due delivery to this process; ok is false when another
// process has it or it is gone.
func (s *Service) claim(ctx context.Context, key string, now time.Time) (delivery, bool, error) {
	var d delivery
	err := s.kv.Update(ctx, bucketQueue, key, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errSkip
		}
		d = delivery{}
		if err := json.Unmarshal(old, &d); err != nil {
			return nil, err
		}
		if d.Due.After(now) || d.Lease.After(now) {
			return nil, errSkip
		}
		d.Lease = now.Add(s.lease())
		return json.Marshal(d)
	})
	if errors.Is(err, errSkip) {
		return d, false, nil
	}
	return d, err == nil, err
}

// attempt sends a claimed delivery once, records the outcome and tells the
// host's circuit breaker.
func (s *Service) attempt(ctx context.Context, host, key string, d delivery) {
	r, err := s.getRecord(ctx, d.Verifier, d.WatchID)
	if errors.Is(err, ErrNotFound) {
		_ = s.deleteQuiet(ctx, bucketQueue, key) // the watch was removed
		return
	}
	if err != nil {
		s.release(ctx, key)
		return
	}
	code, after, sendErr := s.send(ctx, r, d)
	if ctx.Err() != nil {
		s.release(ctx, key) // shutting down: not an attempt
		return
	}
	if hold := s.breaker.record(host, hostFault(code, sendErr), s.now()); hold > 0 {
		s.log.WarnContext(ctx, "watch: webhook host held after consecutive failures", "host", host, "hold", hold)
	}
	if err := s.settle(ctx, key, d, code, after, sendErr); err != nil {
		s.log.WarnContext(ctx, "watch: failed to record a delivery attempt", "watch", d.WatchID, "delivery", d.ID, "err", err)
	}
}

// release gives a claimed delivery back (also after ctx ended).
func (s *Service) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = s.kv.Update(ctx, bucketQueue, key, func(old []byte) ([]byte, error) {
		var d delivery
		if old == nil || json.Unmarshal(old, &d) != nil {
			return nil, errSkip
		}
		d.Lease = time.Time{}
		return json.Marshal(d)
	})
}
