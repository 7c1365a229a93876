package secure

import "testing"

// TestController: a DID URL's controller is its DID, whatever path, query
// or fragment it has; another URL's is the URL without its fragment (its
// path is the controlled identifier document's, not something to cut).
func TestController(t *testing.T) {
	for vm, want := range map[string]string{
		"did:key:z6Mk#z6Mk":                             "did:key:z6Mk",
		"did:web:example.com:issuers:tx#key-1":          "did:web:example.com:issuers:tx",
		"did:example:123/path?service=x#frag":           "did:example:123",
		"did:example:123?versionId=2#key-1":             "did:example:123",
		"did:example:123":                               "did:example:123",
		"https://example.issuer/vc-jose-cose#key-1":     "https://example.issuer/vc-jose-cose",
		"https://example.com/issuers/tx?v=2#key-1":      "https://example.com/issuers/tx?v=2",
		"https://example.com/controller":                "https://example.com/controller",
		"urn:uuid:9a7d1f3e-0a1b-4c2d-8e3f-5a6b7c8d9e0f": "urn:uuid:9a7d1f3e-0a1b-4c2d-8e3f-5a6b7c8d9e0f",
	} {
		if got := controller(vm); got != want {
			t.Errorf("controller(%q) = %q, want %q", vm, got, want)
		}
	}
}
