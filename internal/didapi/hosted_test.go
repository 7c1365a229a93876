package didapi

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
)

// created is the body of a 201 from POST /admin/dids.
type created struct {
	DID         string        `json:"did"`
	DIDDocument *did.Document `json:"didDocument"`
	KeyIDs      []string      `json:"keyIds"`
}

func decodeCreated(t *testing.T, w *httptest.ResponseRecorder) created {
	t.Helper()
	if w.Code != http.StatusCreated {
		t.Fatalf("status = %d, want 201; body %s", w.Code, w.Body)
	}
	var c created
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode 201 body: %v", err)
	}
	if c.DIDDocument == nil || c.DIDDocument.ID != c.DID {
		t.Fatalf("didDocument = %+v, want id %s", c.DIDDocument, c.DID)
	}
	if err := c.DIDDocument.Validate(); err != nil {
		t.Errorf("created document is invalid: %v", err)
	}
	return c
}

func TestServiceDIDDocument(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()

	// Before the service DID exists there is nothing at the well-known path.
	if p := decodeProblem(t, env.get(t, "/.well-known/did.json", ""), http.StatusNotFound); p.Type != httpx.ProblemBase+"not-found" {
		t.Errorf("problem type = %q", p.Type)
	}

	rec, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rec.DID != testWebDID || rec.Method != "web" || rec.Path != "" || len(rec.KeyIDs) != 2 {
		t.Fatalf("service record = %+v, want %s with two keys", rec, testWebDID)
	}
	again, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.DID != rec.DID || !slices.Equal(again.KeyIDs, rec.KeyIDs) {
		t.Errorf("second EnsureServiceDID = %+v, want %+v", again, rec)
	}

	w := env.get(t, "/.well-known/did.json", "")
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Content-Type"); got != did.MediaDIDJSON {
		t.Errorf("Content-Type = %q, want %q", got, did.MediaDIDJSON)
	}
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control = %q", got)
	}
	doc := decodeDocument(t, w)
	if doc.ID != testWebDID {
		t.Errorf("id = %q, want %q", doc.ID, testWebDID)
	}
	if !jsonEqual(t, doc.Context, did.Context{did.ContextDIDv1, did.ContextMultikey}) {
		t.Errorf("@context = %v", doc.Context)
	}
	if len(doc.VerificationMethod) != 2 {
		t.Fatalf("verificationMethod = %+v, want two", doc.VerificationMethod)
	}
	for i, vm := range doc.VerificationMethod {
		wantID := testWebDID + "#key-" + string(rune('1'+i))
		if vm.ID != wantID || vm.Type != did.TypeMultikey || vm.Controller != testWebDID {
			t.Errorf("method %d = %+v, want id %s, Multikey, controller %s", i, vm, wantID, testWebDID)
		}
		k, err := env.keys.Key(ctx, rec.KeyIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		pub, err := did.DecodeMultikey(vm.PublicKeyMultibase)
		if err != nil {
			t.Fatalf("method %d: %v", i, err)
		}
		switch i {
		case 0:
			ed, ok := pub.(ed25519.PublicKey)
			if !ok || !ed.Equal(k.Public) || k.Alg != keys.Ed25519 {
				t.Errorf("key-1 = %T (%s), want the Ed25519 key %s", pub, k.Alg, k.ID)
			}
		case 1:
			ec, ok := pub.(*ecdsa.PublicKey)
			if !ok || ec.Curve.Params().Name != "P-256" || !ec.Equal(k.Public) || k.Alg != keys.P256 {
				t.Errorf("key-2 = %T (%s), want the P-256 key %s", pub, k.Alg, k.ID)
			}
		}
		for _, rel := range []string{"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"} {
			if !doc.Authorizes(rel, vm.ID) {
				t.Errorf("%s does not list %s", rel, vm.ID)
			}
		}
	}

	// The resolution endpoint serves the same document from the registry.
	rw := env.get(t, "/1.0/identifiers/"+testWebDID, "application/did+json")
	if rw.Code != http.StatusOK {
		t.Fatalf("resolve: %d %s", rw.Code, rw.Body)
	}
	if got := decodeDocument(t, rw); !jsonEqual(t, got, doc) {
		t.Errorf("resolved %s\nserved %s", mustJSON(got), mustJSON(doc))
	}
	if calls := env.remote.calls(); len(calls) != 0 {
		t.Errorf("remote resolver called for the service's own DID: %v", calls)
	}
}

