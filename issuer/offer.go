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
//	oid4vci         nonce-key                  -> HMAC key of the c_nonces

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/secure"
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

// offerFormats maps the formats an offer may use to OpenID4VCI format
// identifiers, in metadata order.
var offerFormats = []struct {
	format secure.Format
	id     string
}{{secure.DataIntegrity, "ldp_vc"}, {secure.JWT, "jwt_vc_json"}, {secure.SDJWT, "dc+sd-jwt"}}

// bindingMethods are the DID methods a key proof's kid may use.
var bindingMethods = []string{"did:key", "did:jwk", "did:web", "did:credence"}

// proofAlgs are the key proof algorithms accepted.
var proofAlgs = []string{"EdDSA", "ES256"}

const (
	bucketOffers  = "oid4vci-offers"
	bucketNonces  = "oid4vci-nonces"
	bucketOID4VCI = "oid4vci"
	offerVersion  = 1
)

// Offer states.
const (
	stateOffered  = "offered"
	stateToken    = "token"
	stateIssuing  = "issuing"
	stateRedeemed = "redeemed"
	stateBurned   = "burned"
	stateExpired  = "expired" // reported, never stored
)

// ProofKeys resolves the verification method of a key proof's kid for a
// proof purpose (vc.DIDKeys).
type ProofKeys = vc.KeyResolver

// Offers runs the pre-authorized code flow for the tenants of a Service.
type Offers struct {
	svc  *Service
	keys ProofKeys
	base string

	mu       sync.Mutex
	nonceKey []byte
}

// NewOffers returns the flow over svc; proof kids resolve through keys, and
// credential issuer identifiers are baseURL + "/issuers/" + tenant.
func NewOffers(svc *Service, keys ProofKeys, baseURL string) *Offers {
	return &Offers{svc: svc, keys: keys, base: strings.TrimRight(baseURL, "/")}
}

// IssuerURL is a tenant's credential issuer identifier.
func (o *Offers) IssuerURL(tenantID string) string { return o.base + "/issuers/" + tenantID }

// OfferInput makes an offer: the credential as VC-API's issue takes it,
// without credentialSubject.id (the holder's DID is bound when the offer is
// claimed); options.format is di (default), jwt or sd-jwt.
type OfferInput struct {
	Credential map[string]any `json:"credential"`
	Options    IssueOptions   `json:"options"`
	// TxCode, when set, requires a transaction code in the token request.
	TxCode *TxCodeInput `json:"txCode,omitempty"`
	// ExpiresIn is the offer's lifetime in seconds (default 600, 60 to 86400).
	ExpiresIn int `json:"expiresIn,omitempty"`
}

// TxCodeInput is a transaction code (a PIN the issuer gives the holder out
// of band): Value, 6 to 12 digits, or one of Length digits generated.
type TxCodeInput struct {
	Value  string `json:"value,omitempty"`
	Length int    `json:"length,omitempty"`
	// Description tells the holder where the code comes from (at most 300
	// characters); wallets show it.
	Description string `json:"description,omitempty"`
}

// CredentialOffer is the Credential Offer object (OpenID4VCI §4.1.1).
type CredentialOffer struct {
	CredentialIssuer string                        `json:"credential_issuer"`
	ConfigurationIDs []string                      `json:"credential_configuration_ids"`
	Grants           map[string]PreAuthorizedGrant `json:"grants"`
}

// PreAuthorizedGrant is the grant of a pre-authorized code offer.
type PreAuthorizedGrant struct {
	Code   string  `json:"pre-authorized_code"`
	TxCode *TxCode `json:"tx_code,omitempty"`
}

// TxCode describes the transaction code a token request needs.
type TxCode struct {
	InputMode   string `json:"input_mode,omitempty"`
	Length      int    `json:"length,omitempty"`
	Description string `json:"description,omitempty"`
}

// CreatedOffer is a new offer. TxCode is shown here once, for the issuer to
// send to the holder on another channel.
type CreatedOffer struct {
	ID       string          `json:"id"`
	Offer    CredentialOffer `json:"credential_offer"`
	OfferURI string          `json:"credential_offer_uri"`
	// OfferURL invokes a wallet with the offer by reference.
	OfferURL string    `json:"offer_url"`
	Expires  time.Time `json:"expires"`
	TxCode   string    `json:"txCode,omitempty"`
}

// offerRecord is an offer as the store keeps it.
type offerRecord struct {
	V             int       `json:"v"`
	ID            string    `json:"id"`
	Tenant        string    `json:"tenant"`
	Config        string    `json:"config"`
	Format        string    `json:"format"`
	Sealed        []byte    `json:"sealed,omitempty"` // the template, sealed
	TxHash        string    `json:"txHash,omitempty"`
	TxLength      int       `json:"txLength,omitempty"`
	TxDescription string    `json:"txDescription,omitempty"`
	Attempts      int       `json:"attempts,omitempty"`
	State         string    `json:"state"`
	Created       time.Time `json:"created"`
	Expires       time.Time `json:"expires"`
	TokenHash     string    `json:"tokenHash,omitempty"`
	TokenExpires  time.Time `json:"tokenExpires,omitzero"`
	CredentialID  string    `json:"credentialId,omitempty"`
	Redeemed      time.Time `json:"redeemed,omitzero"`
}

var b64 = base64.RawURLEncoding

