package did

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestWebURL(t *testing.T) {
	tests := []struct{ did, want string }{
		{"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"},
		{"did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"},
		{"did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"},
	}
	for _, tt := range tests {
		u, err := WebURL(MustParse(tt.did))
		if err != nil || u.String() != tt.want {
			t.Errorf("WebURL(%s) = %v, %v; want %s", tt.did, u, err, tt.want)
		}
	}
	for _, bad := range []string{"did:web:example.com:..:x", "did:web:ex%2Fample.com", "did:web:a%40b"} {
		if _, err := WebURL(MustParse(bad)); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("WebURL(%s) err = %v", bad, err)
		}
	}
	d, err := WebDID("example.com:3000", "issuers", "tx-board")
	if err != nil || d.String() != "did:web:example.com%3A3000:issuers:tx-board" {
		t.Errorf("WebDID = %s, %v", d, err)
	}
}

// webFixture serves DID documents over TLS from a map of path → handler.
func webFixture(t *testing.T, routes map[string]http.HandlerFunc) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return srv, u.Host
}

func serveDoc(doc any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/did+json")
		_ = json.NewEncoder(w).Encode(doc)
	}
}

func webDoc(t *testing.T, d DID) *Document {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := EncodeMultikey(pub)
	vm := VerificationMethod{ID: d.String() + "#key-1", Type: TypeMultikey, Controller: d.String(), PublicKeyMultibase: mk}
	return &Document{Context: Context{ContextDIDv1, ContextMultikey}, ID: d.String(),
		VerificationMethod: []VerificationMethod{vm}, AssertionMethod: []Relationship{{Ref: "#key-1"}}}
}

func TestWebResolveOverTLS(t *testing.T) {
	routes := map[string]http.HandlerFunc{}
	srv, host := webFixture(t, routes)
	root, _ := WebDID(host)
	alice, _ := WebDID(host, "user", "alice")
	routes["/.well-known/did.json"] = serveDoc(webDoc(t, root))
	routes["/user/alice/did.json"] = serveDoc(webDoc(t, alice))
	routes["/user/mallory/did.json"] = serveDoc(webDoc(t, root)) // id mismatch
	routes["/user/big/did.json"] = func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"id":"` + strings.Repeat("a", 2048) + `"}`))
	}
	routes["/user/broken/did.json"] = func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }
	routes["/user/garbage/did.json"] = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }
	w := NewWebMethod(time.Second, true, WithWebClient(srv.Client()), WithWebMaxBytes(1024))
	ctx := context.Background()

	for _, d := range []DID{root, alice} {
		res, err := w.Resolve(ctx, d, Options{})
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if res.Document.ID != d.String() || !res.Document.Authorizes("assertionMethod", d.String()+"#key-1") {
			t.Errorf("%s: unexpected document %+v", d, res.Document)
		}
	}
	cases := map[string]error{
		"user:mallory": ErrInvalidDIDDocument, "user:big": ErrInvalidDIDDocument,
		"user:broken": ErrWebFetch, "user:garbage": ErrInvalidDIDDocument, "user:nobody": ErrNotFound,
	}
	for path, want := range cases {
		d := MustParse(root.String() + ":" + path)
		if _, err := w.Resolve(ctx, d, Options{}); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", path, err, want)
		}
	}
}

func TestWebRefusesPrivateAddressesAndUntrustedTLS(t *testing.T) {
	srv, host := webFixture(t, map[string]http.HandlerFunc{})
	_ = srv
	d, _ := WebDID(host)
	_, err := NewWebMethod(time.Second, false).Resolve(context.Background(), d, Options{})
	if !errors.Is(err, ErrWebFetch) || !strings.Contains(err.Error(), "non-public address") {
		t.Errorf("private address: err = %v", err)
	}
	_, err = NewWebMethod(time.Second, true).Resolve(context.Background(), d, Options{})
	if !errors.Is(err, ErrWebFetch) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: err = %v", err)
	}
}

func TestWebTimeout(t *testing.T) {
	block := make(chan struct{})
	srv, host := webFixture(t, map[string]http.HandlerFunc{
		"/.well-known/did.json": func(http.ResponseWriter, *http.Request) { <-block },
	})
	t.Cleanup(func() { close(block) }) // runs before the server's Close (LIFO)
	client := srv.Client()
	client.Timeout = 200 * time.Millisecond
	d, _ := WebDID(host)
	start := time.Now()
	_, err := NewWebMethod(time.Second, true, WithWebClient(client)).Resolve(context.Background(), d, Options{})
	if !errors.Is(err, ErrWebFetch) {
		t.Errorf("err = %v, want ErrWebFetch", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout not enforced")
	}
}
