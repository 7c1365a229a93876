package watch

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/credence/credence/registry"
)

// Run consumes ledger events, polls, checks expiry and delivers webhooks
// until ctx ends; it then waits for the attempts under way (which ctx
// cancels: they are retried later) and returns ctx.Err(). Run once per
// Service; several processes may each run one over the same stores.
func (s *Service) Run(ctx context.Context) error {
	var events <-chan registry.Event
	if s.ledger != nil {
		events = s.ledger.Subscribe(ctx)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.pollLoop(ctx) })
	queue := time.NewTicker(s.tick)
	defer queue.Stop()
	expiry := time.NewTicker(s.expiryEvery)
	defer expiry.Stop()
	s.warn(ctx, "expiry check", s.checkExpiry(ctx))
	s.warn(ctx, "delivery", s.deliverDue(ctx))
	for {
		select {
		case <-ctx.Done():
			s.sched.wg.Wait()
			wg.Wait()
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			s.onEvent(ctx, ev)
		case <-s.wake:
			s.warn(ctx, "delivery", s.deliverDue(ctx))
		case <-s.freed:
			s.warn(ctx, "delivery", s.dispatch(ctx))
		case <-queue.C:
			s.warn(ctx, "delivery", s.deliverDue(ctx))
		case <-expiry.C:
			s.warn(ctx, "expiry check", s.checkExpiry(ctx))
		}
	}
}

func (s *Service) warn(ctx context.Context, what string, err error) {
	if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "watch: background step failed", "step", what, "err", err)
	}
}

// onEvent re-reads the list an op changed, or every ledger list on Reset.
func (s *Service) onEvent(ctx context.Context, ev registry.Event) {
	switch {
	case ev.Reset:
		s.recheck(ctx, true)
	case ev.Type == registry.StatusListCreate || ev.Type == registry.StatusListUpdate:
		_, err := s.checkList(ctx, ev.Subject, func(ctx context.Context) (listRead, error) {
			lr, err := s.readLedger(ctx, ev.Subject)
			if err == nil && lr.seq == ev.Seq {
				idx := ev.Index
				lr.index = &idx
			}
			return lr, err
		})
		s.warn(ctx, "status list check", err)
	}
}

// recheck re-reads every watched list: those on the ledger, and with
// ledgerOnly false the others through the ListSource. Lists nobody watches
// any more are forgotten.
func (s *Service) recheck(ctx context.Context, ledgerOnly bool) {
	vals, hashes, err := s.keys(ctx, bucketLists, "")
	if err != nil {
		s.warn(ctx, "recheck", err)
		return
	}
	for _, h := range hashes {
		list := string(vals[h])
		if listHash(list) != h {
			continue
		}
		n, err := s.checkList(ctx, list, func(ctx context.Context) (listRead, error) {
			lr, err := s.readLedger(ctx, list)
			if errors.Is(err, registry.ErrNotFound) && !ledgerOnly {
				return s.read(ctx, list)
			}
			return lr, err
		})
		switch {
		case n == 0 && err == nil:
			s.warn(ctx, "list cleanup", s.forget(ctx, h, list))
		case err != nil && !errors.Is(err, registry.ErrNotFound):
			s.warn(ctx, "status list check", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// forget drops a list without watchers from the list index. An Add writes
// its watcher entry before the index entry, so reading the watchers again
// after the delete catches an Add in between.
func (s *Service) forget(ctx context.Context, h, list string) error {
	if err := s.deleteQuiet(ctx, bucketLists, h); err != nil {
		return err
	}
	_, keys, err := s.keys(ctx, bucketWatchers+h, "")
	if err != nil || len(keys) == 0 {
		return err
	}
	return s.kv.Put(ctx, bucketLists, h, []byte(list))
}

// pollLoop re-reads every list each poll interval, in the one process that
// holds the poll lease (so polled lists, which have no version, are read by
// one reader at a time).
func (s *Service) pollLoop(ctx context.Context) {
	t := time.NewTicker(s.pollEvery)
	defer t.Stop()
	defer s.dropLease(ctx)
	for {
		if s.holdLease(ctx) {
			s.recheck(ctx, false)
		}
		s.polls.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

type pollLease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

const leaseKey = "poll"

// holdLease takes or renews the poll lease (it lasts two intervals).
func (s *Service) holdLease(ctx context.Context) bool {
	err := s.kv.Update(ctx, bucketLease, leaseKey, func(old []byte) ([]byte, error) {
		var l pollLease
		if old != nil && json.Unmarshal(old, &l) == nil && l.Owner != s.owner && l.Until.After(s.now()) {
			return nil, errSkip
		}
		return json.Marshal(pollLease{Owner: s.owner, Until: s.now().Add(2 * s.pollEvery)})
	})
	if err != nil && !errors.Is(err, errSkip) {
		s.warn(ctx, "poll lease", err)
	}
	return err == nil
}

// dropLease gives the poll lease up when this process holds it.
func (s *Service) dropLease(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = s.kv.Update(ctx, bucketLease, leaseKey, func(old []byte) ([]byte, error) {
		var l pollLease
		if old == nil || json.Unmarshal(old, &l) != nil || l.Owner != s.owner {
			return nil, errSkip
		}
		return json.Marshal(pollLease{})
	})
}
