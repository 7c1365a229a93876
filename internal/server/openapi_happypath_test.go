package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
)

// openAPIHappyPath drives the main flows of every role with valid
// requests, so that successful answers, not only refusals, are checked
// against the document.
func openAPIHappyPath(t *testing.T, c *apiClient) {
	openAPIDIDPath(t, c)
	iss, cred := openAPIIssuerPath(t, c)
	openAPITrustPath(t, c, iss)
	openAPIVerifierPath(t, c, iss, cred)
	openAPIWitnessPath(c)
	for _, p := range []string{"/registry/entries/0", "/registry/proofs/inclusion?index=0&size=2", "/registry/proofs/consistency?from=1&to=2",
		"/registry/subjects/" + iss.Issuer.DID + "/history", "/registry/key", "/registry/checkpoint"} {
		c.call("GET", p, "", nil, http.StatusOK)
	}
}

func openAPIDIDPath(t *testing.T, c *apiClient) {
	var d struct{ DID string }
	if err := json.Unmarshal(c.call("POST", "/admin/dids", adminToken, `{"method":"credence","label":"openapi"}`, http.StatusCreated), &d); err != nil {
		t.Fatal(err)
	}
	c.call("POST", "/admin/dids/"+d.DID+"/update", adminToken,
		`{"services":[{"id":"#hub","type":"LinkedDomains","serviceEndpoint":"https://hub.example"}]}`, http.StatusOK)
	c.call("POST", "/admin/dids/"+d.DID+"/rotate", adminToken, "", http.StatusOK)
	c.call("GET", "/admin/dids", adminToken, nil, http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID, "", nil, http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID+"?versionId=1", "", nil, http.StatusOK, "Accept", "application/did+ld+json")
	c.call("POST", "/admin/dids/"+d.DID+"/deactivate", adminToken, "{}", http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID, "", nil, http.StatusGone)
	c.call("GET", "/1.0/identifiers/did:credence:nope", "", nil, 0)
	c.call("GET", "/.well-known/did.json", "", nil, http.StatusOK)
}

// openAPIIssuerPath makes an issuer, issues a license (returned), makes
// and redeems the token of an offer, revokes and reads status lists.
func openAPIIssuerPath(t *testing.T, c *apiClient) (tenantOut, map[string]any) {
	var iss tenantOut
	_ = json.Unmarshal(c.call("POST", "/admin/issuers", adminToken, map[string]any{"name": "OpenAPI Texas Board",
		"jurisdictions": []string{"TX"}, "types": []string{"MedicalLicenseCredential"}}, http.StatusCreated), &iss)
	c.call("GET", "/admin/issuers/"+iss.Issuer.ID, adminToken, nil, http.StatusOK)
	base := "/issuers/" + iss.Issuer.ID
	g := synth.New(5)
	issue := func(id string) map[string]any {
		body := map[string]any{"credential": map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL},
			"type": []any{"VerifiableCredential", "MedicalLicenseCredential"}, "credentialSubject": activeLicense(g)},
			"options": map[string]any{"credentialId": id}}
		var out struct{ VerifiableCredential map[string]any }
		_ = json.Unmarshal(c.call("POST", base+"/credentials/issue", iss.Token, body, http.StatusCreated), &out)
		return out.VerifiableCredential
	}
	cred, revoked := issue("urn:example:openapi:1"), issue("urn:example:openapi:2")
	c.call("GET", base+"/credentials?limit=1", iss.Token, nil, http.StatusOK)
	c.call("GET", base+"/credentials/urn:example:openapi:2", iss.Token, nil, http.StatusOK)
	c.call("POST", base+"/credentials/status", iss.Token, `{"credentialId":"urn:example:openapi:2","action":"revoke"}`, http.StatusOK)
	c.call("POST", base+"/credentials/batch", iss.Token, "{}\n", http.StatusOK, "Content-Type", "application/x-ndjson")
	entries, _ := revoked["credentialStatus"].([]any)
	if len(entries) == 0 {
		t.Fatalf("the license has no status entries: %v", revoked)
	}
	list, _ := entries[0].(map[string]any)["statusListCredential"].(string)
	u, err := url.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	c.call("GET", u.Path, "", nil, http.StatusOK)
	c.call("GET", u.Path+"/proof", "", nil, http.StatusOK)
	openAPIOfferPath(t, c, iss, activeLicense(g))
	c.call("GET", "/contexts/healthcare/v1", "", nil, http.StatusOK)
	return iss, cred
}

