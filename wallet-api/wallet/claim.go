package wallet

// Receiving credentials by OpenID for Verifiable Credential Issuance 1.0,
// pre-authorized code flow: the wallet reads a credential offer, the
// issuer's metadata and its authorization server's, exchanges the
// pre-authorized code (and the transaction code) for an access token, and
// for each offered configuration gets a c_nonce, signs a key proof with
// the holder's key (kid its DID URL) and stores the credential it
// receives with AddCredential, which verifies it and its binding to the
// holder. Every URL is fetched with the Claimer's client, which refuses
// private addresses unless the server allows them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/credence/credence/vc"
)

// Errors of claiming an offer.
var (
	// ErrOffer is an unusable credential offer (malformed, not a
	// pre-authorized code offer, a missing or malformed transaction code,
	// configurations the issuer does not describe or the wallet cannot
	// hold).
	ErrOffer = errors.New("invalid credential offer")
	// ErrIssuer is a credential issuer that cannot be reached or refuses:
	// see *IssuerError for the issuer's error code.
	ErrIssuer = errors.New("credential issuer failed")
)

// IssuerError is an error answer of a credential issuer's endpoint.
type IssuerError struct {
	Endpoint    string // "token", "nonce", "credential", ...
	Status      int
	Code        string // the OAuth / OpenID4VCI error code, if any
	Description string
}

func (e *IssuerError) Error() string {
	msg := fmt.Sprintf("the issuer's %s endpoint answered HTTP %d", e.Endpoint, e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrIssuer) hold.
func (e *IssuerError) Unwrap() error { return ErrIssuer }

// Protocol identifiers the wallet uses.
const (
	grantPreAuthorized = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
	proofTyp           = "openid4vci-proof+jwt"
	offerScheme        = "openid-credential-offer"
	maxOfferBytes      = 64 << 10
	maxMetadataBytes   = 1 << 20
	maxTokenBytes      = 64 << 10
	maxCredentialResp  = MaxCredentialBytes + 64<<10
)

// credentialFormats are the OpenID4VCI formats the wallet stores.
var credentialFormats = []string{"ldp_vc", "jwt_vc_json", "jwt_vc_json-ld", "dc+sd-jwt"}

// Claimer claims credential offers for the holders of a wallet.
type Claimer struct {
	Wallet *Service
	// HTTP reaches issuers; the server gives the client that refuses
	// private addresses.
	HTTP *http.Client
	// AllowHTTP accepts credential issuers and offer URIs on plain http
	// (development; OpenID4VCI requires https).
	AllowHTTP bool
}

// ClaimRequest is what the holder gives: the offer, as the wallet was
// invoked with it (an openid-credential-offer:// URL, or any URL with a
// credential_offer or credential_offer_uri parameter), the https URL of a
// credential_offer_uri, or the Credential Offer JSON object; and the
// transaction code, if the offer asks for one.
type ClaimRequest struct {
	Offer  json.RawMessage
	TxCode string
}

// claim is one flow in progress.
type claim struct {
	c      *Claimer
	holder string
	signer vc.Signer
	did    string
	offer  credentialOffer
	grant  preAuthGrant
	md     issuerMetadata
	token  string
	idents map[string][]string
	stored []Stored
}

// call is one HTTP request to the issuer.
type call struct {
	method, endpoint, url string
	ctype, bearer         string
	body                  []byte
	limit                 int64
}

// Claim claims an offer for a holder and stores the credentials it gives,
// in the order of the offer. ErrOffer: the offer or the transaction code
// is unusable; ErrIssuer (an *IssuerError when the issuer answered an
// error): the issuer could not be reached or refused; the errors of
// AddCredential when a credential does not verify or is not bound to the
// holder. Credentials stored before a failure stay stored.
func (c *Claimer) Claim(ctx context.Context, holderID string, req ClaimRequest) ([]Stored, error) {
	h, err := c.Wallet.Holder(ctx, holderID)
	if err != nil {
		return nil, err
	}
	signer, err := c.Wallet.Signer(ctx, holderID)
	if err != nil {
		return nil, err
	}
	cl := &claim{c: c, holder: holderID, signer: signer, did: h.DID}
	if err := cl.readOffer(ctx, req); err != nil {
		return nil, err
	}
	if err := cl.readMetadata(ctx); err != nil {
		return nil, err
	}
	if err := cl.exchange(ctx, req.TxCode); err != nil {
		return nil, err
	}
	for _, id := range cl.offer.Configs {
		if err := cl.receive(ctx, id); err != nil {
			return cl.stored, err
		}
	}
	return cl.stored, nil
}

// checkURL admits an https URL (http with AllowHTTP) without fragment.
func (c *Claimer) checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme == "https", u.Scheme == "http" && c.AllowHTTP:
		return nil
	}
	return fmt.Errorf("%q: issuers are reached over https", s)
}

// do sends a request and returns the body of a 2xx answer; an error
// answer becomes an *IssuerError with the OAuth error code if any.
func (c *Claimer) do(ctx context.Context, k call) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	endpoint, limit := k.endpoint, k.limit
	req, err := http.NewRequestWithContext(ctx, k.method, k.url, bytes.NewReader(k.body))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrIssuer, endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	if k.ctype != "" {
		req.Header.Set("Content-Type", k.ctype)
	}
	if k.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+k.bearer)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot reach the issuer's %s endpoint: %w", ErrIssuer, endpoint, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: reading the issuer's %s answer: %w", ErrIssuer, endpoint, err)
	case int64(len(b)) > limit:
		return nil, fmt.Errorf("%w: the issuer's %s answer is larger than %d bytes", ErrIssuer, endpoint, limit)
	case res.StatusCode/100 != 2:
		ie := &IssuerError{Endpoint: endpoint, Status: res.StatusCode}
		var oe struct {
			Error            string `json:"error"`
			ErrorDescription string `json:"error_description"`
		}
		if json.Unmarshal(b, &oe) == nil {
			ie.Code, ie.Description = oe.Error, oe.ErrorDescription
		}
		if len(ie.Description) > 300 {
			ie.Description = ie.Description[:300] + "..."
		}
		return nil, ie
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/json" {
		return nil, fmt.Errorf("%w: the issuer's %s answer is %q, not application/json", ErrIssuer, endpoint, mt)
	}
	return b, nil
}
