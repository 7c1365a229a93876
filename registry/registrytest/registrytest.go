// Package registrytest makes ledgers for other packages' tests.
package registrytest

import (
	"crypto/ed25519"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

// NewLog returns a ledger on bbolt in t's temporary directory, with a
// fresh checkpoint key, closed when t ends.
func NewLog(t testing.TB, opts ...registry.LogOption) *registry.Log {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := merkle.NewSigner("credence.test/log", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := merkle.VerifierKey("credence.test/log", pub)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return registry.NewLog(st, signer, verifier, opts...)
}