// Create makes an offer for a tenant. The template is checked as Issue
// would check it (with a placeholder subject id), so an offer that could
// never be claimed is refused now (*Rejection).
func (o *Offers) Create(ctx context.Context, tenantID string, in OfferInput) (*CreatedOffer, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := o.svc.now().UTC().Truncate(time.Second)
	ttl, tx, format, err := checkOfferInput(&in)
	if err != nil {
		return nil, err
	}
	typ, err := o.svc.checkTemplate(ctx, t, IssueRequest{Credential: in.Credential, Options: in.Options}, format, now)
	if err != nil {
		return nil, err
	}
	ref := randomString()
	code := codeOf(ref)
	rec := offerRecord{V: offerVersion, ID: offerID(code), Tenant: t.ID, Config: configID(typ, format), Format: string(format),
		State: stateOffered, Created: now, Expires: now.Add(ttl)}
	if tx != nil {
		rec.TxHash, rec.TxLength, rec.TxDescription = txHash(code, tx.Value), len(tx.Value), tx.Description
	}
	if rec.Sealed, err = sealTemplate(code, rec.ID, IssueRequest{Credential: in.Credential, Options: in.Options}); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(rec)
	if err := o.svc.kv.Create(ctx, bucketOffers, rec.ID, b); err != nil {
		return nil, fmt.Errorf("failed to store the offer: %w", err)
	}
	uri := o.IssuerURL(t.ID) + PathOffer + "?ref=" + ref
	out := &CreatedOffer{ID: rec.ID, Offer: o.offerOf(rec, code), OfferURI: uri,
		OfferURL: OfferScheme + "?credential_offer_uri=" + url.QueryEscape(uri), Expires: rec.Expires}
	if tx != nil {
		out.TxCode = tx.Value
	}
	return out, nil
}

// checkOfferInput validates the offer's options and makes a transaction
// code when one is asked for without a value.
func checkOfferInput(in *OfferInput) (time.Duration, *TxCodeInput, secure.Format, error) {
	var p fields
	ttl := DefaultOfferTTL
	if in.ExpiresIn != 0 {
		ttl = time.Duration(in.ExpiresIn) * time.Second
		if ttl < MinOfferTTL || ttl > MaxOfferTTL {
			p.add("/expiresIn", fmt.Sprintf("seconds, from %d to %d", int(MinOfferTTL.Seconds()), int(MaxOfferTTL.Seconds())))
		}
	}
	format, err := secure.ParseFormat(in.Options.Format)
	if err != nil || (format != secure.DataIntegrity && format != secure.JWT && format != secure.SDJWT) {
		p.add("/options/format", "an offer is di (ldp_vc), jwt (jwt_vc_json) or sd-jwt (dc+sd-jwt)")
	}
	tx := in.TxCode
	if tx != nil {
		tx = &TxCodeInput{Value: tx.Value, Length: tx.Length, Description: tx.Description}
		checkTxCode(&p, tx)
	}
	if len(p) > 0 {
		return 0, nil, "", &Rejection{Malformed: true, Fields: p}
	}
	return ttl, tx, format, nil
}

func checkTxCode(p *fields, tx *TxCodeInput) {
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	switch {
	case tx.Value != "" && (len(tx.Value) < 6 || len(tx.Value) > 12 || !digits(tx.Value)):
		p.add("/txCode/value", "6 to 12 digits")
	case tx.Value != "" && tx.Length != 0 && tx.Length != len(tx.Value):
		p.add("/txCode/length", "differs from the value's length")
	case tx.Value == "" && tx.Length == 0:
		tx.Value = randomDigits(6)
	case tx.Value == "" && (tx.Length < 6 || tx.Length > 12):
		p.add("/txCode/length", "6 to 12")
	case tx.Value == "":
		tx.Value = randomDigits(tx.Length)
	}
	if utf8.RuneCountInString(tx.Description) > 300 || !utf8.ValidString(tx.Description) {
		p.add("/txCode/description", "at most 300 characters")
	}
}

