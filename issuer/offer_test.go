package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/vctest"
)

const testBase = "https://credence.example"

// holderKey is a wallet's key and its DID URL.
type holderKey struct {
	did    string
	signer vc.Signer
}

func newHolderKey(t testing.TB) holderKey {
	t.Helper()
	d, s := vctest.KeySigner(t, nil)
	return holderKey{did: d, signer: s}
}

// offerEnv is an issuance env with the offers flow and two tenants.
type offerEnv struct {
	*env
	offers          *Offers
	board, identity Tenant
}

func newOfferEnv(t *testing.T) *offerEnv {
	e := &offerEnv{env: newEnv(t)}
	e.offers = NewOffers(e.svc, vc.DIDKeys{Resolver: e.resolver}, testBase+"/")
	e.board = e.tenant(t, TenantInput{Name: "Arizona Medical Board", Jurisdictions: []string{"AZ"}, Types: []string{"MedicalLicenseCredential"}})
	e.identity = e.tenant(t, TenantInput{Name: "Mercy identity desk", Jurisdictions: []string{"NY"}, Types: []string{"PatientIdentityCredential", AnyType}})
	return e
}

// template is an offer input of an example credential without subject id.
func template(t testing.TB, typ, format string) OfferInput {
	subject, _ := example(t, examples[typ])
	delete(subject, "id")
	return OfferInput{Credential: credential(typ, subject), Options: IssueOptions{Format: format}}
}

