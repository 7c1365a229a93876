package ld

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
)

// fastProcessor knows the citizenship and healthcare contexts besides the
// embedded ones.
func fastProcessor(tb testing.TB) *Processor {
	return New(
		WithContext(citizenshipV4rc1, readFile(tb, "citizenship-v4rc1.jsonld")),
		WithContext(healthcare.ContextURL, healthcare.Context),
	)
}

// expandBoth expands doc with the fast expander and with json-gold (with
// the context json-gold builds, never a pre-processed one). fastErr is
// errFallback when the document leaves the fast expander's subset.
func expandBoth(p *Processor, doc map[string]any) (fast, plain []any, fastErr, plainErr error) {
	in, _, err := prepare(doc)
	if err != nil {
		return nil, nil, err, err
	}
	local, ok := in["@context"]
	if !ok {
		return nil, nil, errFallback, nil
	}
	f, err := p.activeContext(local, nil, true)
	if err != nil {
		return nil, nil, err, err
	}
	if f.root == nil {
		fastErr = errFallback
	} else {
		fast, fastErr = expandFast(f.root, in)
	}
	in = maps.Clone(in)
	in["@context"] = fresh(f.plain)
	out, plainErr := guard(func(in map[string]any, o *ld.JsonLdOptions) (any, error) {
		return ld.NewJsonLdProcessor().Expand(in, o)
	}, in, p.options(true))
	plain, _ = out.([]any)
	return fast, plain, fastErr, plainErr
}

// checkFast fails unless the fast expander either falls back or gives
// json-gold's expansion, and (if canon) Canonicalize gives json-gold's
// N-Quads. It reports whether the fast expander took doc.
func checkFast(t *testing.T, p *Processor, name string, doc map[string]any, canon bool) bool {
	t.Helper()
	fast, plain, fastErr, plainErr := expandBoth(p, doc)
	if testing.Verbose() && fastErr != nil {
		t.Logf("%s: %v", name, fastErr)
	}
	if fastErr != nil {
		if !errors.Is(fastErr, errFallback) && plainErr == nil {
			t.Errorf("%s: fast expander fails (%v) where json-gold does not", name, fastErr)
		}
		return false
	}
	if plainErr != nil {
		t.Errorf("%s: fast expander succeeds where json-gold fails: %v", name, plainErr)
		return true
	}
	if !reflect.DeepEqual(fast, plain) {
		t.Errorf("%s: expansions differ\nfast:  %v\nplain: %v", name, fast, plain)
		return true
	}
	if !canon {
		checkEmit(t, name, fast, plain)
		return true
	}
	got, err := p.Canonicalize(doc)
	want, werr := plainCanonical(p, doc)
	if (err == nil) != (werr == nil) || string(got) != string(want) {
		t.Errorf("%s: Canonicalize = %v\n%s\njson-gold = %v\n%s", name, err, got, werr, want)
	}
	return true
}

// checkEmit fails unless the quads the emitter makes of the expansion
// fast canonicalize as toRDF's of plain (an equal expansion) do, or the two
// both fail.
func checkEmit(t *testing.T, name string, fast, plain []any) {
	t.Helper()
	quads, err := quadsOf(fast)
	if errors.Is(err, errFallback) {
		return
	}
	var got []byte
	if err == nil {
		got, err = canonicalQuads(quads)
	}
	ds, werr := toRDF(plain)
	var want []byte
	if werr == nil {
		want, werr = canonicalize(ds)
	}
	if (err == nil) != (werr == nil) || string(got) != string(want) {
		t.Errorf("%s: emitted quads give %v\n%s\ntoRDF gives %v\n%s", name, err, got, werr, want)
	}
}

// corpus returns the test documents of vc/ld and vc/di, the documents and
// proof configurations their proofs sign, and the healthcare examples.
func corpus(tb testing.TB) map[string]map[string]any {
	docs := map[string]map[string]any{}
	var files []string
	for _, pattern := range []string{"testdata/*.json", "testdata/equivalence/*.json", "testdata/fast/*.json", "../di/testdata/*.json", "../di/testdata/*/*.json", "../di/testdata/*/*/*.json", "../healthcare/testdata/examples/*.json"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		var doc map[string]any
		if json.Unmarshal(b, &doc) != nil {
			continue // key pairs and the like
		}
		if strings.Contains(file, "healthcare") {
			doc["@context"] = []any{CredentialsV2, healthcare.ContextURL}
		}
		docs[file] = doc
		for name, d := range signed(doc) {
			docs[file+"#"+name] = d
		}
	}
	return docs
}