// checkTemplate runs the checks of Issue that do not depend on the holder
// (with a placeholder subject DID) and allocate nothing, and returns the
// credential's type: exactly one besides VerifiableCredential, listed by
// name in the tenant's types (the configurations the metadata publishes).
func (s *Service) checkTemplate(ctx context.Context, t Tenant, req IssueRequest, format secure.Format, now time.Time) (string, error) {
	if req.Credential == nil {
		return "", &Rejection{Malformed: true, Fields: []vc.FieldError{{Field: "/credential", Detail: "required"}}}
	}
	cred := vc.Clone(req.Credential).(map[string]any)
	var p fields
	subjects := vc.Credential(cred).Subjects()
	if _, isArray := cred["credentialSubject"].([]any); isArray || len(subjects) != 1 {
		p.add("/credential/credentialSubject", "an offered credential has one subject object")
	} else if _, has := subjects[0]["id"]; has {
		p.add("/credential/credentialSubject/id", "the holder's DID is bound when the offer is claimed: leave it out")
	} else {
		subjects[0]["id"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	}
	typ := offerType(&p, t, vc.Credential(cred))
	if _, has := cred["credentialStatus"]; has {
		p.add("/credential/credentialStatus", "status entries are assigned by the issuer: ask for them with options.credentialStatus")
	}
	complete(&p, cred, t, req.Options, now)
	if htype := healthType(&p, vc.Credential(cred)); htype != "" {
		s.completeHealth(&p, cred, t, htype)
	}
	if err := vc.Credential(cred).Validate(); err != nil {
		p.addInvalid("/credential", err)
	}
	if _, ferr := statusPurposes(req.Options, vc.Credential(cred), s.ledger != nil); ferr != nil {
		p = append(p, *ferr)
	}
	if len(p) == 0 {
		if err := s.terms.check(cred, s.sec.CheckTerms); err != nil {
			p.addInvalid("/credential", err)
		}
	}
	if len(p) == 0 {
		if err := s.checkFormatKey(ctx, t, format); err != nil {
			p.add("/options/format", err.Error())
		}
	}
	if len(p) > 0 {
		return "", &Rejection{Fields: p}
	}
	return typ, nil
}

// offerType is the credential's one type besides VerifiableCredential,
// which the tenant must list by name.
func offerType(p *fields, t Tenant, c vc.Credential) string {
	var types []string
	for _, typ := range c.Types() {
		if typ != vc.TypeCredential {
			types = append(types, typ)
		}
	}
	if len(types) != 1 {
		p.add("/credential/type", fmt.Sprintf("an offered credential has one type besides VerifiableCredential, not %v", types))
		return ""
	}
	if !t.listsType(types[0]) {
		p.add("/credential/type", fmt.Sprintf("issuer %s does not list %s among its types, so its metadata does not offer it", t.ID, types[0]))
	}
	return types[0]
}

func (t Tenant) listsType(typ string) bool {
	for _, x := range t.Types {
		if x == typ && x != AnyType {
			return true
		}
	}
	return false
}

// checkFormatKey refuses di for a tenant whose key is not Ed25519 (the
// Data Integrity suites Credence signs with are EdDSA).
func (s *Service) checkFormatKey(ctx context.Context, t Tenant, f secure.Format) error {
	if f != secure.DataIntegrity {
		return nil
	}
	alg, err := s.signingAlg(ctx, t)
	if err != nil {
		return err
	}
	if alg != "EdDSA" {
		return fmt.Errorf("issuer %s signs with %s: di needs an Ed25519 key; offer jwt or sd-jwt", t.ID, alg)
	}
	return nil
}

func (s *Service) signingAlg(ctx context.Context, t Tenant) (string, error) {
	signer, err := s.signer(ctx, t)
	if err != nil {
		return "", err
	}
	return signer.Algorithm()
}

// offerOf rebuilds the Credential Offer object of a record.
func (o *Offers) offerOf(rec offerRecord, code string) CredentialOffer {
	g := PreAuthorizedGrant{Code: code}
	if rec.TxHash != "" {
		g.TxCode = &TxCode{InputMode: "numeric", Length: rec.TxLength, Description: rec.TxDescription}
	}
	return CredentialOffer{CredentialIssuer: o.IssuerURL(rec.Tenant), ConfigurationIDs: []string{rec.Config},
		Grants: map[string]PreAuthorizedGrant{GrantPreAuthorized: g}}
}

// Offer reads an offer by the reference of its credential_offer_uri:
// ErrNotFound for none, ErrOfferGone once it expired or its code was used.
func (o *Offers) Offer(ctx context.Context, tenantID, ref string) (CredentialOffer, error) {
	if !validSecret(ref) {
		return CredentialOffer{}, fmt.Errorf("%w: credential offer", ErrNotFound)
	}
	code := codeOf(ref)
	rec, err := o.load(ctx, offerID(code))
	if err != nil || rec.Tenant != tenantID {
		return CredentialOffer{}, fmt.Errorf("%w: credential offer", ErrNotFound)
	}
	if rec.State != stateOffered || !o.svc.now().Before(rec.Expires) {
		return CredentialOffer{}, ErrOfferGone
	}
	return o.offerOf(rec, code), nil
}

// OfferStatus is what the issuer sees of an offer.
type OfferStatus struct {
	ID              string `json:"id"`
	ConfigurationID string `json:"credential_configuration_id"`
	Format          string `json:"format"`
	// State: offered, token (the code was exchanged), issuing, redeemed,
	// burned (too many wrong transaction codes) or expired.
	State        string    `json:"state"`
	TxCode       bool      `json:"txCode"`
	Attempts     int       `json:"failedTxCodeAttempts"`
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires"`
	CredentialID string    `json:"credentialId,omitempty"`
	Redeemed     time.Time `json:"redeemed,omitzero"`
}

// Status reports an offer of a tenant by its id.
func (o *Offers) Status(ctx context.Context, tenantID, id string) (OfferStatus, error) {
	rec, err := o.load(ctx, id)
	if err != nil || rec.Tenant != tenantID {
		return OfferStatus{}, fmt.Errorf("%w: offer %q of issuer %s", ErrNotFound, id, tenantID)
	}
	st := OfferStatus{ID: rec.ID, ConfigurationID: rec.Config, Format: rec.Format, State: rec.State, TxCode: rec.TxHash != "",
		Attempts: rec.Attempts, Created: rec.Created, Expires: rec.Expires, CredentialID: rec.CredentialID, Redeemed: rec.Redeemed}
	now := o.svc.now()
	if (rec.State == stateOffered && !now.Before(rec.Expires)) || (rec.State == stateToken && !now.Before(rec.TokenExpires)) {
		st.State = stateExpired
	}
	return st, nil
}

func (o *Offers) load(ctx context.Context, id string) (offerRecord, error) {
	if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" {
		return offerRecord{}, ErrNotFound
	}
	b, err := o.svc.kv.Get(ctx, bucketOffers, id)
	if errors.Is(err, kv.ErrNotFound) {
		return offerRecord{}, ErrNotFound
	}
	if err != nil {
		return offerRecord{}, err
	}
	var rec offerRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return offerRecord{}, fmt.Errorf("failed to decode offer %s: %w", id, err)
	}
	return rec, nil
}

