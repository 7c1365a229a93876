package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/secure"
)

// fakeIssuer is an OpenID4VCI credential issuer written from the
// specification, independent of package issuer: it offers a license in
// ldp_vc and in dc+sd-jwt, with a transaction code, and checks every
// message the wallet sends.
type fakeIssuer struct {
	t      *testing.T
	srv    *httptest.Server
	signer issuer
	id     string // credential issuer identifier

	mu          sync.Mutex
	txCode      string
	code        string
	token       string
	nonces      map[string]bool
	seen        []string // requests, "METHOD path"
	proofs      []map[string]any
	rejectNonce int // answer invalid_nonce this many times
	mdIssuer    string
	seq         int
	// details makes the token response carry authorization_details with
	// two credential identifiers for license_di.
	details bool
	idents  []string // credential_identifier values received
}

const fakeTx = "123456"

func newFakeIssuer(t *testing.T, tls bool) *fakeIssuer {
	f := &fakeIssuer{t: t, signer: newIssuer(t), txCode: fakeTx, code: "pre-auth-code-1", nonces: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-credential-issuer/tenant", f.metadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server/tenant", f.asMetadata)
	mux.HandleFunc("GET /tenant/offer", f.offerByRef)
	mux.HandleFunc("POST /tenant/token", f.tokenEndpoint)
	mux.HandleFunc("POST /tenant/nonce", f.nonceEndpoint)
	mux.HandleFunc("POST /tenant/credential", f.credential)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen = append(f.seen, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	if tls {
		f.srv = httptest.NewTLSServer(h)
	} else {
		f.srv = httptest.NewServer(h)
	}
	t.Cleanup(f.srv.Close)
	f.id = f.srv.URL + "/tenant"
	f.mdIssuer = f.id
	return f
}

func (f *fakeIssuer) offer() map[string]any {
	return map[string]any{"credential_issuer": f.id, "credential_configuration_ids": []string{"license_di", "license_sd"},
		"grants": map[string]any{"urn:ietf:params:oauth:grant-type:pre-authorized_code": map[string]any{
			"pre-authorized_code": f.code, "tx_code": map[string]any{"length": 6, "input_mode": "numeric"}}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": "fake issuer says " + code})
}

func (f *fakeIssuer) metadata(w http.ResponseWriter, _ *http.Request) {
	proof := map[string]any{"jwt": map[string]any{"proof_signing_alg_values_supported": []string{"EdDSA", "ES256"}}}
	writeJSON(w, 200, map[string]any{
		"credential_issuer": f.mdIssuer, "credential_endpoint": f.id + "/credential", "nonce_endpoint": f.id + "/nonce",
		"credential_configurations_supported": map[string]any{
			"license_di": map[string]any{"format": "ldp_vc", "credential_definition": map[string]any{"type": []string{"VerifiableCredential", "MedicalLicenseCredential"}},
				"cryptographic_binding_methods_supported": []string{"did:key", "did:jwk"}, "proof_types_supported": proof},
			"license_sd": map[string]any{"format": "dc+sd-jwt", "vct": healthcare.Vocab + "MedicalLicenseCredential",
				"cryptographic_binding_methods_supported": []string{"did:key", "did:jwk"}, "proof_types_supported": proof},
			"mdl": map[string]any{"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL"},
		}})
}

func (f *fakeIssuer) asMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, map[string]any{"issuer": f.id, "token_endpoint": f.id + "/token",
		"pre-authorized_grant_anonymous_access_supported": true})
}

func (f *fakeIssuer) offerByRef(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, f.offer()) }

func (f *fakeIssuer) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		oauthError(w, 400, "invalid_request")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:pre-authorized_code" || r.PostForm.Has("client_id"):
		oauthError(w, 400, "invalid_request")
	case r.PostForm.Get("pre-authorized_code") != f.code || f.token != "":
		oauthError(w, 400, "invalid_grant")
	case r.PostForm.Get("tx_code") != f.txCode:
		oauthError(w, 400, "invalid_grant")
	default:
		f.token = "access-token-1"
		resp := map[string]any{"access_token": f.token, "token_type": "bearer", "expires_in": 300}
		if f.details {
			resp["authorization_details"] = []any{map[string]any{"type": "openid_credential",
				"credential_configuration_id": "license_di", "credential_identifiers": []string{"lic-1", "lic-2"}}}
		}
		writeJSON(w, 200, resp)
	}
}

func (f *fakeIssuer) nonceEndpoint(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	n := fmt.Sprintf("nonce-%d", f.seq)
	f.nonces[n] = true
	writeJSON(w, 200, map[string]string{"c_nonce": n})
}

