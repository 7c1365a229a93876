package di

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mr-tron/base58"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/ld"
)

// citizenshipV4rc1 is the context of the employment vector; the tests
// register it from testdata/citizenship-v4rc1.jsonld.
const citizenshipV4rc1 = "https://w3id.org/citizenship/v4rc1"

// vectorVM is the verification method of the vectors' key pair.
const vectorVM = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"

var bg = context.Background()

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func readJSON(tb testing.TB, name string) map[string]any {
	tb.Helper()
	return decode(tb, readFile(tb, name))
}

func decode(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

func testEngine(tb testing.TB) *Engine {
	return New(ld.New(ld.WithContext(citizenshipV4rc1, readFile(tb, "citizenship-v4rc1.jsonld"))))
}

// multikey decodes a multibase base58btc multikey and strips its 2-byte
// multicodec prefix (0xed01 Ed25519 public, 0x8026 Ed25519 private).
func multikey(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base58.Decode(s[1:])
	if err != nil || len(b) != 34 {
		tb.Fatalf("bad multikey %s", s)
	}
	return b[2:]
}

// keyPair reads a {publicKeyMultibase, privateKeyMultibase} object.
func keyPair(tb testing.TB, m map[string]any) ed25519.PrivateKey {
	tb.Helper()
	priv := ed25519.NewKeyFromSeed(multikey(tb, m["privateKeyMultibase"].(string)))
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), multikey(tb, m["publicKeyMultibase"].(string))) {
		tb.Fatal("key pair does not match")
	}
	return priv
}

// vectorKey is the vectors' key pair (testdata/keyPair.json).
func vectorKey(tb testing.TB) (vc.Signer, vc.StaticKeys) {
	priv := keyPair(tb, readJSON(tb, "keyPair.json"))
	return vc.Signer{Key: priv, VerificationMethod: vectorVM}, vc.StaticKeys{vectorVM: priv.Public()}
}

// vectorTime is the created time of the vectors' proofs.
var vectorTime = time.Date(2023, 2, 24, 23, 36, 38, 0, time.UTC)

// verifyAt is a time at which the vectors' proofs are valid.
var verifyAt = VerifyOptions{Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}

// multikeyString encodes the public key of priv as a multibase multikey.
func multikeyString(priv ed25519.PrivateKey) string {
	return "z" + base58.Encode(append([]byte{0xed, 0x01}, priv.Public().(ed25519.PublicKey)...))
}
