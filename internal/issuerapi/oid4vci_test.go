package issuerapi

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
	"github.com/gin-gonic/gin"
)

// didKeys makes did:key issuer DIDs and keeps their keys.
type didKeys struct {
	mu   sync.Mutex
	keys map[string]ed25519.PrivateKey
}

func (d *didKeys) CreateIssuerDID(context.Context, string, string) (string, error) {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	id, err := did.KeyDID(k.Public())
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys[id.String()] = k
	return id.String(), nil
}

func (d *didKeys) AssertionKey(_ context.Context, id string) (string, string, error) {
	return id + "#" + did.MustParse(id).ID, id, nil
}

func (d *didKeys) Signer(_ context.Context, keyID string) (crypto.Signer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.keys[keyID]; ok {
		return k, nil
	}
	return nil, errors.New("no such key")
}

type noTokens struct{}

func (noTokens) IssueToken(context.Context, string, string, ...string) (string, error) {
	return "secret", nil
}

type holderKeys struct{ r *did.Resolver }

func (h holderKeys) HolderKey(ctx context.Context, id string) (crypto.PublicKey, error) {
	res, err := h.r.Resolve(ctx, id, did.Options{})
	if err != nil {
		return nil, err
	}
	m, _ := res.Document.Method(res.Document.Authentication[0].ID())
	return m.PublicKey()
}

var engine = secure.New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))

// oidServer serves the issuer API with offers over HTTP; the tenant routes
// are mounted without authentication (the server's middleware does that).
type oidServer struct {
	*httptest.Server
	tenant   issuer.Tenant
	resolver *did.Resolver
}

func newOIDServer(t *testing.T) *oidServer {
	t.Helper()
	gin.SetMode(gin.TestMode)
	resolver := did.NewResolver()
	dk := &didKeys{keys: map[string]ed25519.PrivateKey{}}
	svc := issuer.New(memkv.New(), dk, dk, noTokens{}, engine, holderKeys{resolver}, issuer.WithClock(func() time.Time { return testNow }))
	tn, _, err := svc.CreateTenant(context.Background(), issuer.TenantInput{Name: "Arizona Medical Board",
		Jurisdictions: []string{"AZ"}, Types: []string{healthcare.MedicalLicense}})
	if err != nil {
		t.Fatal(err)
	}
	e := gin.New()
	s := &oidServer{tenant: tn, resolver: resolver}
	s.Server = httptest.NewUnstartedServer(e)
	base := "http://" + s.Listener.Addr().String()
	a := &API{Issuer: svc, Log: slog.New(slog.DiscardHandler), Offers: issuer.NewOffers(svc, vc.DIDKeys{Resolver: resolver}, base, testNonceKey)}
	a.Routes(e, e)
	a.PublicRoutes(e)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *oidServer) issuerURL() string { return s.URL + "/issuers/" + s.tenant.ID }

// call sends a request and decodes a JSON answer into out (if not nil).
func call(t *testing.T, method, u, ctype, body string, hdr map[string]string, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, u, res.StatusCode, b, err)
		}
	}
	return res
}

// sampleLicense is the issuer package's sample license credential.
func sampleLicense(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "issuer", "testdata", "medical-license.vc.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func licenseTemplate(t *testing.T, extra string) string {
	t.Helper()
	subject := sampleLicense(t)["credentialSubject"].(map[string]any)
	delete(subject, "id")
	body, _ := json.Marshal(map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{vc.TypeCredential, healthcare.MedicalLicense},
		"credentialSubject": subject}})
	if extra != "" {
		body = append(body[:len(body)-1], []byte(","+extra+"}")...)
	}
	return string(body)
}

type oauthErr struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func wantOAuthError(t *testing.T, what string, res *http.Response, e oauthErr, status int, code string) {
	t.Helper()
	if res.StatusCode != status || e.Error != code {
		t.Errorf("%s: %d %+v, want %d %s", what, res.StatusCode, e, status, code)
	}
	if res.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: headers %v", what, res.Header)
	}
	for _, r := range e.Description {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("%s: error_description %q has %q", what, e.Description, r)
		}
	}
}

