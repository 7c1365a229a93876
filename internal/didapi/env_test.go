package didapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/gin-gonic/gin"
)

// Fixtures shared by the tests.
const (
	testHost = "credence.test:8443"
	// testWebDID is the service did:web of testHost.
	testWebDID = "did:web:credence.test%3A8443"
	// keyEd25519 is a did:key of an Ed25519 key (did:key spec test vector).
	keyEd25519 = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	// jwkP256 is the P-256 example of the did:jwk specification.
	jwkP256 = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
	// bodyLimit is the request body limit of the test engine.
	bodyLimit = 4096
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// methodFunc adapts a function to did.Method.
type methodFunc func(ctx context.Context, d did.DID, opts did.Options) (*did.Resolution, error)

func (f methodFunc) Resolve(ctx context.Context, d did.DID, opts did.Options) (*did.Resolution, error) {
	return f(ctx, d, opts)
}

// remoteWeb stands in for the network did:web resolver: it records the DIDs it
// was asked for and answers NOT_FOUND, so tests see whether LocalWeb delegated.
type remoteWeb struct {
	mu   sync.Mutex
	dids []string
}

func (r *remoteWeb) Resolve(_ context.Context, d did.DID, _ did.Options) (*did.Resolution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dids = append(r.dids, d.String())
	return nil, did.ErrNotFound
}

func (r *remoteWeb) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.dids...)
}

// testEnv is a DID API wired as internal/server wires it, over in-memory storage.
type testEnv struct {
	engine *gin.Engine
	store  *memkv.Store
	keys   keys.Manager
	hosted *Hosted
	tokens *auth.Store
	remote *remoteWeb
	log    *syncBuffer
	// admin is a bearer secret with the admin scope.
	admin string
}

// newTestEnv builds the engine for a service whose public host is host. did:web
// resolves through LocalWeb over the hosted registry, other hosts go to a
// recording stub; extra registers further methods.
func newTestEnv(t *testing.T, host string, extra ...did.ResolverOption) *testEnv {
	t.Helper()
	master, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	store := memkv.New()
	km, err := keys.NewLocal(store, master)
	if err != nil {
		t.Fatal(err)
	}
	env := &testEnv{store: store, keys: km, hosted: NewHosted(store, km, host), tokens: auth.NewStore(store),
		remote: &remoteWeb{}, log: &syncBuffer{}}
	if env.admin, _, err = env.tokens.Issue(context.Background(), "admin", "test admin", auth.ScopeAdmin); err != nil {
		t.Fatal(err)
	}
	opts := append([]did.ResolverOption{did.WithMethod("web", LocalWeb{Hosted: env.hosted, Remote: env.remote}, 0)}, extra...)
	env.engine = newTestEngine(t, did.NewResolver(opts...), env.hosted, env.tokens, env.log)
	return env
}

// newTestEngine mirrors internal/server's routes: raw paths kept escaped, request
// ids, panic recovery, a body limit, the admin group behind the admin scope and
// hosted did:web documents served from NoRoute.
func newTestEngine(t *testing.T, resolver *did.Resolver, hosted *Hosted, tokens *auth.Store, sink io.Writer) *gin.Engine {
	t.Helper()
	log := slog.New(slog.NewTextHandler(sink, nil))
	e := gin.New()
	e.UseRawPath = true
	e.UnescapePathValues = false
	e.RemoveExtraSlash = false
	e.ContextWithFallback = true
	e.Use(httpx.RequestIDs(), httpx.Recover(log), httpx.LimitBody(bodyLimit, nil))
	api := &API{Resolver: resolver, Hosted: hosted, Log: log}
	admin := e.Group("/", httpx.Require(tokens, log, auth.ScopeAdmin))
	api.Routes(e, admin)
	e.NoRoute(func(c *gin.Context) {
		if !api.NoRoute(c) {
			httpx.WriteProblem(c, httpx.NotFound("no such endpoint"))
		}
	})
	return e
}

// serve sends one request to h. headers are name, value pairs.
func serve(t *testing.T, h http.Handler, method, target, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// get resolves or fetches target with an optional Accept header.
func (e *testEnv) get(t *testing.T, target, accept string) *httptest.ResponseRecorder {
	t.Helper()
	if accept == "" {
		return serve(t, e.engine, http.MethodGet, target, "")
	}
	return serve(t, e.engine, http.MethodGet, target, "", "Accept", accept)
}

// adminPost posts a JSON body to an admin endpoint with the admin token.
func (e *testEnv) adminPost(t *testing.T, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(t, e.engine, http.MethodPost, target, body, "Authorization", "Bearer "+e.admin, "Content-Type", "application/json")
}

// mediaType is the media type of a response without parameters.
func mediaType(w *httptest.ResponseRecorder) string {
	mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
	return mt
}

// resultBody is a DID resolution result as served.
type resultBody struct {
	Context          string                 `json:"@context"`
	Document         *did.Document          `json:"didDocument"`
	DocumentMetadata did.DocumentMetadata   `json:"didDocumentMetadata"`
	Metadata         did.ResolutionMetadata `json:"didResolutionMetadata"`
}

// decodeResult decodes a resolution result and checks its members are the
// spec's: an @context, didDocument, didDocumentMetadata and
// didResolutionMetadata, nothing else.
func decodeResult(t *testing.T, w *httptest.ResponseRecorder) (resultBody, map[string]json.RawMessage) {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, w.Body)
	}
	for k := range raw {
		switch k {
		case "@context", "didDocument", "didDocumentMetadata", "didResolutionMetadata":
		default:
			t.Errorf("resolution result has unexpected member %q", k)
		}
	}
	var res resultBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("body is not a resolution result: %v\n%s", err, w.Body)
	}
	return res, raw
}

// decodeDocument decodes a bare DID document.
func decodeDocument(t *testing.T, w *httptest.ResponseRecorder) *did.Document {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, w.Body)
	}
	for _, k := range []string{"didDocument", "didResolutionMetadata", "didDocumentMetadata"} {
		if _, ok := raw[k]; ok {
			t.Errorf("bare document has resolution member %q", k)
		}
	}
	var doc did.Document
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("body is not a DID document: %v\n%s", err, w.Body)
	}
	if err := doc.Validate(); err != nil {
		t.Errorf("served document is invalid: %v", err)
	}
	return &doc
}

// decodeProblem checks an RFC 9457 response and returns its problem.
func decodeProblem(t *testing.T, w *httptest.ResponseRecorder, status int) httpx.Problem {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if got := mediaType(w); got != httpx.MediaProblem {
		t.Errorf("Content-Type = %q, want %q", got, httpx.MediaProblem)
	}
	var p httpx.Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("body is not a problem: %v\n%s", err, w.Body)
	}
	if p.Status != status {
		t.Errorf("problem status = %d, want %d", p.Status, status)
	}
	if !strings.HasPrefix(p.Type, httpx.ProblemBase) {
		t.Errorf("problem type = %q, want a %s URI", p.Type, httpx.ProblemBase)
	}
	if p.RequestID == "" || p.RequestID != w.Header().Get("X-Request-ID") {
		t.Errorf("problem requestId = %q, X-Request-ID = %q", p.RequestID, w.Header().Get("X-Request-ID"))
	}
	return p
}

// failingKeys is a key manager whose Generate fails while fail is set.
type failingKeys struct {
	keys.Manager
	mu   sync.Mutex
	fail error
}

func (f *failingKeys) Generate(ctx context.Context, alg keys.Algorithm, label string) (keys.Key, error) {
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return keys.Key{}, err
	}
	return f.Manager.Generate(ctx, alg, label)
}

var errKeyStore = errors.New("key store unavailable")
