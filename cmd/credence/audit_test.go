package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/verifierapi"
	"github.com/credence/credence/verifier"
	"github.com/credence/credence/verifier/audit"
	"github.com/gin-gonic/gin"
)

type testAuditSigner struct{ priv ed25519.PrivateKey }

func (s testAuditSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}
func (s testAuditSigner) Public() crypto.PublicKey { return s.priv.Public() }

func newTestAuditSigner(b byte) testAuditSigner {
	return testAuditSigner{ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32))}
}

// auditLog is a log with n decisions on each of chains.
func auditLog(t *testing.T, signer testAuditSigner, n int, chains ...string) *audit.Log {
	t.Helper()
	l := audit.New(memkv.New(), signer)
	for _, chain := range chains {
		for i := range n {
			_, err := l.Append(t.Context(), audit.Entry{
				Chain: chain, Requester: "tok_00112233445566aa", Kind: audit.KindCredential,
				Credentials: []audit.CredentialRef{{ID: "urn:uuid:1", Digest: audit.Digest([]byte{byte(i)})}},
				Checks:      []audit.Check{{Name: "proof", Passed: true}}, Verified: true, Decision: "accept",
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return l
}

// auditFile writes chain's export to a file and returns its path and bytes.
func auditFile(t *testing.T, l *audit.Log, chain string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := l.Export(t.Context(), chain, &buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

func multikeyOf(t *testing.T, s testAuditSigner) string {
	t.Helper()
	k, err := did.EncodeMultikey(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuditVerifyCommand(t *testing.T) {
	signer := newTestAuditSigner(1)
	key := multikeyOf(t, signer)
	path, data := auditFile(t, auditLog(t, signer, 3, "hosp-a"), "hosp-a")

	out := mustRun(t, "audit", "verify", path)
	for _, want := range []string{"intact: chain hosp-a, 3 entries", key, "the key was not checked"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit verify output lacks %q:\n%s", want, out)
		}
	}
	out = mustRun(t, "audit", "verify", path, "--key", key)
	if !strings.Contains(out, "intact: chain hosp-a, 3 entries") || strings.Contains(out, "not checked") {
		t.Errorf("audit verify --key output:\n%s", out)
	}
	got := decode[auditVerifyOutput](t, mustRun(t, "audit", "verify", path, "--key", key, "--json"))
	if !got.Intact || got.Size != 3 || got.Chain != "hosp-a" || !got.KeyChecked || got.Key != key || got.Error != nil {
		t.Errorf("audit verify --json = %+v", got)
	}

	// Another key: not intact, exit status 1.
	other := multikeyOf(t, newTestAuditSigner(2))
	out, err := run(t, "audit", "verify", path, "--key", other)
	if !errors.Is(err, errSilentFailure) || !strings.Contains(out, "NOT intact") || !strings.Contains(out, "not by the expected key") {
		t.Errorf("audit verify with another key = %v:\n%s", err, out)
	}

	// A member added to entry 2.
	tampered := bytes.Replace(data, []byte(`"seq":2,`), []byte(`"seq":2,"x":0,`), 1)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, "audit", "verify", bad, "--json")
	if !errors.Is(err, errSilentFailure) {
		t.Fatalf("audit verify of a tampered export = %v, want exit status 1", err)
	}
	v := decode[auditVerifyOutput](t, out)
	if v.Intact || v.Error == nil || v.Error.Line != 2 || v.Error.Seq != 2 || v.Size != 1 {
		t.Errorf("audit verify --json of a tampered export = %+v (error %+v)", v, v.Error)
	}
	out, _ = run(t, "audit", "verify", bad)
	if !strings.Contains(out, "NOT intact: line 2 (seq 2)") {
		t.Errorf("audit verify of a tampered export:\n%s", out)
	}

	runErr(t, []string{"audit", "verify", path, "--key", "zNotAKey"}, "--key")
	runErr(t, []string{"audit", "verify", filepath.Join(t.TempDir(), "missing.jsonl")}, "missing.jsonl")
	runErr(t, []string{"audit", "verify"}, "arg")
}

func TestAuditVerifyStdin(t *testing.T) {
	signer := newTestAuditSigner(1)
	_, data := auditFile(t, auditLog(t, signer, 2, "hosp-a"), "hosp-a")
	for _, c := range []struct {
		in     []byte
		intact bool
	}{{data, true}, {data[:len(data)-20], false}} {
		stdout, _, err := runIO(t, bytes.NewReader(c.in), "audit", "verify", "-")
		if (err == nil) != c.intact || strings.Contains(stdout, "NOT intact") == c.intact {
			t.Errorf("audit verify - = %v:\n%s", err, stdout)
		}
	}
}

// runIO is run with the given standard input and separate outputs.
func runIO(t *testing.T, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetIn(stdin)
	err := cmd.ExecuteContext(t.Context())
	return stdout.String(), stderr.String(), err
}

// auditServer serves the audit routes of l with real token checks.
func auditServer(t *testing.T, l *audit.Log) (url, admin, hospA string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	tokens := auth.NewStore(memkv.New())
	admin, _, err := tokens.Issue(t.Context(), "admin", "test", auth.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	hospA, _, err = tokens.Issue(t.Context(), "hosp-a", "test", verifier.Scope("hosp-a"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := gin.New()
	e.Use(httpx.RequestIDs())
	api := &verifierapi.Audit{Log: l, Logger: logger}
	api.Routes(e.Group("/", verifierapi.RequireTenant(tokens, logger)), e.Group("/", httpx.Require(tokens, logger, auth.ScopeAdmin)))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL, admin, hospA
}

func TestAuditExportCommand(t *testing.T) {
	signer := newTestAuditSigner(1)
	key := multikeyOf(t, signer)
	l := auditLog(t, signer, 3, "hosp-a", "hosp-b")
	srv, admin, hospA := auditServer(t, l)

	file := filepath.Join(t.TempDir(), "export.jsonl")
	out := mustRun(t, "audit", "export", "--server", srv, "--token", hospA, "--out", file)
	if !strings.Contains(out, "intact: chain hosp-a, 3 entries") || !strings.Contains(out, "--key "+key) {
		t.Errorf("audit export output:\n%s", out)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, %v; want mode 0600", st, err)
	}
	got := decode[auditVerifyOutput](t, mustRun(t, "audit", "verify", file, "--key", key, "--json"))
	if !got.Intact || got.Chain != "hosp-a" || got.Size != 3 {
		t.Errorf("verify of the exported file = %+v", got)
	}

	// To standard output, with an admin token and another chain; the
	// verdict goes to standard error.
	stdout, stderr, err := runIO(t, strings.NewReader(""), "audit", "export", "--server", srv, "--token", admin, "--chain", "hosp-b")
	if err != nil {
		t.Fatalf("audit export --chain: %v\n%s", err, stderr)
	}
	rep, err := audit.Verify(strings.NewReader(stdout), signer.Public())
	if err != nil || rep.Chain != "hosp-b" || rep.Size != 3 {
		t.Errorf("exported stdout: %+v, %v", rep, err)
	}
	if !strings.Contains(stderr, "intact: chain hosp-b") {
		t.Errorf("audit export stderr:\n%s", stderr)
	}

	runErr(t, []string{"audit", "export", "--server", srv, "--token", hospA, "--chain", "hosp-b"}, "403")
	runErr(t, []string{"audit", "export", "--server", srv, "--token", "crd_wrongwrongwrongwrongwrongwrongwrong00"}, "401")
	runErr(t, []string{"audit", "export", "--token", hospA}, "--server")
	runErr(t, []string{"audit", "export", "--server", srv, "--token", admin, "--chain", "a/b"}, "--chain")
}

// TestAuditExportTruncated is a server whose export stops before its signed
// head: the command says so and exits 1.
func TestAuditExportTruncated(t *testing.T) {
	signer := newTestAuditSigner(1)
	_, data := auditFile(t, auditLog(t, signer, 3, "hosp-a"), "hosp-a")
	cut := data[:bytes.LastIndexByte(data[:len(data)-1], '\n')+1]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", verifierapi.MediaNDJSON)
		_, _ = w.Write(cut)
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "export.jsonl")
	out, err := run(t, "audit", "export", "--server", srv.URL, "--token", "t", "--out", file)
	if !errors.Is(err, errSilentFailure) || !strings.Contains(out, "NOT intact") || !strings.Contains(out, "truncated") {
		t.Errorf("audit export of a truncated export = %v:\n%s", err, out)
	}
}
