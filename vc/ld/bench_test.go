package ld

import (
	"testing"

	"github.com/piprate/json-gold/ld"
)

// naive canonicalizes doc the plain json-gold way: no processed-context
// cache (the context documents are still decoded once, by p).
func naive(p *Processor, doc map[string]any) ([]byte, error) {
	opts := p.options(false)
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