// update changes an offer record with fn (kv.Update: fn may run again
// under contention); an error from fn writes nothing.
func (o *Offers) update(ctx context.Context, id string, fn func(*offerRecord) error) error {
	return o.svc.kv.Update(ctx, bucketOffers, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrNotFound
		}
		var rec offerRecord
		if err := json.Unmarshal(old, &rec); err != nil {
			return nil, fmt.Errorf("failed to decode offer %s: %w", id, err)
		}
		if err := fn(&rec); err != nil {
			return nil, err
		}
		return json.Marshal(rec)
	})
}

// Secrets and their derivations.

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return b64.EncodeToString(b[:])
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0' + byte(randUint(10))
	}
	return string(b)
}

// randUint is uniform in [0, n) for small n.
func randUint(n uint8) uint8 {
	limit := 256 - 256%int(n)
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return b[0] % n
		}
	}
}

// validSecret reports whether s is the base64url of 32 bytes.
func validSecret(s string) bool {
	b, err := b64.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}

func sum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// codeOf derives the pre-authorized code from the offer's reference.
func codeOf(ref string) string {
	h := sha256.Sum256([]byte("credence oid4vci pre-authorized_code\x00" + ref))
	return b64.EncodeToString(h[:])
}

func offerID(code string) string                  { return sum("credence oid4vci offer", code) }
func txHash(code, tx string) string               { return sum("credence oid4vci tx_code", code, tx) }
func tokenHash(secret string) string              { return sum("credence oid4vci access token", secret) }
func configID(typ string, f secure.Format) string { return typ + "_" + string(f) }

// sealTemplate encrypts the template under a key derived from secret (the
// code, then the access token's secret), bound to the offer id.
func sealTemplate(secret, id string, req IssueRequest) ([]byte, error) {
	pt, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	aead, err := templateAEAD(secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pt)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, pt, []byte(id)), nil
}

func openTemplate(secret, id string, sealed []byte) (IssueRequest, error) {
	var req IssueRequest
	aead, err := templateAEAD(secret)
	if err != nil {
		return req, err
	}
	if len(sealed) < aead.NonceSize() {
		return req, errors.New("issuer: sealed offer template too short")
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(id))
	if err != nil {
		return req, fmt.Errorf("issuer: the offer template does not decrypt: %w", err)
	}
	d := json.NewDecoder(strings.NewReader(string(pt)))
	d.UseNumber()
	return req, d.Decode(&req)
}

