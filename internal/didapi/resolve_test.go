package didapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/did"
)

// jsonEqual reports whether a and b marshal to the same JSON.
func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// direct resolves d with a bare resolver, the reference for what the endpoint serves.
func direct(t *testing.T, d string, opts did.Options) *did.Document {
	t.Helper()
	res, err := did.NewResolver().Resolve(context.Background(), d, opts)
	if err != nil {
		t.Fatalf("Resolve(%s): %v", d, err)
	}
	return res.Document
}

func TestResolveRepresentations(t *testing.T) {
	env := newTestEnv(t, testHost)
	tests := []struct {
		name   string
		accept string
		wantCT string // exact Content-Type header
		result bool   // a resolution result rather than a bare document
	}{
		{"no Accept", "", did.MediaDIDResolution, true},
		{"did-resolution", "application/did-resolution", did.MediaDIDResolution, true},
		{"did+json", "application/did+json", did.MediaDIDJSON, false},
		{"did+ld+json", "application/did+ld+json", did.MediaDIDLDJSON, false},
		{"json", "application/json", did.MediaDIDJSON, false},
		{"ld+json without profile", "application/ld+json", did.MediaDIDLDJSON, false},
		{"ld+json resolution profile", `application/ld+json;profile="https://w3id.org/did-resolution"`, did.MediaLDJSONProfile, true},
		{"ld+json resolution profile, spaced", `application/ld+json; profile="https://w3id.org/did-resolution"`, did.MediaLDJSONProfile, true},
		{"q picks result", "application/did+json;q=0.5, application/did-resolution;q=0.9", did.MediaDIDResolution, true},
		{"q picks document", "application/did+json;q=0.9, application/did-resolution;q=0.5", did.MediaDIDJSON, false},
		{"q ties keep order", "application/did+ld+json, application/did-resolution", did.MediaDIDLDJSON, false},
		{"wildcard", "*/*", did.MediaDIDResolution, true},
		{"application wildcard", "application/*", did.MediaDIDResolution, true},
		{"unsupported skipped", "text/html, application/did+json", did.MediaDIDJSON, false},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", did.MediaDIDResolution, true},
		{"wildcard lower q than document", "*/*;q=0.1, application/did+json", did.MediaDIDJSON, false},
		{"case-insensitive type", "Application/DID+JSON", did.MediaDIDJSON, false},
		{"malformed part skipped", ";;;, application/did+json", did.MediaDIDJSON, false},
	}
	for _, id := range []string{keyEd25519, jwkP256} {
		want := direct(t, id, did.Options{})
		for _, tt := range tests {
			t.Run(strings.SplitN(id, ":", 3)[1]+"/"+tt.name, func(t *testing.T) {
				w := env.get(t, "/1.0/identifiers/"+id, tt.accept)
				if w.Code != http.StatusOK {
					t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
				}
				if got := w.Header().Get("Content-Type"); got != tt.wantCT {
					t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
				}
				if got := w.Header().Get("Cache-Control"); got != "no-cache" {
					t.Errorf("Cache-Control = %q, want no-cache", got)
				}
				var doc *did.Document
				if tt.result {
					res, _ := decodeResult(t, w)
					if res.Context != did.ContextDIDResolution {
						t.Errorf("@context = %q, want %q", res.Context, did.ContextDIDResolution)
					}
					if res.Metadata.ContentType != did.MediaDIDLDJSON {
						t.Errorf("didResolutionMetadata.contentType = %q, want %q", res.Metadata.ContentType, did.MediaDIDLDJSON)
					}
					if res.Metadata.Error != nil {
						t.Errorf("didResolutionMetadata.error = %+v, want none", res.Metadata.Error)
					}
					if res.DocumentMetadata.Deactivated {
						t.Error("didDocumentMetadata.deactivated = true")
					}
					doc = res.Document
				} else {
					doc = decodeDocument(t, w)
				}
				if doc == nil || doc.ID != id {
					t.Fatalf("document = %+v, want id %s", doc, id)
				}
				if !jsonEqual(t, doc, want) {
					t.Errorf("document = %s\nwant %s", mustJSON(doc), mustJSON(want))
				}
			})
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// checkResolutionError checks a DID Resolution error response.
func checkResolutionError(t *testing.T, w *httptest.ResponseRecorder, status int, name string) resultBody {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if got := w.Header().Get("Content-Type"); got != did.MediaDIDResolution {
		t.Errorf("Content-Type = %q, want %q", got, did.MediaDIDResolution)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	res, raw := decodeResult(t, w)
	if got := string(raw["didDocument"]); got != "null" {
		t.Errorf("didDocument = %s, want null", got)
	}
	if got := string(raw["didDocumentMetadata"]); got != "{}" {
		t.Errorf("didDocumentMetadata = %s, want {}", got)
	}
	if res.Context != did.ContextDIDResolution {
		t.Errorf("@context = %q", res.Context)
	}
	e := res.Metadata.Error
	if e == nil {
		t.Fatalf("no didResolutionMetadata.error in %s", w.Body)
	}
	if want := did.ErrorNamespace + name; e.Type != want {
		t.Errorf("error.type = %q, want %q", e.Type, want)
	}
	if !strings.HasPrefix(e.Type, "https://www.w3.org/ns/did#") {
		t.Errorf("error.type %q is not in the DID namespace", e.Type)
	}
	if e.Title == "" || e.Detail == "" {
		t.Errorf("error = %+v, want a title and a detail", e)
	}
	return res
}

func TestResolveErrors(t *testing.T) {
	env := newTestEnv(t, testHost)
	if _, err := env.hosted.EnsureServiceDID(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target string
		accept string
		status int
		errTyp string
	}{
		{"not a DID", "/1.0/identifiers/not-a-did", "", http.StatusBadRequest, "INVALID_DID"},
		{"empty", "/1.0/identifiers/", "", http.StatusBadRequest, "INVALID_DID"},
		{"upper-case scheme", "/1.0/identifiers/DID:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "", http.StatusBadRequest, "INVALID_DID"},
		{"DID URL path", "/1.0/identifiers/" + keyEd25519 + "/path", "", http.StatusBadRequest, "INVALID_DID"},
		{"bad percent-encoding once decoded", "/1.0/identifiers/did%3Akey%3Az%252", "", http.StatusBadRequest, "INVALID_DID"},
		{"unknown method", "/1.0/identifiers/did:example:123", "", http.StatusNotImplemented, "METHOD_NOT_SUPPORTED"},
		{"unknown method, document requested", "/1.0/identifiers/did:example:123", "application/did+json", http.StatusNotImplemented, "METHOD_NOT_SUPPORTED"},
		{"did:key bad multibase", "/1.0/identifiers/did:key:z6MkINVALID0OIl", "", http.StatusBadRequest, "INVALID_DID"},
		{"did:key not base58btc", "/1.0/identifiers/did:key:mAAAA", "", http.StatusBadRequest, "INVALID_DID"},
		{"did:jwk not base64url", "/1.0/identifiers/did:jwk:e30=", "", http.StatusBadRequest, "INVALID_DID"},
		{"unknown option", "/1.0/identifiers/" + keyEd25519 + "?foo=1", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"did:key versionId", "/1.0/identifiers/" + keyEd25519 + "?versionId=1", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"did:key versionTime", "/1.0/identifiers/" + keyEd25519 + "?versionTime=2020-01-01T00:00:00Z", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"did:jwk versionId", "/1.0/identifiers/" + jwkP256 + "?versionId=1", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"hosted did:web versionId", "/1.0/identifiers/" + testWebDID + "?versionId=1", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"unknown publicKeyFormat", "/1.0/identifiers/" + keyEd25519 + "?publicKeyFormat=Nope", "", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"P256Key2021 of an Ed25519 key", "/1.0/identifiers/" + keyEd25519 + "?publicKeyFormat=P256Key2021", "", http.StatusBadRequest, "UNSUPPORTED_PUBLIC_KEY_TYPE"},
		{"unsupported representation", "/1.0/identifiers/" + keyEd25519, "text/html", http.StatusNotAcceptable, "REPRESENTATION_NOT_SUPPORTED"},
		{"only q=0", "/1.0/identifiers/" + keyEd25519, "application/did+json;q=0", http.StatusNotAcceptable, "REPRESENTATION_NOT_SUPPORTED"},
		{"unparseable Accept", "/1.0/identifiers/" + keyEd25519, ";;;", http.StatusNotAcceptable, "REPRESENTATION_NOT_SUPPORTED"},
		{"bad option wins over bad Accept", "/1.0/identifiers/" + keyEd25519 + "?foo=1", "text/html", http.StatusBadRequest, "INVALID_OPTIONS"},
		{"hosted host, no document at path", "/1.0/identifiers/" + testWebDID + ":nobody", "", http.StatusNotFound, "NOT_FOUND"},
		{"hosted host, reserved path", "/1.0/identifiers/" + testWebDID + ":admin", "", http.StatusNotFound, "NOT_FOUND"},
		{"did:web dot segment", "/1.0/identifiers/" + testWebDID + ":..", "", http.StatusBadRequest, "INVALID_DID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkResolutionError(t, env.get(t, tt.target, tt.accept), tt.status, tt.errTyp)
		})
	}
	if calls := env.remote.calls(); len(calls) != 0 {
		t.Errorf("hosted did:web DIDs went to the remote resolver: %v", calls)
	}
}

// TestResolveHostedAliases resolves DIDs that name this service's host but are not
// the DID of a hosted document (another spelling of the host, the well-known path
// as a path segment). LocalWeb must not hand out a document whose id differs from
// the DID asked for: a remote did:web resolver rejects that, and a verifier that
// trusted the answer would accept the service's keys for a different DID.
func TestResolveHostedAliases(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	if _, err := env.hosted.EnsureServiceDID(ctx); err != nil {
		t.Fatal(err)
	}
	if w := env.adminPost(t, "/admin/dids", `{"method":"web","path":"issuers/tx-board"}`); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	for _, alias := range []string{
		"did:web:credence.test%3a8443",                              // lower-case percent-encoding
		"did:web:CREDENCE.TEST%3A8443",                              // upper-case host
		"did:web:credence.test%3A8443:.well-known",                  // root document via the well-known path
		"did:web:credence.test%3A8443:issuers:tx%2Dboard",           // needlessly encoded segment
		"did:web:credence.test%3A8443:issuers%3Atx-board",           // encoded colon
		"did:web:credence.test%3A8443:Issuers:tx-board",             // path case
		"did:web:credence.test%3A8443:issuers:tx-board:.well-known", // not a hosted path
	} {
		t.Run(alias, func(t *testing.T) {
			w := env.get(t, "/1.0/identifiers/"+alias, "")
			if w.Code == http.StatusOK {
				res, _ := decodeResult(t, w)
				t.Fatalf("resolved %s to a document with id %s", alias, res.Document.ID)
			}
			checkResolutionError(t, w, http.StatusNotFound, "NOT_FOUND")
			res, err := (LocalWeb{Hosted: env.hosted, Remote: env.remote}).Resolve(ctx, did.MustParse(alias), did.Options{})
			if !errors.Is(err, did.ErrNotFound) {
				t.Errorf("LocalWeb.Resolve = %+v, %v; want ErrNotFound", res, err)
			}
		})
	}
}

// deactivatedMethod resolves every did:test to a deactivated document.
var deactivatedMethod = methodFunc(func(_ context.Context, d did.DID, _ did.Options) (*did.Resolution, error) {
	doc := &did.Document{Context: did.Context{did.ContextDIDv1}, ID: d.String()}
	return &did.Resolution{
		Document:         doc,
		DocumentMetadata: did.DocumentMetadata{Deactivated: true, Updated: "2024-01-02T03:04:05Z"},
		Metadata:         did.ResolutionMetadata{ContentType: did.MediaDIDJSON},
	}, nil
})

func TestResolveDeactivated(t *testing.T) {
	env := newTestEnv(t, testHost, did.WithMethod("test", deactivatedMethod, 0))
	const id = "did:test:gone"
	tests := []struct {
		accept string
		wantCT string
		result bool
	}{
		{"", did.MediaDIDResolution, true},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, did.MediaLDJSONProfile, true},
		{"application/did+json", did.MediaDIDJSON, false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			w := env.get(t, "/1.0/identifiers/"+id, tt.accept)
			if w.Code != http.StatusGone {
				t.Fatalf("status = %d, want 410; body %s", w.Code, w.Body)
			}
			if got := w.Header().Get("Content-Type"); got != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
			if !tt.result {
				if doc := decodeDocument(t, w); doc.ID != id {
					t.Errorf("document id = %q, want %q", doc.ID, id)
				}
				return
			}
			res, raw := decodeResult(t, w)
			if !res.DocumentMetadata.Deactivated {
				t.Errorf("didDocumentMetadata = %s, want deactivated true", raw["didDocumentMetadata"])
			}
			if res.DocumentMetadata.Updated != "2024-01-02T03:04:05Z" {
				t.Errorf("didDocumentMetadata.updated = %q", res.DocumentMetadata.Updated)
			}
			if res.Document == nil || res.Document.ID != id {
				t.Errorf("didDocument = %+v, want id %s", res.Document, id)
			}
			if res.Metadata.Error != nil {
				t.Errorf("deactivation reported as error %+v", res.Metadata.Error)
			}
		})
	}
}

func TestResolveInternalErrorIsNotLeaked(t *testing.T) {
	const secret = "secret internal path /var/x"
	failing := methodFunc(func(context.Context, did.DID, did.Options) (*did.Resolution, error) {
		return nil, errors.New(secret)
	})
	wrapped := methodFunc(func(context.Context, did.DID, did.Options) (*did.Resolution, error) {
		return nil, errors.Join(errors.New("lookup failed"), errors.New(secret))
	})
	env := newTestEnv(t, testHost, did.WithMethod("test", failing, 0), did.WithMethod("wrap", wrapped, 0))
	for _, id := range []string{"did:test:x", "did:wrap:x"} {
		for _, accept := range []string{"", "application/did+json"} {
			t.Run(id+"/"+accept, func(t *testing.T) {
				w := env.get(t, "/1.0/identifiers/"+id, accept)
				checkResolutionError(t, w, http.StatusInternalServerError, "INTERNAL_ERROR")
				for _, leak := range []string{"secret", "/var/x"} {
					if strings.Contains(w.Body.String(), leak) {
						t.Errorf("body leaks %q: %s", leak, w.Body)
					}
				}
			})
		}
	}
	if !strings.Contains(env.log.String(), secret) {
		t.Errorf("the internal error was not logged for operators; log:\n%s", env.log)
	}
}

// fullyEncode percent-encodes a DID as one path segment, colons included, as
// clients that escape the whole identifier do.
func fullyEncode(d string) string { return strings.ReplaceAll(url.PathEscape(d), ":", "%3A") }

func TestResolvePercentEncoded(t *testing.T) {
	env := newTestEnv(t, testHost)
	if _, err := env.hosted.EnsureServiceDID(context.Background()); err != nil {
		t.Fatal(err)
	}
	if w := env.adminPost(t, "/admin/dids", `{"method":"web","path":"issuers/tx-board"}`); w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	pathDID := testWebDID + ":issuers:tx-board"
	tests := []struct {
		name, raw, want string
	}{
		{"plain did:key", keyEd25519, keyEd25519},
		{"fully encoded did:key", strings.ReplaceAll(keyEd25519, ":", "%3A"), keyEd25519},
		{"fully encoded, lower-case hex", strings.ReplaceAll(keyEd25519, ":", "%3a"), keyEd25519},
		{"fully encoded did:jwk", fullyEncode(jwkP256), jwkP256},
		{"did:web with port", testWebDID, testWebDID},
		{"did:web with port and path", pathDID, pathDID},
		{"fully encoded did:web with port", "did%3Aweb%3Acredence.test%253A8443", testWebDID},
		{"fully encoded did:web with path", fullyEncode(pathDID), pathDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.get(t, "/1.0/identifiers/"+tt.raw, "")
			if w.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			res, _ := decodeResult(t, w)
			if res.Document == nil || res.Document.ID != tt.want {
				t.Fatalf("didDocument.id = %v, want %s", res.Document, tt.want)
			}
		})
	}
	if calls := env.remote.calls(); len(calls) != 0 {
		t.Errorf("hosted did:web DIDs went to the remote resolver: %v", calls)
	}

	// Other hosts (including this host without its port) go to the remote resolver.
	for _, other := range []string{"did:web:other.example", "did:web:credence.test", "did:web:credence.test%3A9999:issuers:tx-board"} {
		before := len(env.remote.calls())
		checkResolutionError(t, env.get(t, "/1.0/identifiers/"+other, ""), http.StatusNotFound, "NOT_FOUND")
		if calls := env.remote.calls(); len(calls) != before+1 || calls[len(calls)-1] != other {
			t.Errorf("%s: remote calls = %v, want it to end with %s", other, calls, other)
		}
	}
}

func TestResolveOptions(t *testing.T) {
	env := newTestEnv(t, testHost)
	tests := []struct {
		query    string
		wantType string
		check    func(t *testing.T, doc *did.Document)
	}{
		{"", did.TypeMultikey, func(t *testing.T, doc *did.Document) {
			if doc.VerificationMethod[0].PublicKeyMultibase == "" {
				t.Error("Multikey method has no publicKeyMultibase")
			}
		}},
		{"?publicKeyFormat=JsonWebKey2020", did.TypeJSONWebKey2020, func(t *testing.T, doc *did.Document) {
			vm := doc.VerificationMethod[0]
			if vm.PublicKeyJwk == nil || vm.PublicKeyJwk.Kty != "OKP" || vm.PublicKeyJwk.Crv != "Ed25519" {
				t.Errorf("publicKeyJwk = %+v, want an Ed25519 OKP key", vm.PublicKeyJwk)
			}
			if vm.PublicKeyMultibase != "" {
				t.Errorf("JsonWebKey2020 method also has publicKeyMultibase %q", vm.PublicKeyMultibase)
			}
			if !slices.Contains([]any(doc.Context), any(did.ContextJWS2020)) {
				t.Errorf("@context = %v, want %s", doc.Context, did.ContextJWS2020)
			}
		}},
		{"?publicKeyFormat=Ed25519VerificationKey2018", did.TypeEd25519v2018, func(t *testing.T, doc *did.Document) {
			if doc.VerificationMethod[0].PublicKeyBase58 == "" {
				t.Error("Ed25519VerificationKey2018 method has no publicKeyBase58")
			}
		}},
		{"?enableEncryptionKeyDerivation=true", did.TypeMultikey, func(t *testing.T, doc *did.Document) {
			if len(doc.KeyAgreement) != 1 || len(doc.VerificationMethod) != 2 {
				t.Fatalf("keyAgreement = %v, methods = %d; want a derived X25519 key", doc.KeyAgreement, len(doc.VerificationMethod))
			}
			if !strings.HasPrefix(doc.VerificationMethod[1].PublicKeyMultibase, "z6LS") {
				t.Errorf("derived key %q is not an X25519 Multikey", doc.VerificationMethod[1].PublicKeyMultibase)
			}
		}},
		{"?enableEncryptionKeyDerivation=false", did.TypeMultikey, func(t *testing.T, doc *did.Document) {
			if len(doc.KeyAgreement) != 0 {
				t.Errorf("keyAgreement = %v, want none", doc.KeyAgreement)
			}
		}},
	}
	// Run twice: the second pass is answered from the resolver cache, which must
	// keep option variants apart.
	for pass := range 2 {
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				w := env.get(t, "/1.0/identifiers/"+keyEd25519+tt.query, "")
				if w.Code != http.StatusOK {
					t.Fatalf("pass %d: status = %d, want 200; body %s", pass, w.Code, w.Body)
				}
				res, _ := decodeResult(t, w)
				if res.Document == nil || len(res.Document.VerificationMethod) == 0 {
					t.Fatalf("no verification method in %s", w.Body)
				}
				if got := res.Document.VerificationMethod[0].Type; got != tt.wantType {
					t.Errorf("pass %d: verification method type = %q, want %q", pass, got, tt.wantType)
				}
				tt.check(t, res.Document)
			})
		}
	}
}
