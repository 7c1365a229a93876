package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/config"
)

// Helpers here are prefixed tls* so they cannot clash with other test files of
// the package.

// tlsReadCert parses the certificate in a PEM file.
func tlsReadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("%s is not exactly one PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// tlsPool is a root pool trusting the certificate in a PEM file.
func tlsPool(t *testing.T, certFile string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no certificate in %s", certFile)
	}
	return pool
}

func TestDevCertificateCreatesCoveringPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "tls") // created by devCertificate
	now := time.Now()
	cert, err := devCertificate(dir, []string{"credence.test", "10.1.2.3"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("cert dir: %v mode %v, want 0700", err, st.Mode().Perm())
	}
	st, err := os.Stat(filepath.Join(dir, "dev-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("dev-key.pem mode = %v, want 0600", st.Mode().Perm())
	}
	leaf := tlsReadCert(t, filepath.Join(dir, "dev-cert.pem"))
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "credence.test", "10.1.2.3"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %s: %v", h, err)
		}
	}
	if err := leaf.VerifyHostname("other.test"); err == nil {
		t.Error("certificate covers a host it was not made for")
	}
	// Every name once.
	for _, sans := range [][]string{leaf.DNSNames, tlsIPStrings(leaf.IPAddresses)} {
		sorted := slices.Sorted(slices.Values(sans))
		if len(slices.Compact(sorted)) != len(sans) {
			t.Errorf("duplicate subject alternative names: %v", sans)
		}
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("ext key usage = %v, want server auth", leaf.ExtKeyUsage)
	}
	if leaf.NotBefore.After(now) || leaf.NotAfter.Before(now.AddDate(1, 0, 0).Add(-time.Minute)) {
		t.Errorf("validity %v – %v does not span a year from %v", leaf.NotBefore, leaf.NotAfter, now)
	}
	// The returned pair is the one written, and key and certificate match.
	if cert.Leaf == nil || !cert.Leaf.Equal(leaf) {
		t.Error("returned certificate differs from dev-cert.pem")
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "dev-cert.pem"), filepath.Join(dir, "dev-key.pem")); err != nil {
		t.Errorf("written pair does not load: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "dev-key.pem")); !strings.Contains(string(b), "-----BEGIN PRIVATE KEY-----") {
		t.Error("dev-key.pem is not a PKCS#8 PEM key")
	}
}

func tlsIPStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func TestDevCertificateReuseAndRenewal(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "dev-cert.pem")
	now := time.Now()
	hosts := []string{"credence.test"}
	if _, err := devCertificate(dir, hosts, now); err != nil {
		t.Fatal(err)
	}
	first := tlsReadCert(t, certFile)
	keyBefore, _ := os.ReadFile(filepath.Join(dir, "dev-key.pem"))

	serialAfter := func(t *testing.T, hosts []string, now time.Time) *x509.Certificate {
		t.Helper()
		cert, err := devCertificate(dir, hosts, now)
		if err != nil {
			t.Fatal(err)
		}
		onDisk := tlsReadCert(t, certFile)
		if cert.Leaf == nil || !cert.Leaf.Equal(onDisk) {
			t.Fatal("returned certificate differs from dev-cert.pem")
		}
		return onDisk
	}

	// Still valid and covering: reused, files untouched. A subset of the hosts
	// (here none beyond the defaults) is covered too.
	for _, h := range [][]string{hosts, nil, {"localhost", "127.0.0.1"}} {
		if again := serialAfter(t, h, now.Add(time.Hour)); again.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Fatalf("hosts %v: certificate replaced although it still covers them", h)
		}
	}
	if keyAfter, _ := os.ReadFile(filepath.Join(dir, "dev-key.pem")); string(keyAfter) != string(keyBefore) {
		t.Error("reusing the certificate rewrote the key")
	}
	// More than a day left: reused.
	if again := serialAfter(t, hosts, first.NotAfter.Add(-25*time.Hour)); again.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Error("certificate with more than a day left was replaced")
	}

	// Expiring within a day: replaced by a fresh one-year certificate.
	later := first.NotAfter.Add(-12 * time.Hour)
	renewed := serialAfter(t, hosts, later)
	if renewed.SerialNumber.Cmp(first.SerialNumber) == 0 {
		t.Fatal("certificate expiring within a day was not replaced")
	}
	if !renewed.NotAfter.After(later.AddDate(1, 0, 0).Add(-time.Minute)) {
		t.Errorf("renewed certificate ends %v", renewed.NotAfter)
	}
	if st, _ := os.Stat(filepath.Join(dir, "dev-key.pem")); st.Mode().Perm() != 0o600 {
		t.Errorf("renewed key mode = %v", st.Mode().Perm())
	}

	// Missing a host: replaced by one that covers it.
	wider := serialAfter(t, []string{"credence.test", "new.test"}, later)
	if wider.SerialNumber.Cmp(renewed.SerialNumber) == 0 {
		t.Fatal("certificate missing a host was not replaced")
	}
	if err := wider.VerifyHostname("new.test"); err != nil {
		t.Error(err)
	}

	// A damaged file is replaced, not an error.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	if repaired := serialAfter(t, hosts, later); repaired.SerialNumber.Cmp(wider.SerialNumber) == 0 {
		t.Error("damaged certificate file was not replaced")
	}
	// A key that does not match the certificate is replaced too.
	other := t.TempDir()
	if _, err := devCertificate(other, hosts, later); err != nil {
		t.Fatal(err)
	}
	otherKey, _ := os.ReadFile(filepath.Join(other, "dev-key.pem"))
	if err := os.WriteFile(filepath.Join(dir, "dev-key.pem"), otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devCertificate(dir, hosts, later); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, filepath.Join(dir, "dev-key.pem")); err != nil {
		t.Errorf("mismatched pair was not replaced: %v", err)
	}
}

