package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare/synth"
)

// TestRolesAcrossProcesses runs a registry, an issuer and a verifier as
// separate servers on one Redis, as docker-compose.yml does, all behind one
// public URL: a board created on the issuer is on the registry's ledger and
// is accredited there; its license, issued by the issuer, has its status
// list served by the registry and verifies on the verifier under a hospital
// policy that needs the accreditation; the board's revocation on the issuer
// reaches the verifier's status cache through registry events.
func TestRolesAcrossProcesses(t *testing.T) {
	prefix, master := testredis.Prefix(t), newMasterKey()
	start := func(role string) string {
		cfg := redisRoleConfig(t, prefix, master, role)
		cfg.PublicURL = "https://credence.example" // the proxy's
		_, ts := newServer(t, cfg)
		return ts.URL
	}
	reg, iss, ver := start(config.RoleRegistry), start(config.RoleIssuer), start(config.RoleVerifier)

	tx := createTenant(t, iss, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	if resp, body := do(t, "GET", reg+"/1.0/identifiers/"+tx.Issuer.DID, "", ""); resp.StatusCode != 200 || !strings.Contains(string(body), tx.Issuer.DID) {
		t.Fatalf("the registry does not resolve the board the issuer created: %d %s", resp.StatusCode, body)
	}
	accredit := `{"issuer":"` + tx.Issuer.DID + `","types":["MedicalLicenseCredential"],"jurisdictions":["TX"]}`
	if resp, body := do(t, "POST", reg+"/admin/accreditations", adminToken, accredit); resp.StatusCode != http.StatusCreated {
		t.Fatalf("accredit on the registry: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, "POST", ver+"/admin/verifiers", adminToken, `{"name":"Houston General","policy":{"rules":true,"practiceState":"TX"}}`)
	var hospital struct{ Token string }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &hospital) != nil || hospital.Token == "" {
		t.Fatalf("create a verifier tenant on the verifier: %d %s", resp.StatusCode, body)
	}

	license := issueLicense(t, iss, tx, synth.New(11, synth.WithKeys()), "di")
	var cred struct {
		CredentialStatus []struct{ StatusListCredential string } `json:"credentialStatus"`
	}
	if err := json.Unmarshal(license, &cred); err != nil || len(cred.CredentialStatus) == 0 ||
		!strings.HasPrefix(cred.CredentialStatus[0].StatusListCredential, "https://credence.example/status/") {
		t.Fatalf("status entries of the license: %s", license)
	}
	list := strings.TrimPrefix(cred.CredentialStatus[0].StatusListCredential, "https://credence.example")
	if resp, body := do(t, "GET", reg+list, "", ""); resp.StatusCode != 200 || !strings.Contains(string(body), "BitstringStatusListCredential") {
		t.Fatalf("the registry does not serve the issuer's status list %s: %d %s", list, resp.StatusCode, body)
	}

	verify := func() (int, verifyOut) {
		b, _ := json.Marshal(map[string]any{"verifiableCredential": license})
		resp, out := do(t, "POST", ver+"/credentials/verify", hospital.Token, string(b))
		var v verifyOut
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("verify answered %d %s", resp.StatusCode, out)
		}
		return resp.StatusCode, v
	}
	// The verifier's trust index follows the ledger: the accreditation made
	// on the registry arrives within moments.
	code, out := eventually(t, verify, func(code int, v verifyOut) bool { return code == 200 && v.Verified && v.Decision == "accept" })
	if code != 200 || out.Decision != "accept" {
		t.Fatalf("the license on the verifier: %d %+v", code, out)
	}

	if code, body := changeStatus(t, iss, tx, `{"credentialId":"`+credentialID(t, license)+`","action":"revoke"}`); code != 200 {
		t.Fatalf("revoke on the issuer: %d %s", code, body)
	}
	began := time.Now()
	code, out = eventually(t, verify, func(code int, v verifyOut) bool { return v.has("CREDENTIAL_REVOKED") })
	if code != http.StatusUnprocessableEntity || out.Verified || !out.has("CREDENTIAL_REVOKED") || out.Decision != "reject" {
		t.Fatalf("the revocation did not reach the verifier (its cached list is good for 5 minutes): %d %+v", code, out)
	}
	t.Logf("revocation seen by the verifier after %s", time.Since(began))

	// Each process serves its own role only.
	for _, c := range []struct{ base, method, path string }{
		{iss, "POST", "/credentials/verify"}, {iss, "GET", "/registry/checkpoint"},
		{ver, "POST", "/admin/issuers"}, {ver, "GET", list},
		{reg, "POST", "/issuers/" + tx.Issuer.ID + "/credentials/issue"}, {reg, "POST", "/wallet/holders"},
	} {
		if resp, body := do(t, c.method, c.base+c.path, adminToken, "{}"); !noSuchEndpoint(resp, body) {
			t.Errorf("%s %s on another role's process: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
}

// eventually calls f until ok accepts its result or 5 seconds passed, and
// returns the last result.
func eventually[T any](t *testing.T, f func() (int, T), ok func(int, T) bool) (int, T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, v := f()
		if ok(code, v) || time.Now().After(deadline) {
			return code, v
		}
		time.Sleep(20 * time.Millisecond)
	}
}
