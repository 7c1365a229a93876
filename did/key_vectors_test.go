package did

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// vectorDoc is the part of a did:key vector the test needs, with the document kept
// as raw bytes so member order is compared too.
type vectorDoc struct {
	DIDDocument json.RawMessage `json:"didDocument"`
}

func loadKeyVectors(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "did-key-spec-test-vectors-2022", file))
	if err != nil {
		t.Fatal(err)
	}
	var wrapped struct {
		DIDDocument map[string]json.RawMessage `json:"didDocument"`
	}
	if json.Unmarshal(b, &wrapped) == nil && len(wrapped.DIDDocument) > 0 {
		return wrapped.DIDDocument // x25519.json lists bare documents
	}
	var entries map[string]vectorDoc
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for d, e := range entries {
		out[d] = e.DIDDocument
	}
	return out
}

// vectorOptions infers the resolution options a vector was produced with from its
// first verification method's type and whether it lists key agreement.
func vectorOptions(t *testing.T, raw json.RawMessage) Options {
	t.Helper()
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	format := doc.VerificationMethod[0].Type
	if format == TypeX25519v2019 {
		format = FormatEd25519v2018
	}
	return Options{PublicKeyFormat: format, EnableEncryptionKeyDerivation: len(doc.KeyAgreement) > 0}
}

func TestKeyVectors(t *testing.T) {
	total := 0
	for _, file := range []string{"ed25519-x25519.json", "nist-curves.json", "x25519.json"} {
		for id, raw := range loadKeyVectors(t, file) {
			total++
			t.Run(file+"/"+id, func(t *testing.T) {
				res, err := KeyMethod{}.Resolve(context.Background(), MustParse(id), vectorOptions(t, raw))
				if err != nil {
					t.Fatalf("resolve: %v", err)
				}
				got, err := json.Marshal(res.Document)
				if err != nil {
					t.Fatal(err)
				}
				var want bytes.Buffer
				if err := json.Compact(&want, raw); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want.Bytes()) {
					t.Errorf("document differs\n got: %s\nwant: %s", got, want.Bytes())
				}
			})
		}
	}
	if total < 16 {
		t.Fatalf("only %d vectors loaded", total)
	}
}