func templateAEAD(secret string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "credence oid4vci offer template", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func equalHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// contextOf is the @context of a type's credentials.
func contextOf(typ string) []string {
	if _, ok := healthcare.Lookup(typ); ok {
		return []string{vc.ContextV2, healthcare.ContextURL}
	}
	return []string{vc.ContextV2}
}

// TokenRequest is a token request of the pre-authorized code grant.
type TokenRequest struct {
	Code string
	// TxCode is the transaction code; HasTxCode tells an empty one from none.
	TxCode    string
	HasTxCode bool
}

// TokenResponse is the successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Token exchanges a pre-authorized code for an access token, once. A
// missing or unexpected transaction code is invalid_request; an unknown,
// used, expired or burned code and a wrong transaction code are
// invalid_grant, and the MaxTxAttempts-th wrong transaction code burns the
// offer.
func (o *Offers) Token(ctx context.Context, tenantID string, req TokenRequest) (*TokenResponse, error) {
	if !validSecret(req.Code) {
		return nil, refuse(CodeInvalidGrant, "unknown pre-authorized_code")
	}
	id := offerID(req.Code)
	secret := randomString()
	now := o.svc.now().UTC()
	var outcome error
	err := o.update(ctx, id, func(rec *offerRecord) error {
		outcome = nil
		if rec.Tenant != tenantID {
			return refuse(CodeInvalidGrant, "unknown pre-authorized_code")
		}
		if err := rec.exchangeable(req, now); err != nil {
			return err
		}
		if rec.TxHash != "" && !equalHash(rec.TxHash, txHash(req.Code, req.TxCode)) {
			rec.Attempts++
			outcome = refuse(CodeInvalidGrant, "wrong tx_code (%d of %d attempts left)", MaxTxAttempts-rec.Attempts, MaxTxAttempts)
			if rec.Attempts >= MaxTxAttempts {
				rec.State, rec.Sealed = stateBurned, nil
				outcome = refuse(CodeInvalidGrant, "wrong tx_code; too many attempts: the offer is withdrawn")
			}
			return nil
		}
		tmpl, err := openTemplate(req.Code, id, rec.Sealed)
		if err != nil {
			return err
		}
		if rec.Sealed, err = sealTemplate(secret, id, tmpl); err != nil {
			return err
		}
		rec.State, rec.TokenHash, rec.TokenExpires = stateToken, tokenHash(secret), now.Add(AccessTokenTTL).Truncate(time.Second)
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, refuse(CodeInvalidGrant, "unknown pre-authorized_code")
	case err != nil:
		return nil, err
	case outcome != nil:
		return nil, outcome
	}
	return &TokenResponse{AccessToken: id + "." + secret, TokenType: "Bearer", ExpiresIn: int(AccessTokenTTL.Seconds())}, nil
}

// exchangeable checks that the record's code may be exchanged now with req.
func (rec *offerRecord) exchangeable(req TokenRequest, now time.Time) error {
	switch {
	case rec.State == stateBurned:
		return refuse(CodeInvalidGrant, "the offer was withdrawn after too many wrong tx_code attempts")
	case rec.State != stateOffered:
		return refuse(CodeInvalidGrant, "the pre-authorized_code was already used")
	case !now.Before(rec.Expires):
		return refuse(CodeInvalidGrant, "the pre-authorized_code expired")
	case rec.TxHash != "" && !req.HasTxCode:
		return refuse(CodeInvalidRequest, "this offer requires a tx_code")
	case rec.TxHash == "" && req.HasTxCode:
		return refuse(CodeInvalidRequest, "this offer takes no tx_code")
	}
	return nil
}

// Nonce returns a fresh c_nonce for a tenant: a timestamp, random bits and
// an HMAC under the store's nonce key, valid NonceTTL and accepted once.
// Nothing is stored until a proof uses it.
func (o *Offers) Nonce(ctx context.Context, tenantID string) (string, error) {
	if _, err := o.svc.Tenant(ctx, tenantID); err != nil {
		return "", err
	}
	key, err := o.key(ctx)
	if err != nil {
		return "", err
	}
	var b [40]byte
	binary.BigEndian.PutUint64(b[:8], uint64(o.svc.now().Unix()))
	_, _ = rand.Read(b[8:24])
	copy(b[24:], nonceMAC(key, tenantID, b[:24]))
	return b64.EncodeToString(b[:]), nil
}

// checkNonce verifies a c_nonce's MAC, tenant and age.
func (o *Offers) checkNonce(ctx context.Context, tenantID, nonce string, now time.Time) error {
	b, err := b64.Strict().DecodeString(nonce)
	if err != nil || len(b) != 40 {
		return refuse(CodeInvalidNonce, "the nonce is not a c_nonce of this issuer")
	}
	key, err := o.key(ctx)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(b[24:], nonceMAC(key, tenantID, b[:24])) != 1 {
		return refuse(CodeInvalidNonce, "the nonce is not a c_nonce of this issuer")
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	if now.Sub(issued) > NonceTTL || issued.After(now.Add(ProofSkew)) {
		return refuse(CodeInvalidNonce, "the c_nonce expired: get a new one from the nonce endpoint")
	}
	return nil
}

// useNonce marks a c_nonce used; a second use is invalid_nonce.
func (o *Offers) useNonce(ctx context.Context, nonce string, now time.Time) error {
	exp, _ := now.Add(NonceTTL).MarshalText()
	err := o.svc.kv.Create(ctx, bucketNonces, nonce, exp)
	if errors.Is(err, kv.ErrExists) {
		return refuse(CodeInvalidNonce, "the c_nonce was already used: get a new one from the nonce endpoint")
	}
	return err
}

func nonceMAC(key []byte, tenantID string, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("credence oid4vci c_nonce\x00" + tenantID + "\x00"))
	m.Write(msg)
	return m.Sum(nil)[:16]
}

// key is the HMAC key of c_nonces, shared by every process on the store.
func (o *Offers) key(ctx context.Context) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.nonceKey != nil {
		return o.nonceKey, nil
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	err := o.svc.kv.Create(ctx, bucketOID4VCI, "nonce-key", k)
	if errors.Is(err, kv.ErrExists) {
		k, err = o.svc.kv.Get(ctx, bucketOID4VCI, "nonce-key")
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read the c_nonce key: %w", err)
	}
	if len(k) != 32 {
		return nil, errors.New("issuer: the stored c_nonce key is damaged")
	}
	o.nonceKey = k
	return k, nil
}

// CredentialRequest is a credential request (OpenID4VCI §8.2) as decoded
// by the HTTP layer.
type CredentialRequest struct {
	ConfigurationID string
	Identifier      string
	// Proofs is the proofs object: one proof type with a non-empty array.
	Proofs map[string]any
	// Encryption reports a credential_response_encryption member.
	Encryption bool
}

// CredentialResponse is the immediate credential response.
type CredentialResponse struct {
	Credentials []IssuedCredential `json:"credentials"`
}

// IssuedCredential is one credential of a response: a JSON object
// (ldp_vc) or a compact token (jwt_vc_json, dc+sd-jwt).
type IssuedCredential struct {
	Credential any `json:"credential"`
}

// Credential answers a credential request made with an access token of
// Token: it verifies the one jwt key proof (see verifyProof), issues the
// offered credential with credentialSubject.id the proof's DID through
// Service.Issue, and marks the offer redeemed, so each offer gives one
// credential. Refusals are *ProtocolError; a credential Issue rejects
// (e.g. a license past its expiry) is credential_request_denied.
func (o *Offers) Credential(ctx context.Context, tenantID, accessToken string, req CredentialRequest) (*CredentialResponse, error) {
	now := o.svc.now().UTC()
	id, secret, rec, err := o.tokenOffer(ctx, tenantID, accessToken, now)
	if err != nil {
		return nil, err
	}
	if err := checkCredentialRequest(req, rec.Config); err != nil {
		return nil, err
	}
	proof, err := proofJWT(req.Proofs)
	if err != nil {
		return nil, err
	}
	holder, pub, nonce, err := o.verifyProof(ctx, tenantID, proof, now)
	if err != nil {
		return nil, err
	}
	if rec.Format == string(secure.SDJWT) {
		if err := o.checkBinding(ctx, holder, pub); err != nil {
			return nil, err
		}
	}
	if err := o.useNonce(ctx, nonce, now); err != nil {
		return nil, err
	}
	tmpl, err := o.claim(ctx, id, secret, now)
	if err != nil {
		return nil, err
	}
	cred, err := o.issue(ctx, tenantID, id, tmpl, holder)
	if err != nil {
		return nil, err
	}
	return &CredentialResponse{Credentials: []IssuedCredential{{Credential: cred}}}, nil
}

// tokenOffer finds the offer of an access token that is valid now.
func (o *Offers) tokenOffer(ctx context.Context, tenantID, token string, now time.Time) (string, string, offerRecord, error) {
	id, secret, ok := strings.Cut(token, ".")
	invalid := refuse(CodeInvalidToken, "the access token is not valid")
	if !ok || !validSecret(secret) {
		return "", "", offerRecord{}, invalid
	}
	rec, err := o.load(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && (rec.Tenant != tenantID || !equalHash(rec.TokenHash, tokenHash(secret)))) {
		return "", "", offerRecord{}, invalid
	}
	switch {
	case err != nil:
		return "", "", offerRecord{}, err
	case rec.State != stateToken:
		return "", "", offerRecord{}, refuse(CodeInvalidToken, "the access token was used: an offer gives one credential")
	case !now.Before(rec.TokenExpires):
		return "", "", offerRecord{}, refuse(CodeInvalidToken, "the access token expired")
	}
	return id, secret, rec, nil
}

func checkCredentialRequest(req CredentialRequest, config string) error {
	switch {
	case req.Encryption:
		return refuse(CodeInvalidEncryption, "this issuer does not encrypt credential responses")
	case req.Identifier != "":
		return refuse(CodeInvalidCredentialRequest, "credential_identifier is only for authorization_details, which this issuer does not return: send credential_configuration_id")
	case req.ConfigurationID == "":
		return refuse(CodeInvalidCredentialRequest, "credential_configuration_id is required")
	case req.ConfigurationID != config:
		return refuse(CodeUnknownConfiguration, "the access token is for credential configuration %s only", config)
	}
	return nil
}

// proofJWT is the one jwt proof of a proofs object.
func proofJWT(proofs map[string]any) (string, error) {
	if proofs == nil {
		return "", refuse(CodeInvalidProof, "proofs is required: one jwt key proof")
	}
	if len(proofs) != 1 {
		return "", refuse(CodeInvalidCredentialRequest, "proofs has exactly one proof type")
	}
	list, ok := proofs["jwt"].([]any)
	switch {
	case !ok && proofs["jwt"] == nil:
		return "", refuse(CodeInvalidProof, "the proof type is not supported: use jwt")
	case !ok || len(list) == 0:
		return "", refuse(CodeInvalidProof, "proofs.jwt is a non-empty array of JWTs")
	case len(list) > 1:
		return "", refuse(CodeInvalidCredentialRequest, "batch issuance is not supported: send one proof")
	}
	s, ok := list[0].(string)
	if !ok || s == "" {
		return "", refuse(CodeInvalidProof, "proofs.jwt holds JWTs (strings)")
	}
	return s, nil
}

// verifyProof checks a jwt key proof (OpenID4VCI §F.1, §F.4): typ
// openid4vci-proof+jwt; alg EdDSA or ES256, pinned to the key; kid a DID
// URL (did:key, did:jwk, did:web, did:credence) whose DID document
// authorizes the key for authentication or assertionMethod — a jwk or x5c
// header is refused, since the credential is bound to a DID; aud the
// tenant's credential issuer identifier; iat at most ProofMaxAge old and
// ProofSkew ahead; nonce an unexpired c_nonce of this tenant (not yet
// marked used). It returns the DID, the key and the nonce.
func (o *Offers) verifyProof(ctx context.Context, tenantID, token string, now time.Time) (string, crypto.PublicKey, string, error) {
	j, err := jose.Parse(token, MaxProofBytes)
	if err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof is not a compact JWS: %v", err)
	}
	if err := checkProofHeader(token, j.Header); err != nil {
		return "", nil, "", err
	}
	claims, err := vc.DecodeObject(j.Payload)
	if err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof's payload is not a JSON object")
	}
	nonce, err := checkProofClaims(claims, o.IssuerURL(tenantID), now)
	if err != nil {
		return "", nil, "", err
	}
	if err := o.checkNonce(ctx, tenantID, nonce, now); err != nil {
		return "", nil, "", err
	}
	u, err := did.ParseURL(j.Header.Kid)
	if err != nil || u.Fragment == "" || u.Path != "" || u.HasQuery {
		return "", nil, "", refuse(CodeInvalidProof, "kid must be a DID URL naming a key of the holder's DID (did:...#fragment)")
	}
	pub, err := o.keys.PublicKey(ctx, j.Header.Kid, vc.PurposeAuthentication)
	if err != nil {
		var aerr error
		if pub, aerr = o.keys.PublicKey(ctx, j.Header.Kid, vc.PurposeAssertion); aerr != nil {
			return "", nil, "", refuse(CodeInvalidProof, "the kid's key cannot be used: %v", err)
		}
	}
	if err := j.Verify(pub); err != nil {
		return "", nil, "", refuse(CodeInvalidProof, "the proof's signature does not verify with the key of %s", j.Header.Kid)
	}
	return u.DID.String(), pub, nonce, nil
}