func (f *fakeIssuer) credential(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.token || f.token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		oauthError(w, 401, "invalid_token")
		return
	}
	var req struct {
		Config string `json:"credential_configuration_id"`
		Ident  string `json:"credential_identifier"`
		Proofs struct {
			JWT []string `json:"jwt"`
		} `json:"proofs"`
	}
	b, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &req) != nil || len(req.Proofs.JWT) != 1 ||
		(req.Ident != "" && req.Config != "") || (f.details && req.Config == "license_di") {
		oauthError(w, 400, "invalid_credential_request")
		return
	}
	if req.Ident != "" {
		f.idents = append(f.idents, req.Ident)
		req.Config = "license_di"
	}
	holder, claims, err := f.checkProof(r.Context(), req.Proofs.JWT[0])
	if err != nil {
		f.t.Logf("proof refused: %v", err)
		oauthError(w, 400, "invalid_proof")
		return
	}
	if f.rejectNonce > 0 || !f.nonces[claims["nonce"].(string)] {
		f.rejectNonce--
		oauthError(w, 400, "invalid_nonce")
		return
	}
	delete(f.nonces, claims["nonce"].(string))
	f.proofs = append(f.proofs, claims)
	cred, err := f.issue(r.Context(), req.Config, holder)
	if err != nil {
		oauthError(w, 400, "unknown_credential_configuration")
		return
	}
	writeJSON(w, 200, map[string]any{"credentials": []any{map[string]any{"credential": cred}}})
}

// checkProof verifies a key proof as OpenID4VCI Appendix F.1 says.
func (f *fakeIssuer) checkProof(ctx context.Context, proof string) (holder, map[string]any, error) {
	j, err := jose.Parse(proof, 0)
	if err != nil {
		return holder{}, nil, err
	}
	if j.Header.Typ != "openid4vci-proof+jwt" || j.Header.Kid == "" {
		return holder{}, nil, fmt.Errorf("header %+v", j.Header)
	}
	pub, err := (vc.DIDKeys{Resolver: did.NewResolver()}).PublicKey(ctx, j.Header.Kid, vc.PurposeAuthentication)
	if err != nil {
		return holder{}, nil, err
	}
	if err := j.Verify(pub); err != nil {
		return holder{}, nil, err
	}
	var claims map[string]any
	if err := json.Unmarshal(j.Payload, &claims); err != nil {
		return holder{}, nil, err
	}
	if claims["aud"] != f.id || claims["iat"] == nil || claims["nonce"] == nil || claims["iss"] != nil {
		return holder{}, nil, fmt.Errorf("claims %v", claims)
	}
	u, _ := did.ParseURL(j.Header.Kid)
	return holder{did: u.DID.String(), pub: pub}, claims, nil
}

type holder struct {
	did string
	pub any
}

// issue secures a license for the holder: ldp_vc as an object, dc+sd-jwt
// as its compact token.
func (f *fakeIssuer) issue(ctx context.Context, config string, h holder) (any, error) {
	sub := subject(healthcare.MedicalLicense, 5)
	sub["id"] = h.did
	doc := map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL}, "id": "urn:uuid:3f0c6e58-7f2b-4d4e-9a57-" + fmt.Sprintf("%012d", len(f.proofs)),
		"type": []any{vc.TypeCredential, healthcare.MedicalLicense}, "issuer": f.signer.did, "validFrom": "2025-01-01T00:00:00Z", "credentialSubject": sub}
	o := secure.IssueOptions{Format: secure.DataIntegrity, Now: testNow}
	switch config {
	case "license_di":
	case "license_sd":
		o.Format, o.HolderKey = secure.SDJWT, h.pub
	default:
		return nil, errors.New("unknown configuration")
	}
	out, err := engine.Issue(ctx, doc, f.signer.signer, o)
	if err != nil || o.Format == secure.DataIntegrity {
		return out, err
	}
	id := out.(map[string]any)["id"].(string)
	return id[strings.IndexByte(id, ',')+1:], nil
}

func (f *fakeIssuer) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func newClaimer(t *testing.T, f *fakeIssuer) (*Claimer, Holder) {
	t.Helper()
	s, _ := newService(t, backends[0].open(t), newMaster(t))
	h, _ := mustHolder(t, s, HolderInput{})
	return &Claimer{Wallet: s, HTTP: f.srv.Client()}, h
}

func quoted(s string) json.RawMessage { b, _ := json.Marshal(s); return b }

