package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/credence/credence/registry/merkle"
	"golang.org/x/mod/sumdb/note"
)

// DefaultSkew is how far in the future an op's time may be, against the
// sequencer's clock.
const DefaultSkew = 5 * time.Minute

// Log is the registry service over a Store: it validates submitted ops with the
// rules, appends them with compare-and-append, signs a checkpoint after every
// append, answers state, history and proof queries, and reports appends to
// subscribers (Subscribe).
//
// It keeps a bounded cache of subjects' replayed chains, so that an op on a
// subject with a long history (a status list with thousands of updates) costs
// one head read instead of a replay: the cache is checked against the store's
// head of the subject before every use, and ops another process appended
// meanwhile are applied on top of it (a full replay when anything does not
// fit).
type Log struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	origin   string
	now      func() time.Time
	skew     time.Duration
	mu       sync.Mutex // serializes checkpoint signing so sizes never go backwards

	cacheEntries int
	cacheBytes   int64
	cache        *stateCache
	eventBuffer  int
	events       *eventHub
	docs         docCache // decoded latest DID documents (DIDMethod.Current)

	// stewards may sign new trust ops; retired stewards only validate the
	// trust ops already on the ledger (replays).
	stewards, retired []string

	// gate, when set, is asked before every append; an error refuses it.
	gate func() error
	// cosigs, when set, gives proof bundles their witnesses' cosignatures.
	cosigs Cosignatures
}

// LogOption configures a Log.
type LogOption func(*Log)

// WithClock replaces the sequencer's clock (tests).
func WithClock(now func() time.Time) LogOption { return func(l *Log) { l.now = now } }

// WithSkew sets the tolerated future skew of op times.
func WithSkew(d time.Duration) LogOption { return func(l *Log) { l.skew = d } }

// WithStateCache bounds the cache of subjects' states: at most entries subjects
// and about maxBytes of memory (status list bitstrings dominate). entries <= 0
// turns the cache off. The default is DefaultStateCacheEntries and
// DefaultStateCacheBytes.
func WithStateCache(entries int, maxBytes int64) LogOption {
	return func(l *Log) { l.cacheEntries, l.cacheBytes = entries, maxBytes }
}

// WithEventBuffer sets how many events Subscribe queues for a subscriber before
// it replaces them with a Reset (DefaultEventBuffer by default).
func WithEventBuffer(n int) LogOption { return func(l *Log) { l.eventBuffer = n } }

// WithStewards sets the registry's governance: the steward Multikeys that may
// sign trust ops (see trust.go). Without stewards every trust op is rejected.
// The keys are not checked here: configuration runs CheckStewards.
func WithStewards(keys ...string) LogOption {
	return func(l *Log) { l.stewards = slices.Clone(keys) }
}

// WithRetiredStewards names former steward keys: they sign no new trust op,
// but the trust ops they signed while they were stewards keep validating when
// the Log replays them. Retire a steward key this way instead of dropping it,
// or the accreditations it signed no longer load.
func WithRetiredStewards(keys ...string) LogOption {
	return func(l *Log) { l.retired = slices.Clone(keys) }
}

// WithWriteGate makes every append ask gate first: while gate returns an
// error, Submit refuses ops with an error wrapping ErrReadOnly and that
// error's text, and nothing is appended (reads keep working). The server uses
// it to stop writing when a witness proves the log rolled back or forked.
func WithWriteGate(gate func() error) LogOption { return func(l *Log) { l.gate = gate } }

// Cosignatures is what a Log needs of the witnesses of its checkpoints
// (witness.Publisher) to put their cosignatures in proof bundles.
type Cosignatures interface {
	// Attach returns signed with the cosignatures collected for it.
	Attach(ctx context.Context, signed []byte) ([]byte, error)
	// Witnessed returns the latest checkpoint a quorum of witnesses cosigned.
	Witnessed(ctx context.Context) ([]byte, error)
}

// WithCosignatures makes Bundle prove ops against the latest checkpoint a
// quorum of witnesses cosigned, cosignatures included, when that checkpoint
// covers them, and otherwise against the latest checkpoint with the
// cosignatures collected for it so far. A failure of c leaves the bundle on
// the log's own signature (it stays valid; a verifier that requires
// cosignatures refuses it).
func WithCosignatures(c Cosignatures) LogOption { return func(l *Log) { l.cosigs = c } }

