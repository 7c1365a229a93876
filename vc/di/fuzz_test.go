package di

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// signedSeeds are the signed vectors: FuzzVerify's seeds.
var signedSeeds = []string{
	"eddsa-rdfc-2022/signedDataInt.json",
	"eddsa-rdfc-2022/employ/signedDataInt.json",
	"eddsa-jcs-2022/signedJCS.json",
	"Ed25519Signature2020/signedEdSig.json",
	"proof-set-chain/signedProofSet2.json",
	"proof-set-chain/signedProofChain2.json",
}

// FuzzVerify: arbitrary JSON never panics Verify, and a document verifies
// only if what its proofs secure is what a seed's proofs secure: the same
// canonical document, under the same suite.
func FuzzVerify(f *testing.F) {
	e := testEngine(f)
	_, keys := vectorKey(f)
	for vm, k := range chainKeys(f) {
		keys[vm] = k
	}
	secured := map[string]bool{} // suite + canonical unsecured document
	for _, name := range signedSeeds {
		b := readFile(f, filepath.FromSlash(name))
		f.Add(b)
		doc := decode(f, b)
		for _, s := range suites {
			if c, err := e.securedBytes(s, doc); err == nil {
				secured[string(s)+"\n"+string(c)] = true
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		res, err := e.Verify(bg, doc, keys, verifyAt)
		if err != nil {
			return
		}
		for _, p := range res.Proofs {
			c, err := e.securedBytes(p.Suite, doc)
			if err != nil || !secured[string(p.Suite)+"\n"+string(c)] {
				t.Fatalf("a changed document verified: %s", data)
			}
		}
	})
}

// securedBytes canonicalizes doc without its proofs as suite s does.
func (e *Engine) securedBytes(s Suite, doc map[string]any) ([]byte, error) {
	input, err := unsecured(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	return e.canonical(s, input)
}
