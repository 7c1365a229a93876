package didapi

import (
	"mime"
	"strings"
	"testing"

	"github.com/credence/credence/did"
)

// acceptSeeds are Accept values the resolution tests use.
var acceptSeeds = []string{
	"",
	"   ",
	"application/did-resolution",
	"application/did+json",
	"application/did+ld+json",
	"application/json",
	"application/ld+json",
	`application/ld+json;profile="https://w3id.org/did-resolution"`,
	`application/ld+json; profile="https://w3id.org/did-resolution https://example.com/other"`,
	"application/did+json;q=0.5, application/did-resolution;q=0.9",
	"application/did+json;q=0.9, application/did-resolution;q=0.5",
	"*/*",
	"application/*",
	"text/html",
	"text/html, application/did+json",
	"application/did+json;q=0",
	"application/did+json;q=abc",
	"application/did+json;q=NaN, application/did-resolution;q=Inf",
	";;;",
	",,,",
	`application/ld+json;profile="unterminated`,
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   representation
		ok     bool
	}{
		{"", representation{did.MediaDIDResolution, true}, true},
		{"   ", representation{did.MediaDIDResolution, true}, true},
		{"application/did-resolution", representation{did.MediaDIDResolution, true}, true},
		{"application/did+json", representation{did.MediaDIDJSON, false}, true},
		{"application/did+ld+json", representation{did.MediaDIDLDJSON, false}, true},
		{"application/json", representation{did.MediaDIDJSON, false}, true},
		{"application/ld+json", representation{did.MediaDIDLDJSON, false}, true},
		{`application/ld+json;profile="https://w3id.org/did-resolution"`, representation{did.MediaLDJSONProfile, true}, true},
		{"application/did+json;q=0.5, application/did-resolution;q=0.9", representation{did.MediaDIDResolution, true}, true},
		{"application/did+json;q=0.9, application/did-resolution;q=0.5", representation{did.MediaDIDJSON, false}, true},
		{"application/did-resolution;q=0.5, application/did+json;q=0.5", representation{did.MediaDIDResolution, true}, true},
		{"application/did+json; Q=0.1, application/did+ld+json", representation{did.MediaDIDLDJSON, false}, true},
		{"*/*", representation{did.MediaDIDResolution, true}, true},
		{"application/*", representation{did.MediaDIDResolution, true}, true},
		{"text/html, */*;q=0.1", representation{did.MediaDIDResolution, true}, true},
		{"text/html", representation{}, false},
		{"text/*", representation{}, false},
		{"application/did+json;q=0", representation{}, false},
		{"application/did+json;q=-1", representation{}, false},
		{"application/did+json;q=abc", representation{}, false},
		{";;;", representation{}, false},
	}
	for _, tt := range tests {
		got, ok := negotiate(tt.accept)
		if got != tt.want || ok != tt.ok {
			t.Errorf("negotiate(%q) = %+v, %v; want %+v, %v", tt.accept, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range acceptSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		rep, ok := negotiate(accept)
		if !ok {
			if rep != (representation{}) {
				t.Errorf("negotiate(%q) refused but returned %+v", accept, rep)
			}
			return
		}
		if rep.mediaType == "" {
			t.Fatalf("negotiate(%q) accepted an empty media type", accept)
		}
		mt, _, err := mime.ParseMediaType(rep.mediaType)
		if err != nil {
			t.Fatalf("negotiate(%q) = %q, not a media type: %v", accept, rep.mediaType, err)
		}
		// Only the representations the endpoint serves come out.
		switch {
		case rep.result && (rep.mediaType == did.MediaDIDResolution || rep.mediaType == did.MediaLDJSONProfile):
		case !rep.result && (rep.mediaType == did.MediaDIDJSON || rep.mediaType == did.MediaDIDLDJSON):
		default:
			t.Fatalf("negotiate(%q) = %+v, not a served representation", accept, rep)
		}
		if strings.TrimSpace(accept) == "" && (mt != did.MediaDIDResolution || !rep.result) {
			t.Fatalf("negotiate(%q) = %+v, want the resolution result by default", accept, rep)
		}
	})
}