// TestServiceDIDFollowsHost: a did:web is named by the current public host, so
// after the host changes EnsureServiceDID reports the DID the server now serves.
func TestServiceDIDFollowsHost(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	first, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	moved := NewHosted(env.store, env.keys, "did.example.org")
	rec, err := moved.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := moved.WebDocument(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.DID != "did:web:did.example.org" || doc.ID != rec.DID || !slices.Equal(rec.KeyIDs, first.KeyIDs) {
		t.Errorf("after the host moved: record %+v, document %s; want did:web:did.example.org with keys %v", rec, doc.ID, first.KeyIDs)
	}
}

func TestAdminCreateWebDID(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	if _, err := env.hosted.EnsureServiceDID(ctx); err != nil {
		t.Fatal(err)
	}
	const want = testWebDID + ":issuers:tx-board"
	c := decodeCreated(t, env.adminPost(t, "/admin/dids", `{"method":"web","path":"issuers/tx-board","label":"TX board"}`))
	if c.DID != want || len(c.KeyIDs) != 1 {
		t.Fatalf("created %+v, want %s with one key", c, want)
	}
	if len(c.DIDDocument.VerificationMethod) != 1 || c.DIDDocument.VerificationMethod[0].ID != want+"#key-1" {
		t.Errorf("verificationMethod = %+v", c.DIDDocument.VerificationMethod)
	}

	for _, target := range []string{"/issuers/tx-board/did.json", "/issuers%2Ftx-board/did.json"} {
		w := env.get(t, target, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", target, w.Code, w.Body)
		}
		if got := w.Header().Get("Content-Type"); got != did.MediaDIDJSON {
			t.Errorf("Content-Type = %q", got)
		}
		if doc := decodeDocument(t, w); doc.ID != want || !jsonEqual(t, doc, c.DIDDocument) {
			t.Errorf("GET %s served %s\nwant %s", target, mustJSON(doc), mustJSON(c.DIDDocument))
		}
	}
	// The service DID is untouched.
	if doc := decodeDocument(t, env.get(t, "/.well-known/did.json", "")); doc.ID != testWebDID {
		t.Errorf("service DID document id = %q", doc.ID)
	}

	// The same path again, however spelled, is refused.
	for _, body := range []string{
		`{"method":"web","path":"issuers/tx-board"}`,
		`{"method":"web","path":"/issuers/tx-board/"}`,
	} {
		w := env.adminPost(t, "/admin/dids", body)
		p := decodeProblem(t, w, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != "path" {
			t.Errorf("%s: errors = %+v, want one on field path", body, p.Errors)
		}
	}
	// The original document is still served.
	if doc := decodeDocument(t, env.get(t, "/issuers/tx-board/did.json", "")); !jsonEqual(t, doc, c.DIDDocument) {
		t.Errorf("document changed after a refused duplicate: %s", mustJSON(doc))
	}
}

func TestAdminCreateWebPaths(t *testing.T) {
	env := newTestEnv(t, testHost)
	seg63 := strings.Repeat("a", 63)
	invalid := []struct{ name, body string }{
		{"dot-dot", `{"method":"web","path":"../x"}`},
		{"upper case", `{"method":"web","path":"Admin/x"}`},
		{"reserved admin", `{"method":"web","path":"admin/x"}`},
		{"reserved resolver", `{"method":"web","path":"1.0/identifiers"}`},
		{"reserved metrics", `{"method":"web","path":"metrics"}`},
		{"nine segments", `{"method":"web","path":"a/b/c/d/e/f/g/h/i"}`},
		{"space", `{"method":"web","path":"a b"}`},
		{"empty segment", `{"method":"web","path":"a//b"}`},
		{"well-known", `{"method":"web","path":".well-known"}`},
		{"leading dash", `{"method":"web","path":"-x"}`},
		{"percent", `{"method":"web","path":"a%2fb"}`},
		{"colon", `{"method":"web","path":"a:b"}`},
		{"non-ASCII", `{"method":"web","path":"café"}`},
		{"64-char segment", `{"method":"web","path":"` + seg63 + `a"}`},
		{"did:web without a path", `{"method":"web"}`},
		{"did:web with only slashes", `{"method":"web","path":"///"}`},
		{"did:key with a path", `{"method":"key","path":"x"}`},
		{"did:jwk with a path", `{"method":"jwk","path":"x"}`},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			p := decodeProblem(t, env.adminPost(t, "/admin/dids", tt.body), http.StatusUnprocessableEntity)
			if p.Type != httpx.ProblemBase+"invalid-input" {
				t.Errorf("type = %q", p.Type)
			}
			if len(p.Errors) == 0 || p.Errors[0].Field != "path" {
				t.Errorf("errors = %+v, want errors[0].field path", p.Errors)
			}
		})
	}
	if recs, err := env.hosted.List(context.Background()); err != nil || len(recs) != 0 {
		t.Fatalf("invalid requests created DIDs: %+v, %v", recs, err)
	}

	valid := []struct{ path, want string }{
		{"a/b/c/d/e/f/g/h", testWebDID + ":a:b:c:d:e:f:g:h"},
		{seg63, testWebDID + ":" + seg63},
		{"x.y_z-1/0", testWebDID + ":x.y_z-1:0"},
		{"adminx", testWebDID + ":adminx"},
	}
	for _, tt := range valid {
		t.Run(tt.path, func(t *testing.T) {
			c := decodeCreated(t, env.adminPost(t, "/admin/dids", `{"method":"web","path":"`+tt.path+`"}`))
			if c.DID != tt.want {
				t.Errorf("did = %s, want %s", c.DID, tt.want)
			}
			if doc := decodeDocument(t, env.get(t, "/"+tt.path+"/did.json", "")); doc.ID != tt.want {
				t.Errorf("served id = %s", doc.ID)
			}
		})
	}
}