// NewLog returns the registry service. signer signs checkpoints; its name is the
// log's origin and verifier is its public counterpart.
func NewLog(store Store, signer note.Signer, verifier note.Verifier, opts ...LogOption) *Log {
	l := &Log{store: store, signer: signer, verifier: verifier, origin: signer.Name(), now: time.Now, skew: DefaultSkew,
		cacheEntries: DefaultStateCacheEntries, cacheBytes: DefaultStateCacheBytes}
	for _, o := range opts {
		o(l)
	}
	l.cache = newStateCache(l.cacheEntries, l.cacheBytes)
	l.events = newEventHub(store, l.eventBuffer)
	return l
}

// Governance is the registry's steward keys.
type Governance struct {
	// Stewards may sign trust ops.
	Stewards []string `json:"stewards"`
	// Retired stewards signed trust ops on the ledger but may sign no more.
	Retired []string `json:"retiredStewards"`
}

// Governance returns the steward keys the Log was configured with.
func (l *Log) Governance() Governance {
	return Governance{Stewards: nonNil(l.stewards), Retired: nonNil(l.retired)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// replayStewards are the keys that validate trust ops already on the ledger.
func (l *Log) replayStewards() []string {
	if len(l.retired) == 0 {
		return l.stewards
	}
	return append(slices.Clone(l.stewards), l.retired...)
}

// Origin is the log's checkpoint origin (its key name).
func (l *Log) Origin() string { return l.origin }

// Verifier is the checkpoint verifier clients use.
func (l *Log) Verifier() note.Verifier { return l.verifier }

// Receipt says where an accepted op landed and carries the checkpoint that
// includes it.
type Receipt struct {
	Index      uint64 `json:"index"`
	Hash       string `json:"hash"`
	Subject    string `json:"subject"`
	Seq        uint64 `json:"seq"`
	Checkpoint string `json:"checkpoint"`
}

// Submit validates and appends one encoded op. Rule violations are *RuleError.
func (l *Log) Submit(ctx context.Context, raw []byte) (Receipt, error) {
	op, canonical, err := Decode(raw)
	if err != nil {
		return Receipt{}, err
	}
	if err := CheckTime(op, l.now(), l.skew); err != nil {
		return Receipt{}, err
	}
	for attempt := 0; ; attempt++ {
		rec, err := l.append(ctx, op, canonical)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue // the subject moved between read and append: revalidate
		}
		return rec, err
	}
}

func (l *Log) append(ctx context.Context, op *Op, canonical []byte) (Receipt, error) {
	c, err := l.current(ctx, op.Subject)
	if err != nil {
		return Receipt{}, err
	}
	env := Env{Prior: priorOf(c.hashes), Stewards: l.stewards}
	var guards []Guard
	if isStatusOp(op.Type) {
		// The issuer's current state, whose head then guards the append: the op
		// lands where that state holds (see GuardedAppender).
		env.Controller = func(did string) (SubjectState, error) {
			ic, err := l.current(ctx, did)
			if err != nil {
				return SubjectState{}, err
			}
			guards = append(guards, Guard{Subject: did, Head: ic.head()})
			return ic.st, nil
		}
	}
	next, err := ApplyEnv(c.st, op, canonical, env)
	if err != nil {
		return Receipt{}, err
	}
	hash := OpHash(canonical)
	leaf := Leaf{Subject: op.Subject, Seq: op.Seq, Hash: hash, Data: canonical}
	idx, err := l.appendLeaf(ctx, c.head(), guards, leaf, op.Type)
	if err != nil {
		return Receipt{}, err
	}
	l.cache.advance(op.Subject, c, next, idx)
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("op %d appended but the checkpoint failed: %w", idx, err)
	}
	return Receipt{Index: idx, Hash: hash, Subject: op.Subject, Seq: op.Seq, Checkpoint: string(cp)}, nil
}

