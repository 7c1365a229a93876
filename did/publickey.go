package did

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"

	"filippo.io/edwards25519"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/mr-tron/base58"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multicodec"
)

// JWK is the public JSON Web Key of a verification method (RFC 7517). Field order is
// the serialization order used by the did:key and did:jwk specifications.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// privateJWKMembers are the members that carry private key material (RFC 7518 §6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWK decodes a public JWK, refusing private key material and unsupported keys.
func ParseJWK(b []byte) (*JWK, crypto.PublicKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		return nil, nil, fmt.Errorf("%w: JWK is not a JSON object: %w", ErrInvalidPublicKey, err)
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return nil, nil, fmt.Errorf("%w: JWK contains private key member %q", ErrInvalidPublicKey, m)
		}
	}
	var j JWK
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	pub, err := j.PublicKey()
	if err != nil {
		return nil, nil, err
	}
	return &j, pub, nil
}

// PublicKey converts the JWK to ed25519.PublicKey, *ecdsa.PublicKey or, for X25519,
// *ecdh.PublicKey. EC points are checked to lie on the curve.
func (j *JWK) PublicKey() (crypto.PublicKey, error) {
	switch {
	case j.Kty == "OKP" && (j.Crv == "Ed25519" || j.Crv == "X25519"):
	case j.Kty == "EC" && (j.Crv == "P-256" || j.Crv == "P-384" || j.Crv == "P-521"):
	default:
		return nil, fmt.Errorf("%w: JWK kty %q crv %q", ErrUnsupportedPublicKeyType, j.Kty, j.Crv)
	}
	b, err := json.Marshal(JWK{Kty: j.Kty, Crv: j.Crv, X: j.X, Y: j.Y})
	if err != nil {
		return nil, err
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	if j.Crv == "X25519" {
		var x ecdh.PublicKey
		if err := jwk.Export(key, &x); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
		}
		return &x, nil
	}
	var pub any
	if err := jwk.Export(key, &pub); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	return pub, nil
}

// NewJWK encodes a public key as a JWK.
func NewJWK(pub crypto.PublicKey) (*JWK, error) {
	key, err := jwk.Import(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedPublicKeyType, err)
	}
	b, err := json.Marshal(key)
	if err != nil {
		return nil, err
	}
	var j JWK
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, err
	}
	return &JWK{Kty: j.Kty, Crv: j.Crv, X: j.X, Y: j.Y}, nil
}

// keyCodecs are the multicodec key types Credence understands, with their raw sizes.
var keyCodecs = map[multicodec.Code]int{
	multicodec.Ed25519Pub: ed25519.PublicKeySize,
	multicodec.X25519Pub:  32,
	multicodec.P256Pub:    33,
	multicodec.P384Pub:    49,
	multicodec.P521Pub:    67,
}

// EncodeMultikey encodes a public key as a Multikey value: base58btc multibase of the
// multicodec header and the raw (for EC keys, compressed) key.
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	code, raw, err := rawKey(pub)
	if err != nil {
		return "", err
	}
	buf := binary.AppendUvarint(nil, uint64(code))
	return multibase.Encode(multibase.Base58BTC, append(buf, raw...))
}

// DecodeMultikey decodes a Multikey value (publicKeyMultibase, or a did:key's id).
// Decoded keys are remembered (base58 decoding and point decompression are
// a tenth of a JWT verification); each call returns its own copy of an
// Ed25519 key, so a caller cannot change what the next one gets.
func DecodeMultikey(s string) (crypto.PublicKey, error) {
	if pub, ok := multikeys.get(s); ok {
		return pub, nil
	}
	code, raw, err := decodeMultikeyRaw(s)
	if err != nil {
		return nil, err
	}
	pub, err := publicFromRaw(code, raw)
	if err != nil {
		return nil, err
	}
	multikeys.put(s, pub)
	return multikeys.copyOf(pub), nil
}

// maxCachedMultikeys bounds the decoded key cache; it is emptied when full.
const maxCachedMultikeys = 4096

var multikeys = keyCache{m: map[string]crypto.PublicKey{}}

type keyCache struct {
	mu sync.RWMutex
	m  map[string]crypto.PublicKey
}

func (c *keyCache) get(s string) (crypto.PublicKey, bool) {
	c.mu.RLock()
	pub, ok := c.m[s]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return c.copyOf(pub), true
}

func (c *keyCache) put(s string, pub crypto.PublicKey) {
	c.mu.Lock()
	if len(c.m) >= maxCachedMultikeys {
		clear(c.m)
	}
	c.m[s] = c.copyOf(pub)
	c.mu.Unlock()
}

// copyOf copies the key types whose value is mutable memory: Ed25519 keys
// are byte slices; ECDSA keys are copied as a struct (their coordinates are
// not modified by the standard library).
func (c *keyCache) copyOf(pub crypto.PublicKey) crypto.PublicKey {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.PublicKey(bytes.Clone(k))
	case *ecdsa.PublicKey:
		cp := *k
		return &cp
	}
	return pub
}

