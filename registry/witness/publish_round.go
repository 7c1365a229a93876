package witness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry/merkle"
)

// Round is the outcome of one Publish.
type Round struct {
	// Size is the published checkpoint's size.
	Size uint64
	// Note is the checkpoint with every cosignature this round collected.
	Note []byte
	// Cosigned names the targets that cosigned it, in target order.
	Cosigned []string
	// Failed maps the name of each target that did not cosign to why.
	Failed map[string]error
	// Witnessed is len(Cosigned) >= the quorum.
	Witnessed bool
}

// errRace is a witness ahead of the round's checkpoint because the log grew
// meanwhile (another replica published a larger one): Run goes again at once.
var errRace = errors.New("witness: the witness is ahead of this round's checkpoint, and so is the log")

// Publish runs one round: it sends the log's latest checkpoint to every
// target concurrently, each with a consistency proof from the size that
// target last cosigned, merges the cosignatures into one note and stores it
// (see Attach and Witnessed). A target's failure is in Round.Failed, not in
// the error, which is for a checkpoint that cannot be read or a store that
// cannot be written.
func (p *Publisher) Publish(ctx context.Context) (Round, error) {
	r, _, err := p.round(ctx)
	return r, err
}

// round is Publish, also reporting whether a target was behind a log that
// grew during the round, so that Run goes again at once.
func (p *Publisher) round(ctx context.Context) (Round, bool, error) {
	signed, c, err := p.current(ctx)
	if err != nil {
		return Round{}, false, err
	}
	lines := make([][]byte, len(p.targets))
	errs := make([]error, len(p.targets))
	var wg sync.WaitGroup
	for i, t := range p.targets {
		wg.Go(func() { lines[i], errs[i] = p.push(ctx, t, c, signed) })
	}
	wg.Wait()

	r := Round{Size: c.Size, Note: signed, Failed: map[string]error{}}
	again := false
	for i, t := range p.targets {
		if errs[i] == nil {
			if r.Note, errs[i] = AppendCosignatures(r.Note, lines[i], t.Verifier); errs[i] == nil {
				r.Cosigned = append(r.Cosigned, t.name)
			}
		}
		p.record(ctx, t, c, errs[i])
		if errs[i] != nil {
			r.Failed[t.name] = errs[i]
			again = again || errors.Is(errs[i], errRace)
		}
	}
	r.Witnessed = len(r.Cosigned) >= p.quorum
	return r, again, errors.Join(p.remember(ctx, c.Size, errs), p.save(ctx, r, c))
}

// current reads the log's latest checkpoint and verifies it with the log's key.
func (p *Publisher) current(ctx context.Context) ([]byte, merkle.Checkpoint, error) {
	signed, err := p.src.Checkpoint(ctx)
	if err != nil {
		return nil, merkle.Checkpoint{}, fmt.Errorf("witness: reading the log's checkpoint: %w", err)
	}
	c, err := merkle.Open(signed, p.src.Verifier())
	if err != nil {
		return nil, merkle.Checkpoint{}, fmt.Errorf("witness: the log's own checkpoint: %w", err)
	}
	return signed, c, nil
}

// push brings target t to the checkpoint c (signed): its cosignature lines
// (unverified), or why not. A 409 from a size up to c's is retried once with
// a proof from that size; a witness ahead of the log or refusing the proof is
// examined (ahead, diagnose) for a fault.
func (p *Publisher) push(ctx context.Context, t *target, c merkle.Checkpoint, signed []byte) ([]byte, error) {
	t.busy.Lock()
	defer t.busy.Unlock()
	old := p.sizeOf(t)
	if old > c.Size {
		old = 0 // stale (or the witness lost its state): let it tell its size
	}
	for range 2 {
		proof, err := p.proof(ctx, old, c.Size)
		if err != nil {
			return nil, err
		}
		lines, err := Add(ctx, p.client, t.URL, old, proof, signed)
		var conflict *ConflictError
		switch {
		case err == nil:
			p.setSize(t, c.Size)
			return lines, nil
		case errors.As(err, &conflict):
			p.setSize(t, conflict.Size)
			if conflict.Size > c.Size {
				return nil, p.ahead(ctx, t, conflict.Size)
			}
			old = conflict.Size
		case errors.Is(err, ErrBadProof):
			return nil, p.diagnose(ctx, t, c, err)
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("witness: %s still answers 409 after a retry (another replica is publishing)", t.name)
}

// proof is the consistency proof from the witness's size old to size: none
// from 0 or to the same size.
func (p *Publisher) proof(ctx context.Context, old, size uint64) ([]tlog.Hash, error) {
	if old == 0 || old >= size {
		return nil, nil
	}
	pr, err := p.src.ProveConsistency(ctx, old, size)
	if err != nil {
		return nil, fmt.Errorf("witness: proving consistency %d -> %d: %w", old, size, err)
	}
	return pr.Hashes, nil
}

func (p *Publisher) sizeOf(t *target) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return t.size
}

func (p *Publisher) setSize(t *target, size uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t.size = size
}

// record notes a target's outcome for checkpoint c and logs a failure: a
// cosignature clears its fault, a fault sets it.
func (p *Publisher) record(ctx context.Context, t *target, c merkle.Checkpoint, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var fault *faultError
	switch {
	case err == nil:
		if t.fault != nil {
			p.log.InfoContext(ctx, "witness: the target cosigns the log again; its fault is cleared",
				"witness", t.name, "size", c.Size, "fault", t.fault)
		}
		t.lastSuccess, t.lastError, t.fault = time.Now(), "", nil
		return
	case errors.As(err, &fault):
		t.fault = fault
		p.log.ErrorContext(ctx, fault.Error(), "witness", t.name, "url", t.URL, "size", c.Size)
	case errors.Is(err, errRace):
		p.log.InfoContext(ctx, "witness: the log grew during the round; publishing again", "witness", t.name, "error", err)
	default:
		p.log.WarnContext(ctx, "witness: the target did not cosign the checkpoint",
			"witness", t.name, "url", t.URL, "size", c.Size, "error", err)
	}
	t.lastError = err.Error()
}
