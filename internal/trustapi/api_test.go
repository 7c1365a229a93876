package trustapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

const adminToken = "trustapi-test-admin-token-0123456789"

// testServer is the trust API on an embedded registry whose governance is
// the steward's key (and a retired one).
type testServer struct {
	t          *testing.T
	h          http.Handler
	log        *registry.Log
	steward    *KeySigner
	registryTk string // a token without the admin scope
}

type options struct {
	steward  Signer   // nil: no steward key
	stewards []string // the Log's governance (default: the steward's key)
}

func newTestServer(t *testing.T, o *options) *testServer {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/trust", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/trust", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	_, spriv, _ := ed25519.GenerateKey(rand.Reader)
	steward, err := NewKeySigner(spriv)
	if err != nil {
		t.Fatal(err)
	}
	retired, _ := NewKeySigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	if o == nil {
		o = &options{steward: steward}
	}
	if o.stewards == nil {
		o.stewards = []string{steward.Multikey()}
	}
	log := registry.NewLog(store, signer, verifier, registry.WithStewards(o.stewards...), registry.WithRetiredStewards(retired.Multikey()))
	idx, err := registry.NewTrustIndex(t.Context(), log, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idx.Close)

	tokens := auth.NewStore(memkv.New())
	if _, err := tokens.Bootstrap(t.Context(), adminToken); err != nil {
		t.Fatal(err)
	}
	regTk, _, err := tokens.Issue(t.Context(), "registry-client", "test", "registry")
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(httpx.RequestIDs())
	a := &API{Log: log, Index: idx, Steward: o.steward}
	a.Routes(r, r.Group("/", httpx.Require(tokens, nil, auth.ScopeAdmin)))
	return &testServer{t: t, h: r, log: log, steward: steward, registryTk: regTk}
}