func TestOID4VCIEndpoints(t *testing.T) {
	s := newOIDServer(t)
	iss := s.issuerURL()

	// The tenant makes an offer with a transaction code.
	var created struct {
		ID      string         `json:"id"`
		Offer   map[string]any `json:"credential_offer"`
		URI     string         `json:"credential_offer_uri"`
		URL     string         `json:"offer_url"`
		Expires string         `json:"expires"`
		TxCode  string         `json:"txCode"`
	}
	res := call(t, "POST", iss+"/offers", "application/json", licenseTemplate(t, `"txCode":{"description":"by SMS"}`), nil, &created)
	if res.StatusCode != http.StatusCreated || res.Header.Get("Location") != "/issuers/"+s.tenant.ID+"/offers/"+created.ID {
		t.Fatalf("create: %d %+v", res.StatusCode, created)
	}
	if created.Offer["credential_issuer"] != iss || created.Expires == "" || len(created.TxCode) != 6 {
		t.Errorf("created %+v", created)
	}
	grant := created.Offer["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	code := grant["pre-authorized_code"].(string)
	if tx := grant["tx_code"].(map[string]any); tx["input_mode"] != "numeric" || tx["length"] != 6.0 || tx["description"] != "by SMS" {
		t.Errorf("tx_code %v", tx)
	}
	u, _ := url.Parse(created.URL)
	if u.Scheme != "openid-credential-offer" || u.Query().Get("credential_offer_uri") != created.URI || !strings.HasPrefix(created.URI, iss+"/credential-offer?ref=") {
		t.Errorf("offer_url %s, uri %s", created.URL, created.URI)
	}

	// The offer by reference.
	var byRef map[string]any
	res = call(t, "GET", created.URI, "", "", nil, &byRef)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("offer by reference: %d %v", res.StatusCode, res.Header)
	}
	if b1, b2 := mustJSON(byRef), mustJSON(created.Offer); b1 != b2 {
		t.Errorf("offer by reference %s, want %s", b1, b2)
	}
	if res := call(t, "GET", iss+"/credential-offer?ref=nope", "", "", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown reference: %d", res.StatusCode)
	}

	// Metadata, at the well-known URL inserted before the issuer's path.
	var md struct {
		CredentialIssuer string                    `json:"credential_issuer"`
		Credential       string                    `json:"credential_endpoint"`
		Nonce            string                    `json:"nonce_endpoint"`
		AuthServers      []string                  `json:"authorization_servers"`
		Configs          map[string]map[string]any `json:"credential_configurations_supported"`
	}
	call(t, "GET", s.URL+"/.well-known/openid-credential-issuer/issuers/"+s.tenant.ID, "", "", nil, &md)
	lic := md.Configs["MedicalLicenseCredential_di"]
	if md.CredentialIssuer != iss || md.Credential != iss+"/credential" || md.Nonce != iss+"/nonce" || md.AuthServers != nil || lic["format"] != "ldp_vc" {
		t.Errorf("metadata %+v", md)
	}
	if pt := lic["proof_types_supported"].(map[string]any)["jwt"].(map[string]any); len(pt["proof_signing_alg_values_supported"].([]any)) != 2 {
		t.Errorf("proof types %v", pt)
	}
	var as map[string]any
	call(t, "GET", s.URL+"/.well-known/oauth-authorization-server/issuers/"+s.tenant.ID, "", "", nil, &as)
	if as["issuer"] != iss || as["token_endpoint"] != iss+"/token" || as["pre-authorized_grant_anonymous_access_supported"] != true {
		t.Errorf("authorization server metadata %v", as)
	}
	if res := call(t, "GET", s.URL+"/.well-known/openid-credential-issuer/issuers/nobody", "", "", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("metadata of an unknown issuer: %d", res.StatusCode)
	}

	// The token endpoint.
	form := func(v url.Values) string { return v.Encode() }
	good := url.Values{"grant_type": {issuer.GrantPreAuthorized}, "pre-authorized_code": {code}, "tx_code": {created.TxCode}}
	var e oauthErr
	res = call(t, "POST", iss+"/token", "application/json", `{}`, nil, &e)
	wantOAuthError(t, "JSON token request", res, e, 400, "invalid_request")
	e = oauthErr{}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded", form(good)+"&grant_type=x", nil, &e)
	wantOAuthError(t, "repeated parameter", res, e, 400, "invalid_request")
	e = oauthErr{}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=x", nil, &e)
	wantOAuthError(t, "authorization code grant", res, e, 400, "unsupported_grant_type")
	e = oauthErr{}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {issuer.GrantPreAuthorized}, "pre-authorized_code": {code}}), nil, &e)
	wantOAuthError(t, "no tx_code", res, e, 400, "invalid_request")
	e = oauthErr{}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded", form(url.Values{"grant_type": {issuer.GrantPreAuthorized}, "pre-authorized_code": {code}, "tx_code": {"000000"}}), nil, &e)
	wantOAuthError(t, "wrong tx_code", res, e, 400, "invalid_grant")
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded; charset=utf-8", form(good), nil, &tok)
	if res.StatusCode != 200 || tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != 300 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token: %d %+v", res.StatusCode, tok)
	}
	e = oauthErr{}
	res = call(t, "POST", iss+"/token", "application/x-www-form-urlencoded", form(good), nil, &e)
	wantOAuthError(t, "code used twice", res, e, 400, "invalid_grant")

	// The nonce endpoint.
	nonce := func() string {
		var n map[string]string
		res := call(t, "POST", iss+"/nonce", "", "", nil, &n)
		if res.StatusCode != 200 || n["c_nonce"] == "" || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("nonce: %d %v", res.StatusCode, n)
		}
		return n["c_nonce"]
	}

	// The credential endpoint.
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	hd, _ := did.KeyDID(hk.Public())
	doc, _ := did.KeyDocument(hd, "", false)
	signer := vc.Signer{Key: hk, VerificationMethod: doc.VerificationMethod[0].ID}
	proof := func(aud string) string {
		p, _ := vc.Marshal(map[string]any{"aud": aud, "iat": jsonNow(), "nonce": nonce()})
		j, err := jose.Sign(context.Background(), jose.Header{Typ: "openid4vci-proof+jwt", Kid: signer.VerificationMethod}, p, signer)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	credReq := func(aud string) string {
		return mustJSON(map[string]any{"credential_configuration_id": "MedicalLicenseCredential_di", "proofs": map[string]any{"jwt": []string{proof(aud)}}, "unknown_member": true})
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok.AccessToken}

	res = call(t, "POST", iss+"/credential", "application/json", credReq(iss), nil, nil)
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("without a token: %d %v", res.StatusCode, res.Header)
	}
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "application/json", credReq(iss), map[string]string{"Authorization": "Bearer nope"}, &e)
	wantOAuthError(t, "bad token", res, e, 401, "invalid_token")
	if !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("challenge %q", res.Header.Get("WWW-Authenticate"))
	}
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "text/plain", credReq(iss), bearer, &e)
	wantOAuthError(t, "text/plain", res, e, 400, "invalid_credential_request")
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "application/json", `{"credential_configuration_id":"a","credential_configuration_id":"b"}`, bearer, &e)
	wantOAuthError(t, "repeated member", res, e, 400, "invalid_credential_request")
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "application/json", `{"credential_configuration_id":"MedicalLicenseCredential_di"}`, bearer, &e)
	wantOAuthError(t, "no proofs", res, e, 400, "invalid_proof")
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "application/json", credReq(s.URL), bearer, &e)
	wantOAuthError(t, "wrong aud", res, e, 400, "invalid_proof")

	var out struct {
		Credentials []struct {
			Credential map[string]any `json:"credential"`
		} `json:"credentials"`
	}
	res = call(t, "POST", iss+"/credential", "application/json", credReq(iss), bearer, &out)
	if res.StatusCode != 200 || len(out.Credentials) != 1 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("credential: %d %+v", res.StatusCode, out)
	}
	v, err := engine.VerifyCredential(context.Background(), out.Credentials[0].Credential, vc.DIDKeys{Resolver: s.resolver}, secure.VerifyOptions{Now: testNow})
	if err != nil || v.Credential.SubjectIDs()[0] != hd.String() || v.Credential.Issuer() != s.tenant.DID {
		t.Errorf("issued credential: %v %v", v, err)
	}
	e = oauthErr{}
	res = call(t, "POST", iss+"/credential", "application/json", credReq(iss), bearer, &e)
	wantOAuthError(t, "second credential request", res, e, 401, "invalid_token")

	// The tenant sees the offer redeemed; the reference is gone.
	var st map[string]any
	call(t, "GET", iss+"/offers/"+created.ID, "", "", nil, &st)
	if st["state"] != "redeemed" || st["credentialId"] != v.Credential.ID() {
		t.Errorf("offer status %v", st)
	}
	if res := call(t, "GET", created.URI, "", "", nil, nil); res.StatusCode != http.StatusGone {
		t.Errorf("used offer by reference: %d", res.StatusCode)
	}
}

func TestOID4VCICreateOfferProblems(t *testing.T) {
	s := newOIDServer(t)
	var p struct {
		Type   string
		Status int
		Errors []struct{ Field string }
	}
	res := call(t, "POST", s.issuerURL()+"/offers", "application/json", licenseTemplate(t, `"expiresIn":999999`), nil, &p)
	if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/problem+json" || len(p.Errors) != 1 || p.Errors[0].Field != "/expiresIn" {
		t.Errorf("bad expiry: %d %+v", res.StatusCode, p)
	}
	p.Errors = nil
	res = call(t, "POST", s.issuerURL()+"/offers", "application/json", `{"credential":{},"surprise":1}`, nil, &p)
	if res.StatusCode != 400 {
		t.Errorf("unknown member: %d", res.StatusCode)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonNow() int64 { return testNow.Unix() }

// testNow is the issuer's clock: the example license is valid then.
var testNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

// testNonceKey is the c_nonce key of the tests' Offers.
var testNonceKey = bytes.Repeat([]byte{0x5c}, issuer.NonceKeyBytes)
