package ld

import (
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"testing"

	"github.com/credence/credence/vc"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/equivalence/*.json")
	files = append(files, "testdata/employmentAuth.json")
	for _, file := range files {
		rel, _ := filepath.Rel("testdata", file)
		f.Add(readFile(f, rel))
	}
	f.Add([]byte(`{"@context":"https://www.w3.org/ns/credentials/v2","@graph":[{"@id":"_:a","https://e.org/#p":{"@id":"_:b"}},{"@id":"_:b","https://e.org/#p":{"@id":"_:a"}}]}`))
}

// FuzzCanonicalize: arbitrary JSON is canonicalized, deterministically, or
// rejected with a sentinel; never a panic.
func FuzzCanonicalize(f *testing.F) {
	addSeeds(f)
	p := testProcessor(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		got, err := p.Canonicalize(doc)
		if err != nil {
			if !errors.Is(err, vc.ErrMalformed) && !errors.Is(err, vc.ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		again, err := p.Canonicalize(doc)
		if err != nil || string(again) != string(got) {
			t.Fatalf("not deterministic: %v", err)
		}
		if plain, err := plainCanonical(p, doc); err != nil || string(plain) != string(got) {
			t.Fatalf("pre-processed contexts change the result (%v):\n%s\nplain:\n%s", err, got, plain)
		}
	})
}

// plainCanonical canonicalizes doc with the context json-gold would build,
// never the pre-processed one.
func plainCanonical(p *Processor, doc map[string]any) ([]byte, error) {
	in, _, err := prepare(doc)
	if err != nil {
		return nil, err
	}
	in = maps.Clone(in)
	if local, ok := in["@context"]; ok {
		f, err := p.activeContext(local, nil, true)
		if err != nil {
			return nil, err
		}
		in["@context"] = fresh(f.plain)
	}
	out, err := normalize(in, p.options(true))
	if err != nil {
		return nil, err
	}
	return out.([]byte), nil
}

// FuzzCheckTerms: arbitrary JSON never panics CheckTerms, and its errors
// wrap a sentinel.
func FuzzCheckTerms(f *testing.F) {
	addSeeds(f)
	p := testProcessor(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		if err := p.CheckTerms(doc); err != nil && !errors.Is(err, vc.ErrMalformed) && !errors.Is(err, vc.ErrUnsupported) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
	})
}
