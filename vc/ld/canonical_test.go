package ld

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/credence/credence/vc"
)

func TestCanonicalizeVectors(t *testing.T) {
	p := testProcessor(t)
	for _, name := range []string{"unsigned", "employmentAuth"} {
		t.Run(name, func(t *testing.T) {
			got, err := p.Canonicalize(readJSON(t, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if want := readFile(t, name+".nq"); string(got) != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestCachedEqualsNaive: the cached, pre-processed path gives the bytes
// plain json-gold gives, on documents that exercise each case usable
// distinguishes (and on the vectors).
func TestCachedEqualsNaive(t *testing.T) {
	p := testProcessor(t)
	files, _ := filepath.Glob("testdata/equivalence/*.json")
	files = append(files, "testdata/employmentAuth.json")
	if len(files) < 10 {
		t.Fatalf("only %d documents", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			doc := readJSON(t, strings.TrimPrefix(file, "testdata/"))
			want, err := naive(p, doc)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(file) == "presentation.json" {
				// Plain json-gold puts the presented credential into the
				// default graph (graphterm.go): the reference is jsonld.js.
				want = readFile(t, "jsonld-js/equivalence-presentation.nq")
			}
			for range 2 { // the second run hits the cache
				got, err := p.Canonicalize(doc)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != string(want) {
					t.Fatalf("got\n%s\nwant\n%s", got, want)
				}
			}
		})
	}
}

func TestUsable(t *testing.T) {
	p := testProcessor(t)
	tests := []struct {
		file string
		want bool
	}{
		{"unsigned.json", true},
		{"large.json", true},
		{"signed-rdfc.json", true},
		{"signed-proof-chain.json", true},
		{"vc11.json", true},
		{"nested-typed.json", true},
		{"presentation.json", false},     // embedded contexts
		{"nested-context.json", false},   // embedded context
		{"two-scoped-types.json", false}, // two scoped types on one node
		{"property-scoped.json", false},  // a pre-processed term as a property
	}
	for _, tt := range tests {
		doc := readJSON(t, "equivalence/"+tt.file)
		f, err := p.activeContext(doc["@context"], nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.usable(doc); got != tt.want {
			t.Errorf("%s: usable = %v, want %v", tt.file, got, tt.want)
		}
	}
}

func TestCanonicalizeDoesNotModify(t *testing.T) {
	p := testProcessor(t)
	doc := readJSON(t, "equivalence/values.json")
	before := readJSON(t, "equivalence/values.json")
	if _, err := p.Canonicalize(doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc, before) {
		t.Error("Canonicalize modified its input")
	}
}

func TestCanonicalizeConcurrent(t *testing.T) {
	p := testProcessor(t)
	files, _ := filepath.Glob("testdata/equivalence/*.json")
	want := map[string]string{}
	for _, f := range files {
		b, err := p.Canonicalize(readJSON(t, strings.TrimPrefix(f, "testdata/")))
		if err != nil {
			t.Fatal(err)
		}
		want[f] = string(b)
	}
	p = testProcessor(t) // cold cache: build and use it concurrently
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range files {
				f := files[(i+j)%len(files)]
				got, err := p.Canonicalize(readJSON(t, strings.TrimPrefix(f, "testdata/")))
				if err != nil || string(got) != want[f] {
					t.Errorf("%s: concurrent result differs (%v)", f, err)
				}
			}
		})
	}
	wg.Wait()
}

func TestCanonicalizeErrors(t *testing.T) {
	p := New()
	deep := map[string]any{"@context": CredentialsV2}
	cur := deep
	for range MaxDepth + 1 {
		next := map[string]any{}
		cur["https://example.org/#p"] = next
		cur = next
	}
	tests := []struct {
		name string
		doc  map[string]any
		want error
	}{
		{"unknown context", map[string]any{"@context": "https://example.org/unknown/v1", "name": "x"}, vc.ErrUnsupported},
		{"too deep", deep, vc.ErrMalformed},
		{"too many values", map[string]any{"@context": CredentialsV2, "https://example.org/#p": make([]any, MaxValues)}, vc.ErrMalformed},
		{"too many bytes", map[string]any{"@context": CredentialsV2, "https://example.org/#p": strings.Repeat("x", MaxStringBytes+1)}, vc.ErrMalformed},
		{"not JSON", map[string]any{"@context": CredentialsV2, "https://example.org/#p": make(chan int)}, vc.ErrMalformed},
		{"invalid context", map[string]any{"@context": 5}, vc.ErrMalformed},
		{"protected redefinition", map[string]any{"@context": []any{CredentialsV2, map[string]any{"name": "https://example.org/#name"}}, "name": "x"}, vc.ErrMalformed},
		{"nil", nil, vc.ErrMalformed},
	}
	for _, tt := range tests {
		_, err := p.Canonicalize(tt.doc)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestWithContext(t *testing.T) {
	const url = "https://example.org/ctx/v1"
	doc := map[string]any{"@context": url, "name": "x"}
	if _, err := New().Canonicalize(doc); !errors.Is(err, vc.ErrUnsupported) {
		t.Fatalf("unregistered: got %v", err)
	}
	p := New(WithContext(url, []byte(`{"@context": {"name": "https://schema.org/name"}}`)))
	got, err := p.Canonicalize(doc)
	if want := "_:c14n0 <https://schema.org/name> \"x\" .\n"; err != nil || string(got) != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	p = New(WithContext(url, []byte(`{"@context": `)))
	if _, err := p.Canonicalize(doc); !errors.Is(err, vc.ErrMalformed) {
		t.Errorf("broken context: got %v", err)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
