package verifierapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/verifier/watch"
	"github.com/gin-gonic/gin"
)

const (
	watchTenantHdr = "X-Test-Watch-Verifier"
	watchList      = "https://board.example/status/rev-1"
	watchHook      = "https://hooks.hospital.example/credence"
)

// watchLists is a ListSource of one list with bit 5 set.
type watchLists struct{}

func (watchLists) ListBits(_ context.Context, url string) ([]byte, error) {
	if url != watchList {
		return nil, fmt.Errorf("no list %s", url)
	}
	b := make([]byte, 16384)
	b[0] = 0x80 >> 5
	return b, nil
}

type watchEnv struct {
	engine *gin.Engine
	mu     sync.Mutex
	posted []string // what Verify was given
}

func newWatchEnv(t *testing.T) *watchEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	env := &watchEnv{}
	api := &Watches{
		Service: watch.New(memkv.New(), nil, watch.WithPolling(watchLists{}, 0)),
		Verify: func(_ context.Context, _ string, raw json.RawMessage) (vc.Credential, error) {
			env.mu.Lock()
			env.posted = append(env.posted, string(raw))
			env.mu.Unlock()
			cred, err := vc.ParseCredential(raw)
			if err != nil {
				return nil, err
			}
			if cred.ID() == "urn:uuid:forged" {
				return nil, fmt.Errorf("%w: proof: the signature does not verify", ErrNotVerified)
			}
			return cred, nil
		},
		Log: slog.New(slog.DiscardHandler),
	}
	e := gin.New()
	e.Use(httpx.RequestIDs())
	tenant := e.Group("", func(c *gin.Context) {
		if id := c.GetHeader(watchTenantHdr); id != "" {
			c.Set("credence.verifier", id)
		}
	})
	api.Routes(tenant)
	env.engine = e
	return env
}

func (env *watchEnv) do(method, path, tenant, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tenant != "" {
		req.Header.Set(watchTenantHdr, tenant)
	}
	w := httptest.NewRecorder()
	env.engine.ServeHTTP(w, req)
	return w
}

func watchCredential(id string, index int) string {
	return fmt.Sprintf(`{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": %q,
	  "type": ["VerifiableCredential", "MedicalLicenseCredential"], "issuer": "did:credence:zBoard",
	  "validUntil": "2031-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:clinician"},
	  "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
	    "statusListIndex": "%d", "statusListCredential": %q}}`, id, index, watchList)
}

func watchBody(cred, hook string) string {
	return fmt.Sprintf(`{"credential": %s, "webhook": %q}`, cred, hook)
}

type watchResponse struct {
	ID, CredentialID, State, Webhook, Secret string
	Entries                                  []struct {
		StatusPurpose, StatusListCredential, StatusListIndex string
		Set                                                  bool
	}
}

func watchDecode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d %s: %v", w.Code, w.Body, err)
	}
	return v
}

func (env *watchEnv) create(t *testing.T, tenant, id string, index int) watchResponse {
	t.Helper()
	w := env.do("POST", "/verifier/watches", tenant, watchBody(watchCredential(id, index), watchHook))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Location") == "" {
		t.Errorf("create headers %v", w.Header())
	}
	return watchDecode[watchResponse](t, w)
}

func TestWatchCreate(t *testing.T) {
	env := newWatchEnv(t)
	got := env.create(t, "hospital-a", "urn:uuid:lic-1", 7)
	if !strings.HasPrefix(got.Secret, "whsec_") || got.State != watch.StateActive || got.CredentialID != "urn:uuid:lic-1" ||
		got.Webhook != watchHook || len(got.Entries) != 1 || got.Entries[0].StatusListIndex != "7" || got.Entries[0].Set {
		t.Fatalf("created %+v", got)
	}
	if len(env.posted) != 1 || !strings.Contains(env.posted[0], "urn:uuid:lic-1") {
		t.Fatalf("Verify got %q", env.posted)
	}
	// Already revoked: watched, and said so.
	rev := env.create(t, "hospital-a", "urn:uuid:lic-2", 5)
	if rev.State != watch.StateRevoked || !rev.Entries[0].Set {
		t.Fatalf("revoked credential: %+v", rev)
	}
	// The secret is shown once.
	w := env.do("GET", "/verifier/watches/"+got.ID, "hospital-a", "")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "whsec_") || watchDecode[watchResponse](t, w).ID != got.ID {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}
}