// TestDevCertificateEmptyHost checks an empty host (a public URL such as
// https://:8443) adds no empty name and does not force a new certificate on
// every start.
func TestDevCertificateEmptyHost(t *testing.T) {
	dir := t.TempDir()
	a, err := devCertificate(dir, []string{""}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := devCertificate(dir, []string{""}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.Leaf.SerialNumber.Cmp(b.Leaf.SerialNumber) != 0 {
		t.Error("certificate replaced on every call")
	}
	if slices.Contains(a.Leaf.DNSNames, "") {
		t.Errorf("empty DNS name in %q", a.Leaf.DNSNames)
	}
}

func TestDevCertificateUnwritableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devCertificate(filepath.Join(file, "tls"), nil, time.Now()); err == nil {
		t.Error("devCertificate under a regular file succeeded")
	}
}

// tlsTestConfig is a validated configuration on a fresh data dir; edit sets TLS.
func tlsTestConfig(t *testing.T, edit func(*config.Config)) config.Config {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = "tls-test-admin-token-0123456789abcdef"
	cfg.ShutdownTimeout = 5 * time.Second
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// tlsServe runs Serve on a fresh 127.0.0.1 listener and returns its address; the
// server is stopped (and must stop cleanly) when the test ends.
func tlsServe(t *testing.T, cfg config.Config) string {
	t.Helper()
	srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	// Wait until Serve has its certificate: an unverified handshake completes.
	d := &net.Dialer{Timeout: 10 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		cancel()
		srv.Close()
		t.Fatalf("TLS handshake with the new server: %v", err)
	}
	conn.Close()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve returned %v after cancellation", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return within 15s of cancellation")
		}
		srv.Close()
	})
	return ln.Addr().String()
}

// tlsGet fetches https://host/healthz with a client trusting roots (nil: none).
func tlsGet(t *testing.T, url string, roots *x509.CertPool) (*http.Response, error) {
	t.Helper()
	if roots == nil {
		roots = x509.NewCertPool()
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode == http.StatusOK && !strings.Contains(string(body), `"ok"`) {
		t.Errorf("GET %s body = %s", url, body)
	}
	return resp, err
}

// tlsCheckServes checks the server at addr answers /healthz over HTTPS with the
// certificate in certFile to a client trusting it, and that a client trusting
// nothing fails certificate verification.
func tlsCheckServes(t *testing.T, addr, certFile string) {
	t.Helper()
	want := tlsReadCert(t, certFile)
	_, port, _ := net.SplitHostPort(addr)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		url := "https://" + net.JoinHostPort(host, port) + "/healthz"
		resp, err := tlsGet(t, url, tlsPool(t, certFile))
		if err != nil {
			t.Fatalf("GET %s trusting the certificate: %v", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", url, resp.StatusCode)
		}
		if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(want) {
			t.Errorf("GET %s: server did not present %s", url, certFile)
		}
		if resp.TLS != nil && resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("negotiated TLS version %x", resp.TLS.Version)
		}
	}

	_, err := tlsGet(t, "https://"+addr+"/healthz", nil)
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &verr) || !errors.As(err, &unknown) {
		t.Errorf("client trusting nothing: err = %v, want an unknown-authority certificate error", err)
	}

	// Plain HTTP on the TLS port does not get an answer from the API.
	client := &http.Client{Timeout: 10 * time.Second}
	if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP request to the TLS port got 200")
		}
	}

	// A TLS 1.1 client is refused.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: tlsPool(t, certFile), ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("TLS 1.1 handshake succeeded")
	}
}

