package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// TestWatchOnlyWhatThePolicyTrusts: a tenant whose policy checks issuers
// (rules on, or "issuer" among its checks) watches only credentials of
// issuers accredited for them; a tenant whose policy does not check issuers
// watches any credential whose proof verifies; a credential whose proof
// does not verify is watched by no one.
func TestWatchOnlyWhatThePolicyTrusts(t *testing.T) {
	_, ts := newServer(t, testConfig(t))
	e := &e2e{t: t, base: ts.URL, eng: secure.New(NewProcessor())}
	tx := createTenant(t, ts.URL, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	// The CA board's tenant may sign TX licenses; the registry accredits it
	// for CA only.
	ca := createTenant(t, ts.URL, `{"name":"Medical Board of California","jurisdictions":["CA","TX"],"types":["MedicalLicenseCredential"]}`)
	e.post("/admin/accreditations", adminToken, map[string]any{"issuer": tx.Issuer.DID, "types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"TX"}}, http.StatusCreated)
	e.post("/admin/accreditations", adminToken, map[string]any{"issuer": ca.Issuer.DID, "types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"CA"}}, http.StatusCreated)

	g := synth.New(11)
	doc := g.Provider()
	for doc.License("TX").Status != "active" || doc.License("TX").Expired(time.Now().AddDate(0, 3, 0)) {
		doc = g.Provider()
	}
	txLicense := e.issue(tx, "MedicalLicenseCredential", doc.LicenseSubject("TX"))
	forged := e.issue(ca, "MedicalLicenseCredential", doc.LicenseSubject("TX"))
	tampered := map[string]any{}
	for k, v := range forged.(map[string]any) {
		tampered[k] = v
	}
	tampered["validUntil"] = "2099-01-01T00:00:00Z"

	tenant := func(policy string) string {
		out := e.post("/admin/verifiers", adminToken, json.RawMessage(`{"name":"Houston General","policy":`+policy+`}`), http.StatusCreated)
		var v struct{ Token string }
		if err := json.Unmarshal(out, &v); err != nil || v.Token == "" {
			t.Fatalf("verifier tenant: %v %s", err, out)
		}
		return v.Token
	}
	watch := func(token string, cred any) (int, string) {
		resp, out := do(t, "POST", ts.URL+"/verifier/watches", token, mustJSON(t, map[string]any{"credential": cred, "webhook": "https://hooks.example/credence"}))
		return resp.StatusCode, string(out)
	}
	for _, c := range []struct {
		name, policy string
		cred         any
		status       int
		code         string
	}{
		{"rules, accredited issuer", `{"rules":true,"practiceState":"TX"}`, txLicense, http.StatusCreated, ""},
		{"rules, issuer not accredited for the license", `{"rules":true,"practiceState":"TX"}`, forged, http.StatusUnprocessableEntity, "ISSUER_NOT_RECOGNIZED"},
		{"issuer among the checks", `{"checks":["proof","issuer"]}`, forged, http.StatusUnprocessableEntity, "ISSUER_NOT_RECOGNIZED"},
		{"no issuer check", `{"checks":["proof","validity","status"]}`, forged, http.StatusCreated, ""},
		{"the zero policy", `{}`, forged, http.StatusCreated, ""},
		{"no issuer check, tampered", `{}`, tampered, http.StatusUnprocessableEntity, "PROOF_INVALID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, out := watch(tenant(c.policy), c.cred)
			if status != c.status || !strings.Contains(out, c.code) {
				t.Fatalf("watch: %d %s, want %d with %q", status, out, c.status, c.code)
			}
		})
	}
}
