package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Algorithm names a signing algorithm.
type Algorithm string

// Supported algorithms.
const (
	// Ed25519 is pure Ed25519 (RFC 8032), JOSE "EdDSA".
	Ed25519 Algorithm = "Ed25519"
	// P256 is ECDSA on NIST P-256 with SHA-256, JOSE "ES256".
	P256 Algorithm = "P-256"
)

// ParseAlgorithm parses an algorithm name case-insensitively. Accepted:
// "Ed25519", "EdDSA" for [Ed25519]; "P-256", "P256", "ES256", "secp256r1",
// "prime256v1" for [P256].
func ParseAlgorithm(s string) (Algorithm, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("-", "", "_", "", " ", "").Replace(n)
	switch n {
	case "ed25519", "eddsa":
		return Ed25519, nil
	case "p256", "es256", "secp256r1", "prime256v1", "ecdsap256":
		return P256, nil
	}
	return "", fmt.Errorf("keys: unknown algorithm %.40q (supported: %q, %q)", s, Ed25519, P256)
}

// valid reports whether a is one of the supported algorithms.
func (a Algorithm) valid() bool { return a == Ed25519 || a == P256 }

// Key is the public information about a managed key. It never holds private
// material.
type Key struct {
	// ID is derived from the public key, see the package documentation.
	ID string
	// Alg is the signing algorithm.
	Alg Algorithm
	// Public is an ed25519.PublicKey or a *ecdsa.PublicKey on P-256.
	Public crypto.PublicKey
	// Label is free text describing the key's use (never secret).
	Label string
	// Created is the generation time, UTC, second precision.
	Created time.Time
}

// Errors returned by the package; test with errors.Is.
var (
	ErrKeyNotFound = errors.New("key not found")
	// ErrWrongMasterKey means a stored key was sealed under another master key.
	ErrWrongMasterKey = errors.New("master key does not match the key store")
	ErrBadSignature   = errors.New("signature verification failed")
)

// Manager is the seam for key custody: [Local] keeps keys in a kv.Store; an
// HSM or cloud KMS can implement it later. Implementations are safe for
// concurrent use.
type Manager interface {
	// Generate creates a new key pair and returns its public information.
	Generate(ctx context.Context, alg Algorithm, label string) (Key, error)
	// Key returns the public information of a key, or ErrKeyNotFound.
	Key(ctx context.Context, id string) (Key, error)
	// List returns all keys sorted by ID.
	List(ctx context.Context) ([]Key, error)
	// Sign signs msg. Ed25519: pure Ed25519 over msg. P-256: ECDSA over
	// SHA-256(msg), returned as the fixed-length 64-byte r||s (the JOSE / Data
	// Integrity encoding), low-S not required.
	Sign(ctx context.Context, id string, msg []byte) ([]byte, error)
	// Signer returns a crypto.Signer for libraries (e.g. JOSE) with standard
	// semantics: Ed25519 takes the message with opts.HashFunc()==0; ECDSA takes
	// a digest and returns ASN.1 DER. It holds only the key id and the manager
	// (plus the public key, which Public must return without an error path).
	Signer(ctx context.Context, id string) (crypto.Signer, error)
}

// p256SigSize is the length of a P-256 r||s signature.
const p256SigSize = 64

// Verify checks a signature produced by [Manager.Sign] (same encodings) with a
// public key: ed25519.PublicKey (pure Ed25519 over msg) or a P-256
// *ecdsa.PublicKey (64-byte r||s over SHA-256(msg)). An invalid signature
// yields an error wrapping [ErrBadSignature].
func Verify(pub crypto.PublicKey, msg, sig []byte) error {
	switch pk := pub.(type) {
	case ed25519.PublicKey:
		if len(pk) != ed25519.PublicKeySize {
			return fmt.Errorf("keys: invalid Ed25519 public key length %d", len(pk))
		}
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pk, msg, sig) {
			return ErrBadSignature
		}
		return nil
	case *ecdsa.PublicKey:
		if pk == nil || pk.Curve != elliptic.P256() {
			return errors.New("keys: unsupported ECDSA public key (want P-256)")
		}
		if len(sig) != p256SigSize {
			return ErrBadSignature
		}
		digest := sha256.Sum256(msg)
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(pk, digest[:], r, s) {
			return ErrBadSignature
		}
		return nil
	case nil:
		return errors.New("keys: nil public key")
	default:
		return fmt.Errorf("keys: unsupported public key type %T", pub)
	}
}

// idEncoding is lowercase, unpadded base32.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idHashBytes is how much of SHA-256(PKIX DER) the id keeps.
const idHashBytes = 15

// idLen is the length of a key id: "k" + base32 of 15 bytes.
const idLen = 1 + idHashBytes*8/5

// keyID derives the key id from the PKIX DER of a public key.
func keyID(pkix []byte) string {
	h := sha256.Sum256(pkix)
	return "k" + idEncoding.EncodeToString(h[:idHashBytes])
}

// KeyID returns the id of a public key as used by [Key.ID].
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keys: encode public key: %w", err)
	}
	return keyID(der), nil
}

// validID reports whether id is well formed; malformed ids are reported as not
// found without being echoed.
func validID(id string) bool {
	if len(id) != idLen || id[0] != 'k' {
		return false
	}
	for i := 1; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
