package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// maxJWKBytes bounds the decoded JWK of a did:jwk.
const maxJWKBytes = 2048

// JWKMethod resolves did:jwk DIDs (the did:jwk method specification): the identifier
// is the base64url-encoded public JWK; nothing is fetched.
type JWKMethod struct{}

// Resolve expands a did:jwk into its document.
func (JWKMethod) Resolve(_ context.Context, d DID, opts Options) (*Resolution, error) {
	if opts.VersionID != "" || opts.VersionTime != "" {
		return nil, fmt.Errorf("%w: did:jwk has no versions", ErrInvalidOptions)
	}
	doc, err := JWKDocument(d)
	if err != nil {
		return nil, err
	}
	return &Resolution{Document: doc, Metadata: ResolutionMetadata{ContentType: MediaDIDLDJSON}}, nil
}

// JWKDID returns the did:jwk of a public key. The JWK members are serialized in
// lexicographic order (crv, kty, x, y), as the method's examples are.
func JWKDID(pub crypto.PublicKey) (DID, error) {
	j, err := NewJWK(pub)
	if err != nil {
		return DID{}, err
	}
	m := map[string]string{"kty": j.Kty, "crv": j.Crv, "x": j.X}
	if j.Y != "" {
		m["y"] = j.Y
	}
	b, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		return DID{}, err
	}
	return DID{Method: "jwk", ID: base64.RawURLEncoding.EncodeToString(b)}, nil
}

// JWKDocument builds the document of a did:jwk. Signing keys get the four signing
// relationships, X25519 keys and JWKs with "use":"enc" only keyAgreement, EC keys
// without "use" both.
func JWKDocument(d DID) (*Document, error) {
	if d.Method != "jwk" {
		return nil, fmt.Errorf("%w: not a did:jwk: %s", ErrInvalidDID, d)
	}
	if base64.RawURLEncoding.DecodedLen(len(d.ID)) > maxJWKBytes {
		return nil, fmt.Errorf("%w: did:jwk JWK exceeds %d bytes", ErrInvalidDID, maxJWKBytes)
	}
	b, err := base64.RawURLEncoding.DecodeString(d.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk id is not base64url: %w", ErrInvalidDID, err)
	}
	j, pub, err := ParseJWK(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidDID, err)
	}
	vm := VerificationMethod{ID: d.String() + "#0", Type: TypeJSONWebKey2020, Controller: d.String(), PublicKeyJwk: j}
	ref := []Relationship{{Ref: vm.ID}}
	doc := &Document{Context: Context{ContextDIDv1, ContextJWS2020}, ID: d.String(), VerificationMethod: []VerificationMethod{vm}}
	_, isX := pub.(*ecdh.PublicKey)
	_, isEd := pub.(ed25519.PublicKey)
	if !isX && j.Use != "enc" {
		doc.AssertionMethod, doc.Authentication, doc.CapabilityInvocation, doc.CapabilityDelegation = ref, ref, ref, ref
	}
	if !isEd && j.Use != "sig" {
		doc.KeyAgreement = ref
	}
	return doc, nil
}