func TestClaimOffer(t *testing.T) {
	f := newFakeIssuer(t, true)
	c, h := newClaimer(t, f)
	ref := f.id + "/offer"
	offerURL := "openid-credential-offer://?credential_offer_uri=" + url.QueryEscape(ref)
	got, err := c.Claim(t.Context(), h.ID, ClaimRequest{Offer: quoted(offerURL), TxCode: fakeTx})
	if err != nil {
		t.Fatalf("Claim: %v (requests %v)", err, f.requests())
	}
	if len(got) != 2 || got[0].Format != "eddsa-rdfc-2022" || got[1].Format != "dc+sd-jwt" {
		t.Fatalf("stored %d credentials: %+v", len(got), got)
	}
	for _, st := range got {
		if st.Issuer != f.signer.did || st.Claims.SubjectIDs()[0] != h.DID {
			t.Errorf("stored %s from %s about %v", st.Format, st.Issuer, st.Claims["credentialSubject"])
		}
		if _, err := c.Wallet.Credential(t.Context(), h.ID, st.ID); err != nil {
			t.Errorf("not in the wallet: %v", err)
		}
	}
	if tok, ok := jsonString(got[1].Credential); !ok || strings.Count(tok, "~") < 1 {
		t.Errorf("the SD-JWT VC is stored as %s", got[1].Credential)
	}
	want := []string{"GET /tenant/offer", "GET /.well-known/openid-credential-issuer/tenant", "GET /.well-known/oauth-authorization-server/tenant",
		"POST /tenant/token", "POST /tenant/nonce", "POST /tenant/credential", "POST /tenant/nonce", "POST /tenant/credential"}
	if fmt.Sprint(f.requests()) != fmt.Sprint(want) {
		t.Errorf("requests\n%v\nwant\n%v", f.requests(), want)
	}
	if len(f.proofs) != 2 || f.proofs[0]["nonce"] == f.proofs[1]["nonce"] {
		t.Errorf("proofs %v", f.proofs)
	}
}

// TestClaimCredentialIdentifiers: when the token response names credential
// identifiers, the wallet requests each of them instead of the
// configuration.
func TestClaimCredentialIdentifiers(t *testing.T) {
	f := newFakeIssuer(t, true)
	f.details = true
	c, h := newClaimer(t, f)
	got, err := c.Claim(t.Context(), h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx})
	if err != nil || len(got) != 3 {
		t.Fatalf("Claim: %d credentials, %v", len(got), err)
	}
	if fmt.Sprint(f.idents) != "[lic-1 lic-2]" || got[0].ID == got[1].ID {
		t.Errorf("identifiers requested %v; stored %s %s", f.idents, got[0].ID, got[1].ID)
	}
}

func TestClaimOfferForms(t *testing.T) {
	f := newFakeIssuer(t, true)
	byValue, _ := json.Marshal(f.offer())
	for name, offer := range map[string]json.RawMessage{
		"object":          byValue,
		"by value":        quoted("openid-credential-offer://?credential_offer=" + url.QueryEscape(string(byValue))),
		"https reference": quoted(f.id + "/offer"),
	} {
		t.Run(name, func(t *testing.T) {
			f.mu.Lock()
			f.token = ""
			f.mu.Unlock()
			c, h := newClaimer(t, f)
			if got, err := c.Claim(t.Context(), h.ID, ClaimRequest{Offer: offer, TxCode: fakeTx}); err != nil || len(got) != 2 {
				t.Errorf("Claim: %d credentials, %v", len(got), err)
			}
		})
	}
}

