// Package vctest has helpers for other packages' tests.
package vctest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
)

// KeySigner returns key's did:key DID and a signer under its verification
// method. A nil key is a fresh Ed25519 key.
func KeySigner(t testing.TB, key crypto.Signer) (string, vc.Signer) {
	t.Helper()
	if key == nil {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	d, err := did.KeyDID(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.KeyDocument(d, "", false)
	if err != nil {
		t.Fatal(err)
	}
	return d.String(), vc.Signer{Key: key, VerificationMethod: doc.VerificationMethod[0].ID}
}