func checkProofHeader(token string, h jose.Header) error {
	raw, err := b64.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return refuse(CodeInvalidProof, "the proof's header is not base64url")
	}
	m, err := vc.DecodeObject(raw)
	if err != nil {
		return refuse(CodeInvalidProof, "the proof's header is not a JSON object")
	}
	switch {
	case !strings.EqualFold(h.Typ, ProofTyp):
		return refuse(CodeInvalidProof, "the proof's typ must be %s", ProofTyp)
	case !slices.Contains(proofAlgs, h.Alg):
		return refuse(CodeInvalidProof, "the proof's alg must be EdDSA or ES256")
	case m["jwk"] != nil || m["x5c"] != nil:
		return refuse(CodeInvalidProof, "credentials are bound to a DID: send kid, a DID URL, not jwk or x5c")
	case h.Kid == "":
		return refuse(CodeInvalidProof, "the proof needs a kid: a DID URL of the holder's key")
	}
	return nil
}

// checkProofClaims checks aud and iat and returns the nonce.
func checkProofClaims(claims map[string]any, aud string, now time.Time) (string, error) {
	if got, _ := claims["aud"].(string); got != aud {
		return "", refuse(CodeInvalidProof, "the proof's aud must be the credential issuer identifier %s", aud)
	}
	n, ok := claims["iat"].(json.Number)
	if !ok {
		return "", refuse(CodeInvalidProof, "the proof needs iat, a number")
	}
	f, err := n.Float64()
	if err != nil {
		return "", refuse(CodeInvalidProof, "the proof's iat is not a number")
	}
	iat := time.Unix(int64(f), 0)
	switch {
	case iat.Before(now.Add(-ProofMaxAge)):
		return "", refuse(CodeInvalidProof, "the proof's iat is more than %s old", ProofMaxAge)
	case iat.After(now.Add(ProofSkew)):
		return "", refuse(CodeInvalidProof, "the proof's iat is in the future")
	}
	nonce, _ := claims["nonce"].(string)
	if nonce == "" {
		return "", refuse(CodeInvalidProof, "the proof needs nonce, a c_nonce from the nonce endpoint")
	}
	return nonce, nil
}