func TestWatchCreateRejects(t *testing.T) {
	env := newWatchEnv(t)
	for _, c := range []struct {
		name, tenant, body string
		status             int
		typ                string
	}{
		{"admin token", "", watchBody(watchCredential("urn:uuid:1", 1), watchHook), 403, "forbidden"},
		{"not JSON", "a", `{"credential":`, 400, "bad-request"},
		{"unknown member", "a", `{"credential": {}, "webhook": "https://h.example/", "extra": 1}`, 400, "bad-request"},
		{"no credential", "a", `{"webhook": "https://h.example/"}`, 400, "bad-request"},
		{"no webhook", "a", `{"credential": ` + watchCredential("urn:uuid:1", 1) + `}`, 400, "bad-request"},
		{"http webhook", "a", watchBody(watchCredential("urn:uuid:1", 1), "http://h.example/"), 400, "invalid-webhook"},
		{"private webhook", "a", watchBody(watchCredential("urn:uuid:1", 1), "https://192.168.1.1/"), 400, "invalid-webhook"},
		{"not verified", "a", watchBody(watchCredential("urn:uuid:forged", 1), watchHook), 422, "credential-not-verified"},
		{"malformed credential", "a", watchBody(`{"id": "x"}`, watchHook), 400, "bad-request"},
		{"nothing to watch", "a", watchBody(`{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
			"issuer": "did:example:i", "credentialSubject": {"id": "did:example:s"}}`, watchHook), 422, "not-watchable"},
		{"list unavailable", "a", watchBody(strings.ReplaceAll(watchCredential("urn:uuid:1", 1), watchList, "https://gone.example/l"), watchHook), 503, "status-unavailable"},
		{"too large", "a", `{"credential": "` + strings.Repeat("a", MaxWatchBytes) + `"}`, 413, "too-large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := env.do("POST", "/verifier/watches", c.tenant, c.body)
			p := watchDecode[struct{ Type string }](t, w)
			if w.Code != c.status || p.Type != httpx.ProblemBase+c.typ || w.Header().Get("Content-Type") != httpx.MediaProblem {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, c.status, c.typ)
			}
		})
	}
}

func TestWatchIsolation(t *testing.T) {
	env := newWatchEnv(t)
	a := env.create(t, "hospital-a", "urn:uuid:1", 1)
	for _, r := range []struct{ method, path string }{
		{"GET", "/verifier/watches/" + a.ID},
		{"GET", "/verifier/watches/" + a.ID + "/deliveries"},
		{"DELETE", "/verifier/watches/" + a.ID},
	} {
		if w := env.do(r.method, r.path, "hospital-b", ""); w.Code != http.StatusNotFound {
			t.Errorf("B: %s %s = %d %s", r.method, r.path, w.Code, w.Body)
		}
		if w := env.do(r.method, r.path, "", ""); w.Code != http.StatusForbidden {
			t.Errorf("no tenant: %s %s = %d", r.method, r.path, w.Code)
		}
	}
	if l := watchDecode[struct{ Watches []watchResponse }](t, env.do("GET", "/verifier/watches", "hospital-b", "")); len(l.Watches) != 0 {
		t.Fatalf("B lists %+v", l)
	}
	if l := watchDecode[struct{ Watches []watchResponse }](t, env.do("GET", "/verifier/watches", "hospital-a", "")); len(l.Watches) != 1 || l.Watches[0].ID != a.ID {
		t.Fatalf("A lists %+v", l)
	}
	w := env.do("GET", "/verifier/watches/"+a.ID+"/deliveries", "hospital-a", "")
	if d := watchDecode[struct{ Deliveries []watch.Attempt }](t, w); w.Code != http.StatusOK || d.Deliveries == nil || len(d.Deliveries) != 0 {
		t.Fatalf("deliveries: %d %s", w.Code, w.Body)
	}
	if w := env.do("DELETE", "/verifier/watches/"+a.ID, "hospital-a", ""); w.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	if w := env.do("GET", "/verifier/watches/"+a.ID, "hospital-a", ""); w.Code != http.StatusNotFound {
		t.Fatalf("after delete: %d", w.Code)
	}
}