func TestHostedWebNotFound(t *testing.T) {
	env := newTestEnv(t, testHost)
	if _, err := env.hosted.EnsureServiceDID(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, target string
	}{
		{http.MethodGet, "/x/did.json"},
		{http.MethodGet, "/did.json"},
		{http.MethodGet, "/admin/did.json"},
		{http.MethodGet, "/X/did.json"},
		{http.MethodGet, "/x/.well-known/did.json"},
		{http.MethodGet, "/../.well-known/did.json"},
		{http.MethodPost, "/x/did.json"},
		{http.MethodGet, "/no/such/endpoint"},
		{http.MethodGet, "/.well-known/did.jsonx"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			w := serve(t, env.engine, tt.method, tt.target, "")
			if p := decodeProblem(t, w, http.StatusNotFound); p.Type != httpx.ProblemBase+"not-found" {
				t.Errorf("type = %q", p.Type)
			}
		})
	}
}

func TestAdminCreateKeyAndJWK(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	tests := []struct {
		body    string
		prefix  string
		wantAlg keys.Algorithm
	}{
		{`{"method":"key","keyType":"P-256"}`, "did:key:zDn", keys.P256},
		{`{"method":"key","keyType":"ES256"}`, "did:key:zDn", keys.P256},
		{`{"method":"key"}`, "did:key:z6Mk", keys.Ed25519},
		{`{"method":"key","keyType":"EdDSA","label":"signer"}`, "did:key:z6Mk", keys.Ed25519},
		{`{"method":"jwk"}`, "did:jwk:", keys.Ed25519},
		{`{"method":"jwk","keyType":"P-256"}`, "did:jwk:", keys.P256},
	}
	var dids []string
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			c := decodeCreated(t, env.adminPost(t, "/admin/dids", tt.body))
			if !strings.HasPrefix(c.DID, tt.prefix) || len(c.KeyIDs) != 1 {
				t.Fatalf("created %+v, want %s... with one key", c, tt.prefix)
			}
			dids = append(dids, c.DID)
			k, err := env.keys.Key(ctx, c.KeyIDs[0])
			if err != nil || k.Alg != tt.wantAlg {
				t.Fatalf("key %s = %+v, %v; want %s", c.KeyIDs[0], k, err, tt.wantAlg)
			}
			pub, err := c.DIDDocument.VerificationMethod[0].PublicKey()
			if err != nil {
				t.Fatal(err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public) {
				t.Error("the DID's key is not the managed key")
			}
			// The DID resolves to the same document through the endpoint.
			res, _ := decodeResult(t, env.get(t, "/1.0/identifiers/"+c.DID, ""))
			if !jsonEqual(t, res.Document, c.DIDDocument) {
				t.Errorf("resolved %s\ncreated %s", mustJSON(res.Document), mustJSON(c.DIDDocument))
			}
			// did:key and did:jwk are not served as did:web documents.
			if w := env.get(t, "/.well-known/did.json", ""); w.Code != http.StatusNotFound {
				t.Errorf("/.well-known/did.json = %d after creating a %s", w.Code, tt.prefix)
			}
		})
	}
	recs, err := env.hosted.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range recs {
		listed = append(listed, r.DID)
	}
	slices.Sort(listed)
	slices.Sort(dids)
	if !slices.Equal(listed, dids) {
		t.Errorf("List = %v, want %v", listed, dids)
	}
}