// checkBinding: an SD-JWT VC binds its holder key (cnf) as Issue finds it,
// the DID's first authentication key; the proof must be made with it.
func (o *Offers) checkBinding(ctx context.Context, holder string, pub crypto.PublicKey) error {
	if o.svc.holders == nil {
		return refuse(CodeDenied, "this issuer cannot bind SD-JWT VCs to holders")
	}
	k, err := o.svc.holders.HolderKey(ctx, holder)
	if err != nil {
		return refuse(CodeInvalidProof, "cannot find the holder key of %s: %v", holder, err)
	}
	if eq, ok := k.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
		return refuse(CodeInvalidProof, "a dc+sd-jwt credential binds the first authentication key of %s: sign the proof with it", holder)
	}
	return nil
}

// claim moves the offer from token to issuing (so a concurrent request
// issues nothing) and opens its template.
func (o *Offers) claim(ctx context.Context, id, secret string, now time.Time) (IssueRequest, error) {
	var sealed []byte
	err := o.update(ctx, id, func(rec *offerRecord) error {
		if rec.State != stateToken || !equalHash(rec.TokenHash, tokenHash(secret)) || !now.Before(rec.TokenExpires) {
			return refuse(CodeInvalidToken, "the access token was used: an offer gives one credential")
		}
		rec.State, sealed = stateIssuing, rec.Sealed
		return nil
	})
	if err != nil {
		return IssueRequest{}, err
	}
	tmpl, err := openTemplate(secret, id, sealed)
	if err != nil {
		o.release(ctx, id)
		return IssueRequest{}, err
	}
	return tmpl, nil
}

// release returns a claimed offer to the token state after a failure.
func (o *Offers) release(ctx context.Context, id string) {
	_ = o.update(context.WithoutCancel(ctx), id, func(rec *offerRecord) error {
		if rec.State == stateIssuing {
			rec.State = stateToken
		}
		return nil
	})
}

// issue issues the template to holder and marks the offer redeemed.
func (o *Offers) issue(ctx context.Context, tenantID, id string, tmpl IssueRequest, holder string) (any, error) {
	subject := vc.Credential(tmpl.Credential).Subjects()
	if len(subject) != 1 {
		o.release(ctx, id)
		return nil, errors.New("issuer: the offer template lost its subject")
	}
	subject[0]["id"] = holder
	out, err := o.svc.Issue(ctx, tenantID, tmpl)
	var rej *Rejection
	switch {
	case errors.As(err, &rej) || errors.Is(err, ErrNotFound):
		o.release(ctx, id)
		return nil, refuse(CodeDenied, "the credential cannot be issued: %v", err)
	case err != nil:
		o.release(ctx, id)
		return nil, err
	}
	now := o.svc.now().UTC().Truncate(time.Second)
	// The credential is issued and in the inventory: if marking the offer
	// fails, it stays "issuing", which issues nothing more.
	_ = o.update(context.WithoutCancel(ctx), id, func(rec *offerRecord) error {
		rec.State, rec.Sealed, rec.CredentialID, rec.Redeemed = stateRedeemed, nil, out.Record.ID, now
		return nil
	})
	return compact(out.Credential), nil
}

// compact is the token of an enveloped credential (jwt_vc_json and
// dc+sd-jwt credentials are compact strings), or the credential itself.
func compact(secured any) any {
	m, ok := secured.(map[string]any)
	if !ok || !vc.Credential(m).HasType(vc.TypeEnvelopedCredential) {
		return secured
	}
	id, _ := m["id"].(string)
	if _, tok, ok := strings.Cut(id, ","); ok && strings.HasPrefix(id, "data:") {
		return tok
	}
	return secured
}

