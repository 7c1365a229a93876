package did

import (
	"context"
	"errors"
	"net/http"
)

// Representation media types (DID Core §6, DID Resolution §7).
const (
	MediaDIDJSON       = "application/did+json"
	MediaDIDLDJSON     = "application/did+ld+json"
	MediaDIDResolution = "application/did-resolution"
	MediaLDJSONProfile = `application/ld+json;profile="https://w3id.org/did-resolution"`
)

// Options are the DID resolution options (DID Core §7.1.1) Credence understands.
type Options struct {
	Accept      string
	VersionID   string
	VersionTime string
	// PublicKeyFormat selects the did:key verification method representation:
	// Multikey (default), JsonWebKey2020, Ed25519VerificationKey2018,
	// Ed25519VerificationKey2020 or P256Key2021.
	PublicKeyFormat string
	// EnableEncryptionKeyDerivation adds did:key key agreement methods.
	EnableEncryptionKeyDerivation bool
}

// Resolution is the result of resolving a DID (DID Core §7.1).
type Resolution struct {
	Document         *Document          `json:"didDocument"`
	DocumentMetadata DocumentMetadata   `json:"didDocumentMetadata"`
	Metadata         ResolutionMetadata `json:"didResolutionMetadata"`
}

// ResolutionMetadata describes the resolution process.
type ResolutionMetadata struct {
	ContentType string           `json:"contentType,omitempty"`
	Retrieved   string           `json:"retrieved,omitempty"`
	Error       *ResolutionError `json:"error,omitempty"`
}

// DocumentMetadata describes the resolved document (DID Core §7.1.3).
type DocumentMetadata struct {
	Created       string   `json:"created,omitempty"`
	Updated       string   `json:"updated,omitempty"`
	Deactivated   bool     `json:"deactivated,omitempty"`
	NextUpdate    string   `json:"nextUpdate,omitempty"`
	VersionID     string   `json:"versionId,omitempty"`
	NextVersionID string   `json:"nextVersionId,omitempty"`
	EquivalentID  []string `json:"equivalentId,omitempty"`
	CanonicalID   string   `json:"canonicalId,omitempty"`
	// Recovered is method-specific: for did:credence, this version was
	// written by did.recover (the recovery keys replaced the document, as
	// after a compromise). Verifiers do not trust a key a recovery removed
	// as of an earlier time (vc.DIDKeys).
	Recovered bool `json:"recovered,omitempty"`
	// LedgerProof is method-specific: for did:credence, the checkpoint, the op
	// chain and its inclusion proofs, verifiable offline, as the base64url
	// (no padding) of their JSON (registry.VerifyLedgerProof): DID Core §7.3
	// allows no numbers anywhere in metadata, and the bundle has indexes.
	LedgerProof string `json:"ledgerProof,omitempty"`
}

// ResolutionError is the error object of DID Resolution: an RFC 9457 problem with a
// type from the https://www.w3.org/ns/did# namespace.
type ResolutionError struct {
	Type   string `json:"type"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Method resolves the DIDs of one DID method.
type Method interface {
	Resolve(ctx context.Context, d DID, opts Options) (*Resolution, error)
}

// errorKinds maps sentinels to their DID Resolution error type and HTTP status.
var errorKinds = []struct {
	err    error
	name   string
	status int
}{
	{ErrInvalidDID, "INVALID_DID", http.StatusBadRequest},
	{ErrInvalidDIDURL, "INVALID_DID_URL", http.StatusBadRequest},
	{ErrInvalidOptions, "INVALID_OPTIONS", http.StatusBadRequest},
	{ErrNotFound, "NOT_FOUND", http.StatusNotFound},
	{ErrRepresentationNotSupported, "REPRESENTATION_NOT_SUPPORTED", http.StatusNotAcceptable},
	{ErrMethodNotSupported, "METHOD_NOT_SUPPORTED", http.StatusNotImplemented},
	{ErrInvalidPublicKey, "INVALID_PUBLIC_KEY", http.StatusBadRequest},
	{ErrUnsupportedPublicKeyType, "UNSUPPORTED_PUBLIC_KEY_TYPE", http.StatusBadRequest},
	{ErrInvalidDIDDocument, "INVALID_DID_DOCUMENT", http.StatusBadGateway},
	{ErrWebFetch, "INTERNAL_ERROR", http.StatusBadGateway},
}

// ErrorNamespace prefixes every DID Resolution error type.
const ErrorNamespace = "https://www.w3.org/ns/did#"

// Classify maps an error from Resolve to its DID Resolution error object and HTTP
// status. Errors it does not know are INTERNAL_ERROR/500 with a generic detail, so
// internals never leak to clients.
func Classify(err error) (*ResolutionError, int) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return &ResolutionError{Type: ErrorNamespace + k.name, Title: k.err.Error(), Detail: err.Error()}, k.status
		}
	}
	return &ResolutionError{Type: ErrorNamespace + "INTERNAL_ERROR", Title: "internal error", Detail: "the resolver failed; see the server log"}, http.StatusInternalServerError
}
