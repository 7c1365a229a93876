package trustapi

import (
	"context"
	"crypto"
	"fmt"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
)

// KeySigner is a Signer with one Ed25519 or P-256 key (an ed25519.PrivateKey,
// a *ecdsa.PrivateKey, or a key manager's crypto.Signer): its proofs have the
// kid "#" + the key's Multikey, which must be a steward of the Log.
type KeySigner struct {
	key      crypto.Signer
	multikey string
}

// NewKeySigner returns the Signer of key.
func NewKeySigner(key crypto.Signer) (*KeySigner, error) {
	mk, err := did.EncodeMultikey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("steward key: %w", err)
	}
	return &KeySigner{key: key, multikey: mk}, nil
}

// Multikey is the steward key's Multikey, as registry.WithStewards takes it.
func (k *KeySigner) Multikey() string { return k.multikey }

// Sign appends a proof by the key to op.
func (k *KeySigner) Sign(_ context.Context, op *registry.Op) error {
	return registry.AddProof(op, "#"+k.multikey, k.key.Public(), registry.SignerFunc(k.key))
}
