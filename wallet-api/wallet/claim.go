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
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
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

// credentialOffer is the Credential Offer object.
type credentialOffer struct {
	Issuer  string                     `json:"credential_issuer"`
	Configs []string                   `json:"credential_configuration_ids"`
	Grants  map[string]json.RawMessage `json:"grants"`
}

type preAuthGrant struct {
	Code   string `json:"pre-authorized_code"`
	TxCode *struct {
		InputMode string `json:"input_mode"`
		Length    int    `json:"length"`
	} `json:"tx_code"`
	AuthServer string `json:"authorization_server"`
}

type issuerMetadata struct {
	Issuer        string                    `json:"credential_issuer"`
	AuthServers   []string                  `json:"authorization_servers"`
	Credential    string                    `json:"credential_endpoint"`
	Nonce         string                    `json:"nonce_endpoint"`
	Configuration map[string]configMetadata `json:"credential_configurations_supported"`
}

type configMetadata struct {
	Format     string   `json:"format"`
	Binding    []string `json:"cryptographic_binding_methods_supported"`
	ProofTypes map[string]struct {
		Algs []string `json:"proof_signing_alg_values_supported"`
	} `json:"proof_types_supported"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Details     []struct {
		Type        string   `json:"type"`
		Config      string   `json:"credential_configuration_id"`
		Identifiers []string `json:"credential_identifiers"`
	} `json:"authorization_details"`
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

// readOffer parses the offer, fetching it by reference if need be.
func (cl *claim) readOffer(ctx context.Context, req ClaimRequest) error {
	raw := bytes.TrimSpace(req.Offer)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%w: %w", ErrOffer, err)
		}
		body, err := cl.offerOfURL(ctx, strings.TrimSpace(s))
		if err != nil {
			return err
		}
		raw = body
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("%w: give the offer URL or the credential offer object", ErrOffer)
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		return fmt.Errorf("%w: %w", ErrOffer, err)
	}
	if err := json.Unmarshal(raw, &cl.offer); err != nil {
		return fmt.Errorf("%w: %w", ErrOffer, err)
	}
	return cl.checkOffer(req.TxCode)
}

// offerOfURL reads an offer URL: credential_offer by value,
// credential_offer_uri by reference, or the URI itself.
func (cl *claim) offerOfURL(ctx context.Context, s string) ([]byte, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("%w: the offer is not a URL", ErrOffer)
	}
	q := u.Query()
	byValue, byRef := q.Get("credential_offer"), q.Get("credential_offer_uri")
	switch {
	case byValue != "" && byRef != "":
		return nil, fmt.Errorf("%w: credential_offer and credential_offer_uri are exclusive", ErrOffer)
	case byValue != "":
		return []byte(byValue), nil
	case byRef != "":
		s = byRef
	case u.Scheme == offerScheme:
		return nil, fmt.Errorf("%w: the offer URL has neither credential_offer nor credential_offer_uri", ErrOffer)
	}
	if err := cl.c.checkURL(s); err != nil {
		return nil, fmt.Errorf("%w: credential_offer_uri: %w", ErrOffer, err)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "credential offer", url: s, limit: maxOfferBytes})
	var ie *IssuerError
	if errors.As(err, &ie) && (ie.Status == http.StatusNotFound || ie.Status == http.StatusGone) {
		return nil, fmt.Errorf("%w: the issuer no longer has this offer (HTTP %d: expired, used or unknown)", ErrOffer, ie.Status)
	}
	return b, err
}

func (cl *claim) checkOffer(txCode string) error {
	o := cl.offer
	if err := cl.c.checkURL(o.Issuer); err != nil {
		return fmt.Errorf("%w: credential_issuer: %w", ErrOffer, err)
	}
	if len(o.Configs) == 0 || len(o.Configs) > 16 || slices.Contains(o.Configs, "") {
		return fmt.Errorf("%w: credential_configuration_ids must list 1 to 16 configurations", ErrOffer)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(o.Configs)))) != len(o.Configs) {
		return fmt.Errorf("%w: credential_configuration_ids repeats an id", ErrOffer)
	}
	g, ok := o.Grants[grantPreAuthorized]
	if !ok {
		return fmt.Errorf("%w: the offer has no pre-authorized_code grant (the authorization code flow is not supported)", ErrOffer)
	}
	if err := json.Unmarshal(g, &cl.grant); err != nil || cl.grant.Code == "" {
		return fmt.Errorf("%w: the pre-authorized_code grant has no code", ErrOffer)
	}
	tx := cl.grant.TxCode
	switch {
	case tx == nil:
	case txCode == "":
		return fmt.Errorf("%w: this offer needs the transaction code the issuer sent you (txCode)", ErrOffer)
	case tx.Length > 0 && len(txCode) != tx.Length:
		return fmt.Errorf("%w: the transaction code has %d characters", ErrOffer, tx.Length)
	case (tx.InputMode == "" || tx.InputMode == "numeric") && strings.Trim(txCode, "0123456789") != "":
		return fmt.Errorf("%w: the transaction code is digits only", ErrOffer)
	}
	return nil
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

// wellKnown inserts a well-known path between the host and the path of an
// identifier (OpenID4VCI §12.2.2, RFC 8414 §3.1).
func wellKnown(id, suffix string) string {
	u, _ := url.Parse(id)
	u.Path = suffix + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// readMetadata reads the credential issuer's metadata and finds the token
// endpoint in its authorization server's.
func (cl *claim) readMetadata(ctx context.Context) error {
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "metadata",
		url: wellKnown(cl.offer.Issuer, "/.well-known/openid-credential-issuer"), limit: maxMetadataBytes})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &cl.md); err != nil {
		return fmt.Errorf("%w: the issuer's metadata: %w", ErrIssuer, err)
	}
	if cl.md.Issuer != cl.offer.Issuer {
		return fmt.Errorf("%w: the metadata names credential_issuer %q, not %q", ErrIssuer, cl.md.Issuer, cl.offer.Issuer)
	}
	if err := cl.c.checkURL(cl.md.Credential); err != nil {
		return fmt.Errorf("%w: credential_endpoint: %w", ErrIssuer, err)
	}
	if cl.md.Nonce != "" {
		if err := cl.c.checkURL(cl.md.Nonce); err != nil {
			return fmt.Errorf("%w: nonce_endpoint: %w", ErrIssuer, err)
		}
	}
	for _, id := range cl.offer.Configs {
		cfg, ok := cl.md.Configuration[id]
		if !ok {
			return fmt.Errorf("%w: the issuer's metadata does not describe %q", ErrOffer, id)
		}
		if err := cl.checkConfig(id, cfg); err != nil {
			return err
		}
	}
	return nil
}

// checkConfig checks that the wallet can hold a configuration and prove
// its holder's key as the issuer asks.
func (cl *claim) checkConfig(id string, cfg configMetadata) error {
	if !slices.Contains(credentialFormats, cfg.Format) {
		return fmt.Errorf("%w: %s is in format %q, which this wallet does not hold", ErrOffer, id, cfg.Format)
	}
	method, _, _ := strings.Cut(strings.TrimPrefix(cl.did, "did:"), ":")
	if len(cfg.Binding) > 0 && !slices.Contains(cfg.Binding, "did:"+method) && !slices.Contains(cfg.Binding, "did") {
		return fmt.Errorf("%w: %s binds credentials to %v, not to the holder's did:%s", ErrOffer, id, cfg.Binding, method)
	}
	if len(cfg.ProofTypes) == 0 {
		return nil
	}
	jwt, ok := cfg.ProofTypes["jwt"]
	alg, err := cl.signer.Algorithm()
	if err != nil {
		return err
	}
	if !ok || !slices.Contains(jwt.Algs, alg) {
		return fmt.Errorf("%w: %s takes no jwt key proof signed with %s", ErrOffer, id, alg)
	}
	return nil
}

// tokenEndpoint finds the token endpoint in the authorization server's
// RFC 8414 metadata: the credential issuer's own, or the one of its
// authorization_servers the grant names (else the first).
func (cl *claim) tokenEndpoint(ctx context.Context) (string, error) {
	as := cl.offer.Issuer
	if servers := cl.md.AuthServers; len(servers) > 0 {
		as = servers[0]
		if hint := cl.grant.AuthServer; hint != "" {
			if !slices.Contains(servers, hint) {
				return "", fmt.Errorf("%w: the offer's authorization_server is not among the issuer's", ErrOffer)
			}
			as = hint
		}
	}
	if err := cl.c.checkURL(as); err != nil {
		return "", fmt.Errorf("%w: authorization server: %w", ErrIssuer, err)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "authorization server metadata",
		url: wellKnown(as, "/.well-known/oauth-authorization-server"), limit: maxMetadataBytes})
	if err != nil {
		return "", err
	}
	var md struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(b, &md); err != nil || md.Issuer != as {
		return "", fmt.Errorf("%w: the authorization server's metadata does not name it as issuer %q", ErrIssuer, as)
	}
	if err := cl.c.checkURL(md.TokenEndpoint); err != nil {
		return "", fmt.Errorf("%w: token_endpoint: %w", ErrIssuer, err)
	}
	return md.TokenEndpoint, nil
}

// exchange gets the access token for the pre-authorized code.
func (cl *claim) exchange(ctx context.Context, txCode string) error {
	endpoint, err := cl.tokenEndpoint(ctx)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {grantPreAuthorized}, "pre-authorized_code": {cl.grant.Code}}
	if cl.grant.TxCode != nil {
		form.Set("tx_code", txCode)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodPost, endpoint: "token", url: endpoint,
		ctype: "application/x-www-form-urlencoded", body: []byte(form.Encode()), limit: maxTokenBytes})
	if err != nil {
		return err
	}
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil || tr.AccessToken == "" {
		return fmt.Errorf("%w: the token response has no access_token", ErrIssuer)
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return fmt.Errorf("%w: token_type %q (this wallet uses Bearer tokens)", ErrIssuer, tr.TokenType)
	}
	cl.token, cl.idents = tr.AccessToken, map[string][]string{}
	for _, d := range tr.Details {
		if d.Type == "openid_credential" && len(d.Identifiers) > 0 {
			cl.idents[d.Config] = d.Identifiers
		}
	}
	return nil
}

// receive requests one configuration (each of its credential identifiers
// when the token response gave some) and stores what comes back. A
// rejected nonce is retried once with a fresh one.
func (cl *claim) receive(ctx context.Context, config string) error {
	targets := []map[string]any{{"credential_configuration_id": config}}
	if ids := cl.idents[config]; len(ids) > 0 {
		targets = targets[:0]
		for _, id := range ids {
			targets = append(targets, map[string]any{"credential_identifier": id})
		}
	}
	for _, body := range targets {
		b, err := cl.requestCredential(ctx, config, body)
		var ie *IssuerError
		if errors.As(err, &ie) && ie.Code == "invalid_nonce" {
			b, err = cl.requestCredential(ctx, config, body)
		}
		if err != nil {
			return err
		}
		if err := cl.store(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// requestCredential sends a credential request, with a key proof when
// the configuration takes one.
func (cl *claim) requestCredential(ctx context.Context, config string, body map[string]any) ([]byte, error) {
	if len(cl.md.Configuration[config].ProofTypes) > 0 {
		proof, err := cl.proof(ctx)
		if err != nil {
			return nil, err
		}
		body["proofs"] = map[string]any{"jwt": []string{proof}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return cl.c.do(ctx, call{method: http.MethodPost, endpoint: "credential", url: cl.md.Credential,
		ctype: "application/json", bearer: cl.token, body: b, limit: maxCredentialResp})
}

// proof signs a key proof: typ openid4vci-proof+jwt, kid the holder's DID
// URL; aud the credential issuer, iat now and the c_nonce, without iss
// (the token was obtained anonymously).
func (cl *claim) proof(ctx context.Context) (string, error) {
	claims := map[string]any{"aud": cl.offer.Issuer, "iat": cl.c.Wallet.now().Unix()}
	if cl.md.Nonce != "" {
		b, err := cl.c.do(ctx, call{method: http.MethodPost, endpoint: "nonce", url: cl.md.Nonce, limit: maxTokenBytes})
		if err != nil {
			return "", err
		}
		var n struct {
			Nonce string `json:"c_nonce"`
		}
		if err := json.Unmarshal(b, &n); err != nil || n.Nonce == "" {
			return "", fmt.Errorf("%w: the nonce response has no c_nonce", ErrIssuer)
		}
		claims["nonce"] = n.Nonce
	}
	payload, err := vc.Marshal(claims)
	if err != nil {
		return "", err
	}
	return jose.Sign(ctx, jose.Header{Typ: proofTyp, Kid: cl.signer.VerificationMethod}, payload, cl.signer)
}

// store adds each credential of a credential response to the wallet.
func (cl *claim) store(ctx context.Context, b []byte) error {
	var resp struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
		TransactionID string `json:"transaction_id"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("%w: the credential response: %w", ErrIssuer, err)
	}
	if resp.TransactionID != "" {
		return fmt.Errorf("%w: the issuer defers issuance, which this wallet does not support", ErrIssuer)
	}
	if len(resp.Credentials) == 0 {
		return fmt.Errorf("%w: the credential response has no credentials", ErrIssuer)
	}
	for _, c := range resp.Credentials {
		st, err := cl.c.Wallet.AddCredential(ctx, cl.holder, c.Credential)
		if err != nil {
			return err
		}
		cl.stored = append(cl.stored, st)
	}
	return nil
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
