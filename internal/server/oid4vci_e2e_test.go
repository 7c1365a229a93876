package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// TestOID4VCIEndToEnd is issue 7's "claim an offer" over HTTP on a full
// server, in the embedded and the Redis mode: a board offers a license
// (ldp_vc) and a clinic a patient identity SD-JWT VC with a transaction
// code; the holders' wallets claim them with OpenID4VCI's pre-authorized
// code flow and hold them bound to their DIDs; an offer is claimed once,
// and a wrong transaction code is refused.
func TestOID4VCIEndToEnd(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.WebAllowPrivate = true // the wallet reaches the issuer on loopback, over http
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
			}
			_, base := newPublicServer(t, cfg)
			e := &e2e{t: t, base: base, eng: secure.New(NewProcessor())}
			licenseOffer(t, e)
			identityOffer(t, e)
		})
	}
}

type offerOut struct {
	ID      string         `json:"id"`
	Offer   map[string]any `json:"credential_offer"`
	URI     string         `json:"credential_offer_uri"`
	URL     string         `json:"offer_url"`
	Expires time.Time      `json:"expires"`
	TxCode  string         `json:"txCode"`
}

// offer has a tenant offer a credential of typ about subject (no id).
func (e *e2e) offer(iss tenantOut, typ, format string, subject map[string]any, extra map[string]any) offerOut {
	e.t.Helper()
	body := map[string]any{"credential": map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"type":              []any{vc.TypeCredential, typ},
		"credentialSubject": subject,
	}, "options": map[string]any{"format": format}}
	for k, v := range extra {
		body[k] = v
	}
	var o offerOut
	if err := json.Unmarshal(e.post("/issuers/"+iss.Issuer.ID+"/offers", iss.Token, body, http.StatusCreated), &o); err != nil {
		e.t.Fatal(err)
	}
	return o
}

type claimed struct {
	Credentials []struct {
		ID, Format, Issuer string
		Types              []string
		Claims             vc.Credential
	}
}

// claim has a holder's wallet claim an offer; it returns the answer.
func (e *e2e) claim(h holderOut, offer any, txCode string, want int) []byte {
	e.t.Helper()
	body := map[string]any{"offer": offer}
	if txCode != "" {
		body["txCode"] = txCode
	}
	return e.post("/wallet/holders/"+h.Holder.ID+"/offers", h.Token, body, want)
}