// do sends a request with the admin token (token "" for none) and returns the
// status and body.
func (s *testServer) do(method, path, token, body string) (int, []byte, http.Header) {
	s.t.Helper()
	req := httptest.NewRequestWithContext(s.t.Context(), method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes(), w.Header()
}

// must sends an admin request that must answer want, decoding the body
// into out.
func (s *testServer) must(method, path, body string, want int, out any) {
	s.t.Helper()
	code, b, _ := s.do(method, path, adminToken, body)
	if code != want {
		s.t.Fatalf("%s %s = %d, want %d: %s", method, path, code, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// wantProblem checks an RFC 9457 answer.
func wantProblem(t *testing.T, code int, body []byte, h http.Header, status int, typ string) {
	t.Helper()
	if code != status {
		t.Fatalf("status %d, want %d: %s", code, status, body)
	}
	if ct := h.Get("Content-Type"); ct != httpx.MediaProblem {
		t.Errorf("Content-Type %q", ct)
	}
	var p httpx.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || (typ != "" && p.Type != httpx.ProblemBase+typ) {
		t.Fatalf("problem %+v, want type %s", p, typ)
	}
}

const caBoard = "did:credence:zCaBoardExample"

func TestAccreditLifecycle(t *testing.T) {
	s := newTestServer(t, nil)
	var created Result
	s.must(http.MethodPost, AdminRoute, `{"id":"ca-mbc","issuer":"`+caBoard+`","types":["MedicalLicenseCredential"],`+
		`"jurisdictions":["CA"],"validFrom":"2026-01-01T00:00:00-08:00","validUntil":"2027-01-01T08:00:00Z"}`, http.StatusCreated, &created)
	a := created.Accreditation
	if a.ID != "ca-mbc" || a.Subject != registry.AccreditationPrefix+"ca-mbc" || a.Issuer != caBoard ||
		a.ValidFrom != "2026-01-01T08:00:00Z" || a.ValidUntil != "2027-01-01T08:00:00Z" || !slices.Equal(a.Jurisdictions, []string{"CA"}) {
		t.Fatalf("created %+v", a)
	}
	if created.Receipt.Seq != 1 || created.Receipt.Subject != a.Subject || created.Receipt.Checkpoint == "" {
		t.Fatalf("receipt %+v", created.Receipt)
	}
	// Read your write, at once.
	var got Accreditation
	s.must(http.MethodGet, PublicRoute+"/ca-mbc", "", http.StatusOK, &got)
	if got.Issuer != caBoard || got.Withdrawn != "" {
		t.Fatalf("GET after create: %+v", got)
	}

	// Amend: a later end, another state; validFrom kept.
	var amended Result
	s.must(http.MethodPut, AdminRoute+"/ca-mbc", `{"types":["MedicalLicenseCredential"],"jurisdictions":["CA","NV"],"validUntil":"2030-01-01T00:00:00Z"}`, http.StatusOK, &amended)
	if a := amended.Accreditation; a.ValidFrom != "2026-01-01T08:00:00Z" || a.ValidUntil != "2030-01-01T00:00:00Z" ||
		!slices.Equal(a.Jurisdictions, []string{"CA", "NV"}) || amended.Receipt.Seq != 2 {
		t.Fatalf("amended %+v", amended)
	}
	s.must(http.MethodGet, PublicRoute+"/ca-mbc", "", http.StatusOK, &got)
	if !slices.Equal(got.Jurisdictions, []string{"CA", "NV"}) {
		t.Fatalf("GET after amend: %+v", got)
	}

	var withdrawn Result
	s.must(http.MethodPost, AdminRoute+"/ca-mbc/withdraw", `{"reason":"board merged"}`, http.StatusOK, &withdrawn)
	if a := withdrawn.Accreditation; a.Withdrawn == "" || a.Reason != "board merged" || a.Active || withdrawn.Receipt.Seq != 3 {
		t.Fatalf("withdrawn %+v", withdrawn)
	}
	s.must(http.MethodGet, PublicRoute+"/ca-mbc", "", http.StatusOK, &got)
	if got.Withdrawn == "" || got.Active {
		t.Fatalf("GET after withdraw: %+v", got)
	}
	code, b, h := s.do(http.MethodPost, AdminRoute+"/ca-mbc/withdraw", adminToken, "")
	wantProblem(t, code, b, h, http.StatusConflict, "conflict")
	code, b, h = s.do(http.MethodPut, AdminRoute+"/ca-mbc", adminToken, `{"types":["MedicalLicenseCredential"]}`)
	wantProblem(t, code, b, h, http.StatusConflict, "conflict")

	// Every op is on the ledger, signed by the steward.
	ops, err := s.log.History(context.Background(), a.Subject)
	if err != nil || len(ops) != 3 {
		t.Fatalf("history: %d ops, %v", len(ops), err)
	}
	for _, op := range ops {
		if len(op.Op.Proofs) != 1 || op.Op.Proofs[0].KID != "#"+s.steward.Multikey() {
			t.Errorf("op %d proofs %+v", op.Index, op.Op.Proofs)
		}
	}
}

func TestAccreditDefaults(t *testing.T) {
	s := newTestServer(t, nil)
	before := time.Now().UTC().Truncate(time.Second)
	var r Result
	s.must(http.MethodPost, AdminRoute, `{"issuer":"did:web:dea.gov","types":["DEARegistrationCredential"]}`, http.StatusCreated, &r)
	a := r.Accreditation
	if !registry.ValidAccreditationID(a.ID) || len(a.ID) != 16 {
		t.Errorf("random id %q", a.ID)
	}
	from, err := time.Parse(registry.TimeLayout, a.ValidFrom)
	if err != nil || from.Before(before) || from.After(time.Now()) {
		t.Errorf("default validFrom %q, request at %s", a.ValidFrom, before)
	}
	if a.Jurisdictions != nil || !a.Active || a.ValidUntil != "" {
		t.Errorf("national accreditation %+v", a)
	}
	var other Result
	s.must(http.MethodPost, AdminRoute, `{"issuer":"did:web:dea.gov","types":["DEARegistrationCredential"]}`, http.StatusCreated, &other)
	if other.Accreditation.ID == a.ID {
		t.Error("two random ids are equal")
	}
	// Withdrawal without a body.
	var w Result
	s.must(http.MethodPost, AdminRoute+"/"+a.ID+"/withdraw", "", http.StatusOK, &w)
	if w.Accreditation.Withdrawn == "" || w.Accreditation.Reason != "" {
		t.Fatalf("withdrawn %+v", w.Accreditation)
	}
}

func TestAccreditErrors(t *testing.T) {
	s := newTestServer(t, nil)
	s.must(http.MethodPost, AdminRoute, `{"id":"taken","issuer":"`+caBoard+`","types":["MedicalLicenseCredential"],"jurisdictions":["CA"]}`, http.StatusCreated, nil)
	grant := func(extra string) string {
		return `{"issuer":"` + caBoard + `","types":["MedicalLicenseCredential"]` + extra + `}`
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		typ                      string
	}{
		{"unknown member", http.MethodPost, AdminRoute, grant(`,"scope":"all"`), 400, "bad-request"},
		{"duplicate member", http.MethodPost, AdminRoute, grant(`,"issuer":"did:web:x"`), 400, "bad-request"},
		{"not an object", http.MethodPost, AdminRoute, `["x"]`, 400, "bad-request"},
		{"no body", http.MethodPost, AdminRoute, ``, 400, "bad-request"},
		{"trailing data", http.MethodPost, AdminRoute, grant(``) + `{}`, 400, "bad-request"},
		{"bad id", http.MethodPost, AdminRoute, grant(`,"id":"CA_MBC"`), 400, "bad-request"},
		{"bad jurisdiction", http.MethodPost, AdminRoute, grant(`,"jurisdictions":["XX"]`), 400, "registry:malformed"},
		{"bad validFrom", http.MethodPost, AdminRoute, grant(`,"validFrom":"2026-01-01"`), 400, "bad-request"},
		{"validUntil first", http.MethodPost, AdminRoute, grant(`,"validFrom":"2026-01-02T00:00:00Z","validUntil":"2026-01-01T00:00:00Z"`), 400, "registry:malformed"},
		{"no issuer", http.MethodPost, AdminRoute, `{"types":["MedicalLicenseCredential"]}`, 400, "registry:malformed"},
		{"issuer not a DID", http.MethodPost, AdminRoute, `{"issuer":"https://x","types":["MedicalLicenseCredential"]}`, 400, "registry:malformed"},
		{"no types", http.MethodPost, AdminRoute, `{"issuer":"` + caBoard + `"}`, 400, "registry:malformed"},
		{"too large", http.MethodPost, AdminRoute, grant(`,"id":"` + strings.Repeat("a", MaxBodyBytes) + `"`), 413, "too-large"},
		{"id taken", http.MethodPost, AdminRoute, grant(`,"id":"taken"`), 409, "registry:subject-exists"},
		{"amend unknown", http.MethodPut, AdminRoute + "/nope", grant(``), 404, "not-found"},
		{"amend bad id", http.MethodPut, AdminRoute + "/NOPE", grant(``), 404, "not-found"},
		{"amend another id", http.MethodPut, AdminRoute + "/taken", grant(`,"id":"other"`), 400, "bad-request"},
		{"amend another issuer", http.MethodPut, AdminRoute + "/taken", `{"issuer":"did:web:x","types":["MedicalLicenseCredential"]}`, 400, "registry:malformed"},
		{"withdraw unknown", http.MethodPost, AdminRoute + "/nope/withdraw", ``, 404, "not-found"},
		{"withdraw unknown member", http.MethodPost, AdminRoute + "/taken/withdraw", `{"why":"x"}`, 400, "bad-request"},
		{"reason with a newline", http.MethodPost, AdminRoute + "/taken/withdraw", `{"reason":"a\nb"}`, 400, "registry:malformed"},
		{"reason too long", http.MethodPost, AdminRoute + "/taken/withdraw", `{"reason":"` + strings.Repeat("x", 300) + `"}`, 400, "registry:malformed"},
		{"get unknown", http.MethodGet, PublicRoute + "/nope", ``, 404, "not-found"},
		{"bad jurisdiction filter", http.MethodGet, PublicRoute + "?jurisdiction=ca", ``, 400, "bad-request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, b, h := s.do(tc.method, tc.path, adminToken, tc.body)
			wantProblem(t, code, b, h, tc.status, tc.typ)
		})
	}
	// Nothing of that reached the ledger: one op, and "taken" is in force.
	if n, _ := s.log.Size(context.Background()); n != 1 {
		t.Fatalf("ledger size %d after rejected requests", n)
	}
}

func TestAccreditAuthorization(t *testing.T) {
	s := newTestServer(t, nil)
	body := `{"issuer":"` + caBoard + `","types":["MedicalLicenseCredential"]}`
	code, b, h := s.do(http.MethodPost, AdminRoute, "", body)
	wantProblem(t, code, b, h, http.StatusUnauthorized, "unauthorized")
	code, b, h = s.do(http.MethodPost, AdminRoute, s.registryTk, body)
	wantProblem(t, code, b, h, http.StatusForbidden, "forbidden")
	code, b, h = s.do(http.MethodPost, AdminRoute+"/x/withdraw", "wrong-token", "")
	wantProblem(t, code, b, h, http.StatusUnauthorized, "unauthorized")

	// A server without a steward key cannot sign; one whose key is not in
	// the governance is refused by the ledger.
	none := newTestServer(t, &options{})
	code, b, h = none.do(http.MethodPost, AdminRoute, adminToken, body)
	wantProblem(t, code, b, h, http.StatusServiceUnavailable, "trust:no-steward")
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := NewKeySigner(p256)
	other := newTestServer(t, &options{steward: stranger})
	code, b, h = other.do(http.MethodPost, AdminRoute, adminToken, body)
	wantProblem(t, code, b, h, http.StatusUnprocessableEntity, "registry:unauthorized-key")
	// A P-256 steward in the governance signs fine.
	ok := newTestServer(t, &options{steward: stranger, stewards: []string{stranger.Multikey()}})
	ok.must(http.MethodPost, AdminRoute, body, http.StatusCreated, nil)
}

func TestListAndGovernance(t *testing.T) {
	s := newTestServer(t, nil)
	for _, body := range []string{
		`{"id":"ca","issuer":"` + caBoard + `","types":["MedicalLicenseCredential"],"jurisdictions":["CA"]}`,
		`{"id":"tx","issuer":"did:web:tmb.texas.gov","types":["MedicalLicenseCredential"],"jurisdictions":["TX"]}`,
		`{"id":"dea","issuer":"did:web:dea.gov","types":["DEARegistrationCredential"]}`,
		`{"id":"future","issuer":"did:web:abms.org","types":["BoardCertificationCredential"],"validFrom":"2099-01-01T00:00:00Z"}`,
	} {
		s.must(http.MethodPost, AdminRoute, body, http.StatusCreated, nil)
	}
	list := func(query string) []string {
		t.Helper()
		var out struct {
			Accreditations []Accreditation `json:"accreditations"`
		}
		code, b, _ := s.do(http.MethodGet, PublicRoute+query, "", "")
		if code != http.StatusOK || json.Unmarshal(b, &out) != nil {
			t.Fatalf("GET %s = %d %s", query, code, b)
		}
		var ids []string
		for _, a := range out.Accreditations {
			ids = append(ids, a.ID)
			if a.Active != (a.ID != "future") {
				t.Errorf("%s active = %v", a.ID, a.Active)
			}
		}
		return ids
	}
	for query, want := range map[string][]string{
		"":                               {"ca", "dea", "future", "tx"},
		"?issuer=" + caBoard:             {"ca"},
		"?type=MedicalLicenseCredential": {"ca", "tx"},
		"?jurisdiction=CA":               {"ca", "dea", "future"},
		"?type=MedicalLicenseCredential&jurisdiction=TX": {"tx"},
		"?issuer=did:web:nobody":                         nil,
	} {
		if got := list(query); !slices.Equal(got, want) {
			t.Errorf("GET %s: %q, want %q", query, got, want)
		}
	}

	var g registry.Governance
	s.must(http.MethodGet, GovernanceURL, "", http.StatusOK, &g)
	if !slices.Equal(g.Stewards, []string{s.steward.Multikey()}) || len(g.Retired) != 1 {
		t.Fatalf("governance %+v", g)
	}
}