// IssuerMetadata is the Credential Issuer Metadata (OpenID4VCI §12.2). It
// has no authorization_servers: the credential issuer is its own
// authorization server, whose token endpoint AuthServerMetadata publishes.
type IssuerMetadata struct {
	CredentialIssuer   string                             `json:"credential_issuer"`
	CredentialEndpoint string                             `json:"credential_endpoint"`
	NonceEndpoint      string                             `json:"nonce_endpoint"`
	Display            []Display                          `json:"display,omitempty"`
	Configurations     map[string]CredentialConfiguration `json:"credential_configurations_supported"`
}

// Display is a display object of the metadata.
type Display struct {
	Name        string `json:"name"`
	Locale      string `json:"locale,omitempty"`
	Description string `json:"description,omitempty"`
}

// CredentialConfiguration describes one credential an issuer offers: a
// type in a format.
type CredentialConfiguration struct {
	Format         string                       `json:"format"`
	Definition     *CredentialDefinition        `json:"credential_definition,omitempty"`
	VCT            string                       `json:"vct,omitempty"`
	SigningAlgs    []string                     `json:"credential_signing_alg_values_supported,omitempty"`
	BindingMethods []string                     `json:"cryptographic_binding_methods_supported"`
	ProofTypes     map[string]ProofTypeMetadata `json:"proof_types_supported"`
	Metadata       *CredentialMetadata          `json:"credential_metadata,omitempty"`
}

// CredentialDefinition is the W3C credential's @context (ldp_vc only) and type.
type CredentialDefinition struct {
	Context []string `json:"@context,omitempty"`
	Type    []string `json:"type"`
}

// ProofTypeMetadata lists the algorithms of a proof type.
type ProofTypeMetadata struct {
	Algs []string `json:"proof_signing_alg_values_supported"`
}

// CredentialMetadata holds a configuration's display.
type CredentialMetadata struct {
	Display []Display `json:"display,omitempty"`
}

// AuthServerMetadata is the RFC 8414 metadata of the tenant's
// authorization server (the credential issuer itself).
type AuthServerMetadata struct {
	Issuer        string   `json:"issuer"`
	TokenEndpoint string   `json:"token_endpoint"`
	GrantTypes    []string `json:"grant_types_supported"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	Anonymous     bool     `json:"pre-authorized_grant_anonymous_access_supported"`
}

// Metadata is a tenant's credential issuer metadata: a configuration
// "<type>_<format>" for each type the tenant lists by name, in di (ldp_vc,
// Ed25519 tenants only), jwt (jwt_vc_json) and sd-jwt (dc+sd-jwt).
func (o *Offers) Metadata(ctx context.Context, tenantID string) (*IssuerMetadata, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	alg, err := o.svc.signingAlg(ctx, t)
	if err != nil {
		return nil, err
	}
	iss := o.IssuerURL(t.ID)
	md := &IssuerMetadata{CredentialIssuer: iss, CredentialEndpoint: iss + PathCredential, NonceEndpoint: iss + PathNonce,
		Display: []Display{{Name: t.Name}}, Configurations: map[string]CredentialConfiguration{}}
	for _, typ := range t.Types {
		if typ == AnyType {
			continue
		}
		for _, f := range offerFormats {
			if f.format == secure.DataIntegrity && alg != "EdDSA" {
				continue
			}
			md.Configurations[configID(typ, f.format)] = configuration(typ, f.id, alg)
		}
	}
	return md, nil
}

func configuration(typ, format, alg string) CredentialConfiguration {
	c := CredentialConfiguration{Format: format, SigningAlgs: []string{alg}, BindingMethods: bindingMethods,
		ProofTypes: map[string]ProofTypeMetadata{"jwt": {Algs: proofAlgs}}}
	d := Display{Name: words(typ)}
	if ht, ok := healthcare.Lookup(typ); ok {
		d.Description = ht.Description
	}
	c.Metadata = &CredentialMetadata{Display: []Display{d}}
	switch format {
	case "ldp_vc":
		c.Definition = &CredentialDefinition{Context: contextOf(typ), Type: []string{vc.TypeCredential, typ}}
		c.SigningAlgs = []string{"eddsa-rdfc-2022"}
	case "jwt_vc_json":
		c.Definition = &CredentialDefinition{Type: []string{vc.TypeCredential, typ}}
	default:
		c.VCT = vctOf(typ)
	}
	return c
}

// vctOf is the SD-JWT VC type secure.Engine gives a credential type.
func vctOf(typ string) string {
	if _, ok := healthcare.Lookup(typ); ok {
		return healthcare.Vocab + typ
	}
	return "urn:credence:type:" + typ
}

// words splits a type name: "MedicalLicenseCredential" → "Medical License
// Credential".
func words(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && s[i-1] >= 'a' && s[i-1] <= 'z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// AuthServer is a tenant's authorization server metadata.
func (o *Offers) AuthServer(ctx context.Context, tenantID string) (*AuthServerMetadata, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	iss := o.IssuerURL(t.ID)
	return &AuthServerMetadata{Issuer: iss, TokenEndpoint: iss + PathToken, GrantTypes: []string{GrantPreAuthorized},
		AuthMethods: []string{"none"}, Anonymous: true}, nil
}