func openAPIOfferPath(t *testing.T, c *apiClient, iss tenantOut, subject map[string]any) {
	base := "/issuers/" + iss.Issuer.ID
	delete(subject, "id") // the holder's DID is bound when the offer is claimed
	var o struct {
		ID              string
		CredentialOffer struct {
			Grants map[string]struct {
				Code string `json:"pre-authorized_code"`
			}
		} `json:"credential_offer"`
		URI string `json:"credential_offer_uri"`
	}
	_ = json.Unmarshal(c.call("POST", base+"/offers", iss.Token, map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": subject}}, http.StatusCreated), &o)
	c.call("GET", base+"/offers/"+o.ID, iss.Token, nil, http.StatusOK)
	u, err := url.Parse(o.URI)
	if err != nil {
		t.Fatal(err)
	}
	c.call("GET", u.RequestURI(), "", nil, http.StatusOK)
	c.call("GET", "/.well-known/openid-credential-issuer"+base, "", nil, http.StatusOK)
	c.call("GET", "/.well-known/oauth-authorization-server"+base, "", nil, http.StatusOK)
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {o.CredentialOffer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].Code}}
	form2 := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}
	c.call("POST", base+"/token", "", form.Encode(), http.StatusOK, "Content-Type", "application/x-www-form-urlencoded")
	c.call("POST", base+"/token", "", form2.Encode(), http.StatusBadRequest, "Content-Type", "application/x-www-form-urlencoded")
	c.call("POST", base+"/nonce", "", nil, http.StatusOK)
	c.call("POST", base+"/credential", "an-access-token-not-issued", `{"credential_configuration_id":"x"}`, 0, "Content-Type", "application/json")
}