func (e *offerEnv) create(t *testing.T, tn Tenant, in OfferInput) *CreatedOffer {
	t.Helper()
	out, err := e.offers.Create(context.Background(), tn.ID, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return out
}

func (e *offerEnv) token(t *testing.T, tn Tenant, off *CreatedOffer, tx ...string) string {
	t.Helper()
	req := TokenRequest{Code: off.Offer.Grants[GrantPreAuthorized].Code}
	if len(tx) > 0 {
		req.TxCode, req.HasTxCode = tx[0], true
	}
	tok, err := e.offers.Token(context.Background(), tn.ID, req)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok.AccessToken
}

func (e *offerEnv) nonce(t *testing.T, tn Tenant) string {
	t.Helper()
	n, err := e.offers.Nonce(context.Background(), tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// proof signs a key proof; edit changes its header or claims first.
func (e *offerEnv) proof(t testing.TB, h holderKey, tn Tenant, nonce string, edit func(hdr *jose.Header, claims map[string]any)) string {
	t.Helper()
	hdr := jose.Header{Typ: ProofTyp, Kid: h.signer.VerificationMethod}
	claims := map[string]any{"aud": e.offers.IssuerURL(tn.ID), "iat": e.now.Unix(), "nonce": nonce}
	if edit != nil {
		edit(&hdr, claims)
	}
	payload, _ := vc.Marshal(claims)
	tok, err := jose.Sign(context.Background(), hdr, payload, h.signer)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func request(config string, proofs ...string) CredentialRequest {
	list := make([]any, len(proofs))
	for i, p := range proofs {
		list[i] = p
	}
	return CredentialRequest{ConfigurationID: config, Proofs: map[string]any{"jwt": list}}
}

// code is the protocol error code of err ("" for none).
func code(err error) string {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestOfferFlow(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		tenant *Tenant
		typ    string
		format string
		want   string // secure.Verified.Format
	}{
		{&e.board, "MedicalLicenseCredential", "di", "eddsa-rdfc-2022"},
		{&e.board, "MedicalLicenseCredential", "jwt", "vc+jwt"},
		{&e.identity, "PatientIdentityCredential", "sd-jwt", "dc+sd-jwt"},
	} {
		t.Run(c.format, func(t *testing.T) {
			tn, h := *c.tenant, newHolderKey(t)
			off := e.create(t, tn, template(t, c.typ, c.format))
			config := c.typ + "_" + c.format
			if off.Offer.CredentialIssuer != testBase+"/issuers/"+tn.ID || len(off.Offer.ConfigurationIDs) != 1 || off.Offer.ConfigurationIDs[0] != config {
				t.Fatalf("offer %+v", off.Offer)
			}
			if !off.Expires.Equal(e.now.Add(DefaultOfferTTL)) {
				t.Errorf("expires %v", off.Expires)
			}
			// The offer by reference is the same offer.
			u, _ := url.Parse(off.OfferURI)
			byRef, err := e.offers.Offer(ctx, tn.ID, u.Query().Get("ref"))
			if err != nil || byRef.Grants[GrantPreAuthorized].Code != off.Offer.Grants[GrantPreAuthorized].Code || byRef.Grants[GrantPreAuthorized].TxCode != nil {
				t.Fatalf("by reference: %+v %v", byRef, err)
			}
			if !strings.HasPrefix(off.OfferURL, "openid-credential-offer://?credential_offer_uri=") {
				t.Errorf("offer_url %s", off.OfferURL)
			}

			tok := e.token(t, tn, off)
			resp, err := e.offers.Credential(ctx, tn.ID, tok, request(config, e.proof(t, h, tn, e.nonce(t, tn), nil)))
			if err != nil {
				t.Fatalf("Credential: %v", err)
			}
			if len(resp.Credentials) != 1 {
				t.Fatalf("%d credentials", len(resp.Credentials))
			}
			got := resp.Credentials[0].Credential
			if _, isString := got.(string); isString != (c.format != "di") {
				t.Errorf("credential %T in format %s", got, c.format)
			}
			v := e.verify(t, got)
			if v.Format != c.want || !v.Credential.HasType(c.typ) || v.Credential.SubjectIDs()[0] != h.did {
				t.Errorf("issued %s %v to %v, want %s to %s", v.Format, v.Credential.Types(), v.Credential.SubjectIDs(), c.want, h.did)
			}
			st, err := e.offers.Status(ctx, tn.ID, off.ID)
			if err != nil || st.State != stateRedeemed || st.CredentialID != v.Credential.ID() {
				t.Errorf("status %+v %v", st, err)
			}
			if _, err := e.svc.Record(ctx, tn.ID, v.Credential.ID()); err != nil {
				t.Errorf("not in the inventory: %v", err)
			}

			// One credential per offer: the code and the token are spent.
			if _, err := e.offers.Token(ctx, tn.ID, TokenRequest{Code: off.Offer.Grants[GrantPreAuthorized].Code}); code(err) != CodeInvalidGrant {
				t.Errorf("second token request: %v", err)
			}
			if _, err := e.offers.Credential(ctx, tn.ID, tok, request(config, e.proof(t, h, tn, e.nonce(t, tn), nil))); code(err) != CodeInvalidToken {
				t.Errorf("second credential request: %v", err)
			}
			if _, err := e.offers.Offer(ctx, tn.ID, u.Query().Get("ref")); !errors.Is(err, ErrOfferGone) {
				t.Errorf("offer after use: %v", err)
			}
		})
	}
}

func TestOfferTxCode(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.TxCode = &TxCodeInput{Value: "493536", Description: "sent by text message"}
	off := e.create(t, e.board, in)
	g := off.Offer.Grants[GrantPreAuthorized]
	if off.TxCode != "493536" || g.TxCode == nil || g.TxCode.Length != 6 || g.TxCode.InputMode != "numeric" || g.TxCode.Description != "sent by text message" {
		t.Fatalf("offer %+v tx %+v", off, g.TxCode)
	}
	tokenReq := func(tx string, has bool) error {
		_, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: g.Code, TxCode: tx, HasTxCode: has})
		return err
	}
	if err := tokenReq("", false); code(err) != CodeInvalidRequest {
		t.Errorf("without tx_code: %v", err)
	}
	if err := tokenReq("000000", true); code(err) != CodeInvalidGrant {
		t.Errorf("wrong tx_code: %v", err)
	}
	if st, _ := e.offers.Status(ctx, e.board.ID, off.ID); st.Attempts != 1 || st.State != stateOffered {
		t.Errorf("after one wrong code: %+v", st)
	}
	if err := tokenReq("493536", true); err != nil {
		t.Fatalf("right tx_code: %v", err)
	}
	if err := tokenReq("493536", true); code(err) != CodeInvalidGrant {
		t.Errorf("tx_code used twice: %v", err)
	}

	// A generated code; an offer without one refuses a tx_code.
	in.TxCode = &TxCodeInput{Length: 8}
	gen := e.create(t, e.board, in)
	if len(gen.TxCode) != 8 || strings.Trim(gen.TxCode, "0123456789") != "" || gen.Offer.Grants[GrantPreAuthorized].TxCode.Length != 8 {
		t.Errorf("generated tx_code %q", gen.TxCode)
	}
	in.TxCode = nil
	plain := e.create(t, e.board, in)
	if _, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: plain.Offer.Grants[GrantPreAuthorized].Code, TxCode: "1", HasTxCode: true}); code(err) != CodeInvalidRequest {
		t.Errorf("unexpected tx_code: %v", err)
	}
}

