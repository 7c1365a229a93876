package server

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
)

// Operations the not-found handler serves, so gin lists no route for them.
var notRouted = []string{hostedWebOperation}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, ts := newServer(t, witnessingConfig(t))
	_, ops := loadOpenAPI(t, openAPIDocument)
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.String()] = true
	}
	served := map[string]bool{}
	for _, r := range s.Routes() {
		k := r.Method + " " + openAPIPath(r.Path)
		served[k] = true
		if !documented[k] {
			t.Errorf("%s %s is served but openapi.json does not document %s", r.Method, r.Path, k)
		}
	}
	if len(served) < 70 {
		t.Fatalf("the server lists only %d routes", len(served))
	}
	for _, o := range ops {
		if k := o.String(); !served[k] && !slices.Contains(notRouted, k) {
			t.Errorf("openapi.json documents %s, which the server does not serve", k)
		}
	}
	for _, k := range notRouted {
		if served[k] || !documented[k] {
			t.Errorf("%s: routed %v, documented %v; notRouted is stale", k, served[k], documented[k])
		}
	}
	checkUnroutedOperations(t, ts.URL)
}

// checkUnroutedOperations shows that the exceptions are what the server
// does: the not-found handler serves GET .../did.json of hosted did:web
// DIDs; the subjects catch-all serves only .../history; and gin answers no
// HEAD or OPTIONS on its own (gin.New adds no HEAD for GET routes and
// HandleMethodNotAllowed is off), so the routes it lists are every method
// served.
func checkUnroutedOperations(t *testing.T, base string) {
	if resp, b := do(t, "POST", base+"/admin/dids", adminToken, `{"method":"web","path":"openapi/board"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create did:web: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, "GET", base+"/openapi/board/did.json", "", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/did+json" || !bytes.Contains(b, []byte(":openapi:board")) {
		t.Errorf("GET a hosted did:web document: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	for _, c := range []struct{ method, path, detail string }{
		{"POST", "/openapi/board/did.json", "no such endpoint"},
		{"GET", "/openapi/none/did.json", "no DID document at this path"},
		{"GET", "/registry/subjects/did:example:x", "use /registry/subjects/{subject}/history"},
		{"HEAD", "/healthz", ""},
		{"OPTIONS", "/openapi.json", "no such endpoint"},
	} {
		resp, b := do(t, c.method, base+c.path, "", "")
		if resp.StatusCode != http.StatusNotFound || !bytes.Contains(b, []byte(c.detail)) {
			t.Errorf("%s %s = %d %s, want 404 %q", c.method, c.path, resp.StatusCode, b, c.detail)
		}
	}
}