func openAPITrustPath(t *testing.T, c *apiClient, iss tenantOut) {
	var a struct{ Accreditation struct{ ID string } }
	_ = json.Unmarshal(c.call("POST", "/admin/accreditations", adminToken, map[string]any{"issuer": iss.Issuer.DID,
		"types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"TX"}}, http.StatusCreated), &a)
	id := a.Accreditation.ID
	c.call("PUT", "/admin/accreditations/"+id, adminToken, `{"types":["MedicalLicenseCredential"],"jurisdictions":["TX","OK"]}`, http.StatusOK)
	c.call("GET", "/trust/accreditations?jurisdiction=TX", "", nil, http.StatusOK)
	c.call("GET", "/trust/accreditations/"+id, "", nil, http.StatusOK)
	c.call("GET", "/registry/governance", "", nil, http.StatusOK)
	var b struct{ Accreditation struct{ ID string } }
	_ = json.Unmarshal(c.call("POST", "/admin/accreditations", adminToken, map[string]any{"issuer": "did:example:withdrawn",
		"types": []string{"MedicalLicenseCredential"}}, http.StatusCreated), &b)
	c.call("POST", "/admin/accreditations/"+b.Accreditation.ID+"/withdraw", adminToken, `{"reason":"openapi test"}`, http.StatusOK)
}

// openAPIVerifierPath verifies credentials, runs a presentation request
// answered by a wallet holder, and reads the audit log and watch-lists.
func openAPIVerifierPath(t *testing.T, c *apiClient, iss tenantOut, cred map[string]any) {
	var v struct {
		Verifier struct{ ID string }
		Token    string
	}
	_ = json.Unmarshal(c.call("POST", "/admin/verifiers", adminToken, `{"name":"OpenAPI Hospital"}`, http.StatusCreated), &v)
	c.call("PUT", "/admin/verifiers/"+v.Verifier.ID+"/policy", adminToken, `{"rules":true,"practiceState":"TX"}`, http.StatusOK)
	c.call("GET", "/admin/verifiers/"+v.Verifier.ID, adminToken, nil, http.StatusOK)
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": cred}, http.StatusOK)
	c.call("POST", "/credentials/verify", v.Token, map[string]any{"verifiableCredential": cred}, 0)
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": cred}, http.StatusOK, "Accept", "application/fhir+json")
	tampered := maps.Clone(cred)
	tampered["validUntil"] = "2099-01-01T00:00:00Z"
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": tampered}, http.StatusUnprocessableEntity)
	c.call("POST", "/challenges", v.Token, "", http.StatusCreated)
	c.call("POST", "/verifier/watches", v.Token, map[string]any{"credential": cred, "webhook": "https://hooks.example/credence"}, http.StatusCreated)
	var ws struct{ Watches []struct{ ID string } }
	_ = json.Unmarshal(c.call("GET", "/verifier/watches", v.Token, nil, http.StatusOK), &ws)
	if len(ws.Watches) != 1 {
		t.Fatalf("watches: %+v", ws)
	}
	c.call("GET", "/verifier/watches/"+ws.Watches[0].ID, v.Token, nil, http.StatusOK)
	c.call("GET", "/verifier/watches/"+ws.Watches[0].ID+"/deliveries", v.Token, nil, http.StatusOK)
	c.call("DELETE", "/verifier/watches/"+ws.Watches[0].ID, v.Token, nil, http.StatusNoContent)
	openAPIPresentationPath(t, c, iss, v.Token)
	c.call("GET", "/verifier/audit", v.Token, nil, http.StatusOK)
	c.call("GET", "/verifier/audit/head", v.Token, nil, http.StatusOK)
	c.call("GET", "/admin/audit/default", adminToken, nil, http.StatusOK)
	c.call("GET", "/verifier/policy", v.Token, nil, http.StatusOK)
	c.call("PUT", "/verifier/policy", v.Token, `{"checks":["proof","validity","status"]}`, http.StatusOK)
}

// openAPIPresentationPath: a holder stores a license issued to its DID and
// answers the verifier's request (made, not sent, by the wallet; posted
// here to the request's response_uri, twice).
func openAPIPresentationPath(t *testing.T, c *apiClient, iss tenantOut, verifierToken string) {
	var h holderOut
	_ = json.Unmarshal(c.call("POST", "/wallet/holders", adminToken, `{"label":"openapi","didMethod":"key"}`, http.StatusCreated), &h)
	hb := "/wallet/holders/" + h.Holder.ID
	subject := activeLicense(synth.New(9))
	subject["id"] = h.Holder.DID
	var issued struct{ VerifiableCredential any }
	_ = json.Unmarshal(c.call("POST", "/issuers/"+iss.Issuer.ID+"/credentials/issue", iss.Token, map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": subject}}, http.StatusCreated), &issued)
	var st struct{ ID string }
	_ = json.Unmarshal(c.call("POST", hb+"/credentials", h.Token, map[string]any{"verifiableCredential": issued.VerifiableCredential}, http.StatusCreated), &st)
	c.call("GET", hb, h.Token, nil, http.StatusOK)
	c.call("GET", hb+"/credentials?type=MedicalLicenseCredential", h.Token, nil, http.StatusOK)
	c.call("GET", hb+"/credentials/"+st.ID, h.Token, nil, http.StatusOK)
	var r struct{ ID string }
	_ = json.Unmarshal(c.call("POST", "/verifier/requests", verifierToken, map[string]any{"purpose": "credentialing", "ttl": "10m",
		"query": map[string]any{"dcql_query": map[string]any{"credentials": []any{map[string]any{"id": "license", "format": "ldp_vc",
			"meta": map[string]any{"type_values": []any{[]any{"MedicalLicenseCredential"}}}}}}}}, http.StatusCreated), &r)
	var object map[string]any
	_ = json.Unmarshal(c.call("GET", "/verifier/requests/"+r.ID+"/object", "", nil, http.StatusOK), &object)
	var p struct{ Presentation any }
	_ = json.Unmarshal(c.call("POST", hb+"/presentations", h.Token, map[string]any{"request": object, "send": false}, http.StatusCreated), &p)
	c.call("POST", "/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": p.Presentation}, 0)
	c.call("POST", "/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": p.Presentation}, http.StatusConflict)
	c.call("GET", "/verifier/requests/"+r.ID+"/object", "", nil, http.StatusGone)
	c.call("GET", "/verifier/requests/"+r.ID, verifierToken, nil, http.StatusOK)
	c.call("GET", hb+"/disclosures", h.Token, nil, http.StatusOK)
	c.call("POST", hb+"/offers", h.Token, `{"offer":"openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.invalid%2Fo"}`, 0)
	c.call("DELETE", hb+"/credentials/"+st.ID, h.Token, nil, http.StatusNoContent)
}