func TestOfferTxCodeAttemptsBurn(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.TxCode = &TxCodeInput{}
	off := e.create(t, e.board, in)
	req := TokenRequest{Code: off.Offer.Grants[GrantPreAuthorized].Code, TxCode: wrongDigits(off.TxCode), HasTxCode: true}
	for i := range MaxTxAttempts {
		if _, err := e.offers.Token(ctx, e.board.ID, req); code(err) != CodeInvalidGrant {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	req.TxCode = off.TxCode
	if _, err := e.offers.Token(ctx, e.board.ID, req); code(err) != CodeInvalidGrant || !strings.Contains(err.Error(), "withdrawn") {
		t.Errorf("the right code after %d wrong ones: %v", MaxTxAttempts, err)
	}
	st, _ := e.offers.Status(ctx, e.board.ID, off.ID)
	if st.State != stateBurned || st.Attempts != MaxTxAttempts {
		t.Errorf("status %+v", st)
	}
	b, _ := e.svc.kv.Get(ctx, bucketOffers, off.ID)
	if strings.Contains(string(b), `"sealed"`) {
		t.Error("a burned offer keeps its template")
	}
}

func wrongDigits(s string) string {
	b := []byte(s)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestOfferExpiry(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.ExpiresIn = 120
	late := e.create(t, e.board, in)
	soon := e.create(t, e.board, in)
	tok := e.token(t, e.board, soon)
	start := e.now
	e.now = start.Add(2 * time.Minute)
	if _, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: late.Offer.Grants[GrantPreAuthorized].Code}); code(err) != CodeInvalidGrant {
		t.Errorf("expired code: %v", err)
	}
	u, _ := url.Parse(late.OfferURI)
	if _, err := e.offers.Offer(ctx, e.board.ID, u.Query().Get("ref")); !errors.Is(err, ErrOfferGone) {
		t.Errorf("expired offer by reference: %v", err)
	}
	if st, _ := e.offers.Status(ctx, e.board.ID, late.ID); st.State != stateExpired {
		t.Errorf("status %s", st.State)
	}
	e.now = start.Add(AccessTokenTTL)
	h := newHolderKey(t)
	if _, err := e.offers.Credential(ctx, e.board.ID, tok, request("MedicalLicenseCredential_di", e.proof(t, h, e.board, e.nonce(t, e.board), nil))); code(err) != CodeInvalidToken {
		t.Errorf("expired access token: %v", err)
	}
	// A stale nonce.
	e.now = start
	n := e.nonce(t, e.board)
	e.now = start.Add(NonceTTL + time.Second)
	fresh := e.create(t, e.board, in)
	if _, err := e.offers.Credential(ctx, e.board.ID, e.token(t, e.board, fresh), request("MedicalLicenseCredential_di", e.proof(t, h, e.board, n, nil))); code(err) != CodeInvalidNonce {
		t.Errorf("stale nonce: %v", err)
	}
}

// TestOfferProofRefused sends bad proofs on one access token: none spends
// it, and a good proof then succeeds.
func TestOfferProofRefused(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	tn, h, other := e.board, newHolderKey(t), newHolderKey(t)
	config := "MedicalLicenseCredential_di"
	tok := e.token(t, tn, e.create(t, tn, template(t, "MedicalLicenseCredential", "di")))

	// A nonce used by another redemption.
	used := e.nonce(t, tn)
	prior := e.token(t, tn, e.create(t, tn, template(t, "MedicalLicenseCredential", "di")))
	if _, err := e.offers.Credential(ctx, tn.ID, prior, request(config, e.proof(t, h, tn, used, nil))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		proof func() string
		want  string
	}{
		{"wrong aud", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["aud"] = testBase + "/issuers/someone-else" })
		}, CodeInvalidProof},
		{"aud as the tenant DID", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["aud"] = tn.DID })
		}, CodeInvalidProof},
		{"stale iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["iat"] = e.now.Add(-ProofMaxAge - time.Second).Unix() })
		}, CodeInvalidProof},
		{"future iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["iat"] = e.now.Add(2 * ProofSkew).Unix() })
		}, CodeInvalidProof},
		{"no iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { delete(c, "iat") })
		}, CodeInvalidProof},
		{"no nonce", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { delete(c, "nonce") })
		}, CodeInvalidProof},
		{"reused nonce", func() string { return e.proof(t, h, tn, used, nil) }, CodeInvalidNonce},
		{"forged nonce", func() string {
			return e.proof(t, h, tn, base64.RawURLEncoding.EncodeToString(make([]byte, 40)), nil)
		}, CodeInvalidNonce},
		{"nonce of another tenant", func() string { return e.proof(t, h, tn, e.nonce(t, e.identity), nil) }, CodeInvalidNonce},
		{"wrong typ", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Typ = "JWT" })
		}, CodeInvalidProof},
		{"no kid", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = "" })
		}, CodeInvalidProof},
		{"kid not a DID URL", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = "key-1" })
		}, CodeInvalidProof},
		{"key not of the kid's DID", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = other.signer.VerificationMethod })
		}, CodeInvalidProof},
		{"jwk header", func() string { return withHeader(t, e.proof(t, h, tn, e.nonce(t, tn), nil), `"jwk":{"kty":"OKP"}`) }, CodeInvalidProof},
		{"alg none", func() string { return unsigned(t, e.proof(t, h, tn, e.nonce(t, tn), nil)) }, CodeInvalidProof},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.offers.Credential(ctx, tn.ID, tok, request(config, c.proof()))
			if code(err) != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}

	// Malformed requests.
	good := func() string { return e.proof(t, h, tn, e.nonce(t, tn), nil) }
	for _, c := range []struct {
		name string
		req  CredentialRequest
		want string
	}{
		{"no proofs", CredentialRequest{ConfigurationID: config}, CodeInvalidProof},
		{"two proofs", request(config, good(), good()), CodeInvalidCredentialRequest},
		{"di_vp proof", CredentialRequest{ConfigurationID: config, Proofs: map[string]any{"di_vp": []any{map[string]any{}}}}, CodeInvalidProof},
		{"another configuration", request("MedicalLicenseCredential_jwt", good()), CodeUnknownConfiguration},
		{"no configuration", request("", good()), CodeInvalidCredentialRequest},
		{"credential_identifier", CredentialRequest{Identifier: "x", Proofs: request("", good()).Proofs}, CodeInvalidCredentialRequest},
		{"response encryption", CredentialRequest{ConfigurationID: config, Encryption: true, Proofs: request("", good()).Proofs}, CodeInvalidEncryption},
	} {
		if _, err := e.offers.Credential(ctx, tn.ID, tok, c.req); code(err) != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"", "x.y", tok + "x", strings.Replace(tok, ".", ".A", 1)} {
		if _, err := e.offers.Credential(ctx, tn.ID, bad, request(config, good())); code(err) != CodeInvalidToken {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if _, err := e.offers.Credential(ctx, e.identity.ID, tok, request(config, good())); code(err) != CodeInvalidToken {
		t.Errorf("the token at another tenant: %v", err)
	}

	if _, err := e.offers.Credential(ctx, tn.ID, tok, request(config, good())); err != nil {
		t.Errorf("a good proof after the refused ones: %v", err)
	}
}

// withHeader adds members to a token's protected header (its signature
// no longer matters: the header is refused first).
func withHeader(t testing.TB, tok, members string) string {
	t.Helper()
	parts := strings.SplitN(tok, ".", 2)
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	h = append(h[:len(h)-1], []byte(","+members+"}")...)
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1]
}