func decodeMultikeyRaw(s string) (multicodec.Code, []byte, error) {
	if len(s) == 0 || s[0] != 'z' {
		return 0, nil, fmt.Errorf("%w: Multikey must be base58btc multibase (prefix 'z')", ErrInvalidPublicKey)
	}
	_, b, err := multibase.Decode(s)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	c, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: bad multicodec header", ErrInvalidPublicKey)
	}
	code := multicodec.Code(c)
	size, ok := keyCodecs[code]
	if !ok {
		return 0, nil, fmt.Errorf("%w: multicodec 0x%x", ErrUnsupportedPublicKeyType, c)
	}
	if len(b)-n != size {
		return 0, nil, fmt.Errorf("%w: %s key is %d bytes, want %d", ErrInvalidPublicKey, code, len(b)-n, size)
	}
	return code, b[n:], nil
}

func rawKey(pub crypto.PublicKey) (multicodec.Code, []byte, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return 0, nil, fmt.Errorf("%w: Ed25519 key of %d bytes", ErrInvalidPublicKey, len(k))
		}
		return multicodec.Ed25519Pub, bytes.Clone(k), nil
	case *ecdh.PublicKey:
		if k.Curve() != ecdh.X25519() {
			return 0, nil, fmt.Errorf("%w: ECDH key on %v", ErrUnsupportedPublicKeyType, k.Curve())
		}
		return multicodec.X25519Pub, k.Bytes(), nil
	case *ecdsa.PublicKey:
		code, ok := map[string]multicodec.Code{"P-256": multicodec.P256Pub, "P-384": multicodec.P384Pub, "P-521": multicodec.P521Pub}[k.Curve.Params().Name]
		if !ok {
			return 0, nil, fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedPublicKeyType, k.Curve.Params().Name)
		}
		return code, elliptic.MarshalCompressed(k.Curve, k.X, k.Y), nil
	}
	return 0, nil, fmt.Errorf("%w: %T", ErrUnsupportedPublicKeyType, pub)
}

func publicFromRaw(code multicodec.Code, raw []byte) (crypto.PublicKey, error) {
	var curve elliptic.Curve
	switch code {
	case multicodec.Ed25519Pub:
		if _, err := new(edwards25519.Point).SetBytes(raw); err != nil {
			return nil, fmt.Errorf("%w: Ed25519 key is not a curve point", ErrInvalidPublicKey)
		}
		return ed25519.PublicKey(bytes.Clone(raw)), nil
	case multicodec.X25519Pub:
		k, err := ecdh.X25519().NewPublicKey(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
		}
		return k, nil
	case multicodec.P256Pub:
		curve = elliptic.P256()
	case multicodec.P384Pub:
		curve = elliptic.P384()
	case multicodec.P521Pub:
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedPublicKeyType, code)
	}
	x, y := elliptic.UnmarshalCompressed(curve, raw)
	if x == nil {
		return nil, fmt.Errorf("%w: not a compressed point on %s", ErrInvalidPublicKey, curve.Params().Name)
	}
	return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, nil
}

// X25519FromEd25519 converts an Ed25519 public key to the X25519 key of the same
// secret (the birational map of RFC 7748 §4.1), as did:key key agreement derivation does.
func X25519FromEd25519(pub ed25519.PublicKey) (*ecdh.PublicKey, error) {
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: Ed25519 key is not a curve point", ErrInvalidPublicKey)
	}
	return ecdh.X25519().NewPublicKey(p.BytesMontgomery())
}

// PublicKey decodes the method's key from whichever encoding it carries.
func (m *VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	switch {
	case m.PublicKeyJwk != nil:
		return m.PublicKeyJwk.PublicKey()
	case m.PublicKeyMultibase != "":
		return m.multibaseKey()
	case m.PublicKeyBase58 != "":
		return m.base58Key()
	}
	return nil, fmt.Errorf("%w: verification method %q has no public key", ErrInvalidPublicKey, m.ID)
}

// multibaseKey reads publicKeyMultibase: a Multikey for Multikey methods, the bare
// raw key for the 2020 suites.
func (m *VerificationMethod) multibaseKey() (crypto.PublicKey, error) {
	switch m.Type {
	case TypeEd25519v2020, TypeX25519v2020:
		_, raw, err := multibase.Decode(m.PublicKeyMultibase)
		if err == nil && len(raw) > 2 && (raw[0] == 0xed || raw[0] == 0xec) && raw[1] == 0x01 {
			return DecodeMultikey(m.PublicKeyMultibase)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
		}
		return m.legacyRaw(raw)
	}
	return DecodeMultikey(m.PublicKeyMultibase)
}

func (m *VerificationMethod) base58Key() (crypto.PublicKey, error) {
	raw, err := base58.Decode(m.PublicKeyBase58)
	if err != nil {
		return nil, fmt.Errorf("%w: publicKeyBase58: %w", ErrInvalidPublicKey, err)
	}
	return m.legacyRaw(raw)
}

func (m *VerificationMethod) legacyRaw(raw []byte) (crypto.PublicKey, error) {
	switch m.Type {
	case TypeEd25519v2018, TypeEd25519v2020:
		return publicFromRaw(multicodec.Ed25519Pub, raw)
	case TypeX25519v2019, TypeX25519v2020:
		return publicFromRaw(multicodec.X25519Pub, raw)
	case TypeP256Key2021:
		return publicFromRaw(multicodec.P256Pub, raw)
	}
	return nil, fmt.Errorf("%w: %s with a raw key", ErrUnsupportedPublicKeyType, m.Type)
}
