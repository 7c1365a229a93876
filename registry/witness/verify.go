package witness

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/registry/merkle"
)

// VerifyCosigned checks a cosigned checkpoint for verifiers and auditors: it
// must carry a valid signature by the log (merkle.Open with logVerifier, so
// the body parses strictly and its origin is the log key's name) and valid
// cosignatures by at least quorum distinct witnesses among witnesses (see
// NewVerifier). Signatures by other keys are ignored; an invalid signature
// by a known key rejects the whole note, as c2sp.org/signed-note advises.
// Witnesses listed twice count once. Too few cosignatures give an error
// wrapping ErrNoQuorum; other failures wrap merkle.ErrBadCheckpoint.
//
// A quorum of 0 checks the log signature only. A witness verifier with the
// log key's name and key ID is refused: it would count the log's own
// signature as a cosignature.
func VerifyCosigned(signed []byte, logVerifier note.Verifier, witnesses []note.Verifier, quorum int) (merkle.Checkpoint, error) {
	if logVerifier == nil {
		return merkle.Checkpoint{}, errors.New("witness: VerifyCosigned needs the log's verifier")
	}
	if quorum < 0 {
		return merkle.Checkpoint{}, fmt.Errorf("witness: negative quorum %d", quorum)
	}
	known, err := distinct(logVerifier, witnesses)
	if err != nil {
		return merkle.Checkpoint{}, err
	}
	if quorum > len(known) {
		return merkle.Checkpoint{}, fmt.Errorf("%w: quorum %d exceeds the %d known witnesses", ErrNoQuorum, quorum, len(known))
	}
	c, err := merkle.Open(signed, logVerifier)
	if err != nil {
		return merkle.Checkpoint{}, err
	}
	if len(known) == 0 {
		return c, nil
	}
	// note.Open keeps one signature per (name, key ID), so each of n.Sigs is
	// a distinct known witness.
	cosigned := 0
	n, err := note.Open(signed, note.VerifierList(known...))
	var unverified *note.UnverifiedNoteError
	switch {
	case errors.As(err, &unverified):
	case err != nil:
		return merkle.Checkpoint{}, fmt.Errorf("%w: %w", merkle.ErrBadCheckpoint, err)
	default:
		cosigned = len(n.Sigs)
	}
	if cosigned < quorum {
		return merkle.Checkpoint{}, fmt.Errorf("%w: %d of %d required cosignatures", ErrNoQuorum, cosigned, quorum)
	}
	return c, nil
}

// distinct returns the witness verifiers without repeats (same name and key
// ID), refusing nil ones and one that is the log's key.
func distinct(logVerifier note.Verifier, witnesses []note.Verifier) ([]note.Verifier, error) {
	type id struct {
		name string
		hash uint32
	}
	logID := id{logVerifier.Name(), logVerifier.KeyHash()}
	seen := map[id]bool{}
	var out []note.Verifier
	for i, v := range witnesses {
		if v == nil {
			return nil, fmt.Errorf("witness: witness verifier %d is nil", i)
		}
		k := id{v.Name(), v.KeyHash()}
		if k == logID {
			return nil, fmt.Errorf("witness: witness verifier %s+%08x is the log's key", k.name, k.hash)
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, nil
}