// signed returns, for a document with proofs, the unsecured document and
// the proof configuration of each proof (as the RDF suites canonicalize
// them).
func signed(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	var proofs []any
	switch p := doc["proof"].(type) {
	case map[string]any:
		proofs = []any{p}
	case []any:
		proofs = p
	default:
		return out
	}
	unsecured := maps.Clone(doc)
	delete(unsecured, "proof")
	out["unsecured"] = unsecured
	for i, p := range proofs {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		config := maps.Clone(m)
		delete(config, "proofValue")
		if _, ok := config["@context"]; !ok {
			config["@context"] = doc["@context"]
		}
		out[fmt.Sprintf("config%d", i)] = config
	}
	return out
}

// healthcareCredentials returns n generated credentials of each healthcare
// type, completed as the issuer completes them (status entry, schema), and
// the proof configuration Sign canonicalizes for each.
func healthcareCredentials(n int) []map[string]any {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	g := synth.New(11, synth.WithNow(now))
	var out []map[string]any
	for i := range n {
		p := g.Provider()
		subjects := map[string]map[string]any{
			"MedicalLicenseCredential":     p.LicenseSubject("TX"),
			"BoardCertificationCredential": p.BoardCertificationSubject(),
			"HospitalPrivilegeCredential":  p.PrivilegeSubject(g.Facility("TX")),
			"PatientIdentityCredential":    g.Patient().IdentitySubject(),
		}
		if s := p.DEASubject("TX"); s != nil {
			subjects["DEARegistrationCredential"] = s
		}
		for _, typ := range slices.Sorted(maps.Keys(subjects)) {
			c := map[string]any{
				"@context":          []any{CredentialsV2, healthcare.ContextURL},
				"id":                fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
				"type":              []any{"VerifiableCredential", typ},
				"issuer":            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
				"validFrom":         "2025-01-01T00:00:00Z",
				"credentialSubject": subjects[typ],
			}
			if i%2 == 0 {
				c["credentialStatus"] = map[string]any{
					"id":                   fmt.Sprintf("https://example.org/status/1#%d", i),
					"type":                 "BitstringStatusListEntry",
					"statusPurpose":        "revocation",
					"statusListIndex":      fmt.Sprint(i),
					"statusListCredential": "https://example.org/status/1",
				}
			}
			if i%3 == 0 {
				c["credentialSchema"] = map[string]any{"id": "https://example.org/schemas/" + typ + ".json", "type": "JsonSchema"}
			}
			out = append(out, c, proofConfig(c, i))
		}
	}
	return out
}

// proofConfig is a proof configuration of eddsa-rdfc-2022 for doc, with
// the optional members chosen by i.
func proofConfig(doc map[string]any, i int) map[string]any {
	c := map[string]any{
		"@context":           doc["@context"],
		"type":               "DataIntegrityProof",
		"cryptosuite":        "eddsa-rdfc-2022",
		"created":            "2025-06-01T00:00:00Z",
		"verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
		"proofPurpose":       []string{"assertionMethod", "authentication", "capabilityInvocation"}[i%3],
	}
	if i%2 == 1 {
		c["expires"] = "2030-01-01T00:00:00Z"
		c["challenge"] = fmt.Sprintf("challenge-%d", i)
		c["domain"] = "https://example.org"
	}
	if i%4 == 3 {
		c["id"] = fmt.Sprintf("urn:uuid:proof-%d", i)
		c["previousProof"] = "urn:uuid:proof-0"
		c["nonce"] = "n"
	}
	return c
}

// TestFastExpansion: on every test document, generated healthcare
// credentials and their proof configurations, the fast expander gives
// json-gold's expansion or falls back; it takes the documents Credence signs.
func TestFastExpansion(t *testing.T) {
	p := fastProcessor(t)
	docs := corpus(t)
	taken := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		taken[name] = checkFast(t, p, name, docs[name], true)
	}
	for i, doc := range healthcareCredentials(40) {
		if !checkFast(t, p, fmt.Sprint("healthcare ", i), doc, true) {
			t.Errorf("healthcare %d: not on the fast path", i)
		}
	}
	for _, name := range []string{
		"testdata/unsigned.json", "testdata/large.json", "testdata/employmentAuth.json",
		"testdata/equivalence/did-document.json", "testdata/equivalence/status-list-2021.json",
		"../di/testdata/eddsa-rdfc-2022/signedDataInt.json#unsecured",
		"../di/testdata/eddsa-rdfc-2022/signedDataInt.json#config0",
		"../di/testdata/eddsa-rdfc-2022/proofConfigDataInt.json",
		"../di/testdata/proof-set-chain/signedProofSet1.json#config0",
		"../healthcare/testdata/examples/medical-license.vc.json",
		"testdata/fast/vocab-base.json", "testdata/fast/language.json", "testdata/fast/lists.json",
		"testdata/fast/scoped.json", "testdata/fast/protected.json", "testdata/fast/misc-fast.json",
	} {
		if _, ok := docs[name]; !ok {
			t.Errorf("%s: not in the corpus", name)
		} else if !taken[name] {
			t.Errorf("%s: not on the fast path", name)
		}
	}
	var names []string
	for name, ok := range taken {
		if !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	t.Logf("json-gold expands %d of %d corpus documents: %s", len(names), len(docs), strings.Join(names, ", "))
}

