package registry

import (
	"context"
	"errors"
	"fmt"
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
// append, and answers state, history and proof queries.
type Log struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	origin   string
	now      func() time.Time
	skew     time.Duration
	mu       sync.Mutex // serializes checkpoint signing so sizes never go backwards
}

// LogOption configures a Log.
type LogOption func(*Log)

// WithClock replaces the sequencer's clock (tests).
func WithClock(now func() time.Time) LogOption { return func(l *Log) { l.now = now } }

// WithSkew sets the tolerated future skew of op times.
func WithSkew(d time.Duration) LogOption { return func(l *Log) { l.skew = d } }

// NewLog returns the registry service. signer signs checkpoints; its name is the
// log's origin and verifier is its public counterpart.
func NewLog(store Store, signer note.Signer, verifier note.Verifier, opts ...LogOption) *Log {
	l := &Log{store: store, signer: signer, verifier: verifier, origin: signer.Name(), now: time.Now, skew: DefaultSkew}
	for _, o := range opts {
		o(l)
	}
	return l
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
	st, hashes, err := l.replay(ctx, op.Subject, 0)
	if err != nil {
		return Receipt{}, err
	}
	if _, err := Apply(st, op, canonical, priorOf(hashes)); err != nil {
		return Receipt{}, err
	}
	hash := OpHash(canonical)
	idx, err := l.store.Append(ctx, Head{Seq: st.Seq, Hash: st.Hash}, Leaf{Subject: op.Subject, Seq: op.Seq, Hash: hash, Data: canonical})
	if err != nil {
		return Receipt{}, err
	}
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("op %d appended but the checkpoint failed: %w", idx, err)
	}
	return Receipt{Index: idx, Hash: hash, Subject: op.Subject, Seq: op.Seq, Checkpoint: string(cp)}, nil
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

// State replays a subject's chain up to and including seq upTo (0 = all) and
// returns its state; an unknown subject has the zero state.
func (l *Log) State(ctx context.Context, subject string, upTo uint64) (SubjectState, error) {
	st, _, err := l.replay(ctx, subject, upTo)
	return st, err
}

func (l *Log) replay(ctx context.Context, subject string, upTo uint64) (SubjectState, []string, error) {
	ops, err := l.History(ctx, subject)
	if errors.Is(err, ErrNotFound) {
		return SubjectState{}, nil, nil
	}
	if err != nil {
		return SubjectState{}, nil, err
	}
	var st SubjectState
	hashes := make([]string, 0, len(ops))
	for _, so := range ops {
		if upTo != 0 && so.Op.Seq > upTo {
			break
		}
		next, err := Apply(st, so.Op, so.Data, priorOf(hashes))
		if err != nil {
			return SubjectState{}, nil, fmt.Errorf("ledger op %d of %s no longer validates: %w", so.Index, subject, err)
		}
		st = next
		hashes = append(hashes, st.Hash)
	}
	return st, hashes, nil
}

// SignCheckpoint signs a checkpoint for the current tree and saves it; a
// concurrent append may already have saved a larger one, which is then returned.
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
	return signed, l.store.SaveCheckpoint(ctx, size, signed)
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

// Leaf returns the stored leaf at index.
func (l *Log) Leaf(ctx context.Context, index uint64) (Leaf, error) { return l.store.Leaf(ctx, index) }
