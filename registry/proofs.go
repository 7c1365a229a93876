package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/credence/credence/registry/merkle"
)

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
