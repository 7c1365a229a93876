package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry/merkle"
)

// Keys of the Publisher's bucket: the latest checkpoint with at least one
// cosignature, and the latest with at least a quorum.
const (
	keyCosigned  = "cosigned"
	keyWitnessed = "witnessed"
)

// errUnchanged makes kv.Store.Update keep the stored value.
var errUnchanged = errors.New("witness: stored checkpoint unchanged")

// Attach returns signed, a checkpoint note the log serves, with the
// cosignatures stored for the same checkpoint (same body: origin, size and
// root) added; signed unchanged when none are stored for it. A stored note
// that does not verify with the configured witnesses and quorum (after a
// configuration change, or corrupted) adds nothing, with a warning: the
// log's own checkpoint is served all the same. Only a failure to read the
// store is an error.
func (p *Publisher) Attach(ctx context.Context, signed []byte) ([]byte, error) {
	body := noteBody(signed)
	if body == nil {
		return nil, errors.New("witness: Attach: the checkpoint is not a signed note")
	}
	out := signed
	for _, key := range []string{keyWitnessed, keyCosigned} {
		stored, err := p.load(ctx, key)
		var bad *storedError
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case errors.As(err, &bad):
			p.log.WarnContext(ctx, "witness: a stored checkpoint does not verify; serving the checkpoint without it", "key", key, "error", err)
			continue
		case err != nil:
			return nil, err
		}
		if bytes.Equal(noteBody(stored), body) {
			out = p.merge(out, stored)
		}
	}
	return out, nil
}

// Witnessed returns the latest checkpoint cosigned by at least a quorum of
// the targets, verified again (VerifyCosigned) as read; an error wrapping
// ErrNotFound before the first, and while the stored one has fewer
// cosignatures than the configured quorum by the configured witnesses (as
// after a change of witnesses or quorum, until a round reaches it). A
// stored note with a bad signature is an error.
func (p *Publisher) Witnessed(ctx context.Context) ([]byte, error) {
	return p.load(ctx, keyWitnessed)
}

// load reads and verifies a stored note. A note with too few cosignatures
// by the configured witnesses is ErrNotFound; one that does not verify
// otherwise, a *storedError.
func (p *Publisher) load(ctx context.Context, key string) ([]byte, error) {
	v, err := p.store.Get(ctx, p.bucket, key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: no %s checkpoint stored yet", ErrNotFound, key)
	}
	if err != nil {
		return nil, fmt.Errorf("witness: reading the %s checkpoint: %w", key, err)
	}
	if _, err := p.verifyStored(v, p.least(key)); err != nil {
		if errors.Is(err, ErrNoQuorum) {
			return nil, fmt.Errorf("%w: the stored %s checkpoint lacks cosignatures by the configured witnesses: %w", ErrNotFound, key, err)
		}
		return nil, &storedError{key: key, err: err}
	}
	return v, nil
}

// storedError is a stored note that does not verify.
type storedError struct {
	key string
	err error
}

func (e *storedError) Error() string {
	return fmt.Sprintf("witness: the stored %s checkpoint: %v", e.key, e.err)
}

func (e *storedError) Unwrap() error { return e.err }

// least is the number of cosignatures a note stored under key must carry.
func (p *Publisher) least(key string) int {
	if key == keyWitnessed {
		return p.quorum
	}
	return 1
}

// verifyStored checks a stored note: the log's signature and at least least
// valid cosignatures by targets, with none invalid.
func (p *Publisher) verifyStored(v []byte, least int) (merkle.Checkpoint, error) {
	return VerifyCosigned(v, p.src.Verifier(), p.wits, least)
}

// save stores a round's note under "cosigned" if a target cosigned it, and
// under "witnessed" if a quorum did.
func (p *Publisher) save(ctx context.Context, r Round, c merkle.Checkpoint) error {
	if len(r.Cosigned) == 0 {
		return nil
	}
	if err := p.keep(ctx, keyCosigned, r.Note, c); err != nil {
		return err
	}
	if r.Witnessed {
		return p.keep(ctx, keyWitnessed, r.Note, c)
	}
	return nil
}

// keep replaces the note under key with signed (checkpoint c) if c is
// larger, or merges their cosignatures if it is the same checkpoint, in one
// kv.Store.Update: concurrent replicas never move the stored note backwards.
// A stored note that does not verify is replaced, with a warning, unless
// the log signed it for a larger tree (as a replica with other witnesses or
// another quorum stores): that is not moved backwards either.
func (p *Publisher) keep(ctx context.Context, key string, signed []byte, c merkle.Checkpoint) error {
	err := p.store.Update(ctx, p.bucket, key, func(old []byte) ([]byte, error) {
		if old == nil {
			return signed, nil
		}
		oc, err := p.verifyStored(old, p.least(key))
		switch {
		case err != nil:
			if lc, lerr := merkle.Open(old, p.src.Verifier()); lerr == nil && lc.Size > c.Size {
				return nil, errUnchanged
			}
			p.log.WarnContext(ctx, "witness: replacing a stored checkpoint that does not verify", "key", key, "error", err)
			return signed, nil
		case c.Size > oc.Size:
			return signed, nil
		case c.Size < oc.Size:
			return nil, errUnchanged
		case !bytes.Equal(noteBody(old), noteBody(signed)):
			p.log.ErrorContext(ctx, "witness: the log signed two checkpoints of the same size with different roots",
				"size", c.Size, "stored", string(noteBody(old)), "new", string(noteBody(signed)))
			return nil, errUnchanged
		}
		merged := p.merge(old, signed)
		if bytes.Equal(merged, old) {
			return nil, errUnchanged
		}
		return merged, nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("witness: storing the %s checkpoint: %w", key, err)
	}
	return nil
}

// merge returns dst with every target's valid cosignature in src added,
// replacing dst's own by that target. dst and src must have the same body.
func (p *Publisher) merge(dst, src []byte) []byte {
	for _, v := range p.wits {
		n, err := note.Open(src, note.VerifierList(v))
		if err != nil {
			continue
		}
		for _, s := range n.Sigs {
			if out, err := AppendCosignatures(dst, []byte("— "+s.Name+" "+s.Base64+"\n"), v); err == nil {
				dst = out
			}
		}
	}
	return dst
}

// noteBody is the text of a signed note up to its blank line, or nil.
func noteBody(signed []byte) []byte {
	i := bytes.LastIndex(signed, []byte("\n\n"))
	if i < 0 {
		return nil
	}
	return signed[:i+1]
}
