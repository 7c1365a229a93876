package di

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc/ld"
)

// The benchmarks measure a typical credential (the W3C vector, 8 quads)
// and a larger one (testdata/large.json: nested subject, status, ~25
// properties, 40 quads), next to raw Ed25519 on 64 bytes (the size of the
// hash data a proof signs) so that the ratios show the cost of the rest.
//
//	go test -run '^$' -bench . -benchmem ./vc/di

var benchDocs = []string{"unsigned.json", "large.json"}

func BenchmarkSign(b *testing.B) {
	e := testEngine(b)
	signer, _ := vectorKey(b)
	msg := make([]byte, 64)
	priv := signer.Key.(ed25519.PrivateKey)
	b.Run("ed25519-raw-64B", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(priv, msg)
		}
	})
	for _, name := range benchDocs {
		doc := readJSON(b, name)
		for _, s := range suites {
			b.Run(string(s)+"/"+name, func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Sign(bg, doc, signer, Options{Suite: s, Created: vectorTime}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	e := testEngine(b)
	signer, keys := vectorKey(b)
	msg := make([]byte, 64)
	priv := signer.Key.(ed25519.PrivateKey)
	sig := ed25519.Sign(priv, msg)
	pub := priv.Public().(ed25519.PublicKey)
	b.Run("ed25519-raw-64B", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("does not verify")
			}
		}
	})
	for _, name := range benchDocs {
		for _, s := range suites {
			signed, err := e.Sign(bg, readJSON(b, name), signer, Options{Suite: s, Created: vectorTime})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(string(s)+"/"+name, func(b *testing.B) {
				for b.Loop() {
					if _, err := e.Verify(bg, signed, keys, verifyAt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCanonicalize: RDFC-1.0 of one document through vc/ld (cached
// processed contexts) and through plain json-gold (contexts preloaded, so
// only the processing differs).
func BenchmarkCanonicalize(b *testing.B) {
	p := ld.New()
	naive := jsonld.NewCachingDocumentLoader(nil)
	for url, raw := range ld.Contexts() {
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			b.Fatal(err)
		}
		naive.AddDocument(url, doc)
	}
	opts := jsonld.NewJsonLdOptions("")
	opts.DocumentLoader = naive
	opts.Algorithm = jsonld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	for _, name := range benchDocs {
		doc := readJSON(b, name)
		b.Run(name+"/cached", func(b *testing.B) {
			for b.Loop() {
				if _, err := p.Canonicalize(doc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/json-gold", func(b *testing.B) {
			for b.Loop() {
				if _, err := jsonld.NewJsonLdProcessor().Normalize(doc, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
