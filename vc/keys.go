package vc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"

	"github.com/credence/credence/did"
)

// Proof purposes (verification relationships of DID Core).
const (
	PurposeAssertion      = "assertionMethod"
	PurposeAuthentication = "authentication"
)

// Signer is a private key and the verification method (an absolute DID URL)
// under which verifiers find its public key. Key.Sign follows crypto.Signer:
// Ed25519 signs the message itself (opts crypto.Hash(0)); ECDSA signs a
// digest and returns ASN.1 DER, which mechanisms convert as their format
// requires.
type Signer struct {
	Key                crypto.Signer
	VerificationMethod string
}

// Algorithm names the signature algorithm of s: "EdDSA" (Ed25519) or
// "ES256" (P-256), the JOSE names, or an ErrUnsupported error.
func (s Signer) Algorithm() (string, error) {
	if s.Key == nil {
		return "", fmt.Errorf("%w: signer has no key", ErrUnsupported)
	}
	return KeyAlgorithm(s.Key.Public())
}

// KeyAlgorithm names the JOSE algorithm of a public key: "EdDSA" for
// Ed25519, "ES256" for P-256.
func KeyAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "EdDSA", nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return "ES256", nil
		}
	}
	return "", fmt.Errorf("%w: key type %T", ErrUnsupported, pub)
}

// KeyResolver finds the public key of a verification method. Implementations
// must check that the controller's DID document authorizes the method for
// purpose and wrap ErrKey on every failure.
type KeyResolver interface {
	PublicKey(ctx context.Context, verificationMethod, purpose string) (crypto.PublicKey, error)
}

// DIDResolver is what DIDKeys needs from did.Resolver.
type DIDResolver interface {
	Resolve(ctx context.Context, did string, opts did.Options) (*did.Resolution, error)
}

// DIDKeys resolves verification methods through DID resolution.
type DIDKeys struct{ Resolver DIDResolver }

// PublicKey implements KeyResolver.
func (k DIDKeys) PublicKey(ctx context.Context, vm, purpose string) (crypto.PublicKey, error) {
	u, err := did.ParseURL(vm)
	if err != nil || u.Fragment == "" {
		return nil, fmt.Errorf("%w: verification method %q is not a DID URL with a fragment", ErrKey, vm)
	}
	id := u.DID.String()
	res, err := k.Resolver.Resolve(ctx, id, did.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w: resolving %s: %w", ErrKey, id, err)
	}
	doc := res.Document
	if doc == nil || res.DocumentMetadata.Deactivated {
		return nil, fmt.Errorf("%w: %s is deactivated", ErrKey, id)
	}
	m, ok := doc.Method(vm)
	if !ok {
		return nil, fmt.Errorf("%w: %s has no verification method %s", ErrKey, id, vm)
	}
	if !doc.Authorizes(purpose, vm) {
		return nil, fmt.Errorf("%w: %s is not authorized for %s", ErrKey, vm, purpose)
	}
	pub, err := m.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKey, vm, err)
	}
	return pub, nil
}

// StaticKeys maps verification method ids to public keys, for tests and
// offline verification against known keys. Purposes are not checked.
type StaticKeys map[string]crypto.PublicKey

// PublicKey implements KeyResolver.
func (s StaticKeys) PublicKey(_ context.Context, vm, _ string) (crypto.PublicKey, error) {
	if k, ok := s[vm]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: unknown verification method %s", ErrKey, vm)
}
