package witness

import (
	"context"
	"errors"
	"fmt"

	"github.com/credence/credence/registry/merkle"
)

// faultError is proof that the log is inconsistent; it wraps ErrRollback or
// ErrFork. Only compare makes one, from a checkpoint signed by the log's key,
// so no error a witness returns can pass for a fault.
type faultError struct{ err error }

func (e *faultError) Error() string { return e.err.Error() }
func (e *faultError) Unwrap() error { return e.err }

func rollback(name string, w, c merkle.Checkpoint) *faultError {
	return &faultError{fmt.Errorf("%w: witness %s holds a checkpoint of size %d signed by the log, the log has %d",
		ErrRollback, name, w.Size, c.Size)}
}

func fork(name string, w, c merkle.Checkpoint, why string) *faultError {
	return &faultError{fmt.Errorf("%w: witness %s holds a checkpoint of size %d signed by the log that the log's tree (checkpoint size %d) does not extend: %s",
		ErrFork, name, w.Size, c.Size, why)}
}

// ahead handles a witness answering 409 with a size beyond the round's
// checkpoint. If the log has grown to that size meanwhile, it is a race
// (errRace); otherwise the witness's checkpoint is examined (diagnose).
func (p *Publisher) ahead(ctx context.Context, t *target, size uint64) error {
	_, c, err := p.current(ctx)
	if err != nil {
		return err
	}
	if c.Size >= size {
		return fmt.Errorf("%w: witness %s is at size %d, the log now at %d", errRace, t.name, size, c.Size)
	}
	return p.diagnose(ctx, t, c, fmt.Errorf("it claims size %d, the log has %d", size, c.Size))
}

// diagnose examines the checkpoint a witness serves after it refused the
// log's checkpoint c with claim: a fault if it is signed by the log and the
// log's tree does not extend it, else an error saying the witness is lying or
// broken.
func (p *Publisher) diagnose(ctx context.Context, t *target, c merkle.Checkpoint, claim error) error {
	signed, err := Latest(ctx, p.client, t.URL, c.Origin)
	if err != nil {
		return fmt.Errorf("%w; its checkpoint could not be fetched: %w", claim, err)
	}
	w, err := merkle.Open(signed, p.src.Verifier())
	if err != nil {
		return fmt.Errorf("witness %s is lying or broken: %w; the checkpoint it serves is not signed by the log: %w", t.name, claim, err)
	}
	fault, err := p.compare(ctx, t.name, w, c)
	switch {
	case err != nil:
		return fmt.Errorf("%w; checking its checkpoint of size %d: %w", claim, w.Size, err)
	case fault != nil:
		return fault
	}
	if w.Size > c.Size {
		return fmt.Errorf("%w, but the log's tree extends the checkpoint of size %d the witness serves: the log's checkpoint lags behind its tree", claim, w.Size)
	}
	return fmt.Errorf("witness %s is lying or broken: %w; the checkpoint of size %d it serves is consistent with the log's", t.name, claim, w.Size)
}

// compare checks a checkpoint w signed by the log against the log's current
// tree, whose checkpoint is c: a fault if the tree does not extend w, nil if
// it does, an error if that cannot be told.
func (p *Publisher) compare(ctx context.Context, name string, w, c merkle.Checkpoint) (*faultError, error) {
	switch {
	case w.Size > c.Size:
		return p.probe(ctx, name, w, c)
	case w.Size == c.Size:
		if w.Root != c.Root {
			return fork(name, w, c, "the same size with another root"), nil
		}
		return nil, nil
	case w.Size == 0:
		if w.Root != emptyRoot {
			return fork(name, w, c, "size 0 with a root that is not the empty tree's"), nil
		}
		return nil, nil
	}
	proof, err := p.src.ProveConsistency(ctx, w.Size, c.Size)
	if err != nil {
		return nil, fmt.Errorf("proving consistency %d -> %d: %w", w.Size, c.Size, err)
	}
	if err := merkle.VerifyCheckpointConsistency(w, c, proof); err != nil {
		return fork(name, w, c, err.Error()), nil
	}
	return nil, nil
}

// probe checks a checkpoint w signed by the log, larger than the log's
// checkpoint c, against the log's tree: a rollback if the tree is smaller
// than w, a fork if its first w.Size leaves are not w's, nil if the tree
// extends w (the log's checkpoint merely lags behind its tree).
func (p *Publisher) probe(ctx context.Context, name string, w, c merkle.Checkpoint) (*faultError, error) {
	from := c.Size
	if from == 0 {
		from = w.Size // no proof from size 0: only ask whether the tree holds w.Size leaves
	}
	proof, err := p.src.ProveConsistency(ctx, from, w.Size)
	switch {
	case errors.Is(err, merkle.ErrOutOfRange) && p.confirmSmaller(ctx, w.Size):
		return rollback(name, w, c), nil
	case err != nil:
		return nil, fmt.Errorf("proving consistency %d -> %d: %w", from, w.Size, err)
	case c.Size == 0:
		return nil, nil
	}
	if err := merkle.VerifyCheckpointConsistency(c, w, proof); err != nil {
		return fork(name, w, c, err.Error()), nil
	}
	return nil, nil
}

// sizer is a Source that also reports its tree's size, as *registry.Log does.
type sizer interface {
	Size(ctx context.Context) (uint64, error)
}

// confirmSmaller double-checks a proof refused with merkle.ErrOutOfRange:
// merkle also reports a failed hash read that way, which must not pass for a
// rollback. A Source without a Size method is taken at its word.
func (p *Publisher) confirmSmaller(ctx context.Context, size uint64) bool {
	s, ok := p.src.(sizer)
	if !ok {
		return true
	}
	n, err := s.Size(ctx)
	return err == nil && n < size
}