// TestFastExpansionVariants mutates the members of credentials one at a
// time: values become IRIs, compact IRIs, relative references, blank
// nodes, terms, keywords, numbers, objects, lists and null; keys become
// other terms, keywords, compact and absolute IRIs. Every variant the fast
// expander takes must expand as json-gold expands it, and its quads
// canonicalize as toRDF's do. Every third variant (every eleventh with
// -short or -race); FuzzFastExpansionMutations combines them.
func TestFastExpansionVariants(t *testing.T) {
	p := fastProcessor(t)
	bases := variantBases(t)
	stride := 3
	if testing.Short() || raceEnabled {
		stride = 11
	}
	n, fast := 0, 0
	for bi, base := range bases {
		for i, v := range variants(base) {
			if i%stride != 0 {
				continue
			}
			n++
			if checkFast(t, p, fmt.Sprintf("base %d, %s", bi, v.name), v.doc, false) {
				fast++
			}
		}
	}
	t.Logf("%d variants, %d on the fast path", n, fast)
	if fast < n/4 {
		t.Errorf("only %d of %d variants on the fast path", fast, n)
	}
}

// variantBases are the documents TestFastExpansionVariants and
// FuzzFastExpansionMutations change: one credential of each healthcare type
// with its proof configuration, documents with inline contexts that
// exercise @vocab, @base, languages, lists, scoped and protected contexts,
// and a presentation of two credentials, one with a proof.
func variantBases(tb testing.TB) []map[string]any {
	bases := healthcareCredentials(1)
	bases = append(bases, readJSON(tb, "equivalence/values.json"), readJSON(tb, "equivalence/nested-typed.json"),
		readJSON(tb, "jsonld-js/vp-two.json")) // graph containers, null-scoped and not
	files, _ := filepath.Glob("testdata/fast/*.json")
	for _, f := range files {
		bases = append(bases, readJSON(tb, strings.TrimPrefix(f, "testdata/")))
	}
	return bases
}

type variant struct {
	name string
	doc  map[string]any
}

var (
	replacementValues = []any{
		"https://example.org/x", "did:example:123", "urn:uuid:1", "relative/path", "#frag", "",
		"schema:name", "xsd:date", "cred:issuer", "sec:proof", "ex:thing", "_:b0", "_:c14n0",
		"VerifiableCredential", "name", "id", "type", "@id", "@type", "@vocab", "@nonsense",
		"assertionMethod", "MedicalLicenseCredential", "http://a b", "mailto:x@example.org",
		0.0, -1.0, 1.5, 1e300, true, false, nil,
		[]any{}, []any{"a", 1.0}, []any{[]any{"nested"}}, []any{nil},
		map[string]any{}, map[string]any{"id": "did:example:n"}, map[string]any{"id": "_:x"},
		map[string]any{"@value": "v", "@language": "en"}, map[string]any{"@list": []any{"l"}},
		map[string]any{"type": "VerifiableCredential", "name": "x"}, map[string]any{"type": []any{"DataIntegrityProof"}, "proofPurpose": "assertionMethod"},
		map[string]any{"@context": map[string]any{"x": "https://example.org/x"}, "x": "y"},
		map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
		map[string]any{"name": "n", "undefinedTerm": "x"},
	}
	replacementKeys = []string{
		"id", "type", "@id", "@type", "@value", "@graph", "@included", "@nest", "@reverse", "@index", "@language",
		"name", "description", "proof", "credentialSubject", "issuer", "given", "https://example.org/p",
		"schema:name", "ex:p", "_:p", "", "undefinedTerm", "@context", "jsonSchema",
	}
)

// variants returns the documents made from doc by changing one value or
// one key.
func variants(doc map[string]any) []variant {
	var out []variant
	var walk func(path string, v any, set func(any) map[string]any)
	walk = func(path string, v any, set func(any) map[string]any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				kpath := path + "/" + k
				child := x[k]
				walk(kpath, child, func(nv any) map[string]any {
					c := maps.Clone(x)
					c[k] = nv
					return set(c)
				})
				if k == "@context" {
					continue
				}
				for _, nk := range replacementKeys {
					if _, exists := x[nk]; exists {
						continue
					}
					c := maps.Clone(x)
					delete(c, k)
					c[nk] = child
					out = append(out, variant{kpath + " renamed " + nk, set(c)})
				}
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s/%d", path, i), e, func(nv any) map[string]any {
					c := slices.Clone(x)
					c[i] = nv
					return set(c)
				})
			}
		}
		if strings.Contains(path, "@context") {
			return
		}
		for _, r := range replacementValues {
			out = append(out, variant{fmt.Sprintf("%s = %v", path, r), set(r)})
		}
	}
	walk("", doc, func(nv any) map[string]any {
		m, _ := nv.(map[string]any)
		return m
	})
	var kept []variant
	for _, v := range out {
		if v.doc != nil {
			kept = append(kept, v)
		}
	}
	return kept
}