// appendLeaf appends with the store's compare-and-append (guarded when there
// are guards and the store can) and, when the store reports no events itself,
// publishes the append's event.
func (l *Log) appendLeaf(ctx context.Context, want Head, guards []Guard, leaf Leaf, typ OpType) (uint64, error) {
	if l.gate != nil {
		if err := l.gate(); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrReadOnly, err)
		}
	}
	do := func() (uint64, error) {
		if ga, ok := l.store.(GuardedAppender); ok && len(guards) > 0 {
			return ga.AppendGuarded(ctx, want, guards, leaf)
		}
		return l.store.Append(ctx, want, leaf)
	}
	if l.events.src != nil {
		return do()
	}
	l.events.appendMu.Lock()
	defer l.events.appendMu.Unlock()
	idx, err := do()
	if err == nil {
		l.events.bus.Publish(Event{Index: idx, Subject: leaf.Subject, Seq: leaf.Seq, Type: typ, Hash: leaf.Hash})
	}
	return idx, err
}

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

// SignCheckpoint signs a checkpoint for the current tree and saves it; a
// concurrent append (through this Log or another on the same store) may
// already have saved a larger one, which is then returned.
func (l *Log) SignCheckpoint(ctx context.Context) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	size, err := l.store.Size(ctx)
	if err != nil {
		return nil, err
	}
	if saved, signed, err := l.store.Checkpoint(ctx); err == nil && saved >= size {
		return signed, nil
	}
	root, err := merkle.TreeRoot(HashReader(ctx, l.store), size)
	if err != nil {
		return nil, err
	}
	signed, err := merkle.Sign(merkle.Checkpoint{Origin: l.origin, Size: size, Root: root}, l.signer)
	if err != nil {
		return nil, err
	}
	if err := l.store.SaveCheckpoint(ctx, size, signed); err != nil {
		// Another Log on the store (another process) may have saved a larger
		// one since we read the size: that one covers ours.
		if saved, cp, err2 := l.store.Checkpoint(ctx); err2 == nil && saved >= size {
			return cp, nil
		}
		return nil, err
	}
	return signed, nil
}

// Checkpoint returns the latest signed checkpoint, signing one for an empty log.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	_, signed, err := l.store.Checkpoint(ctx)
	if errors.Is(err, ErrNotFound) {
		return l.SignCheckpoint(ctx)
	}
	return signed, err
}

// ProveInclusion proves leaf index is in the tree of the given size.
func (l *Log) ProveInclusion(ctx context.Context, index, size uint64) (merkle.InclusionProof, error) {
	if err := l.inRange(ctx, size); err != nil {
		return merkle.InclusionProof{}, err
	}
	return merkle.ProveInclusion(HashReader(ctx, l.store), index, size)
}

// ProveConsistency proves the tree of size from is a prefix of the tree of size to.
func (l *Log) ProveConsistency(ctx context.Context, from, to uint64) (merkle.ConsistencyProof, error) {
	if err := l.inRange(ctx, to); err != nil {
		return merkle.ConsistencyProof{}, err
	}
	return merkle.ProveConsistency(HashReader(ctx, l.store), from, to)
}

func (l *Log) inRange(ctx context.Context, size uint64) error {
	n, err := l.store.Size(ctx)
	if err != nil {
		return err
	}
	if size > n {
		return fmt.Errorf("%w: size %d exceeds the log size %d", merkle.ErrOutOfRange, size, n)
	}
	return nil
}

// Size is the number of leaves in the log.
func (l *Log) Size(ctx context.Context) (uint64, error) { return l.store.Size(ctx) }

// Subjects calls fn for every subject on the ledger whose name starts with
// prefix, in byte order, stopping at fn's first error, which it returns. The
// store must be a SubjectLister (both drivers are); otherwise the error wraps
// errors.ErrUnsupported.
func (l *Log) Subjects(ctx context.Context, prefix string, fn func(subject string) error) error {
	sl, ok := l.store.(SubjectLister)
	if !ok {
		return fmt.Errorf("%w: the registry store %T cannot list subjects", errors.ErrUnsupported, l.store)
	}
	return sl.Subjects(ctx, prefix, fn)
}

// Leaf returns the stored leaf at index.
func (l *Log) Leaf(ctx context.Context, index uint64) (Leaf, error) { return l.store.Leaf(ctx, index) }
