package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc/healthcare/synth"
)

// TestIssueAndVerifyCLI: issuer create, vc issue in every format, vc verify
// (did:credence through --server), and a tampered credential failing.
func TestIssueAndVerifyCLI(t *testing.T) {
	_, ts, _ := testServer(t)
	out := mustRun(t, "issuer", "create", "--server", ts.URL, "--token", testAdminToken, "--json",
		"--name", "Texas Medical Board", "--jurisdiction", "TX", "--type", "MedicalLicenseCredential")
	var created struct {
		Issuer struct{ ID, DID string }
		Token  string
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Token == "" {
		t.Fatalf("issuer create: %v\n%s", err, out)
	}
	if list := mustRun(t, "issuer", "list", "--server", ts.URL, "--token", testAdminToken); !strings.Contains(list, created.Issuer.DID) {
		t.Errorf("issuer list: %s", list)
	}
	g := synth.New(3, synth.WithKeys())
	p := g.Provider()
	for p.License("TX").Expired(time.Now()) {
		p = g.Provider()
	}
	dir := t.TempDir()
	subject := filepath.Join(dir, "subject.json")
	b, _ := json.Marshal(p.LicenseSubject("TX"))
	if err := os.WriteFile(subject, b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"di", "di-jcs", "ed25519-2020", "jwt", "sd-jwt"} {
		cred := mustRun(t, "vc", "issue", "--server", ts.URL, "--token", created.Token, "--issuer", created.Issuer.ID,
			"--type", "MedicalLicenseCredential", "--subject", subject, "--format", format)
		file := filepath.Join(dir, format+".json")
		if err := os.WriteFile(file, []byte(cred), 0o600); err != nil {
			t.Fatal(err)
		}
		got := decode[vcVerifyOutput](t, mustRun(t, "vc", "verify", file, "--server", ts.URL, "--json"))
		if !got.Verified || got.Issuer != created.Issuer.DID || got.Types[1] != "MedicalLicenseCredential" {
			t.Errorf("%s: %+v", format, got)
		}
		if human := mustRun(t, "vc", "verify", file, "--server", ts.URL); !strings.HasPrefix(human, "VERIFIED") {
			t.Errorf("%s: %s", format, human)
		}
	}
	// Tampered: a claim changed after signing.
	cred, _ := os.ReadFile(filepath.Join(dir, "di.json"))
	tampered := filepath.Join(dir, "tampered.json")
	npi := p.LicenseSubject("TX")["npi"].(string)
	_ = os.WriteFile(tampered, []byte(strings.Replace(string(cred), npi, "1234567893", 1)), 0o600)
	out, err := run(t, "vc", "verify", tampered, "--server", ts.URL)
	if err == nil || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, "signature") {
		t.Errorf("tampered credential: %v\n%s", err, out)
	}
	// Rejected issuance names the field.
	bad := p.LicenseSubject("TX")
	bad["npi"] = "1234567890"
	b, _ = json.Marshal(bad)
	_ = os.WriteFile(subject, b, 0o600)
	runErr(t, []string{"vc", "issue", "--server", ts.URL, "--token", created.Token, "--issuer", created.Issuer.ID,
		"--type", "MedicalLicenseCredential", "--subject", subject}, "422", "/credential/credentialSubject/npi")
	// Revoked: vc verify fetches the status list and says so.
	var issued struct{ ID string }
	_ = json.Unmarshal(cred, &issued)
	if code, body := httpDo(t, "POST", ts.URL+"/issuers/"+created.Issuer.ID+"/credentials/status", created.Token,
		`{"credentialId":"`+issued.ID+`","action":"revoke","reason":"test"}`); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	out, err = run(t, "vc", "verify", filepath.Join(dir, "di.json"), "--server", ts.URL)
	if err == nil || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, "CREDENTIAL_REVOKED") {
		t.Errorf("revoked credential: %v\n%s", err, out)
	}
	// did:credence without a server cannot be resolved offline.
	out, _ = run(t, "vc", "verify", filepath.Join(dir, "jwt.json"))
	if !strings.Contains(out, "NOT VERIFIED") {
		t.Errorf("offline did:credence: %s", out)
	}
	// The issuer rotates its key: what it signed before still verifies,
	// resolving its DID through the server as of the signing time. (The
	// ledger counts seconds: a DID created and rotated in the second it
	// signed in has no earlier version to find the key in.)
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	mustRun(t, "did", "rotate", created.Issuer.DID, "--server", ts.URL, "--token", testAdminToken)
	for _, format := range []string{"jwt", "sd-jwt", "di-jcs"} {
		got := decode[vcVerifyOutput](t, mustRun(t, "vc", "verify", filepath.Join(dir, format+".json"), "--server", ts.URL, "--json"))
		if !got.Verified || !strings.HasSuffix(got.VerificationMethod, "#key-1") {
			t.Errorf("%s after the rotation: %+v", format, got)
		}
	}
}
