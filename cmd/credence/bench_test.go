package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credence/credence/vc/healthcare/synth"
)

func TestBenchVerify(t *testing.T) {
	srv := walletTestServer(t)
	clinic := newWalletClinic(t, srv)
	subject := synth.New(5).Patient().IdentitySubject()
	file := walletWriteFile(t, t.TempDir(), "answer.json", clinic.issue(t, "jwt", subject))

	type result struct {
		URL         string `json:"url"`
		Concurrency int    `json:"concurrency"`
		Result      struct {
			Requests, Errors    int
			PerSecond           float64
			P50Ns, P99Ns, MaxNs int64
			Statuses            map[string]int
		} `json:"result"`
	}
	out := mustRun(t, "bench", "verify", "--server", srv, "--credential", file, "--requests", "40", "--concurrency", "4", "--warmup", "3", "--json")
	var r result
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Result.Requests != 40 || r.Result.Errors != 0 || r.Result.Statuses["200"] != 40 || r.Concurrency != 4 ||
		r.Result.PerSecond <= 0 || r.Result.P50Ns <= 0 || r.Result.P50Ns > r.Result.P99Ns || !strings.HasSuffix(r.URL, "/credentials/verify") {
		t.Errorf("bench verify answered %+v", r)
	}
	// Past the anonymous limit (bursts of 200 per address: the default
	// warmup alone takes that), a token is needed.
	human := mustRun(t, "bench", "verify", "--server", srv, "--token", testAdminToken, "--credential", file, "--requests", "10", "--concurrency", "2")
	for _, want := range []string{"verified      10 in", "(0 errors)", "verifications/s", "p50"} {
		if !strings.Contains(human, want) {
			t.Errorf("human output lacks %q:\n%s", want, human)
		}
	}

	// A tampered credential is refused by the server: every request is an error.
	bad := walletWriteFile(t, t.TempDir(), "bad.txt", []byte(strings.Replace(string(clinic.issue(t, "jwt", subject)), ".", ".x", 1)))
	runErr(t, []string{"bench", "verify", "--server", srv, "--token", testAdminToken, "--credential", bad, "--requests", "5", "--warmup", "0"}, "no verification succeeded")
	runErr(t, []string{"bench", "verify", "--credential", file, "--requests", "5"}, "--server")
	runErr(t, []string{"bench", "verify", "--server", srv, "--credential", file}, "--requests or --duration")
	runErr(t, []string{"bench", "verify", "--server", srv, "--credential", filepath.Join(t.TempDir(), "none"), "--requests", "1"}, "none")
}
