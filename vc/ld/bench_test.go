package ld

import (
	"fmt"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"
)

// naive canonicalizes doc the plain json-gold way: no processed-context
// cache (the context documents are still decoded once, by p) and the
// contexts as published, without the rewriting of null-scoped graph terms
// (graphterm.go).
func naive(p *Processor, doc map[string]any) ([]byte, error) {
	opts := p.options(false)
	opts.DocumentLoader = publishedLoader{p}
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	out, err := ld.NewJsonLdProcessor().Normalize(doc, opts)
	if err != nil {
		return nil, err
	}
	return []byte(out.(string)), nil
}

func BenchmarkCanonicalize(b *testing.B) {
	p := New(WithContext(citizenshipV4rc1, readFile(b, "citizenship-v4rc1.jsonld")))
	for _, name := range []string{"unsigned", "employmentAuth", "large"} {
		doc := readJSON(b, name+".json")
		b.Run(name+"/cached", func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Canonicalize(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/naive", func(b *testing.B) {
			for b.Loop() {
				if _, err := naive(p, doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheckTerms(b *testing.B) {
	p := New()
	doc := readJSON(b, "large.json")
	for b.Loop() {
		if err := p.CheckTerms(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCanonicalizeHealthcare canonicalizes a generated license
// credential and the proof configuration eddsa-rdfc-2022 signs with it:
// the two canonicalizations of issuing or verifying one credential.
func BenchmarkCanonicalizeHealthcare(b *testing.B) {
	p := fastProcessor(b)
	docs := healthcareCredentials(1)
	for i, name := range []string{"license", "proof-config"} {
		doc := docs[6+i]
		if typ := fmt.Sprint(doc["type"]); i == 0 && !strings.Contains(typ, "MedicalLicense") {
			b.Fatalf("doc 6 is a %s", typ)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Canonicalize(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"-json-gold", func(b *testing.B) {
			for b.Loop() {
				if _, err := plainCanonical(p, doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// publishedLoader serves the contexts of p as published.
type publishedLoader struct{ p *Processor }

func (l publishedLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	doc, ok := l.p.docs[url]
	if !ok {
		return nil, fmt.Errorf("JSON-LD context %s is not known", url)
	}
	return &ld.RemoteDocument{DocumentURL: url, Document: ld.CloneDocument(doc)}, nil
}
