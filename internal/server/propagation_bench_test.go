package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare/synth"
)

// BenchmarkRevocationPropagation measures, in the Redis mode, the time from a
// revoke call returning on process A (this test process) to a verifier in
// another process B (`credence serve`, built from ./cmd/credence, sharing
// only Redis) rejecting the credential with CREDENTIAL_REVOKED. B's status
// list cache is warm before every revocation: only the registry event (Redis
// pub/sub) can make it refetch in time. Reported: median, p95 and max.
//
//	go test -run '^$' -bench RevocationPropagation -benchtime 50x ./internal/server
func BenchmarkRevocationPropagation(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "credence")
	build := exec.Command("go", "build", "-o", bin, "./cmd/credence")
	build.Dir = moduleRoot(b)
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	cfg := testConfig(b)
	cfg.AnonymousRate = 0 // the benchmark polls verify from one address, without a token
	cfg.Redis = "redis://" + testredis.Addr(b) + "/0"
	cfg.RedisPrefix = testredis.Prefix(b)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(master)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: a.Handler()}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close(); a.Close() })
	baseA := cfg.PublicURL

	addrB := freeTCPAddr(b)
	ctx, cancel := context.WithCancel(context.Background())
	procB := exec.CommandContext(ctx, bin, "serve", "--addr", addrB, "--redis", cfg.Redis, "--redis-prefix", cfg.RedisPrefix,
		"--data", b.TempDir(), "--log-level", "warn", "--did-web-allow-private")
	procB.Env = append(os.Environ(), "CREDENCE_MASTER_KEY="+cfg.MasterKey, "CREDENCE_ADMIN_TOKEN="+adminToken)
	var logB strings.Builder
	procB.Stdout, procB.Stderr = &logB, &logB
	if err := procB.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = procB.Wait() })
	baseB := "http://" + addrB
	waitUp(b, baseB, &logB)

	tx := createTenantB(b, baseA)
	g := synth.New(11, synth.WithKeys())
	creds := make([]json.RawMessage, b.N)
	ids := make([]string, b.N)
	for i := range creds {
		ids[i] = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
		var req map[string]any
		_ = json.Unmarshal([]byte(licenseBody(b, activeLicense(g), "jwt")), &req)
		req["options"].(map[string]any)["credentialId"] = ids[i]
		body, _ := json.Marshal(req)
		resp, rb := doB(b, "POST", baseA+"/issuers/"+tx.Issuer.ID+"/credentials/issue", tx.Token, string(body))
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("issue: %d %s", resp.StatusCode, rb)
		}
		var out struct {
			VerifiableCredential json.RawMessage `json:"verifiableCredential"`
		}
		_ = json.Unmarshal(rb, &out)
		creds[i] = out.VerifiableCredential
	}

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		// Warm B's cache: the credential verifies (the list is fetched from A).
		if code, out := verifyB(b, baseB, creds[i]); code != 200 {
			b.Fatalf("before revocation B says %d %+v\nB log:\n%s", code, out, logB.String())
		}
		resp, body := doB(b, "POST", baseA+"/issuers/"+tx.Issuer.ID+"/credentials/status", tx.Token, `{"credentialId":"`+ids[i]+`","action":"revoke"}`)
		if resp.StatusCode != 200 {
			b.Fatalf("revoke: %d %s", resp.StatusCode, body)
		}
		t0 := time.Now()
		for {
			code, out := verifyB(b, baseB, creds[i])
			if code == http.StatusUnprocessableEntity && out.has("CREDENTIAL_REVOKED") {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("B still accepts a credential revoked 30 s ago: %d %+v", code, out)
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "ms-p95")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "ms-max")
}

func moduleRoot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func freeTCPAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitUp(b *testing.B, base string, log *strings.Builder) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("process B did not become ready:\n%s", log.String())
}

func doB(b *testing.B, method, url, token, body string) (*http.Response, []byte) {
	b.Helper()
	return do(b, method, url, token, body)
}

func createTenantB(b *testing.B, base string) tenantOut {
	resp, body := doB(b, "POST", base+"/admin/issuers", adminToken, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	var out tenantOut
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &out) != nil {
		b.Fatalf("create issuer: %d %s", resp.StatusCode, body)
	}
	return out
}

func verifyB(b *testing.B, base string, c json.RawMessage) (int, verifyOut) {
	body, _ := json.Marshal(map[string]any{"verifiableCredential": c})
	resp, rb := doB(b, "POST", base+"/credentials/verify", "", string(body))
	var out verifyOut
	if err := json.Unmarshal(rb, &out); err != nil {
		b.Fatalf("verify on B: %d %s", resp.StatusCode, rb)
	}
	return resp.StatusCode, out
}