// unsigned rewrites a token's alg to none.
func unsigned(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	h = []byte(strings.Replace(string(h), `"alg":"EdDSA"`, `"alg":"none"`, 1))
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
}

// TestOfferSDJWTBinding: an SD-JWT VC binds the DID's first
// authentication key (a P-256 did:jwk here); a proof by another key of the
// DID is refused.
func TestOfferSDJWTBinding(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	tn := e.identity
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d, err := did.JWKDID(k1.Public())
	if err != nil {
		t.Fatal(err)
	}
	h := holderKey{did: d.String(), signer: vc.Signer{Key: k1, VerificationMethod: d.String() + "#0"}}
	tok := e.token(t, tn, e.create(t, tn, template(t, "PatientIdentityCredential", "sd-jwt")))
	resp, err := e.offers.Credential(ctx, tn.ID, tok, request("PatientIdentityCredential_sd-jwt", e.proof(t, h, tn, e.nonce(t, tn), nil)))
	if err != nil {
		t.Fatalf("ES256 did:jwk holder: %v", err)
	}
	if v := e.verify(t, resp.Credentials[0].Credential); v.Credential.SubjectIDs()[0] != h.did {
		t.Errorf("subject %v", v.Credential.SubjectIDs())
	}

	// A second key of a DID (here as a resolver would find it in a
	// did:web document) proves possession, but is not the key the SD-JWT
	// binds: refused.
	second := newHolderKey(t)
	holder := newHolderKey(t)
	vm := holder.did + "#key-2"
	e.offers.keys = fakeProofKeys{vm: second.signer.Key.Public()}
	signed := holderKey{did: holder.did, signer: vc.Signer{Key: second.signer.Key, VerificationMethod: vm}}
	tok = e.token(t, tn, e.create(t, tn, template(t, "PatientIdentityCredential", "sd-jwt")))
	if _, err := e.offers.Credential(ctx, tn.ID, tok, request("PatientIdentityCredential_sd-jwt", e.proof(t, signed, tn, e.nonce(t, tn), nil))); code(err) != CodeInvalidProof {
		t.Errorf("proof by a key the SD-JWT does not bind: %v", err)
	}
}