func TestAdminCreateBadRequests(t *testing.T) {
	env := newTestEnv(t, testHost)
	tests := []struct {
		name   string
		body   string
		status int
		field  string // errors[0].field of a 422
	}{
		{"unknown field", `{"method":"key","bogus":1}`, http.StatusBadRequest, ""},
		{"not JSON", `nope`, http.StatusBadRequest, ""},
		{"empty body", ``, http.StatusBadRequest, ""},
		{"array", `[]`, http.StatusBadRequest, ""},
		{"wrong type", `{"method":1}`, http.StatusBadRequest, ""},
		{"trailing garbage", `{"method":"key"} xyz`, http.StatusBadRequest, ""},
		{"two objects", `{"method":"key"}{"method":"jwk"}`, http.StatusBadRequest, ""},
		{"bad keyType", `{"method":"key","keyType":"RSA"}`, http.StatusUnprocessableEntity, "keyType"},
		{"secp256k1", `{"method":"jwk","keyType":"secp256k1"}`, http.StatusUnprocessableEntity, "keyType"},
		{"unknown method", `{"method":"foo"}`, http.StatusUnprocessableEntity, "method"},
		{"unknown method with path", `{"method":"foo","path":"x"}`, http.StatusUnprocessableEntity, "method"},
		{"no method", `{}`, http.StatusUnprocessableEntity, "method"},
		{"method case", `{"method":"KEY"}`, http.StatusUnprocessableEntity, "method"},
		{"long label", `{"method":"key","label":"` + strings.Repeat("x", 201) + `"}`, http.StatusUnprocessableEntity, "label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodeProblem(t, env.adminPost(t, "/admin/dids", tt.body), tt.status)
			if tt.status == http.StatusBadRequest && p.Type != httpx.ProblemBase+"bad-request" {
				t.Errorf("type = %q, want bad-request", p.Type)
			}
			if tt.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.field) {
				t.Errorf("errors = %+v, want errors[0].field %s", p.Errors, tt.field)
			}
		})
	}
	if recs, err := env.hosted.List(context.Background()); err != nil || len(recs) != 0 {
		t.Errorf("bad requests created DIDs: %+v, %v", recs, err)
	}
	if ks, err := env.keys.List(context.Background()); err != nil || len(ks) != 0 {
		t.Errorf("bad requests generated keys: %d, %v", len(ks), err)
	}
}

