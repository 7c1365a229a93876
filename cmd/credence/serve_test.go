package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/config"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// waitHealthy polls GET base/healthz until it answers 200, or fails the test
// after 10s (or as soon as the server has returned).
func waitHealthy(t *testing.T, base string, done <-chan error, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server stopped before it was healthy: %v\nlog:\n%s", err, log)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("GET %s/healthz did not answer 200 within 10s\nlog:\n%s", base, log)
}

// waitStopped waits for a server's return value after its context was cancelled.
func waitStopped(t *testing.T, done <-chan error, log *syncBuffer) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not stop within 20s of cancellation\nlog:\n%s", log)
		return nil
	}
}

// logLines returns the JSON log records in out, failing on any line that is
// neither a JSON record nor part of the admin-token banner.
func logLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %s", err, line)
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

func findRecord(recs []map[string]any, msg string) map[string]any {
	for _, r := range recs {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

var tokenBanner = regexp.MustCompile(`Admin token \(shown once; store it now, it cannot be recovered\):\n\n    (\S+)\n`)

func getBody(t *testing.T, url string) []byte {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, url, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d %s", url, code, body)
	}
	return body
}

// TestServeLifecycle starts serve on a fresh data dir, checks the one-time admin
// token and the ready log, shuts it down by cancelling its context, then starts
// it again (through the serve command) and checks the restart keeps the admin
// token, the keys and the DIDs.
func TestServeLifecycle(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	base := "http://" + addr
	cfg := config.Defaults()
	cfg.Addr = addr
	cfg.DataDir = data
	cfg.ShutdownTimeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	// First start.
	var log1 syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, &log1) }()
	waitHealthy(t, base, done, &log1)

	out := log1.String()
	if n := strings.Count(out, "Admin token (shown once"); n != 1 {
		t.Fatalf("admin token banner shown %d times, want 1:\n%s", n, out)
	}
	m := tokenBanner.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no admin token in the banner:\n%s", out)
	}
	token := m[1]
	recs := logLines(t, out)
	ready := findRecord(recs, "credence is ready")
	if ready == nil {
		t.Fatalf("no JSON \"credence is ready\" record:\n%s", out)
	}
	if ready["listen"] != addr || ready["url"] != base || ready["storage"] != "embedded" || ready["data"] != data ||
		ready["roles"] != "issuer,verifier,registry,wallet" {
		t.Errorf("ready record = %v", ready)
	}
	serviceDID, _ := ready["did"].(string)
	if !strings.HasPrefix(serviceDID, "did:web:127.0.0.1%3A") {
		t.Errorf("ready record names service DID %q", serviceDID)
	}
	if findRecord(recs, "created a new master key file in the data dir; back it up: without it the stored keys cannot be decrypted") == nil {
		t.Errorf("first start did not warn about the new master key:\n%s", out)
	}
	for _, r := range recs { // the token goes to the terminal only, never into a log record
		if b, _ := json.Marshal(r); bytes.Contains(b, []byte(token)) {
			t.Errorf("the admin token appears in a log record: %s", b)
		}
	}

	// The printed token is an admin token.
	code, body := httpDo(t, http.MethodPost, base+"/admin/dids", token, `{"method":"key"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST /admin/dids with the printed token = %d %s", code, body)
	}
	var created struct{ DID string }
	if err := json.Unmarshal(body, &created); err != nil || created.DID == "" {
		t.Fatalf("create answer %s: %v", body, err)
	}
	if code, _ := httpDo(t, http.MethodPost, base+"/admin/dids", "", `{"method":"key"}`); code != http.StatusUnauthorized {
		t.Errorf("POST /admin/dids without a token = %d, want 401", code)
	}
	serviceDoc := getBody(t, base+"/.well-known/did.json")
	var doc struct {
		ID                 string
		VerificationMethod []json.RawMessage
	}
	if err := json.Unmarshal(serviceDoc, &doc); err != nil || doc.ID != serviceDID || len(doc.VerificationMethod) != 2 {
		t.Errorf("service DID document = %s (%v), want %s with two keys", serviceDoc, err, serviceDID)
	}

	// Graceful shutdown.
	cancel()
	if err := waitStopped(t, done, &log1); err != nil {
		t.Fatalf("serve returned %v after cancellation, want nil\nlog:\n%s", err, log1.String())
	}
	if findRecord(logLines(t, log1.String()), "shutting down") == nil {
		t.Errorf("no shutdown record:\n%s", log1.String())
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after serve returned")
	}

	// Second start on the same data dir, through the command line.
	var log2 syncBuffer
	ctx2, cancel2 := context.WithCancel(t.Context())
	defer cancel2()
	done2 := make(chan error, 1)
	go func() {
		cmd := rootCmd()
		cmd.SetArgs([]string{"serve", "--addr", addr, "--data", data, "--shutdown-timeout", "5s"})
		cmd.SetOut(&log2)
		cmd.SetErr(&log2)
		done2 <- cmd.ExecuteContext(ctx2)
	}()
	waitHealthy(t, base, done2, &log2)
	out2 := log2.String()
	if strings.Contains(out2, "Admin token") || strings.Contains(out2, token) {
		t.Errorf("the restart showed an admin token:\n%s", out2)
	}
	recs2 := logLines(t, out2)
	if findRecord(recs2, "created a new master key file in the data dir; back it up: without it the stored keys cannot be decrypted") != nil {
		t.Errorf("the restart made a new master key:\n%s", out2)
	}
	if r := findRecord(recs2, "credence is ready"); r == nil || r["did"] != serviceDID {
		t.Errorf("restart ready record = %v, want service DID %s", r, serviceDID)
	}
	if code, body := httpDo(t, http.MethodPost, base+"/admin/dids", token, `{"method":"jwk"}`); code != http.StatusCreated {
		t.Errorf("POST /admin/dids with the first token after restart = %d %s", code, body)
	}
	if got := getBody(t, base+"/.well-known/did.json"); !bytes.Equal(got, serviceDoc) {
		t.Errorf("service DID document changed across restart:\nbefore %s\nafter  %s", serviceDoc, got)
	}
	code, body = httpDo(t, http.MethodGet, base+"/admin/dids", token, "")
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"`+created.DID+`"`)) {
		t.Errorf("GET /admin/dids after restart = %d %s, want it to list %s", code, body, created.DID)
	}

	cancel2()
	if err := waitStopped(t, done2, &log2); err != nil {
		t.Fatalf("serve command returned %v after cancellation, want nil\nlog:\n%s", err, log2.String())
	}
}

