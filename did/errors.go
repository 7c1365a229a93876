package did

import "errors"

// Resolution and syntax errors. Each maps to one DID Resolution error type
// (https://www.w3.org/ns/did#...) and HTTP status; see ErrorType.
var (
	ErrInvalidDID                 = errors.New("invalid DID")
	ErrInvalidDIDURL              = errors.New("invalid DID URL")
	ErrNotFound                   = errors.New("DID not found")
	ErrMethodNotSupported         = errors.New("DID method not supported")
	ErrRepresentationNotSupported = errors.New("representation not supported")
	ErrInvalidDIDDocument         = errors.New("invalid DID document")
	ErrInvalidPublicKey           = errors.New("invalid public key")
	ErrUnsupportedPublicKeyType   = errors.New("unsupported public key type")
	ErrInvalidOptions             = errors.New("invalid resolution options")
)