func TestAdminListDIDs(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	list := func() []Record {
		t.Helper()
		w := serve(t, env.engine, http.MethodGet, "/admin/dids", "", "Authorization", "Bearer "+env.admin)
		if w.Code != http.StatusOK {
			t.Fatalf("list: %d %s", w.Code, w.Body)
		}
		var body struct {
			DIDs []Record `json:"dids"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body.DIDs == nil {
			t.Fatalf("dids is null in %s, want an array", w.Body)
		}
		return body.DIDs
	}
	if got := list(); len(got) != 0 {
		t.Fatalf("empty registry lists %+v", got)
	}

	svc, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Record{svc.DID: {DID: svc.DID, Method: "web", Label: "service", KeyIDs: svc.KeyIDs}}
	for _, body := range []string{
		`{"method":"web","path":"issuers/tx-board","label":"board"}`,
		`{"method":"key","keyType":"P-256"}`,
		`{"method":"jwk","label":"holder"}`,
	} {
		c := decodeCreated(t, env.adminPost(t, "/admin/dids", body))
		var req createRequest
		_ = json.Unmarshal([]byte(body), &req)
		want[c.DID] = Record{DID: c.DID, Method: req.Method, Path: req.Path, Label: req.Label, KeyIDs: c.KeyIDs}
	}
	got := list()
	if len(got) != len(want) {
		t.Fatalf("listed %d DIDs, want %d: %+v", len(got), len(want), got)
	}
	for _, r := range got {
		w, ok := want[r.DID]
		if !ok {
			t.Errorf("unexpected DID %+v", r)
			continue
		}
		if r.Method != w.Method || r.Path != w.Path || r.Label != w.Label || !slices.Equal(r.KeyIDs, w.KeyIDs) || r.Created.IsZero() {
			t.Errorf("listed %+v, want %+v", r, w)
		}
	}
}

// TestHostedWebRemoteRoundTrip serves hosted did:web documents over real TLS and
// resolves them with the network did:web resolver (not LocalWeb): what the engine
// serves must be what did:web resolution accepts, and match LocalWeb's answer.
func TestHostedWebRemoteRoundTrip(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	host := srv.Listener.Addr().String() // 127.0.0.1:port, in the test certificate
	env := newTestEnv(t, host)
	srv.Config.Handler = env.engine
	srv.StartTLS()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	svc, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	board := decodeCreated(t, env.adminPost(t, "/admin/dids", `{"method":"web","path":"issuers/tx-board"}`))
	wantSvc := "did:web:" + strings.ReplaceAll(host, ":", "%3A")
	if svc.DID != wantSvc || board.DID != wantSvc+":issuers:tx-board" {
		t.Fatalf("DIDs = %s, %s; want %s and its issuers:tx-board", svc.DID, board.DID, wantSvc)
	}

	remote := did.NewResolver(did.WithMethod("web", did.NewWebMethod(time.Second, true, did.WithWebClient(srv.Client())), 0))
	for _, id := range []string{svc.DID, board.DID} {
		t.Run(id, func(t *testing.T) {
			res, err := remote.Resolve(ctx, id, did.Options{})
			if err != nil {
				t.Fatalf("remote resolve: %v", err)
			}
			var path []string
			if rest := strings.TrimPrefix(id, wantSvc); rest != "" {
				path = strings.Split(strings.TrimPrefix(rest, ":"), ":")
			}
			local, err := env.hosted.WebDocument(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if res.Document.ID != id || !jsonEqual(t, res.Document, local) {
				t.Errorf("remote %s\nhosted %s", mustJSON(res.Document), mustJSON(local))
			}
			// LocalWeb answers the same through the engine's resolution endpoint.
			lw := env.get(t, "/1.0/identifiers/"+id, "application/did+json")
			if lw.Code != http.StatusOK {
				t.Fatalf("local resolve: %d %s", lw.Code, lw.Body)
			}
			if doc := decodeDocument(t, lw); !jsonEqual(t, doc, res.Document) {
				t.Errorf("LocalWeb %s\nremote %s", mustJSON(doc), mustJSON(res.Document))
			}
		})
	}
	if calls := env.remote.calls(); len(calls) != 0 {
		t.Errorf("LocalWeb sent the hosted host to the remote resolver: %v", calls)
	}

	// An unhosted path is NOT_FOUND remotely and locally.
	missing := wantSvc + ":issuers:nobody"
	if _, err := remote.Resolve(ctx, missing, did.Options{}); !errors.Is(err, did.ErrNotFound) {
		t.Errorf("remote resolve of %s: %v, want ErrNotFound", missing, err)
	}
	checkResolutionError(t, env.get(t, "/1.0/identifiers/"+missing, ""), http.StatusNotFound, "NOT_FOUND")
	// The well-known path as a DID path is not the service DID, remotely or locally.
	alias := wantSvc + ":.well-known"
	if res, err := remote.Resolve(ctx, alias, did.Options{}); err == nil {
		t.Errorf("remote resolve of %s = %s, want an error", alias, res.Document.ID)
	}
	if w := env.get(t, "/1.0/identifiers/"+alias, ""); w.Code == http.StatusOK {
		t.Errorf("local resolve of %s = 200 %s", alias, w.Body)
	}
}

// TestCreateFailureReleasesPath: a did:web create that fails after reserving its
// path must not leave the path taken forever.
func TestCreateFailureReleasesPath(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	fk := &failingKeys{Manager: env.keys, fail: errKeyStore}
	h := NewHosted(env.store, fk, testHost)

	path := []string{"issuers", "tx-board"}
	if _, _, err := h.Create(ctx, "web", keys.Ed25519, path, ""); !errors.Is(err, errKeyStore) {
		t.Fatalf("Create with a failing key manager: %v, want %v", err, errKeyStore)
	}
	if _, err := h.EnsureServiceDID(ctx); !errors.Is(err, errKeyStore) {
		t.Fatalf("EnsureServiceDID with a failing key manager: %v, want %v", err, errKeyStore)
	}
	fk.mu.Lock()
	fk.fail = nil
	fk.mu.Unlock()

	rec, doc, err := h.Create(ctx, "web", keys.Ed25519, path, "")
	if err != nil {
		t.Fatalf("Create after the key manager recovered: %v", err)
	}
	if doc.ID != testWebDID+":issuers:tx-board" || len(rec.KeyIDs) != 1 {
		t.Errorf("created %+v %s", rec, doc.ID)
	}
	svc, err := h.EnsureServiceDID(ctx)
	if err != nil || svc.DID != testWebDID {
		t.Errorf("EnsureServiceDID after the key manager recovered: %+v, %v", svc, err)
	}
}

// TestEnsureServiceDIDAfterCrash: a start that died between reserving the root
// path and storing the record left a bare reservation; the next start must still
// create the service DID.
func TestEnsureServiceDIDAfterCrash(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	if err := env.store.Create(ctx, bucketWeb, webKey(""), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	rec, err := env.hosted.EnsureServiceDID(ctx)
	if err != nil {
		t.Fatalf("EnsureServiceDID over a stale reservation: %v", err)
	}
	if rec.DID != testWebDID || len(rec.KeyIDs) != 2 {
		t.Errorf("record = %+v", rec)
	}
	if w := env.get(t, "/.well-known/did.json", ""); w.Code != http.StatusOK {
		t.Errorf("/.well-known/did.json = %d %s", w.Code, w.Body)
	}
}

// slowKeys delays key generation so concurrent creates overlap.
type slowKeys struct{ keys.Manager }

func (s slowKeys) Generate(ctx context.Context, alg keys.Algorithm, label string) (keys.Key, error) {
	time.Sleep(20 * time.Millisecond)
	return s.Manager.Generate(ctx, alg, label)
}

// TestEnsureServiceDIDConcurrent: replicas starting together share one service
// DID; the ones that lose the race wait for the winner instead of failing.
func TestEnsureServiceDIDConcurrent(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	const replicas = 4
	var wg sync.WaitGroup
	recs := make([]Record, replicas)
	errs := make([]error, replicas)
	for i := range replicas {
		wg.Go(func() {
			h := NewHosted(env.store, slowKeys{env.keys}, testHost)
			recs[i], errs[i] = h.EnsureServiceDID(ctx)
		})
	}
	wg.Wait()
	for i := range replicas {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
			continue
		}
		if recs[i].DID != testWebDID || !slices.Equal(recs[i].KeyIDs, recs[0].KeyIDs) {
			t.Errorf("replica %d = %+v, replica 0 = %+v", i, recs[i], recs[0])
		}
	}
	ks, err := env.keys.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 2 {
		t.Errorf("%d keys generated, want the winner's 2", len(ks))
	}
}

func TestPathReservations(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	now := time.Now().UTC()
	put := func(path string, v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if err := env.store.Put(ctx, bucketWeb, webKey(path), b); err != nil {
			t.Fatal(err)
		}
	}
	put("busy", reservation{Reserved: now.Add(-time.Second), Nonce: "a"})
	put("dead", reservation{Reserved: now.Add(-2 * reservationTTL), Nonce: "b"})
	put("released", map[string]any{})

	tests := []struct {
		path    string
		created bool
	}{
		{"busy", false},    // another create is under way
		{"dead", true},     // its create died: taken over
		{"released", true}, // a failed create gave it back
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, doc, err := env.hosted.Create(ctx, "web", keys.Ed25519, []string{tt.path}, "")
			if !tt.created {
				var fe *invalidField
				if !errors.Is(err, ErrInvalidRequest) || !errors.As(err, &fe) || fe.field != "path" {
					t.Fatalf("Create over a live reservation: %v, want an invalid path", err)
				}
				if w := env.get(t, "/"+tt.path+"/did.json", ""); w.Code != http.StatusNotFound {
					t.Errorf("reserved path served %d", w.Code)
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if w := env.get(t, "/"+tt.path+"/did.json", ""); w.Code != http.StatusOK || decodeDocument(t, w).ID != doc.ID {
				t.Errorf("GET /%s/did.json = %d %s", tt.path, w.Code, w.Body)
			}
		})
	}

	// A create that outlived its reservation neither overwrites nor frees the
	// path of the create that took it over.
	slow := NewHosted(env.store, env.keys, testHost)
	resv, err := slow.reserve(ctx, "race")
	if err != nil {
		t.Fatal(err)
	}
	later := NewHosted(env.store, env.keys, testHost)
	later.now = func() time.Time { return time.Now().Add(2 * reservationTTL) }
	if _, _, err := later.Create(ctx, "web", keys.Ed25519, []string{"race"}, "winner"); err != nil {
		t.Fatalf("taking over an expired reservation: %v", err)
	}
	slow.release(ctx, "race", resv)
	recs, err := env.hosted.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || (r.Path == "race" && r.Label == "winner")
	}
	if !found {
		t.Errorf("the winner's record is gone after the loser released: %+v", recs)
	}
}
