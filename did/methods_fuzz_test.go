package did

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeMultikey: did:key identifiers and publicKeyMultibase values either fail
// with a key error or decode to a key that re-encodes to the same string.
func FuzzDecodeMultikey(f *testing.F) {
	for _, s := range []string{"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
		"z6LSeu9HkTHSfLLeUs2nnzUSNedgDUevfNQgQjQC23ZCit6F", "z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9",
		"z", "", "f00", "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := DecodeMultikey(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPublicKey) && !errors.Is(err, ErrUnsupportedPublicKeyType) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		again, err := EncodeMultikey(pub)
		if err != nil || again != s {
			t.Fatalf("Multikey %q re-encodes to %q (%v)", s, again, err)
		}
	})
}

// FuzzDocumentJSON: any JSON either fails to decode or Validate cleanly, and a
// document that validates survives a marshal/unmarshal round trip unchanged.
func FuzzDocumentJSON(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "did-key-spec-test-vectors-2022", "*.json"))
	for _, p := range seeds {
		b, _ := os.ReadFile(p)
		var m map[string]struct {
			DIDDocument json.RawMessage `json:"didDocument"`
		}
		_ = json.Unmarshal(b, &m)
		for _, v := range m {
			if len(v.DIDDocument) > 0 {
				f.Add([]byte(v.DIDDocument))
			}
		}
	}
	f.Add([]byte(`{"id":"did:example:1","verificationMethod":[{"id":"#k","type":"Multikey","controller":"did:example:1","publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}],"assertionMethod":["#k",{"id":"#e","type":"JsonWebKey2020","controller":"did:example:1","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"}}],"service":[{"id":"#s","type":"LinkedDomains","serviceEndpoint":"https://example.com"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc Document
		if json.Unmarshal(b, &doc) != nil || doc.Validate() != nil {
			return
		}
		for _, vm := range doc.VerificationMethod {
			_, _ = vm.PublicKey() // must not panic on any encoding
		}
		first, err := json.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		var again Document
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		second, _ := json.Marshal(&again)
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the document:\n%s\n%s", first, second)
		}
	})
}
