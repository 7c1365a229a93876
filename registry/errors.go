package registry

import (
	"errors"
	"fmt"
)

// Rule violations. Every rejected op wraps exactly one of these, with a reason.
var (
	ErrMalformed        = errors.New("malformed operation")
	ErrTooLarge         = errors.New("operation too large")
	ErrUnsupportedType  = errors.New("unsupported operation type")
	ErrReplay           = errors.New("operation already on the ledger")
	ErrFork             = errors.New("operation forks the subject's chain")
	ErrSeqGap           = errors.New("operation sequence gap")
	ErrUnknownSubject   = errors.New("unknown subject")
	ErrSubjectExists    = errors.New("subject already exists")
	ErrBadSCID          = errors.New("identifier does not match the create operation")
	ErrBadSignature     = errors.New("signature verification failed")
	ErrUnauthorizedKey  = errors.New("signing key not authorized")
	ErrDeactivated      = errors.New("subject is deactivated")
	ErrTimeNotMonotonic = errors.New("operation time precedes the previous operation")
	ErrTimeInFuture     = errors.New("operation time is in the future")
	ErrPreRotation      = errors.New("update keys do not match the pre-rotation commitment")
	ErrListHash         = errors.New("status list hash does not match the recorded changes")
	// ErrIrreversible: an op clears a set bit of a revocation list.
	ErrIrreversible = errors.New("revocation is not reversible")
)

// Storage errors every Store driver returns.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the subject's head moved since it was read (compare-and-append).
	ErrConflict = errors.New("conflict: subject head changed")
	// ErrReadOnly: the store refuses writes (e.g. its tree is not consistent with
	// the last checkpoint it signed).
	ErrReadOnly = errors.New("store is read-only")
)

// RuleError is a rejected op: Rule is one of the sentinels above, Reason says why.
type RuleError struct {
	Rule   error
	Reason string
}

func (e *RuleError) Error() string { return fmt.Sprintf("%v: %s", e.Rule, e.Reason) }
func (e *RuleError) Unwrap() error { return e.Rule }

func reject(rule error, format string, args ...any) error {
	return &RuleError{Rule: rule, Reason: fmt.Sprintf(format, args...)}
}
