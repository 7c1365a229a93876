package vc

import (
	"errors"
	"fmt"
)

// Error sentinels. Securing mechanisms wrap exactly one of them.
var (
	// ErrMalformed: the input is not a well-formed credential, presentation,
	// proof or token, or it breaks a rule of the data model.
	ErrMalformed = errors.New("vc: malformed")
	// ErrUnsupported: a well-formed input uses a cryptosuite, algorithm,
	// context or format this implementation does not accept.
	ErrUnsupported = errors.New("vc: unsupported")
	// ErrKey: the verification method cannot be resolved, has no usable
	// public key, or is not authorized for the proof purpose by its
	// controller's DID document.
	ErrKey = errors.New("vc: verification key")
	// ErrSignature: the signature does not verify over the secured data.
	ErrSignature = errors.New("vc: signature does not verify")
	// ErrProofOptions: the proof verifies but does not match what the
	// verifier asked for (purpose, challenge, domain) or is outside its own
	// validity (created in the future, expired).
	ErrProofOptions = errors.New("vc: proof does not match the verification options")
)

// FieldError names one invalid member by its JSON Pointer (RFC 6901) from
// the root of the credential, e.g. "/credentialSubject/npi", and says why.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// InvalidError lists everything wrong with an input at once, field by field.
// It wraps ErrMalformed.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	if len(e.Fields) == 0 {
		return ErrMalformed.Error()
	}
	msg := ErrMalformed.Error() + ": " + e.Fields[0].Field + ": " + e.Fields[0].Detail
	if n := len(e.Fields) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrMalformed) hold.
func (e *InvalidError) Unwrap() error { return ErrMalformed }
