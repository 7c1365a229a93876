package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDemo runs `credence demo` in-process: its own server, the story told
// step by step, accept then reject with the revocation's reason code, the
// webhook received, and the temporary data dir removed afterwards.
func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := mustRun(t, "demo")
	steps := demoSections(t, out)
	if len(steps) != 6 {
		t.Fatalf("%d steps, want 6:\n%s", len(steps), out)
	}
	for i, want := range [][]string{
		{"issuer tenant", "board DID          did:credence:", "MedicalLicenseCredential in TX"},
		{"clinician's DID    did:key:", "credential         urn:uuid:", "status entries     revocation #", "in the wallet"},
		{"practice state TX", "watch-list", "is active"},
		{"decision           ACCEPT (verified: true)", "reason codes       none", "status ✓"},
		{"webhook received   credential.revoked", "signature verified", "decision           REJECT", "reason codes       CREDENTIAL_REVOKED", "status ✗"},
		{"audit log          chain houston-general: 2 decisions", "intact", "matches the checkpoint"},
	} {
		for _, w := range want {
			if !strings.Contains(steps[i], w) {
				t.Errorf("step %d lacks %q:\n%s", i+1, w, steps[i])
			}
		}
	}
	if !strings.Contains(out, "Summary: 6 of 6 steps as expected, in") || strings.Contains(out, "FAILED") {
		t.Errorf("summary:\n%s", out)
	}
	for _, secret := range []string{"crd_", "whsec_"} { // tokens and the webhook secret
		if strings.Contains(out, secret) {
			t.Errorf("the demo printed a secret (%s...):\n%s", secret, out)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the demo left %v in the temporary dir", left)
	}
}

// demoSections splits the demo's text into its numbered steps.
func demoSections(t *testing.T, out string) []string {
	t.Helper()
	var steps []string
	for _, part := range strings.Split(out, "\n\n")[1:] {
		if len(part) > 2 && part[0] >= '1' && part[0] <= '9' && part[1] == '.' {
			steps = append(steps, part)
		}
	}
	return steps
}

func decodeDemo(t *testing.T, out string) demoResult {
	t.Helper()
	var r demoResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("demo --json: %v\n%s", err, out)
	}
	return r
}

// demoResult is what the tests read of demo --json.
type demoResult struct {
	OK, InProcess bool
	DataDir       string
	AdminToken    string
	Summary       string
	Steps         []struct {
		Step  int
		OK    bool
		Error string
		Facts map[string]json.RawMessage
	}
}

func (r demoResult) fact(t *testing.T, step int, key string, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Steps[step-1].Facts[key], v); err != nil {
		t.Fatalf("step %d fact %s: %v", step, key, err)
	}
}

// TestDemoAgainstServer runs the demo twice against a running server
// (names are made unique per run) and reads its JSON record.
func TestDemoAgainstServer(t *testing.T) {
	base := walletTestServer(t)
	for range 2 {
		r := decodeDemo(t, mustRun(t, "demo", "--server", base, "--token", testAdminToken, "--json"))
		if !r.OK || r.InProcess || len(r.Steps) != 6 || r.AdminToken != "" {
			t.Fatalf("record %+v", r)
		}
		for _, s := range r.Steps {
			if !s.OK {
				t.Errorf("step %d: %s", s.Step, s.Error)
			}
		}
		var decision string
		var codes []string
		var hook struct{ Type, CredentialID string }
		var cred string
		if r.fact(t, 4, "decision", &decision); decision != "accept" {
			t.Errorf("first decision %q", decision)
		}
		r.fact(t, 5, "decision", &decision)
		r.fact(t, 5, "reasonCodes", &codes)
		if decision != "reject" || !slices.Contains(codes, "CREDENTIAL_REVOKED") {
			t.Errorf("second decision %q %v", decision, codes)
		}
		r.fact(t, 2, "credentialId", &cred)
		if r.fact(t, 5, "webhook", &hook); hook.Type != "credential.revoked" || hook.CredentialID != cred {
			t.Errorf("webhook %+v, want credential.revoked for %s", hook, cred)
		}
	}
}

// TestDemoFailsOnUnexpectedOutcome: a hospital practising in CA rejects the
// TX license where the story expects an acceptance; the demo stops there
// and fails.
func TestDemoFailsOnUnexpectedOutcome(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var buf bytes.Buffer
	err := runDemo(t.Context(), demoOptions{json: true, webhookAddr: "127.0.0.1:0", practiceState: "CA"}, &buf)
	if !errors.Is(err, errSilentFailure) {
		t.Fatalf("runDemo: %v, want a failure\n%s", err, buf.String())
	}
	r := decodeDemo(t, buf.String())
	if r.OK || len(r.Steps) != 4 || r.Steps[3].OK || !strings.Contains(r.Steps[3].Error, "NO_LICENSE_IN_PRACTICE_STATE") {
		t.Fatalf("record %+v", r)
	}
	if !strings.Contains(r.Summary, "Step 4") {
		t.Errorf("summary %q", r.Summary)
	}
}

// TestDemoServerRefusesWebhook: a server that refuses loopback webhooks
// fails the demo at the watch-list, with a hint, and a non-zero exit.
func TestDemoServerRefusesWebhook(t *testing.T) {
	_, ts, _ := testServer(t)
	out, err := run(t, "demo", "--server", ts.URL, "--token", testAdminToken)
	if err == nil || !strings.Contains(out, "FAILED") || !strings.Contains(out, "--did-web-allow-private") ||
		!strings.Contains(out, "Summary: FAILED at step 3; 2 of 6 steps as expected") {
		t.Fatalf("demo against a server without loopback webhooks: %v\n%s", err, out)
	}
}

// TestDemoKeep keeps the data dir with the hospital's audit export, which
// audit verify accepts, and prints the throwaway server's admin token.
func TestDemoKeep(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	r := decodeDemo(t, mustRun(t, "demo", "--keep", "--json"))
	if !r.OK || !r.InProcess || r.DataDir == "" || !strings.HasPrefix(r.AdminToken, "crd_") {
		t.Fatalf("record %+v", r)
	}
	file := filepath.Join(r.DataDir, "houston-general-audit.jsonl")
	if out := mustRun(t, "audit", "verify", file); !strings.Contains(out, "intact: chain houston-general, 2 entries") {
		t.Errorf("audit verify of the kept export:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(r.DataDir, "credence.db")); err != nil {
		t.Errorf("the kept data dir: %v", err)
	}
}

func TestDemoFlagErrors(t *testing.T) {
	runErr(t, []string{"demo", "--server", "http://127.0.0.1:1"}, "--token")
	runErr(t, []string{"demo", "--token", "x"}, "--server")
	runErr(t, []string{"demo", "--server", "http://127.0.0.1:1", "--token", "x", "--keep"}, "--keep")
}
