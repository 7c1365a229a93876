package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

func priorOf(hashes []string) Prior {
	return func(seq uint64) (string, bool) {
		if seq == 0 || seq > uint64(len(hashes)) {
			return "", false
		}
		return hashes[seq-1], true
	}
}

// SubjectOp is one op of a subject's chain with its log index.
type SubjectOp struct {
	Index uint64 `json:"index"`
	Op    *Op    `json:"op"`
	Data  []byte `json:"-"`
}

// History returns a subject's ops in order (ErrNotFound when it has none).
func (l *Log) History(ctx context.Context, subject string) ([]SubjectOp, error) {
	idx, err := l.store.History(ctx, subject)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, ErrNotFound
	}
	out := make([]SubjectOp, 0, len(idx))
	for _, i := range idx {
		leaf, err := l.store.Leaf(ctx, i)
		if err != nil {
			return nil, err
		}
		op, _, err := Decode(leaf.Data)
		if err != nil {
			return nil, fmt.Errorf("stored op %d does not decode: %w", i, err)
		}
		out = append(out, SubjectOp{Index: i, Op: op, Data: leaf.Data})
	}
	return out, nil
}

// State returns a subject's state after its ops up to and including seq upTo
// (0 = all); an unknown subject has the zero state. The latest state (upTo 0)
// comes from the cache when the store's head of the subject still matches it;
// a version replays the chain. The result is the caller's to modify.
func (l *Log) State(ctx context.Context, subject string, upTo uint64) (SubjectState, error) {
	if upTo == 0 {
		c, err := l.current(ctx, subject)
		if err != nil {
			return SubjectState{}, err
		}
		return c.st.Clone(), nil
	}
	c, err := l.replay(ctx, subject, upTo)
	if err != nil {
		return SubjectState{}, err
	}
	return c.st, nil
}

// StatusList returns the current state of a status list (its bits in
// StatusList.Bits), or ErrNotFound when subject has no ops or is not a status
// list. It is State(ctx, subject, 0) with that check.
func (l *Log) StatusList(ctx context.Context, subject string) (SubjectState, error) {
	c, err := l.current(ctx, subject)
	if err != nil {
		return SubjectState{}, err
	}
	if c.st.Seq == 0 || c.st.StatusList == nil {
		return SubjectState{}, fmt.Errorf("%w: %s is not a status list on the ledger", ErrNotFound, subject)
	}
	return c.st.Clone(), nil
}

// errStale says a cached chain does not fit the store: replay from scratch.
var errStale = errors.New("cached chain does not fit the store")

// current returns the subject's chain as the store has it now (the zero chain
// for an unknown subject), from the cache when the store's head still matches
// it, catching up on ops appended by others, else by a full replay.
func (l *Log) current(ctx context.Context, subject string) (*chain, error) {
	head, err := l.store.Head(ctx, subject)
	if err != nil {
		return nil, err
	}
	if head == (Head{}) {
		l.cache.drop(subject)
		return &chain{}, nil
	}
	cached := l.cache.get(subject)
	if cached != nil {
		switch {
		case cached.head() == head:
			return cached, nil
		case cached.st.Seq < head.Seq:
			n, err := l.catchUp(ctx, subject, cached)
			if err == nil {
				l.cache.put(subject, n)
				return n, nil
			}
			if !errors.Is(err, errStale) {
				return nil, err
			}
		}
	}
	c, err := l.replay(ctx, subject, 0)
	if err != nil {
		return nil, err
	}
	l.cache.replace(subject, cached, c)
	return c, nil
}