type fakeProofKeys map[string]crypto.PublicKey

func (f fakeProofKeys) PublicKey(_ context.Context, vm, _ string) (crypto.PublicKey, error) {
	if k, ok := f[vm]; ok {
		return k, nil
	}
	return nil, vc.ErrKey
}

func TestOfferCreateRefuses(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	withID := template(t, "MedicalLicenseCredential", "di")
	withID.Credential["credentialSubject"].(map[string]any)["id"] = "did:key:z6MkrA2xftzmrUNE18PwUKy2E4UkTRykKTg53Vn96n9WExYY"
	invalid := template(t, "MedicalLicenseCredential", "di")
	delete(invalid.Credential["credentialSubject"].(map[string]any), "npi")
	anyType := OfferInput{Credential: map[string]any{"@context": []any{vc.ContextV2}, "type": []any{vc.TypeCredential, "LibraryCard"},
		"credentialSubject": map[string]any{"name": "x"}}}
	edit := func(f func(*OfferInput)) OfferInput {
		in := template(t, "MedicalLicenseCredential", "di")
		f(&in)
		return in
	}
	for _, c := range []struct {
		name   string
		tenant Tenant
		in     OfferInput
		field  string
	}{
		{"subject id", e.board, withID, "/credential/credentialSubject/id"},
		{"schema", e.board, invalid, "/credential/credentialSubject"},
		{"type not listed", e.board, template(t, "PatientIdentityCredential", "sd-jwt"), "/credential/type"},
		{"type allowed by * only", e.identity, anyType, "/credential/type"},
		{"format di-jcs", e.board, edit(func(in *OfferInput) { in.Options.Format = "di-jcs" }), "/options/format"},
		{"expiry too long", e.board, edit(func(in *OfferInput) { in.ExpiresIn = 2 * 86400 }), "/expiresIn"},
		{"expiry too short", e.board, edit(func(in *OfferInput) { in.ExpiresIn = 5 }), "/expiresIn"},
		{"tx_code letters", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Value: "12ab56"} }), "/txCode/value"},
		{"tx_code short", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Value: "1234"} }), "/txCode/value"},
		{"tx_code length", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Length: 40} }), "/txCode/length"},
	} {
		_, err := e.offers.Create(ctx, c.tenant.ID, c.in)
		var rej *Rejection
		if !errors.As(err, &rej) || !hasField(rej.Fields, c.field) {
			t.Errorf("%s: %v, want a rejection of %s", c.name, err, c.field)
		}
	}
	if _, err := e.offers.Create(ctx, "no-such-issuer", template(t, "MedicalLicenseCredential", "di")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

func hasField(fs []vc.FieldError, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.Field, prefix) {
			return true
		}
	}
	return false
}

