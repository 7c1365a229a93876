package witness

import (
	"errors"
	"net/http"
	"strconv"
)

// Errors of AddCheckpoint and Add; test with errors.Is. Each maps to one HTTP
// status of tlog-witness's add-checkpoint (see StatusOf).
var (
	// ErrMalformed is a request that does not parse: a bad body, a note that
	// is not a signed note or a checkpoint, or an old size larger than the
	// checkpoint's size (400 Bad Request).
	ErrMalformed = errors.New("witness: malformed request")
	// ErrBadSignature is a checkpoint without a valid signature by a key the
	// witness trusts for its origin, or with an invalid one (403 Forbidden).
	ErrBadSignature = errors.New("witness: checkpoint not signed by the log")
	// ErrUnknownLog is a checkpoint whose origin the witness does not follow
	// (404 Not Found).
	ErrUnknownLog = errors.New("witness: unknown log")
	// ErrConflict is an old size that is not the size of the latest
	// checkpoint the witness cosigned; the error is a *ConflictError
	// (409 Conflict).
	ErrConflict = errors.New("witness: old size does not match the latest cosigned checkpoint")
	// ErrBadProof is a checkpoint the witness cannot show consistent with the
	// one it cosigned: a consistency proof that does not verify, a proof where
	// none is due, a different root at the same size, or a size-0 checkpoint
	// whose root is not the empty tree's (422 Unprocessable Entity).
	ErrBadProof = errors.New("witness: checkpoint not consistent with the latest cosigned checkpoint")
	// ErrNotFound is returned by Store.Latest and Witness.Latest for a log the
	// witness never cosigned.
	ErrNotFound = errors.New("witness: no cosigned checkpoint")
	// ErrNoQuorum is returned by VerifyCosigned when too few known witnesses
	// cosigned the checkpoint.
	ErrNoQuorum = errors.New("witness: not enough cosignatures")
)

// Faults of the log that a Publisher detects (Publisher.Fault). Each is
// raised only on cryptographic proof: a checkpoint signed by the log's own key
// that the log's current tree does not extend, never on a witness's word.
var (
	// ErrRollback is a witness holding a checkpoint signed by the log that is
	// larger than the log's tree: the log lost entries (for example, its
	// store was restored from an older backup).
	ErrRollback = errors.New("witness: the log rolled back")
	// ErrFork is a witness holding a checkpoint signed by the log whose tree
	// is not a prefix of the log's tree: the log signed two different
	// histories.
	ErrFork = errors.New("witness: the log forked")
)

// ConflictError is the 409 answer: Size is the size of the latest checkpoint
// the witness cosigned for the log (0 if none), from which the log must prove
// consistency. errors.Is(err, ErrConflict) holds.
type ConflictError struct {
	Size uint64
}

func (e *ConflictError) Error() string {
	return ErrConflict.Error() + ": the witness is at size " + strconv.FormatUint(e.Size, 10)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// StatusOf returns the tlog-witness HTTP status for an AddCheckpoint error:
// 400, 403, 404, 409 or 422, and 500 for any other error.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrBadSignature):
		return http.StatusForbidden
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrBadProof):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// errorOf is StatusOf's inverse for the client: the sentinel for a status, or
// nil for a status the protocol does not define.
func errorOf(status int) error {
	switch status {
	case http.StatusBadRequest:
		return ErrMalformed
	case http.StatusForbidden:
		return ErrBadSignature
	case http.StatusNotFound:
		return ErrUnknownLog
	case http.StatusUnprocessableEntity:
		return ErrBadProof
	}
	return nil
}