// TestServeAddressInUse checks serve fails when it cannot listen, and releases
// the data dir on the way out.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config.Defaults()
	cfg.Addr = ln.Addr().String()
	cfg.DataDir = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	err = serve(t.Context(), cfg, &log)
	if err == nil || !strings.Contains(err.Error(), "failed to listen on "+cfg.Addr) {
		t.Fatalf("serve on a taken address = %v", err)
	}
	if strings.Contains(log.String(), "credence is ready") {
		t.Errorf("serve logged ready although it could not listen:\n%s", log.String())
	}
	// The store was closed: an offline create on the data dir does not find it locked.
	mustRun(t, "did", "create", "--data", cfg.DataDir)
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	cfg := config.Defaults()
	cfg.LogFormat, cfg.LogLevel = "text", "warn"
	log := newLogger(cfg, &buf)
	log.Info("hidden")
	log.Warn("shown", "k", "v")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "level=WARN msg=shown k=v") {
		t.Errorf("text logger at warn wrote:\n%s", out)
	}

	buf.Reset()
	cfg.LogFormat, cfg.LogLevel = "json", "debug"
	newLogger(cfg, &buf).Debug("dbg")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "dbg" || rec["level"] != "DEBUG" {
		t.Errorf("JSON logger at debug wrote %q (%v)", buf.String(), err)
	}
}

// TestServeFailedFirstStartKeepsTokenRecoverable checks a first start that
// cannot listen does not swallow the one-time admin token: the next start that
// works still shows one.
func TestServeFailedFirstStartKeepsTokenRecoverable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config.Defaults()
	cfg.Addr = ln.Addr().String()
	cfg.DataDir = t.TempDir()
	cfg.ShutdownTimeout = 5 * time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log1 syncBuffer
	if err := serve(t.Context(), cfg, &log1); err == nil {
		t.Fatal("serve on a taken address succeeded")
	}

	cfg.Addr, cfg.PublicURL = freeAddr(t), ""
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log2 syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, &log2) }()
	waitHealthy(t, "http://"+cfg.Addr, done, &log2)
	cancel()
	if err := waitStopped(t, done, &log2); err != nil {
		t.Fatal(err)
	}
	m := tokenBanner.FindStringSubmatch(log1.String() + log2.String())
	if m == nil {
		t.Fatalf("no start ever showed the admin token\nfirst:\n%s\nsecond:\n%s", log1.String(), log2.String())
	}
}

// TestServeBadTLSCertificate checks serve fails on an unusable certificate
// before announcing readiness, still showing the admin token it recorded.
func TestServeBadTLSCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{certFile, keyFile} {
		if err := os.WriteFile(f, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Defaults()
	cfg.Addr = freeAddr(t)
	cfg.DataDir = t.TempDir()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := serve(ctx, cfg, &log)
	if err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Fatalf("serve with a garbage certificate = %v", err)
	}
	out := log.String()
	if strings.Contains(out, "credence is ready") {
		t.Errorf("serve announced readiness with an unusable certificate:\n%s", out)
	}
	if !tokenBanner.MatchString(out) {
		t.Errorf("the recorded admin token was not shown:\n%s", out)
	}
	// The address was released.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		t.Errorf("serve left %s in use: %v", cfg.Addr, err)
	} else {
		ln.Close()
	}
}

// TestServeRoles checks --roles is validated before anything starts: an
// unknown role is named with the valid ones, and a subset of the roles
// needs --redis.
func TestServeRoles(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--roles", "issuer,hospital"}, []string{"invalid configuration", `unknown role "hospital"`, "valid roles: issuer, verifier, registry, wallet"}},
		{[]string{"--roles", "verifier"}, []string{"invalid configuration", "--roles (CREDENCE_ROLES)", "needs --redis"}},
	} {
		data := t.TempDir()
		out, err := run(t, append([]string{"serve", "--addr", freeAddr(t), "--data", data}, tc.args...)...)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("serve %v = %v (output %q), want %q", tc.args, err, out, w)
			}
		}
		if entries, _ := os.ReadDir(data); len(entries) > 0 {
			t.Errorf("serve %v wrote to the data dir before validating", tc.args)
		}
	}
}
