package verifierapi

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier"
	"github.com/credence/credence/verifier/audit"
	"github.com/gin-gonic/gin"
)

type auditSigner struct{ priv ed25519.PrivateKey }

func (s auditSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, msg), nil
}
func (s auditSigner) Public() crypto.PublicKey { return s.priv.Public() }

type auditEnv struct {
	engine *gin.Engine
	store  kv.Store
	log    *audit.Log
	signer auditSigner
	// tokens: admin, verifier hosp-a, an issuer's.
	admin, hospA, issuer string
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	ctx := t.Context()
	env := &auditEnv{store: memkv.New(), signer: auditSigner{ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))}}
	env.log = audit.New(env.store, env.signer)
	tokens := auth.NewStore(memkv.New())
	var err error
	issue := func(scope string) string {
		s, _, e := tokens.Issue(ctx, "test", "test", scope)
		if e != nil {
			err = e
		}
		return s
	}
	env.admin, env.hospA, env.issuer = issue(auth.ScopeAdmin), issue(verifier.Scope("hosp-a")), issue("issuer:board")
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	e := gin.New()
	e.Use(httpx.RequestIDs())
	api := &Audit{Log: env.log, Logger: logger}
	api.Routes(e.Group("/", RequireTenant(tokens, logger)), e.Group("/", httpx.Require(tokens, logger, auth.ScopeAdmin)))
	env.engine = e
	return env
}

