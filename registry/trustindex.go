package registry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrIndexClosed is returned by TrustIndex.WaitFor once the index stopped
// following the log.
var ErrIndexClosed = errors.New("registry: the trust index is closed")

// TrustIndex is the trust registry as the ledger has it: every accreditation,
// loaded at start and kept current from the Log's events (Subscribe), for the
// verifier's question "is this issuer accredited for this credential type in
// this jurisdiction at this time?" (Accredited: the method of
// verifier.Accreditations). Safe for concurrent use.
//
// It holds the current grant of each accreditation: an amendment replaces the
// grant, so Accredited answers with today's window and jurisdictions even for
// an earlier time (the history is on the ledger: Log.History).
type TrustIndex struct {
	log    *Log
	logger *slog.Logger

	mu       sync.RWMutex
	grants   map[string]*grant   // by id
	byIssuer map[string][]*grant // sorted by id
	size     uint64              // every op with a smaller log index is reflected
	changed  chan struct{}       // closed (and replaced) when size grows

	cancel context.CancelFunc
	done   chan struct{}
}

// grant is an accreditation's state with its times parsed.
type grant struct {
	st                     AccreditationState
	from, until, withdrawn time.Time // zero until, withdrawn: none
}

// Index retry bounds: after a failed read it reloads everything, retrying
// with a backoff between these.
const (
	indexRetryMin = 100 * time.Millisecond
	indexRetryMax = 5 * time.Second
)

// NewTrustIndex loads every accreditation of l (l's store must be a
// SubjectLister) and follows l's events until ctx ends or Close is called.
// An event for an accreditation reloads its state; a Reset event, or a failed
// read, reloads everything (retrying with a backoff; meanwhile the index keeps
// answering from what it has, and WaitFor waits). logger (nil: discard)
// reports those failures.
func NewTrustIndex(ctx context.Context, l *Log, logger *slog.Logger) (*TrustIndex, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	x := &TrustIndex{log: l, logger: logger, grants: map[string]*grant{}, byIssuer: map[string][]*grant{},
		changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	events := l.Subscribe(ctx) // before the load: nothing appended after it is missed
	if err := x.reload(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("failed to load the trust registry: %w", err)
	}
	go x.run(ctx, events)
	return x, nil
}

// Close stops following the log; the index keeps answering from what it has.
func (x *TrustIndex) Close() {
	x.cancel()
	<-x.done
}

func (x *TrustIndex) run(ctx context.Context, events <-chan Event) {
	defer close(x.done)
	for {
		var ev Event
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			ev = e
		}
		if err := x.apply(ctx, ev); err != nil {
			if ctx.Err() != nil {
				return
			}
			x.logger.WarnContext(ctx, "trust index: failed to follow the ledger; reloading", "index", ev.Index, "err", err)
			x.recover(ctx)
		}
	}
}

// apply brings the index up to date with one event.
func (x *TrustIndex) apply(ctx context.Context, ev Event) error {
	if ev.Reset {
		return x.reload(ctx)
	}
	if strings.HasPrefix(ev.Subject, AccreditationPrefix) {
		if err := x.refresh(ctx, ev.Subject); err != nil {
			return err
		}
	}
	x.mu.Lock()
	x.advance(ev.Index + 1)
	x.mu.Unlock()
	return nil
}

// recover reloads everything until it succeeds or ctx ends.
func (x *TrustIndex) recover(ctx context.Context) {
	for wait := indexRetryMin; ; wait = min(2*wait, indexRetryMax) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := x.reload(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		x.logger.WarnContext(ctx, "trust index: reload failed", "retry_in", min(2*wait, indexRetryMax), "err", err)
	}
}

// reload reads every accreditation anew.
func (x *TrustIndex) reload(ctx context.Context) error {
	n, err := x.log.Size(ctx)
	if err != nil {
		return err
	}
	grants := map[string]*grant{}
	err = x.log.Subjects(ctx, AccreditationPrefix, func(subject string) error {
		g, err := x.read(ctx, subject)
		if g != nil {
			grants[g.st.ID] = g
		}
		return err
	})
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.grants = grants
	x.byIssuer = map[string][]*grant{}
	for _, g := range grants {
		x.byIssuer[g.st.Issuer] = append(x.byIssuer[g.st.Issuer], g)
	}
	for _, gs := range x.byIssuer {
		slices.SortFunc(gs, func(a, b *grant) int { return cmp.Compare(a.st.ID, b.st.ID) })
	}
	x.advance(n)
	return nil
}

