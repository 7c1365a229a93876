package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare/synth"
)

func TestMain(m *testing.M) { testredis.Main(m) }

const adminToken = "test-admin-token-0123456789abcdef"

func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = adminToken
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newServer(t *testing.T, cfg config.Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts
}

func do(t testing.TB, method, url, token, body string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// privateKeyMarkers are encodings under which a private key could appear in a file:
// the fixed PKCS#8 prefixes of Ed25519 and P-256 keys (as Go marshals them), in raw,
// hex and base64 form, plus PEM and JWK private-member text.
func privateKeyMarkers(t *testing.T) [][]byte {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var markers [][]byte
	for _, k := range []any{ed, ec} {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		prefix := der[:16]
		markers = append(markers, prefix, []byte(hex.EncodeToString(prefix)),
			[]byte(base64.StdEncoding.EncodeToString(prefix)[:20]), []byte(base64.RawURLEncoding.EncodeToString(prefix)[:20]))
	}
	return append(markers, []byte("PRIVATE KEY"), []byte(`"d":"`))
}

func TestKeysAtRestAreEncryptedInTheDataDir(t *testing.T) {
	cfg := testConfig(t)
	_, ts := newServer(t, cfg)
	for _, body := range []string{`{"method":"key"}`, `{"method":"key","keyType":"P-256"}`, `{"method":"jwk","keyType":"P-256"}`, `{"method":"web","path":"boards/tx"}`} {
		if resp, b := do(t, "POST", ts.URL+"/admin/dids", adminToken, body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: %d %s", body, resp.StatusCode, b)
		}
	}
	ts.Close()
	markers := privateKeyMarkers(t)
	// The detector must see a key that is stored in the clear.
	der, _ := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	if !containsAny(der, markers) {
		t.Fatal("marker scan cannot detect a plaintext PKCS#8 key")
	}
	master, _ := os.ReadFile(filepath.Join(cfg.DataDir, "master.key"))
	scanned := 0
	err := filepath.WalkDir(cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "master.key" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		scanned += len(b)
		if containsAny(b, markers) || bytes.Contains(b, bytes.TrimSpace(master)) {
			t.Errorf("%s contains private key material", path)
		}
		return nil
	})
	if err != nil || scanned == 0 {
		t.Fatalf("scan: %v (%d bytes)", err, scanned)
	}
	if fi, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode = %v, %v", fi.Mode(), err)
	}
}

func containsAny(b []byte, markers [][]byte) bool {
	for _, m := range markers {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

func TestRedisModeSharesStateAcrossReplicas(t *testing.T) {
	cfg := testConfig(t)
	cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
	cfg.RedisPrefix = testredis.Prefix(t)
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	cfg.MasterKey = base64.StdEncoding.EncodeToString(master)
	a, tsA := newServer(t, cfg)
	cfg2 := cfg
	cfg2.DataDir = t.TempDir() // a replica on another machine shares only Redis and the master key
	b, tsB := newServer(t, cfg2)
	if a.ServiceDID != b.ServiceDID {
		t.Errorf("replicas disagree on the service DID: %s vs %s", a.ServiceDID, b.ServiceDID)
	}
	resp, body := do(t, "POST", tsA.URL+"/admin/dids", adminToken, `{"method":"web","path":"boards/ca"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create on A: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", tsB.URL+"/boards/ca/did.json", "", ""); resp.StatusCode != 200 || !bytes.Contains(body, []byte("boards:ca")) {
		t.Errorf("replica B does not serve A's DID: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", tsB.URL+"/readyz", "", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"redis":"ok"`)) {
		t.Errorf("readyz = %d %s", resp.StatusCode, body)
	}
	b.redis.Close() // Redis unreachable for B
	resp, body = do(t, "GET", tsB.URL+"/readyz", "", "")
	if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte(`"redis":"unavailable"`)) {
		t.Errorf("readyz with Redis down = %d %s", resp.StatusCode, body)
	}
	bad := cfg
	bad.Redis = "redis://127.0.0.1:1/0"
	if _, err := New(context.Background(), bad, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "failed to reach Redis") {
		t.Errorf("unreachable Redis at start: %v", err)
	}
}

func TestMetricsRequestIDsAndProblems(t *testing.T) {
	_, ts := newServer(t, testConfig(t))
	do(t, "GET", ts.URL+"/healthz", "", "")
	resp, _ := do(t, "GET", ts.URL+"/healthz", "", "", "X-Request-ID", "trace-abc.123")
	if got := resp.Header.Get("X-Request-ID"); got != "trace-abc.123" {
		t.Errorf("request id not propagated: %q", got)
	}
	resp, _ = do(t, "GET", ts.URL+"/healthz", "", "", "X-Request-ID", "bad id with spaces")
	if got := resp.Header.Get("X-Request-ID"); got == "" || strings.Contains(got, " ") {
		t.Errorf("malformed request id kept: %q", got)
	}
	resp, body := do(t, "GET", ts.URL+"/nope", "", "")
	var p map[string]any
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil ||
		p["type"] != "urn:credence:problem:not-found" || p["requestId"] == "" {
		t.Errorf("unknown route: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Two verifications, one after the other: two audited decisions, in
	// a store write each (a lone caller never waits for company).
	tx := createTenant(t, ts.URL, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	resp, out := do(t, "POST", ts.URL+"/issuers/"+tx.Issuer.ID+"/credentials/issue", tx.Token, licenseBody(t, activeLicense(synth.New(5)), "jwt"))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, out)
	}
	var issued struct{ VerifiableCredential json.RawMessage }
	_ = json.Unmarshal(out, &issued)
	req, _ := json.Marshal(map[string]any{"verifiableCredential": issued.VerifiableCredential})
	for range 2 {
		if resp, out := do(t, "POST", ts.URL+"/credentials/verify", "", string(req)); resp.StatusCode != http.StatusOK {
			t.Fatalf("verify: %d %s", resp.StatusCode, out)
		}
	}
	_, metrics := do(t, "GET", ts.URL+"/metrics", "", "")
	for _, want := range []string{
		"credence_audit_appends_total 2\n", "credence_audit_writes_total 2\n",
		`credence_http_requests_total{code="200",method="GET",route="/healthz"} 3`,
		`credence_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`credence_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