func (env *auditEnv) record(t *testing.T, chain string, n int) {
	t.Helper()
	for i := range n {
		_, err := env.log.Append(t.Context(), audit.Entry{
			Chain: chain, Requester: "tok_00112233445566aa", Kind: audit.KindCredential,
			Credentials: []audit.CredentialRef{{Digest: audit.Digest([]byte{byte(i)})}},
			Checks:      []audit.Check{{Name: "proof", Passed: true}}, Verified: true, Decision: "accept",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (env *auditEnv) get(path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	env.engine.ServeHTTP(w, req)
	return w
}

// verifyExport checks an export response: intact, signed by the service,
// of chain with size entries.
func (env *auditEnv) verifyExport(t *testing.T, w *httptest.ResponseRecorder, chain string, size uint64) {
	t.Helper()
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != MediaNDJSON {
		t.Fatalf("export = %d %s, want 200 %s\n%s", w.Code, w.Header().Get("Content-Type"), MediaNDJSON, w.Body)
	}
	rep, err := audit.Verify(w.Body, env.signer.Public())
	if err != nil || rep.Chain != chain || rep.Size != size {
		t.Fatalf("Verify(export) = %+v, %v; want chain %s of %d entries", rep, err, chain, size)
	}
}

func TestAuditExportOwnChain(t *testing.T) {
	env := newAuditEnv(t)
	env.record(t, "hosp-a", 3)
	env.record(t, "hosp-b", 2)
	env.record(t, audit.DefaultChain, 1)

	env.verifyExport(t, env.get("/verifier/audit", env.hospA), "hosp-a", 3)
	// An admin token has no tenant: its own chain is the default one.
	env.verifyExport(t, env.get("/verifier/audit", env.admin), audit.DefaultChain, 1)

	w := env.get("/verifier/audit/head", env.hospA)
	var h audit.Head
	if err := json.Unmarshal(w.Body.Bytes(), &h); err != nil || w.Code != http.StatusOK {
		t.Fatalf("head = %d %s", w.Code, w.Body)
	}
	want, _ := env.log.Head(t.Context(), "hosp-a")
	if h.Chain != want.Chain || h.Size != 3 || h.Hash != want.Hash || !h.Time.Equal(want.Time) {
		t.Errorf("head = %+v, want %+v", h, want)
	}
}

func TestAuditExportAnyChain(t *testing.T) {
	env := newAuditEnv(t)
	env.record(t, "hosp-b", 2)
	env.verifyExport(t, env.get("/admin/audit/hosp-b", env.admin), "hosp-b", 2)
	env.verifyExport(t, env.get("/admin/audit/nobody-yet", env.admin), "nobody-yet", 0)
	if w := env.get("/admin/audit/bad%20name", env.admin); w.Code != http.StatusBadRequest {
		t.Errorf("bad chain name = %d, want 400", w.Code)
	}
}

func TestAuditAuthorization(t *testing.T) {
	env := newAuditEnv(t)
	env.record(t, "hosp-b", 1)
	cases := []struct {
		path, token string
		want        int
	}{
		{"/verifier/audit", "", http.StatusUnauthorized},
		{"/verifier/audit/head", "", http.StatusUnauthorized},
		{"/verifier/audit", "crd_notAValidTokenAtAll0123456789abcdefgh", http.StatusUnauthorized},
		{"/verifier/audit", "issuer", http.StatusForbidden},
		{"/admin/audit/hosp-b", "", http.StatusUnauthorized},
		{"/admin/audit/hosp-b", "hospA", http.StatusForbidden}, // a verifier reads only its own chain
		{"/admin/audit/hosp-b", "issuer", http.StatusForbidden},
	}
	for _, c := range cases {
		tok := map[string]string{"issuer": env.issuer, "hospA": env.hospA}[c.token]
		if tok == "" {
			tok = c.token
		}
		w := env.get(c.path, tok)
		if w.Code != c.want || w.Header().Get("Content-Type") != httpx.MediaProblem {
			t.Errorf("GET %s with %q = %d %s, want %d problem", c.path, c.token, w.Code, w.Header().Get("Content-Type"), c.want)
		}
		if strings.Contains(w.Body.String(), `"seq"`) {
			t.Errorf("GET %s with %q leaked entries: %s", c.path, c.token, w.Body)
		}
	}
}

// TestAuditRoutesRequireAuthentication mounts the routes without any auth
// middleware, a wiring mistake: they refuse rather than serve a chain.
func TestAuditRoutesRequireAuthentication(t *testing.T) {
	gin.SetMode(gin.TestMode)
	l := audit.New(memkv.New(), auditSigner{ed25519.NewKeyFromSeed(make([]byte, 32))})
	e := gin.New()
	(&Audit{Log: l}).Routes(e, e)
	for path, want := range map[string]int{
		"/verifier/audit":      http.StatusUnauthorized,
		"/verifier/audit/head": http.StatusUnauthorized,
		"/admin/audit/default": http.StatusForbidden,
	} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != want {
			t.Errorf("GET %s without auth = %d, want %d", path, w.Code, want)
		}
	}
}

// TestAuditTenantFromContext drives the routes with only the keys the
// tenant middleware sets.
func TestAuditTenantFromContext(t *testing.T) {
	gin.SetMode(gin.TestMode)
	signer := auditSigner{ed25519.NewKeyFromSeed(make([]byte, 32))}
	l := audit.New(memkv.New(), signer)
	env := &auditEnv{log: l, signer: signer}
	env.record(t, "ward-7", 2)
	e := gin.New()
	tenant := e.Group("/", func(c *gin.Context) {
		c.Set("credence.verifier", "ward-7")
		c.Set("credence.requester", "tok_0123456789abcdef")
	})
	(&Audit{Log: l}).Routes(tenant, e.Group("/admin-unused"))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/verifier/audit", nil))
	env.verifyExport(t, w, "ward-7", 2)
}

// TestAuditCorruptChain is a store edited behind the log's back: the export
// fails before it starts, with a 500 that leaks nothing, and no signed head.
func TestAuditCorruptChain(t *testing.T) {
	env := newAuditEnv(t)
	env.record(t, "hosp-a", 2)
	if err := env.store.Put(t.Context(), "audit", "e/hosp-a/00000000000000000001", []byte(`{"chain":"hosp-a"}`)); err != nil {
		t.Fatal(err)
	}
	w := env.get("/verifier/audit", env.hospA)
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != httpx.MediaProblem {
		t.Fatalf("export of a corrupt chain = %d %s\n%s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	if strings.Contains(w.Body.String(), "corrupt") || strings.Contains(w.Body.String(), "signature") {
		t.Errorf("the 500 says more than it should: %s", w.Body)
	}
}
