package issuer

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

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

// testNonceKey is the c_nonce key of the tests' Offers (the server derives
// its own from the master key).
var testNonceKey = bytes.Repeat([]byte{0x5c}, NonceKeyBytes)

func newOfferEnv(t *testing.T) *offerEnv {
	e := &offerEnv{env: newEnv(t)}
	e.offers = NewOffers(e.svc, vc.DIDKeys{Resolver: e.resolver}, testBase+"/", testNonceKey)
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