// catchUp applies to c the subject's ops that the store has beyond it
// (errStale when c is not a prefix of the store's chain, or they do not apply).
func (l *Log) catchUp(ctx context.Context, subject string, c *chain) (*chain, error) {
	idx, err := l.store.History(ctx, subject)
	if err != nil {
		return nil, err
	}
	if uint64(len(idx)) <= c.st.Seq || idx[c.st.Seq-1] != c.last {
		return nil, errStale
	}
	n := &chain{st: c.st, hashes: slices.Clone(c.hashes), last: c.last}
	ctrl := l.controllers(ctx)
	for _, i := range idx[c.st.Seq:] {
		leaf, err := l.store.Leaf(ctx, i)
		if err != nil {
			return nil, err
		}
		op, _, err := Decode(leaf.Data)
		if err != nil || op.Subject != subject || op.Seq != n.st.Seq+1 {
			return nil, errStale
		}
		next, err := ApplyEnv(n.st, op, leaf.Data, Env{Prior: priorOf(n.hashes), Controller: ctrl(i), Stewards: l.replayStewards()})
		if err != nil {
			if _, ok := errors.AsType[*RuleError](err); ok {
				return nil, errStale // a full replay says which op and why
			}
			return nil, err
		}
		n.st, n.last = next, i
		n.hashes = append(n.hashes, next.Hash)
	}
	return n, nil
}

// replay replays a subject's chain up to and including seq upTo (0 = all).
func (l *Log) replay(ctx context.Context, subject string, upTo uint64) (*chain, error) {
	ops, err := l.History(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return &chain{}, nil
	}
	if err != nil {
		return nil, err
	}
	c := &chain{hashes: make([]string, 0, len(ops))}
	ctrl := l.controllers(ctx)
	for _, so := range ops {
		if upTo != 0 && so.Op.Seq > upTo {
			break
		}
		next, err := ApplyEnv(c.st, so.Op, so.Data, Env{Prior: priorOf(c.hashes), Controller: ctrl(so.Index), Stewards: l.replayStewards()})
		if err != nil {
			return nil, fmt.Errorf("ledger op %d of %s no longer validates: %w", so.Index, subject, err)
		}
		c.st, c.last = next, so.Index
		c.hashes = append(c.hashes, next.Hash)
	}
	return c, nil
}

// controllers returns, for a log index, the Controller of Env that gives a
// DID's state as of that index (its ops with smaller indexes). Each DID's
// chain is replayed once (on first use) into a timeline of its states.
func (l *Log) controllers(ctx context.Context) func(index uint64) func(did string) (SubjectState, error) {
	timelines := map[string]*timeline{}
	return func(index uint64) func(did string) (SubjectState, error) {
		return func(did string) (SubjectState, error) {
			t, ok := timelines[did]
			if !ok {
				var err error
				if t, err = l.timeline(ctx, did); err != nil {
					return SubjectState{}, err
				}
				timelines[did] = t
			}
			return t.asOf(index), nil
		}
	}
}

// timeline is a DID's states in log order: states[i] is its state after its
// op at log index idx[i].
type timeline struct {
	idx    []uint64
	states []SubjectState
}

// asOf is the state after the ops with index < index (zero when none).
func (t *timeline) asOf(index uint64) SubjectState {
	i, _ := slices.BinarySearch(t.idx, index) // first i with idx[i] >= index
	if i == 0 {
		return SubjectState{}
	}
	return t.states[i-1]
}

// timeline replays a DID's chain, keeping every state. A DID's ops need no
// controller.
func (l *Log) timeline(ctx context.Context, did string) (*timeline, error) {
	ops, err := l.History(ctx, did)
	if errors.Is(err, ErrNotFound) {
		return &timeline{}, nil
	}
	if err != nil {
		return nil, err
	}
	t := &timeline{idx: make([]uint64, 0, len(ops)), states: make([]SubjectState, 0, len(ops))}
	var st SubjectState
	hashes := make([]string, 0, len(ops))
	for _, so := range ops {
		if len(t.idx) > 0 && so.Index <= t.idx[len(t.idx)-1] {
			return nil, fmt.Errorf("ledger history of %s is out of index order at leaf %d", did, so.Index)
		}
		if st, err = Apply(st, so.Op, so.Data, priorOf(hashes)); err != nil {
			return nil, fmt.Errorf("ledger op %d of %s no longer validates: %w", so.Index, did, err)
		}
		hashes = append(hashes, st.Hash)
		t.idx = append(t.idx, so.Index)
		t.states = append(t.states, st)
	}
	return t, nil
}