func TestClaimOfferRefused(t *testing.T) {
	ctx := context.Background()
	f := newFakeIssuer(t, true)
	offer, _ := json.Marshal(f.offer())
	edit := func(fn func(m map[string]any)) json.RawMessage {
		m := f.offer()
		fn(m)
		b, _ := json.Marshal(m)
		return b
	}
	grant := func(m map[string]any) map[string]any {
		return m["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)
	}
	for _, c := range []struct {
		name  string
		offer json.RawMessage
		tx    string
		want  error
		code  string // the issuer's error code
	}{
		{"wrong tx_code", offer, "654321", ErrIssuer, "invalid_grant"},
		{"no tx_code", offer, "", ErrOffer, ""},
		{"tx_code of another length", offer, "1234", ErrOffer, ""},
		{"tx_code not digits", offer, "12345a", ErrOffer, ""},
		{"wrong code", edit(func(m map[string]any) { grant(m)["pre-authorized_code"] = "other" }), fakeTx, ErrIssuer, "invalid_grant"},
		{"no pre-authorized grant", edit(func(m map[string]any) { m["grants"] = map[string]any{"authorization_code": map[string]any{}} }), fakeTx, ErrOffer, ""},
		{"unknown configuration", edit(func(m map[string]any) { m["credential_configuration_ids"] = []string{"nope"} }), fakeTx, ErrOffer, ""},
		{"mso_mdoc configuration", edit(func(m map[string]any) { m["credential_configuration_ids"] = []string{"mdl"} }), fakeTx, ErrOffer, ""},
		{"plain http issuer", edit(func(m map[string]any) { m["credential_issuer"] = strings.Replace(f.id, "https:", "http:", 1) }), fakeTx, ErrOffer, ""},
		{"not an offer", quoted("hello"), fakeTx, ErrOffer, ""},
		{"array", json.RawMessage(`[1]`), fakeTx, ErrOffer, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.mu.Lock()
			f.token, f.seen = "", nil
			f.mu.Unlock()
			cl, h := newClaimer(t, f)
			got, err := cl.Claim(ctx, h.ID, ClaimRequest{Offer: c.offer, TxCode: c.tx})
			if !errors.Is(err, c.want) || len(got) != 0 {
				t.Fatalf("got %d credentials, %v; want %v", len(got), err, c.want)
			}
			var ie *IssuerError
			if c.code != "" && (!errors.As(err, &ie) || ie.Code != c.code || !strings.Contains(err.Error(), c.code)) {
				t.Errorf("issuer error %v, want code %s", err, c.code)
			}
			if c.want == ErrOffer && c.code == "" {
				for _, r := range f.requests() {
					if strings.HasPrefix(r, "POST") {
						t.Errorf("an unusable offer reached %s", r)
					}
				}
			}
			if list, _ := cl.Wallet.Credentials(ctx, h.ID, Filter{}); len(list) != 0 {
				t.Errorf("the wallet holds %d credentials", len(list))
			}
		})
	}
}

func TestClaimOfferIssuerChecks(t *testing.T) {
	ctx := context.Background()
	t.Run("metadata of another issuer", func(t *testing.T) {
		f := newFakeIssuer(t, true)
		f.mdIssuer = "https://evil.example/tenant"
		c, h := newClaimer(t, f)
		if _, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); !errors.Is(err, ErrIssuer) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("invalid_nonce is retried once", func(t *testing.T) {
		f := newFakeIssuer(t, true)
		f.rejectNonce = 1
		c, h := newClaimer(t, f)
		if got, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); err != nil || len(got) != 2 {
			t.Errorf("got %d, %v", len(got), err)
		}
	})
	t.Run("invalid_nonce twice fails", func(t *testing.T) {
		f := newFakeIssuer(t, true)
		f.rejectNonce = 2
		c, h := newClaimer(t, f)
		var ie *IssuerError
		if _, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); !errors.As(err, &ie) || ie.Code != "invalid_nonce" || ie.Endpoint != "credential" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("plain http only when allowed", func(t *testing.T) {
		f := newFakeIssuer(t, false)
		c, h := newClaimer(t, f)
		if _, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); !errors.Is(err, ErrOffer) || len(f.requests()) != 0 {
			t.Errorf("http without AllowHTTP: %v, requests %v", err, f.requests())
		}
		c.AllowHTTP = true
		if got, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); err != nil || len(got) != 2 {
			t.Errorf("http with AllowHTTP: %d, %v", len(got), err)
		}
	})
	t.Run("unreachable issuer", func(t *testing.T) {
		f := newFakeIssuer(t, true)
		c, h := newClaimer(t, f)
		f.srv.Close()
		if _, err := c.Claim(ctx, h.ID, ClaimRequest{Offer: quoted(f.id + "/offer"), TxCode: fakeTx}); !errors.Is(err, ErrIssuer) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unknown holder", func(t *testing.T) {
		f := newFakeIssuer(t, true)
		c, _ := newClaimer(t, f)
		if _, err := c.Claim(ctx, "hnosuchholder", ClaimRequest{Offer: quoted(f.id + "/offer")}); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("got %v", err)
		}
	})
}

func TestWellKnown(t *testing.T) {
	for id, want := range map[string]string{
		"https://issuer.example.com/tenant":    "https://issuer.example.com/.well-known/openid-credential-issuer/tenant",
		"https://tenant.issuer.example.com":    "https://tenant.issuer.example.com/.well-known/openid-credential-issuer",
		"https://issuer.example.com/":          "https://issuer.example.com/.well-known/openid-credential-issuer",
		"https://issuer.example.com:8443/a/b/": "https://issuer.example.com:8443/.well-known/openid-credential-issuer/a/b",
	} {
		if got := wellKnown(id, "/.well-known/openid-credential-issuer"); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
}
