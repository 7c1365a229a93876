package status

import (
	"errors"
	"fmt"

	"github.com/credence/credence/vc"
)

// Error sentinels. Those about malformed input wrap vc.ErrMalformed.
var (
	// ErrEncoding: an encodedList is not multibase base64url of GZIP data.
	// It wraps vc.ErrMalformed.
	ErrEncoding = fmt.Errorf("%w: status list encoding", vc.ErrMalformed)
	// ErrListTooShort: a bitstring is shorter than MinBits (or, for an
	// entry with statusSize s, holds fewer than MinBits entries of s bits):
	// the specification's STATUS_LIST_LENGTH_ERROR. It wraps vc.ErrMalformed.
	ErrListTooShort = fmt.Errorf("%w: status list too short", vc.ErrMalformed)
	// ErrListTooLong: a bitstring is longer than MaxBits, the bound this
	// implementation decodes. It wraps vc.ErrMalformed.
	ErrListTooLong = fmt.Errorf("%w: status list too long", vc.ErrMalformed)
	// ErrIndexRange: an index (times the status size) is outside the
	// bitstring: the specification's RANGE_ERROR. It does not wrap
	// vc.ErrMalformed (List.Get with a bad index is a caller's bug);
	// ProblemType maps it.
	ErrIndexRange = errors.New("status: index out of range")
	// ErrMismatch: an entry does not belong to the status list credential it
	// is checked against (list credential id, status purpose or status size
	// differ): the specification's STATUS_VERIFICATION_ERROR.
	ErrMismatch = errors.New("status: entry does not match the status list credential")
	// ErrListFull: an Allocator has handed out every index.
	ErrListFull = errors.New("status: every index of the list is allocated")
)

// ProblemTypeBase prefixes the specification's problem types (RFC 9457).
const ProblemTypeBase = "https://www.w3.org/ns/credentials/status-list#"

// ProblemType is the RFC 9457 problem type the specification (§3.5) gives
// for err: ProblemTypeBase followed by STATUS_LIST_LENGTH_ERROR, RANGE_ERROR,
// STATUS_VERIFICATION_ERROR or MALFORMED_VALUE_ERROR; "" for other errors
// (retrieval and proof failures are the caller's to classify).
func ProblemType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrListTooShort):
		return ProblemTypeBase + "STATUS_LIST_LENGTH_ERROR"
	case errors.Is(err, ErrIndexRange):
		return ProblemTypeBase + "RANGE_ERROR"
	case errors.Is(err, ErrMismatch):
		return ProblemTypeBase + "STATUS_VERIFICATION_ERROR"
	case errors.Is(err, vc.ErrMalformed):
		return ProblemTypeBase + "MALFORMED_VALUE_ERROR"
	}
	return ""
}

// problems collects field errors.
type problems []vc.FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, vc.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

// invalidError is a *vc.InvalidError that also wraps the sentinels of the
// failures behind its fields (ErrListTooShort for a short encodedList), so
// errors.Is finds both.
type invalidError struct {
	*vc.InvalidError
	causes []error
}

func (e *invalidError) Unwrap() []error {
	return append([]error{e.InvalidError}, e.causes...)
}

func (p problems) err(causes ...error) error {
	if len(p) == 0 {
		return nil
	}
	inv := &vc.InvalidError{Fields: p}
	if len(causes) == 0 {
		return inv
	}
	return &invalidError{InvalidError: inv, causes: causes}
}
