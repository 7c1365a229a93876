package issuer

// OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow.
//
// A tenant makes an offer of one credential: a template (an IssueRequest
// whose subject has no id) in one format. The holder's wallet fetches the
// offer, exchanges its pre-authorized code (and the transaction code, if
// the offer has one) for an access token at the token endpoint, gets a
// c_nonce from the nonce endpoint and sends a proof JWT signed by a key of
// its DID to the credential endpoint; the credential is issued with that
// DID as credentialSubject.id, through Service.Issue, once per offer.
//
// # Secrets at rest
//
// The offer's reference (in its credential_offer_uri) is 256 random bits;
// the pre-authorized code is derived from it, and the offer is stored under
// the SHA-256 of the code, so the store holds neither. The template, which
// may hold personal data, is sealed (AES-256-GCM) under a key derived from
// the code, and at the token exchange resealed under a key derived from the
// access token: without one of them a store dump reveals nothing of a
// pending offer, and the template is erased once the credential is issued
// or the offer burned. The transaction code is kept as a SHA-256 over the
// code and itself (so it cannot be guessed offline without the code), and
// the access token as the SHA-256 of its secret part.
//
// # kv layout
//
//	oid4vci-offers  <hex SHA-256 of the code>  -> offer record (JSON)
//	oid4vci-nonces  <c_nonce>                  -> used marker (its expiry)
//
// The HMAC key of the c_nonces is not stored: NewOffers is given it (the
// server derives it from the master key).

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/vc"
)

// Protocol identifiers.
const (
	// GrantPreAuthorized is the OAuth grant type of the flow.
	GrantPreAuthorized = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	// ProofTyp is the typ of a jwt key proof.
	ProofTyp = "openid4vci-proof+jwt"
	// OfferScheme starts the URL a wallet is invoked with.
	OfferScheme = "openid-credential-offer://"
	// WellKnownIssuer and WellKnownAS are inserted between host and path of
	// the credential issuer identifier to form its metadata URLs.
	WellKnownIssuer = "/.well-known/openid-credential-issuer"
	WellKnownAS     = "/.well-known/oauth-authorization-server"
)

// Paths of a tenant's endpoints, under its credential issuer identifier
// <base URL>/issuers/<tenant>. The offer is fetched at PathOffer?ref=...:
// the reference is in the query, which access logs leave out.
const (
	PathOffer      = "/credential-offer"
	PathToken      = "/token"
	PathNonce      = "/nonce"
	PathCredential = "/credential"
)

// Lifetimes and limits of the flow.
const (
	DefaultOfferTTL = 10 * time.Minute
	MinOfferTTL     = time.Minute
	MaxOfferTTL     = 24 * time.Hour
	AccessTokenTTL  = 5 * time.Minute
	NonceTTL        = 5 * time.Minute
	// ProofMaxAge and ProofSkew bound a proof's iat: at most ProofMaxAge
	// old, at most ProofSkew in the future.
	ProofMaxAge = 5 * time.Minute
	ProofSkew   = time.Minute
	// MaxTxAttempts wrong transaction codes burn the offer.
	MaxTxAttempts = 5
	// MaxProofBytes bounds a proof JWT.
	MaxProofBytes = 16 << 10
)

// Error codes of RFC 6749 §5.2, RFC 6750 §3.1 and OpenID4VCI §6.3, §8.3.1.
const (
	CodeInvalidRequest           = "invalid_request"
	CodeInvalidGrant             = "invalid_grant"
	CodeUnsupportedGrantType     = "unsupported_grant_type"
	CodeInvalidToken             = "invalid_token"
	CodeInvalidCredentialRequest = "invalid_credential_request"
	CodeUnknownConfiguration     = "unknown_credential_configuration"
	CodeUnknownIdentifier        = "unknown_credential_identifier"
	CodeInvalidProof             = "invalid_proof"
	CodeInvalidNonce             = "invalid_nonce"
	CodeInvalidEncryption        = "invalid_encryption_parameters"
	CodeDenied                   = "credential_request_denied"
)

// ProtocolError is a refusal of the token or credential endpoint, with the
// error code the specifications name.
type ProtocolError struct {
	Code        string
	Description string
}

func (e *ProtocolError) Error() string { return e.Code + ": " + e.Description }

func refuse(code, format string, args ...any) error {
	return &ProtocolError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ErrOfferGone: the offer expired, was used or burned.
var ErrOfferGone = errors.New("issuer: the credential offer is no longer available")

// ProofKeys resolves the verification method of a key proof's kid for a
// proof purpose (vc.DIDKeys).
type ProofKeys = vc.KeyResolver

// Offers runs the pre-authorized code flow for the tenants of a Service.
type Offers struct {
	svc  *Service
	keys ProofKeys
	base string

	nonceKey []byte
}

// NonceKeyBytes is the size of the c_nonce HMAC key.
const NonceKeyBytes = 32

// NewOffers returns the flow over svc; proof kids resolve through keys, and
// credential issuer identifiers are baseURL + "/issuers/" + tenant.
// nonceKey (NonceKeyBytes, the same in every process sharing the store)
// MACs the c_nonces.
func NewOffers(svc *Service, keys ProofKeys, baseURL string, nonceKey []byte) *Offers {
	return &Offers{svc: svc, keys: keys, base: strings.TrimRight(baseURL, "/"), nonceKey: nonceKey}
}

// IssuerURL is a tenant's credential issuer identifier.
func (o *Offers) IssuerURL(tenantID string) string { return o.base + "/issuers/" + tenantID }
