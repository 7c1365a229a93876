package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/credence/credence/registry"
)

// EventsHealthInterval is how long an events subscription may stay silent
// before it is pinged (and, when the ping goes unanswered as long, dropped and
// renewed).
const EventsHealthInterval = 15 * time.Second

// subscribeTimeout bounds the wait for a SUBSCRIBE confirmation.
const subscribeTimeout = 5 * time.Second

// Events returns, once subscribed, the events of every leaf appended to the
// log from now on, by any process (see registry.EventSource). The channel is
// closed when ctx ends.
func (s *Store) Events(ctx context.Context) (<-chan registry.Event, error) {
	ps, err := s.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	// Events of leaves below the size read after subscribing may still arrive
	// (appended in between); from the size on, every index must.
	next, err := s.Size(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	bus := registry.NewEventBus(0)
	out := bus.Subscribe(ctx)
	go s.pump(ctx, ps, bus, next)
	return out, nil
}

// subscribe subscribes to the events channel and waits for the confirmation.
func (s *Store) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ps := s.client.Subscribe(ctx, s.Channel())
	for {
		msg, err := ps.ReceiveTimeout(ctx, subscribeTimeout)
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			_ = ps.Close()
			return nil, fmt.Errorf("failed to subscribe to %s: %w", s.Channel(), err)
		}
		if sub, ok := msg.(*redis.Subscription); ok && sub.Kind == "subscribe" {
			return ps, nil
		}
	}
}

// pump forwards the subscription's events to bus until ctx ends.
func (s *Store) pump(ctx context.Context, ps *redis.PubSub, bus *registry.EventBus, next uint64) {
	var mu sync.Mutex // guards cur against the closing AfterFunc
	cur := ps
	closeCur := func() {
		mu.Lock()
		_ = cur.Close()
		mu.Unlock()
	}
	stop := context.AfterFunc(ctx, closeCur) // unblocks a pending receive
	defer stop()
	defer closeCur()

	var (
		last    uint64
		hasLast bool
		known   = true // next is the index the next new event must have
		pinged  bool
	)
	for ctx.Err() == nil {
		msg, err := cur.ReceiveTimeout(ctx, EventsHealthInterval)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) && !pinged {
				pinged = true
				if cur.Ping(ctx) == nil {
					continue
				}
			}
			// The subscription dropped (or does not answer): renew it, then
			// tell subscribers they may have missed events.
			closeCur()
			nps, ok := s.resubscribe(ctx)
			if !ok {
				return
			}
			mu.Lock()
			cur = nps
			mu.Unlock()
			if ctx.Err() != nil {
				return
			}
			pinged, known = false, false
			bus.Publish(registry.Event{Reset: true})
			continue
		}
		switch m := msg.(type) {
		case *redis.Pong:
			pinged = false
		case *redis.Message:
			pinged = false
			var ev registry.Event
			if json.Unmarshal([]byte(m.Payload), &ev) != nil || ev.Reset {
				continue // not ours
			}
			if hasLast && ev.Index <= last {
				continue // a duplicate, or older than what was delivered
			}
			if known && ev.Index > next {
				bus.Publish(registry.Event{Reset: true}) // a gap: something was lost
			}
			bus.Publish(ev)
			last, hasLast = ev.Index, true
			next, known = max(next, ev.Index+1), true
		}
	}
}

// resubscribe subscribes again, backing off while it fails; false when ctx
// ended first.
func (s *Store) resubscribe(ctx context.Context) (*redis.PubSub, bool) {
	backoff := 20 * time.Millisecond
	for {
		ps, err := s.subscribe(ctx)
		if err == nil {
			return ps, true
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