func licenseOffer(t *testing.T, e *e2e) {
	board := createTenant(t, e.base, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	other := createTenant(t, e.base, `{"name":"Other board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	g := synth.New(31)
	now := time.Now()
	var doc *synth.Provider
	for doc == nil {
		if p := g.Provider(); p.License("TX").Status == "active" && !p.License("TX").Expired(now.AddDate(0, 3, 0)) {
			doc = p
		}
	}
	subject := doc.LicenseSubject("TX")
	delete(subject, "id")

	// Only the board's own token makes its offers.
	for token, want := range map[string]int{"": http.StatusUnauthorized, other.Token: http.StatusForbidden} {
		b, _ := json.Marshal(map[string]any{"credential": map[string]any{}})
		if resp, body := do(t, "POST", e.base+"/issuers/"+board.Issuer.ID+"/offers", token, string(b)); resp.StatusCode != want {
			t.Errorf("offer with token %q: %d %s", token, resp.StatusCode, body)
		}
	}

	off := e.offer(board, healthcare.MedicalLicense, "di", subject, nil)
	iss := e.base + "/issuers/" + board.Issuer.ID
	if off.Offer["credential_issuer"] != iss || !strings.HasPrefix(off.URL, "openid-credential-offer://?credential_offer_uri=") ||
		!strings.HasPrefix(off.URI, iss+"/credential-offer?ref=") || time.Until(off.Expires) > 10*time.Minute {
		t.Fatalf("offer %+v", off)
	}

	clinician := e.newHolder(`{}`)
	var got claimed
	if err := json.Unmarshal(e.claim(clinician, off.URL, "", http.StatusCreated), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Credentials) != 1 {
		t.Fatalf("claimed %+v", got)
	}
	c := got.Credentials[0]
	if c.Format != "eddsa-rdfc-2022" || c.Issuer != board.Issuer.DID || !c.Claims.HasType(healthcare.MedicalLicense) ||
		len(c.Claims.SubjectIDs()) != 1 || c.Claims.SubjectIDs()[0] != clinician.Holder.DID {
		t.Errorf("the wallet holds %s from %s about %v", c.Format, c.Issuer, c.Claims.SubjectIDs())
	}
	var list struct{ Credentials []struct{ ID string } }
	if err := json.Unmarshal(e.get("/wallet/holders/"+clinician.Holder.ID+"/credentials", clinician.Token), &list); err != nil ||
		len(list.Credentials) != 1 || list.Credentials[0].ID != c.ID {
		t.Errorf("the wallet lists %+v (%v)", list, err)
	}

	// The board's inventory and the offer's state name the credential and
	// the holder's DID.
	var rec struct{ Subject string }
	if err := json.Unmarshal(e.get("/issuers/"+board.Issuer.ID+"/credentials/"+url.PathEscape(c.Claims.ID()), board.Token), &rec); err != nil || rec.Subject != clinician.Holder.DID {
		t.Errorf("inventory record %+v %v", rec, err)
	}
	var st struct{ State, CredentialID string }
	if err := json.Unmarshal(e.get("/issuers/"+board.Issuer.ID+"/offers/"+off.ID, board.Token), &st); err != nil || st.State != "redeemed" || st.CredentialID != c.Claims.ID() {
		t.Errorf("offer state %+v %v", st, err)
	}

	// The offer gives one credential: claiming it again (its code is now
	// used) fails at the issuer's token endpoint with invalid_grant; by
	// reference, the issuer already answers that the offer is gone.
	second := e.newHolder(`{}`)
	p := problemOf(t, e.claim(second, off.Offer, "", http.StatusBadGateway))
	if p.Type != "urn:credence:problem:issuer-failed" || !strings.Contains(p.Detail, "invalid_grant") || !strings.Contains(p.Detail, "token") {
		t.Errorf("second claim: %+v", p)
	}
	p = problemOf(t, e.claim(second, off.URL, "", http.StatusBadRequest))
	if p.Type != "urn:credence:problem:invalid-credential-offer" || !strings.Contains(p.Detail, "410") {
		t.Errorf("second claim by reference: %+v", p)
	}
	if list := e.get("/wallet/holders/"+second.Holder.ID+"/credentials", second.Token); !strings.Contains(string(list), `"credentials":[]`) {
		t.Errorf("the second wallet holds %s", list)
	}
}

func identityOffer(t *testing.T, e *e2e) {
	clinic := createTenant(t, e.base, `{"name":"Mercy Clinic identity desk","jurisdictions":["NY"],"types":["PatientIdentityCredential"]}`)
	pt := synth.New(41).Patient()
	subject := pt.IdentitySubject()
	delete(subject, "id")
	off := e.offer(clinic, healthcare.PatientIdentity, "sd-jwt", subject, map[string]any{
		"txCode": map[string]any{"length": 6, "description": "sent to your phone"}, "expiresIn": 3600})
	tx := off.Offer["grants"].(map[string]any)["urn:ietf:params:oauth:grant-type:pre-authorized_code"].(map[string]any)["tx_code"].(map[string]any)
	if len(off.TxCode) != 6 || tx["length"] != 6.0 || tx["description"] != "sent to your phone" {
		t.Fatalf("offer with a tx_code: %+v", off)
	}

	// A P-256 did:jwk patient: the proof is ES256.
	patient := e.newHolder(`{"didMethod":"jwk"}`)
	if p := problemOf(t, e.claim(patient, off.URL, "", http.StatusBadRequest)); p.Type != "urn:credence:problem:invalid-credential-offer" {
		t.Errorf("claim without the tx_code: %+v", p)
	}
	wrong := []byte(off.TxCode)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	if p := problemOf(t, e.claim(patient, off.URL, string(wrong), http.StatusBadGateway)); !strings.Contains(p.Detail, "invalid_grant") || !strings.Contains(p.Detail, "tx_code") {
		t.Errorf("claim with a wrong tx_code: %+v", p)
	}
	var got claimed
	if err := json.Unmarshal(e.claim(patient, off.URL, off.TxCode, http.StatusCreated), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Credentials) != 1 {
		t.Fatalf("claimed %+v", got)
	}
	c := got.Credentials[0]
	if c.Format != "dc+sd-jwt" || c.Issuer != clinic.Issuer.DID || c.Claims.SubjectIDs()[0] != patient.Holder.DID {
		t.Errorf("the wallet holds %s from %s about %v", c.Format, c.Issuer, c.Claims.SubjectIDs())
	}
	// Stored as the compact SD-JWT VC the credential endpoint returned.
	var full struct{ Credential json.RawMessage }
	if err := json.Unmarshal(e.get("/wallet/holders/"+patient.Holder.ID+"/credentials/"+c.ID, patient.Token), &full); err != nil {
		t.Fatal(err)
	}
	var token string
	if err := json.Unmarshal(full.Credential, &token); err != nil || !strings.Contains(token, "~") {
		t.Errorf("stored credential %.80s", full.Credential)
	}
	if !strings.Contains(decodedParts(t, token), pt.Family) {
		t.Error("the SD-JWT VC lacks the patient's disclosures")
	}
}

type problemBody struct {
	Type, Title, Detail string
	Status              int
}

func problemOf(t *testing.T, b []byte) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("not a problem: %s", b)
	}
	return p
}
