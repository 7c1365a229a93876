package di

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"reflect"
	"strings"
	"testing"
)

// vector is one folder of the W3C vc-di-eddsa test vectors: every
// intermediate value of signing one document.
type vector struct {
	name     string
	suite    Suite
	dir      string // under testdata/
	tag      string // file name suffix: DataInt, JCS, EdSig
	unsigned string // the document before signing
}

var vectors = []vector{
	{"eddsa-rdfc-2022", EdDSARDFC2022, "eddsa-rdfc-2022", "DataInt", "unsigned.json"},
	{"eddsa-rdfc-2022/employ", EdDSARDFC2022, "eddsa-rdfc-2022/employ", "DataInt", "employmentAuth.json"},
	{"eddsa-jcs-2022", EdDSAJCS2022, "eddsa-jcs-2022", "JCS", "unsigned.json"},
	{"Ed25519Signature2020", Ed25519Signature2020, "Ed25519Signature2020", "EdSig", "unsigned.json"},
}

func forEachVector(t *testing.T, f func(t *testing.T, v vector)) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) { f(t, v) })
	}
}

func (v vector) file(t *testing.T, kind, ext string) []byte {
	return readFile(t, path.Join(v.dir, kind+v.tag+ext))
}

func (v vector) text(t *testing.T, kind string) string {
	return strings.TrimSpace(string(v.file(t, kind, ".txt")))
}

// TestVectorIntermediates reproduces every intermediate value, byte for byte.
func TestVectorIntermediates(t *testing.T) {
	e := testEngine(t)
	forEachVector(t, func(t *testing.T, v vector) {
		signed := decode(t, v.file(t, "signed", ".json"))
		all, _ := proofs(signed)
		proof := all[0]
		input, err := unsecured(signed, all, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := proof["@context"]; ok && v.suite == EdDSAJCS2022 {
			input["@context"] = c
		}
		canonDoc, err := e.canonical(v.suite, input)
		if err != nil {
			t.Fatal(err)
		}
		config := proofConfig(v.suite, input, proof)
		if want := decode(t, v.file(t, "proofConfig", ".json")); !reflect.DeepEqual(config, want) {
			t.Errorf("proof config\ngot  %v\nwant %v", config, want)
		}
		canonConfig, err := e.canonical(v.suite, config)
		if err != nil {
			t.Fatal(err)
		}
		hash, err := e.hashData(v.suite, input, config)
		if err != nil {
			t.Fatal(err)
		}
		docHash, configHash := sha256.Sum256(canonDoc), sha256.Sum256(canonConfig)
		sig, err := decodeProofValue(proof["proofValue"])
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct{ what, got, want string }{
			{"canonical document", string(canonDoc), string(v.file(t, "canonDoc", ".txt"))},
			{"document hash", hex.EncodeToString(docHash[:]), v.text(t, "docHash")},
			{"canonical proof config", string(canonConfig), string(v.file(t, "proofCanon", ".txt"))},
			{"proof config hash", hex.EncodeToString(configHash[:]), v.text(t, "proofHash")},
			{"combined hash", hex.EncodeToString(hash), v.text(t, "combinedHash")},
			{"signature", hex.EncodeToString(sig), v.text(t, "sigHex")},
			{"proofValue", proof["proofValue"].(string), v.text(t, "sigBTC58")},
		}
		for _, tt := range tests {
			if tt.got != tt.want {
				t.Errorf("%s:\ngot  %q\nwant %q", tt.what, tt.got, tt.want)
			}
		}
	})
}

// TestVectorSign signs the unsigned document and gets the signed vector.
func TestVectorSign(t *testing.T) {
	e := testEngine(t)
	signer, _ := vectorKey(t)
	forEachVector(t, func(t *testing.T, v vector) {
		got, err := e.Sign(bg, readJSON(t, v.unsigned), signer, Options{Suite: v.suite, Created: vectorTime})
		if err != nil {
			t.Fatal(err)
		}
		if want := decode(t, v.file(t, "signed", ".json")); !reflect.DeepEqual(got, want) {
			t.Errorf("got  %v\nwant %v", got, want)
		}
	})
}

func TestVectorVerify(t *testing.T) {
	e := testEngine(t)
	_, keys := vectorKey(t)
	forEachVector(t, func(t *testing.T, v vector) {
		res, err := e.Verify(bg, decode(t, v.file(t, "signed", ".json")), keys, verifyAt)
		if err != nil {
			t.Fatal(err)
		}
		want := []ProofResult{{Suite: v.suite, VerificationMethod: vectorVM, Purpose: "assertionMethod", Created: vectorTime}}
		if !reflect.DeepEqual(res.Proofs, want) {
			t.Errorf("got %+v, want %+v", res.Proofs, want)
		}
	})
}