func TestOfferMetadata(t *testing.T) {
	e := newOfferEnv(t)
	md, err := e.offers.Metadata(context.Background(), e.identity.ID)
	if err != nil {
		t.Fatal(err)
	}
	iss := testBase + "/issuers/" + e.identity.ID
	if md.CredentialIssuer != iss || md.CredentialEndpoint != iss+"/credential" || md.NonceEndpoint != iss+"/nonce" {
		t.Errorf("endpoints %+v", md)
	}
	if len(md.Configurations) != 3 {
		t.Errorf("configurations %v, want PatientIdentityCredential in three formats (not *)", md.Configurations)
	}
	for id, want := range map[string]string{"PatientIdentityCredential_di": "ldp_vc", "PatientIdentityCredential_jwt": "jwt_vc_json", "PatientIdentityCredential_sd-jwt": "dc+sd-jwt"} {
		c := md.Configurations[id]
		if c.Format != want || c.ProofTypes["jwt"].Algs == nil || len(c.BindingMethods) == 0 {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if c := md.Configurations["PatientIdentityCredential_sd-jwt"]; c.VCT != "https://w3id.org/credence/healthcare#PatientIdentityCredential" && !strings.HasSuffix(c.VCT, "PatientIdentityCredential") {
		t.Errorf("vct %q", c.VCT)
	}
	if c := md.Configurations["PatientIdentityCredential_di"]; c.Definition == nil || len(c.Definition.Context) != 2 || c.SigningAlgs[0] != "eddsa-rdfc-2022" {
		t.Errorf("ldp_vc definition %+v", c.Definition)
	}
	as, err := e.offers.AuthServer(context.Background(), e.identity.ID)
	if err != nil || as.Issuer != iss || as.TokenEndpoint != iss+"/token" || !as.Anonymous || as.GrantTypes[0] != GrantPreAuthorized {
		t.Errorf("authorization server %+v %v", as, err)
	}
	if _, err := e.offers.Metadata(context.Background(), "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// TestOfferNoSecretsAtRest: the store holds neither the offer reference,
// the code, the access token, the transaction code nor the subject.
func TestOfferNoSecretsAtRest(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	in.TxCode = &TxCodeInput{Value: "123456"}
	off := e.create(t, e.board, in)
	tok := e.token(t, e.board, off, "123456")
	u, _ := url.Parse(off.OfferURI)
	npi := in.Credential["credentialSubject"].(map[string]any)["npi"].(string)
	b, err := e.svc.kv.Get(ctx, bucketOffers, off.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := strings.Cut(tok, ".")
	for what, s := range map[string]string{"ref": u.Query().Get("ref"), "code": off.Offer.Grants[GrantPreAuthorized].Code,
		"token": secret, "tx_code": "123456", "subject's npi": npi} {
		if strings.Contains(string(b), s) {
			t.Errorf("the stored offer holds the %s", what)
		}
	}
}