// refresh re-reads one accreditation.
func (x *TrustIndex) refresh(ctx context.Context, subject string) error {
	g, err := x.read(ctx, subject)
	if err != nil {
		return err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	id, _ := AccreditationID(subject)
	if old := x.grants[id]; old != nil {
		x.byIssuer[old.st.Issuer] = slices.DeleteFunc(x.byIssuer[old.st.Issuer], func(o *grant) bool { return o == old })
		if len(x.byIssuer[old.st.Issuer]) == 0 {
			delete(x.byIssuer, old.st.Issuer)
		}
		delete(x.grants, id)
	}
	if g == nil {
		return nil
	}
	x.grants[id] = g
	gs := append(x.byIssuer[g.st.Issuer], g)
	slices.SortFunc(gs, func(a, b *grant) int { return cmp.Compare(a.st.ID, b.st.ID) })
	x.byIssuer[g.st.Issuer] = gs
	return nil
}

// read returns the current grant of an accreditation subject (nil for a
// subject without one).
func (x *TrustIndex) read(ctx context.Context, subject string) (*grant, error) {
	st, err := x.log.State(ctx, subject, 0)
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", subject, err)
	}
	if st.Accreditation == nil {
		return nil, nil
	}
	g := &grant{st: st.Accreditation.Clone()}
	g.from, err = parseTime(g.st.ValidFrom)
	if err != nil {
		return nil, fmt.Errorf("%s: validFrom: %w", subject, err)
	}
	if g.st.ValidUntil != "" {
		if g.until, err = parseTime(g.st.ValidUntil); err != nil {
			return nil, fmt.Errorf("%s: validUntil: %w", subject, err)
		}
	}
	if g.st.Withdrawn != "" {
		if g.withdrawn, err = parseTime(g.st.Withdrawn); err != nil {
			return nil, fmt.Errorf("%s: withdrawn: %w", subject, err)
		}
	}
	return g, nil
}

// advance records that every op below log index n is reflected. x.mu held.
func (x *TrustIndex) advance(n uint64) {
	if n <= x.size {
		return
	}
	x.size = n
	close(x.changed)
	x.changed = make(chan struct{})
}

// WaitFor waits until the index reflects the op at log index (a Receipt's
// Index) and every op before it: read-your-writes after a Submit. It returns
// ctx's error when ctx ends first, ErrIndexClosed once the index stopped.
func (x *TrustIndex) WaitFor(ctx context.Context, index uint64) error {
	for {
		x.mu.RLock()
		ok, ch := x.size > index, x.changed
		x.mu.RUnlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-x.done:
			return ErrIndexClosed
		}
	}
}

// Accredited reports whether issuer is accredited for credentialType in
// jurisdiction at time at: some accreditation of issuer lists credentialType,
// its window contains at (validFrom <= at <= validUntil, no validUntil: open),
// it was not withdrawn at or before at, and its jurisdictions contain
// jurisdiction (no jurisdictions: every one; an empty jurisdiction asks for
// any). It implements verifier.Accreditations.
func (x *TrustIndex) Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, g := range x.byIssuer[issuer] {
		if g.covers(credentialType, jurisdiction, at) {
			return true
		}
	}
	return false
}

func (g *grant) covers(credentialType, jurisdiction string, at time.Time) bool {
	switch {
	case !slices.Contains(g.st.Types, credentialType),
		at.Before(g.from),
		!g.until.IsZero() && at.After(g.until),
		!g.withdrawn.IsZero() && !at.Before(g.withdrawn):
		return false
	}
	return jurisdiction == "" || len(g.st.Jurisdictions) == 0 || slices.Contains(g.st.Jurisdictions, jurisdiction)
}

// List returns every accreditation (withdrawn ones included), sorted by id.
// The result is the caller's.
func (x *TrustIndex) List() []AccreditationState {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]AccreditationState, 0, len(x.grants))
	for _, g := range x.grants {
		out = append(out, g.st.Clone())
	}
	slices.SortFunc(out, func(a, b AccreditationState) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Get returns the accreditation id (without AccreditationPrefix).
func (x *TrustIndex) Get(id string) (AccreditationState, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	g, ok := x.grants[id]
	if !ok {
		return AccreditationState{}, false
	}
	return g.st.Clone(), true
}
