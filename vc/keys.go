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

// DIDKeys resolves verification methods through DID resolution, in the
// controller's current DID document and, for an assertion proof whose
// method the current document no longer authorizes, in the version in
// effect when the proof was made (see the historical resolution rules on
// PublicKey).
type DIDKeys struct{ Resolver DIDResolver }

// PublicKey implements KeyResolver. It finds vm in the current document of
// its DID, authorized for purpose. A deactivated DID has no keys, as of no
// time.
//
// When the current document does not list vm or does not authorize it for
// purpose, the purpose is assertionMethod, ctx carries the proof's signing
// time (WithSigningTime) and the current document has earlier versions (it
// has versionId and updated metadata: not did:key, did:jwk or did:web),
// PublicKey resolves the DID again with versionTime = the signing time
// (UTC, truncated to the second), as DID Core §7.1.1 and did:webvh
// verifiers do for a credential signed before a key rotation. The key is
// then accepted only if:
//
//   - the signing second is not after the change that removed the key: the
//     key is taken from the version in effect at the end of that second or,
//     when that version was made within that second, from the one before
//     it (so a key added and removed within one second is not found). That
//     version must authorize vm for purpose, must not be deactivated, and
//     its metadata must show it in effect then (updated, else created, at
//     or before it; nextUpdate, if any, after it), which refuses a method
//     that ignores versionTime. A signing time in the future finds the
//     current version, which misses again (the mechanisms attach none after
//     their clock plus skew, and refuse the proof);
//   - walking the later versions (nextVersionId, at most MaxKeyHistory of
//     them) to the current one, none is deactivated, and no version that
//     takes vm, with the same key material, out of the relationship has
//     recovered metadata (a did:credence did.recover, by which a controller
//     replaces a compromised document): a key a recovery removed is never
//     trusted as of an earlier time, even if it was removed once before by
//     an update and added back.
//
// The signing time is the signer's own claim (a Data Integrity created, a
// JWT iat): whoever holds an old key can backdate a new signature to a
// time the key was authorized. Historical resolution therefore trusts a key
// rotated out by a did.update for good, as its controller did when it
// rotated it normally; a controller who suspects a key was stolen must
// remove it with did.recover, or deactivate the DID. The ledger cannot tell
// more: it records why a version was made (the op type), not why a key
// left. A method given a new key under the same id is found in the current
// document and never looked up in history, so its old signatures fail:
// rotations must use a new fragment, as the hosted DIDs do. Historical
// resolution costs one or two versionTime resolutions and one versionId
// resolution per later version, and happens only when the current document
// misses.
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
	pub, listed, err := methodKey(doc, id, vm, purpose)
	if listed {
		return pub, err
	}
	signed, ok := SigningTime(ctx)
	if !ok || purpose != PurposeAssertion || !versioned(res.DocumentMetadata) {
		return nil, err
	}
	return k.asOf(ctx, id, vm, purpose, signed, err)
}

// methodKey returns the public key of vm if doc authorizes it for purpose.
// listed is false, with an error saying why, when doc does not list vm or
// does not authorize it; a listed method with a bad key is an error too.
func methodKey(doc *did.Document, id, vm, purpose string) (pub crypto.PublicKey, listed bool, err error) {
	m, ok := doc.Method(vm)
	if !ok {
		return nil, false, fmt.Errorf("%w: %s has no verification method %s", ErrKey, id, vm)
	}
	if !doc.Authorizes(purpose, vm) {
		return nil, false, fmt.Errorf("%w: %s is not authorized for %s", ErrKey, vm, purpose)
	}
	if pub, err = m.PublicKey(); err != nil {
		return nil, true, fmt.Errorf("%w: %s: %w", ErrKey, vm, err)
	}
	return pub, true, nil
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