func TestServeSelfSignedTLS(t *testing.T) {
	cfg := tlsTestConfig(t, func(c *config.Config) { c.TLSSelfSigned = true })
	if !strings.HasPrefix(cfg.PublicURL, "https://") {
		t.Fatalf("public URL = %s, want https", cfg.PublicURL)
	}
	addr := tlsServe(t, cfg)
	certFile := filepath.Join(cfg.DataDir, "tls", "dev-cert.pem")
	if st, err := os.Stat(filepath.Join(cfg.DataDir, "tls", "dev-key.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("dev key in the data dir: %v", err)
	}
	tlsCheckServes(t, addr, certFile)
	leaf := tlsReadCert(t, certFile)
	if len(leaf.IPAddresses) != 2 || len(leaf.DNSNames) != 1 { // 127.0.0.1 (also the public host), ::1, localhost
		t.Errorf("dev certificate names: DNS %v, IP %v; want each once", leaf.DNSNames, leaf.IPAddresses)
	}

	// TLSConfig reuses the certificate kept in the data dir.
	srv := &Server{cfg: cfg}
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Certificates) != 1 || !tc.Certificates[0].Leaf.Equal(tlsReadCert(t, certFile)) {
		t.Error("TLSConfig made a new certificate instead of reusing the data dir's")
	}
	if tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", tc.MinVersion)
	}
}

func TestSelfSignedCoversPublicHost(t *testing.T) {
	cfg := tlsTestConfig(t, func(c *config.Config) {
		c.TLSSelfSigned = true
		c.PublicURL = "https://credence.example.test:8443"
	})
	srv := &Server{cfg: cfg}
	tc, err := srv.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf := tc.Certificates[0].Leaf
	for _, h := range []string{"credence.example.test", "localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("self-signed certificate does not cover %s: %v", h, err)
		}
	}
}

func TestServeTLSCertFiles(t *testing.T) {
	// Make a pair elsewhere and move it to custom paths.
	gen := t.TempDir()
	if _, err := devCertificate(gen, []string{"credence.test"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	custom := t.TempDir()
	certFile, keyFile := filepath.Join(custom, "server.crt"), filepath.Join(custom, "server.key")
	for src, dst := range map[string]string{"dev-cert.pem": certFile, "dev-key.pem": keyFile} {
		b, err := os.ReadFile(filepath.Join(gen, src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := tlsTestConfig(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if !strings.HasPrefix(cfg.PublicURL, "https://") {
		t.Fatalf("public URL = %s, want https", cfg.PublicURL)
	}
	addr := tlsServe(t, cfg)
	tlsCheckServes(t, addr, certFile)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "tls")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serving configured files made a dev certificate too: %v", err)
	}
}

func TestTLSConfigErrors(t *testing.T) {
	plain := tlsTestConfig(t, func(*config.Config) {})
	if tc, err := (&Server{cfg: plain}).TLSConfig(); tc != nil || err != nil {
		t.Errorf("plain HTTP TLSConfig = %v, %v; want nil, nil", tc, err)
	}

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{certFile, keyFile} {
		if err := os.WriteFile(f, []byte("garbage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := tlsTestConfig(t, func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	if _, err := (&Server{cfg: cfg}).TLSConfig(); err == nil || !strings.Contains(err.Error(), "failed to load the TLS certificate") {
		t.Errorf("TLSConfig with garbage files: %v", err)
	}

	// Serve reports the bad certificate instead of serving.
	srv, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Serve(ctx, ln); err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Errorf("Serve with a bad certificate = %v", err)
	}
}