// TestFastExpansionConcurrent: cold caches built by concurrent documents
// give the same bytes.
func TestFastExpansionConcurrent(t *testing.T) {
	docs := healthcareCredentials(4)
	p := fastProcessor(t)
	want := make([]string, len(docs))
	for i, d := range docs {
		b, err := plainCanonical(p, d)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = string(b)
	}
	p = fastProcessor(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for j := range docs {
				i := (w + j) % len(docs)
				got, err := p.Canonicalize(docs[i])
				if err != nil || string(got) != want[i] {
					t.Errorf("doc %d: %v\n%s\nwant\n%s", i, err, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// TestFastExpansionBounded: past maxFrames active contexts, documents take
// json-gold's path and still canonicalize the same.
func TestFastExpansionBounded(t *testing.T) {
	p := fastProcessor(t)
	for i := range maxFrames + 10 {
		doc := map[string]any{
			"@context": []any{CredentialsV2, map[string]any{
				fmt.Sprintf("T%d", i): map[string]any{"@id": fmt.Sprintf("https://example.org/T%d", i), "@context": map[string]any{"p": "https://example.org/p"}},
			}},
			"type": fmt.Sprintf("T%d", i),
			"p":    "x",
		}
		got, err := p.Canonicalize(doc)
		want, werr := plainCanonical(p, doc)
		if err != nil || werr != nil || string(got) != string(want) {
			t.Fatalf("%d: %v %v\n%s\nwant\n%s", i, err, werr, got, want)
		}
	}
	if n := p.frames.n.Load(); n > maxFrames {
		t.Errorf("%d frames, bound %d", n, maxFrames)
	}
}

// FuzzFastExpansion: on arbitrary JSON, the fast expander falls back or
// gives json-gold's expansion (and Canonicalize json-gold's N-Quads).
func FuzzFastExpansion(f *testing.F) {
	addSeeds(f)
	for _, d := range healthcareCredentials(1) {
		b, _ := json.Marshal(d)
		f.Add(b)
	}
	p := fastProcessor(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		checkFast(t, p, "fuzz", doc, true)
	})
}

// raceEnabled is set by race_test.go under -race.
var raceEnabled bool

// FuzzFastExpansionMutations: credentials changed by a sequence of
// mutations the fuzzer picks (a value replaced, a key renamed, from the
// sets of TestFastExpansionVariants) expand as json-gold expands them and
// canonicalize as json-gold's expansion does, whenever the fast expander
// takes them.
func FuzzFastExpansionMutations(f *testing.F) {
	bases := variantBases(f)
	f.Add(uint8(0), []byte{0, 1, 2})
	f.Add(uint8(7), []byte{1, 5, 9, 0, 3, 4})
	f.Add(uint8(11), []byte{0, 40, 17, 1, 3, 2, 0, 9, 9})
	p := fastProcessor(f)
	f.Fuzz(func(t *testing.T, base uint8, ops []byte) {
		doc := cloneJSON(bases[int(base)%len(bases)]).(map[string]any)
		for len(ops) >= 3 {
			doc = mutate(doc, ops[0], int(ops[1]), int(ops[2]))
			ops = ops[3:]
		}
		checkFast(t, p, "mutated", doc, true)
	})
}

// mutate replaces the value at the target-th place of doc (op even) or
// renames the key there (op odd), with the with-th replacement.
func mutate(doc map[string]any, op byte, target, with int) map[string]any {
	type place struct {
		parent any
		key    string
		index  int
	}
	var places []place
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				if k == "@context" {
					continue
				}
				places = append(places, place{x, k, 0})
				walk(x[k])
			}
		case []any:
			for i, e := range x {
				places = append(places, place{x, "", i})
				walk(e)
			}
		}
	}
	walk(doc)
	if len(places) == 0 {
		return doc
	}
	pl := places[target%len(places)]
	switch parent := pl.parent.(type) {
	case map[string]any:
		if op%2 == 1 {
			nk := replacementKeys[with%len(replacementKeys)]
			if _, exists := parent[nk]; !exists {
				parent[nk] = parent[pl.key]
				delete(parent, pl.key)
			}
			return doc
		}
		parent[pl.key] = cloneJSON(replacementValues[with%len(replacementValues)])
	case []any:
		parent[pl.index] = cloneJSON(replacementValues[with%len(replacementValues)])
	}
	return doc
}

func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = cloneJSON(e)
		}
		return l
	}
	return v
}
