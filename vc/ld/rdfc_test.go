package ld

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

// TestEscaping: literals and IRIs are written as RDFC-1.0 canonical
// N-Quads (and rdf-canonize) write them: ECHAR for \b \t \n \f \r " \,
// UCHAR for other control characters.
func TestEscaping(t *testing.T) {
	p := New()
	tests := []struct{ value, want string }{
		{"plain é ☃", `"plain é ☃"`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001F\u007F"`},
	}
	for _, tt := range tests {
		got, err := p.Canonicalize(map[string]any{"https://example.org/#p": tt.value})
		if err != nil {
			t.Fatal(err)
		}
		if want := "_:c14n0 <https://example.org/#p> " + tt.want + " .\n"; string(got) != want {
			t.Errorf("%q: got %s want %s", tt.value, got, want)
		}
	}
}

// clique is a JSON-LD graph of n blank nodes each linked to all others: a
// dataset that makes RDFC-1.0 try every permutation.
func clique(n int) map[string]any {
	nodes := make([]any, n)
	for i := range n {
		var links []any
		for j := range n {
			if j != i {
				links = append(links, map[string]any{"@id": fmt.Sprintf("_:n%d", j)})
			}
		}
		nodes[i] = map[string]any{"@id": fmt.Sprintf("_:n%d", i), "https://example.org/#knows": links}
	}
	return map[string]any{"@graph": nodes}
}

func TestPoisonedDataset(t *testing.T) {
	p := New()
	if _, err := p.Canonicalize(clique(4)); err != nil {
		t.Fatalf("small clique: %v", err)
	}
	start := time.Now()
	_, err := p.Canonicalize(clique(12))
	if !errors.Is(err, vc.ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("rejecting took %v", d)
	}
}

func TestDataLossRejected(t *testing.T) {
	p := New()
	tests := []struct {
		name string
		doc  map[string]any
	}{
		{"undefined term", map[string]any{"@context": CredentialsV2, "type": "VerifiableCredential", "credentialSubject": map[string]any{"undefinedTerm": "x"}}},
		{"relative id", map[string]any{"@context": CredentialsV2, "id": "relative/path", "name": "x"}},
		{"relative type", map[string]any{"@context": []any{CredentialsV2, map[string]any{"@vocab": nil}}, "type": "Nope"}},
		{"bad language", map[string]any{"https://example.org/#p": map[string]any{"@value": "x", "@language": "not a tag"}}},
	}
	for _, tt := range tests {
		if _, err := p.Canonicalize(tt.doc); !errors.Is(err, vc.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", tt.name, err)
		}
	}
}
