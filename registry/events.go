package registry

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Event says that an op was appended to the log (or, with Reset, that the
// receiver may have missed some).
type Event struct {
	Index   uint64 `json:"index"`
	Subject string `json:"subject,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Type    OpType `json:"type,omitempty"`
	Hash    string `json:"hash,omitempty"`
	// Reset means "you may have missed events: invalidate everything". Its
	// other fields are zero.
	Reset bool `json:"reset,omitempty"`
}

// LeafEvent is the event of an appended leaf; Type is read from the op in
// Data ("" when Data is not an op).
func LeafEvent(l Leaf) Event {
	var head struct {
		Type OpType `json:"type"`
	}
	_ = json.Unmarshal(l.Data, &head)
	return Event{Index: l.Index, Subject: l.Subject, Seq: l.Seq, Type: head.Type, Hash: l.Hash}
}

// EventSource is implemented by stores that report every leaf appended to them,
// by any process: the Log subscribes through it when its store has one
// (otherwise it reports only its own appends).
//
// Events returns, once the subscription is established, a channel that carries
// an event for every leaf appended after Events returned, in index order, never
// twice for one index, with a Reset event wherever events may have been missed
// (a dropped connection, a receiver too slow for its buffer). A slow receiver
// never blocks appends. The channel is closed when ctx ends (or when the source
// fails for good: the Log then subscribes again and sends Reset).
type EventSource interface {
	Events(ctx context.Context) (<-chan Event, error)
}

// DefaultEventBuffer is how many events an EventBus queues for one subscriber
// before it replaces them with a Reset.
const DefaultEventBuffer = 4096

// EventBus fans events out to in-process subscribers. Publish never blocks:
// each subscriber has its own bounded queue, drained by its own goroutine into
// its channel; when a queue overflows, its events are replaced by one Reset
// event (and later events follow it). A subscriber never receives two events
// with the same index, nor an event whose index is below one it already
// received (publish in index order). Drivers use it to implement EventSource.
type EventBus struct {
	buffer int
	mu     sync.Mutex
	subs   map[*eventSub]struct{}
}

// NewEventBus returns a bus queueing at most buffer events per subscriber
// (DefaultEventBuffer when buffer <= 0).
func NewEventBus(buffer int) *EventBus {
	if buffer <= 0 {
		buffer = DefaultEventBuffer
	}
	return &EventBus{buffer: buffer, subs: map[*eventSub]struct{}{}}
}

// Publish queues ev for every current subscriber.
func (b *EventBus) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.push(ev)
	}
}

// Subscribe returns a channel of the events published from now on, closed
// when ctx ends.
func (b *EventBus) Subscribe(ctx context.Context) <-chan Event {
	s := &eventSub{max: b.buffer, wake: make(chan struct{}, 1)}
	out := make(chan Event)
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer close(out)
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		s.run(ctx, out)
	}()
	return out
}

// Subscribers is the number of current subscribers.
func (b *EventBus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// eventSub is one subscriber's queue.
type eventSub struct {
	max  int
	wake chan struct{}

	mu      sync.Mutex
	queue   []Event
	last    uint64 // index of the latest event queued
	hasLast bool
}

func (s *eventSub) push(ev Event) {
	s.mu.Lock()
	switch {
	case ev.Reset:
		if n := len(s.queue); n > 0 && s.queue[n-1].Reset {
			s.mu.Unlock()
			return // one Reset says it all
		}
	case s.hasLast && ev.Index <= s.last:
		s.mu.Unlock()
		return // already queued or delivered
	}
	if len(s.queue) >= s.max {
		// Too slow: what is queued is covered by a Reset.
		s.queue = append(s.queue[:0], Event{Reset: true})
	}
	if !ev.Reset || len(s.queue) == 0 || !s.queue[len(s.queue)-1].Reset {
		s.queue = append(s.queue, ev)
	}
	if !ev.Reset {
		s.last, s.hasLast = ev.Index, true
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *eventSub) run(ctx context.Context, out chan<- Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, ev := range batch {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}
}

// sourceWait bounds how long Subscribe waits for the store's event source to
// be established (after that, the subscriber gets a Reset once it is).
const sourceWait = 5 * time.Second

// eventHub is a Log's events: the store's EventSource when it has one, shared
// by the Log's subscribers while there are any; otherwise the Log's own
// appends, published in index order.
type eventHub struct {
	src EventSource // nil: local
	bus *EventBus

	// appendMu (local mode) makes append-then-publish atomic, so events leave
	// in index order.
	appendMu sync.Mutex

	mu    sync.Mutex // guards the fields below
	subs  int
	gen   uint64
	stop  context.CancelFunc
	ready chan struct{}
}

func newEventHub(store Store, buffer int) *eventHub {
	h := &eventHub{bus: NewEventBus(buffer)}
	if src, ok := store.(EventSource); ok {
		h.src = src
	}
	return h
}

// Subscribe returns the events of every op appended to the log from now on —
// through this Log or, when the store is an EventSource (both drivers are),
// through any Log on the same store, in any process — in index order, until
// ctx ends (the channel is then closed). A subscriber that falls more than the
// buffer behind, or that may have missed events for another reason (a dropped
// Redis subscription), receives an Event with Reset set, then the events after
// it; it never blocks appends and never misses an event silently.
//
// With an EventSource, Subscribe waits (at most a few seconds, or until ctx
// ends) for the subscription to be established, so the first append after it
// returns is reported; if the source is not up by then, a Reset follows once
// it is.
func (l *Log) Subscribe(ctx context.Context) <-chan Event {
	h := l.events
	out := h.bus.Subscribe(ctx)
	if h.src == nil {
		return out
	}
	h.mu.Lock()
	h.subs++
	if h.subs == 1 {
		h.gen++
		sctx, cancel := context.WithCancel(context.Background())
		h.stop, h.ready = cancel, make(chan struct{})
		go h.run(sctx, h.gen, h.ready)
	}
	ready := h.ready
	h.mu.Unlock()
	context.AfterFunc(ctx, h.release)
	t := time.NewTimer(sourceWait)
	defer t.Stop()
	select {
	case <-ready:
	case <-ctx.Done():
	case <-t.C:
	}
	return out
}

// release ends one subscriber; the source stops with the last.
func (h *eventHub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs--
	if h.subs == 0 {
		h.stop()
		h.stop = nil
		h.gen++ // a stopping source publishes nothing more
	}
}

// publish forwards an event of source generation gen.
func (h *eventHub) publish(gen uint64, ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen == h.gen {
		h.bus.Publish(ev)
	}
}

// run keeps the store's event source open while ctx lives, forwarding its
// events; whenever it had to (re)open the source, events may have been
// missed, and subscribers get a Reset.
func (h *eventHub) run(ctx context.Context, gen uint64, ready chan struct{}) {
	signal := sync.OnceFunc(func() { close(ready) })
	defer signal()
	missed := false
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		ch, err := h.src.Events(ctx)
		if err != nil {
			signal() // do not hold subscribers: they get a Reset when it is up
			missed = true
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		if missed {
			h.publish(gen, Event{Reset: true})
		}
		signal()
		for ev := range ch {
			h.publish(gen, ev)
		}
		missed = true // the source ended: unless ctx did, reopen it
	}
}
