package witness

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/registry/merkle"
)

// Signature type identifier bytes of c2sp.org/signed-note.
const (
	// AlgCosignatureV1 is the signature type of timestamped Ed25519
	// cosignatures (cosignature/v1), which this package produces.
	AlgCosignatureV1 = 0x04
	// AlgMLDSA44 is the signature type of timestamped ML-DSA-44 cosignatures,
	// which NewVerifier accepts for witnesses run by others.
	AlgMLDSA44 = 0x06
)

// cosignatureSize is the size of a cosignature/v1 signature: an 8-byte
// big-endian timestamp and a 64-byte Ed25519 signature.
const cosignatureSize = 8 + ed25519.SignatureSize

// Cosigner produces cosignature/v1 signatures (c2sp.org/tlog-cosignature) with
// an Ed25519 key. Its name is the witness's name, which the spec recommends be
// a schema-less URL (for example "witness.example.org/credence").
type Cosigner struct {
	name   string
	hash   uint32
	pub    ed25519.PublicKey
	signer crypto.Signer
}

// NewCosigner returns a Cosigner named name whose key is held by s, which must
// have an Ed25519 public key and sign messages directly (crypto.Hash(0)), as
// ed25519.PrivateKey and the key manager's signers do. Every signature s
// returns is checked against the public key before it is used.
func NewCosigner(name string, s crypto.Signer) (*Cosigner, error) {
	if s == nil {
		return nil, errors.New("witness: nil signer")
	}
	pub, ok := s.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("witness: cosigning key is %T, want an Ed25519 key", s.Public())
	}
	if !validKeyName(name) {
		return nil, fmt.Errorf("witness: invalid witness name %.80q (must be 1 to 255 bytes, without spaces or '+')", name)
	}
	pub = bytes.Clone(pub)
	return &Cosigner{name: name, hash: keyID(name, AlgCosignatureV1, pub), pub: pub, signer: s}, nil
}

// Name is the witness's name, the key name of its signature lines.
func (c *Cosigner) Name() string { return c.name }

// KeyHash is the key ID of its signature lines:
// SHA-256(name || 0x0A || 0x04 || public key)[:4].
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// VerifierKey returns the witness's verifier key,
// "name+hex(key ID)+base64(0x04 || public key)", which verifiers configure.
func (c *Cosigner) VerifierKey() string {
	vkey, _ := VerifierKey(c.name, c.pub)
	return vkey
}

// Cosign returns the signature line "— <name> base64(key ID || timestamp ||
// signature)\n" of a cosignature/v1 over the checkpoint body text made at
// the POSIX time timestamp, which must be between 1 and 2^63-1. text must be
// a checkpoint body (merkle.ParseCheckpoint), so the key can sign nothing else.
func (c *Cosigner) Cosign(text []byte, timestamp uint64) ([]byte, error) {
	if timestamp == 0 || timestamp > math.MaxInt64 {
		return nil, fmt.Errorf("witness: cosignature timestamp %d out of range", timestamp)
	}
	if _, err := merkle.ParseCheckpoint(text); err != nil {
		return nil, fmt.Errorf("witness: refusing to cosign: %w", err)
	}
	msg := cosignedMessage(timestamp, text)
	sig, err := c.signer.Sign(rand.Reader, msg, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("witness: cosigning with %s: %w", c.name, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(c.pub, msg, sig) {
		return nil, fmt.Errorf("witness: cosigning with %s: the signer returned a signature that does not verify under its public key", c.name)
	}
	b := make([]byte, 0, 4+cosignatureSize)
	b = binary.BigEndian.AppendUint32(b, c.hash)
	b = binary.BigEndian.AppendUint64(b, timestamp)
	b = append(b, sig...)
	return signatureLine(c.name, b), nil
}

// Verifier returns a verifier for the Cosigner's signatures.
func (c *Cosigner) Verifier() note.Verifier {
	v, err := NewVerifier(c.VerifierKey())
	if err != nil {
		panic("witness: own verifier key does not parse: " + err.Error()) // unreachable: NewCosigner validated it
	}
	return v
}

// timestamp returns the timestamp of the Cosigner's signature in the signed
// note n, or 0 if n holds none. n is the witness's own stored state.
func (c *Cosigner) timestamp(n []byte) uint64 {
	prefix := "— " + c.name + " "
	for _, line := range strings.Split(string(n), "\n") {
		b64, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != 4+cosignatureSize || binary.BigEndian.Uint32(sig) != c.hash {
			continue
		}
		return binary.BigEndian.Uint64(sig[4:])
	}
	return 0
}

// line returns c's cosignature line (with its newline) in the signed note
// n, or nil if n has none.
func (c *Cosigner) line(n []byte) []byte {
	prefix := "— " + c.name + " "
	for _, line := range strings.SplitAfter(string(n), "\n") {
		if strings.HasPrefix(line, prefix) && strings.HasSuffix(line, "\n") && c.timestamp([]byte(line)) != 0 {
			return []byte(line)
		}
	}
	return nil
}

// cosignedMessage is the signed message of cosignature/v1: the lines
// "cosignature/v1" and "time <timestamp>", then the checkpoint body.
func cosignedMessage(timestamp uint64, text []byte) []byte {
	m := make([]byte, 0, 40+len(text))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, timestamp, 10)
	m = append(m, '\n')
	return append(m, text...)
}

// signatureLine formats a note signature line.
func signatureLine(name string, sig []byte) []byte {
	return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// VerifierKey returns the cosignature/v1 verifier key of a witness named name
// with Ed25519 public key pub: "name+hex(key ID)+base64(0x04 || pub)".
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(name) {
		return "", fmt.Errorf("witness: invalid witness name %.80q (must be 1 to 255 bytes, without spaces or '+')", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("witness: Ed25519 public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	key := append([]byte{AlgCosignatureV1}, pub...)
	return fmt.Sprintf("%s+%08x+%s", name, keyID(name, AlgCosignatureV1, pub), base64.StdEncoding.EncodeToString(key)), nil
}

// NewVerifier parses a witness verifier key and returns a verifier of its
// cosignatures. The key must be of signature type 0x04 (cosignature/v1,
// Ed25519) or 0x06 (ML-DSA-44), and its key ID must be the one its name and
// key imply. Verification is github.com/transparency-dev/formats/note's.
func NewVerifier(vkey string) (note.Verifier, error) {
	bad := func(why string) (note.Verifier, error) {
		return nil, fmt.Errorf("witness: verifier key %.80q: %s", vkey, why)
	}
	name, rest, _ := strings.Cut(vkey, "+")
	hash, key64, _ := strings.Cut(rest, "+")
	if !validKeyName(name) || len(hash) != 8 {
		return bad("want name+hex(key ID)+base64(type || key)")
	}
	id, err := strconv.ParseUint(hash, 16, 32)
	if err != nil {
		return bad("bad key ID")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(key64)
	if err != nil || len(key) < 2 {
		return bad("bad base64 key")
	}
	if key[0] != AlgCosignatureV1 && key[0] != AlgMLDSA44 {
		return bad(fmt.Sprintf("signature type 0x%02x is not a cosignature (want 0x04 or 0x06)", key[0]))
	}
	if uint32(id) != keyID(name, key[0], key[1:]) {
		return bad("key ID does not match the name and key")
	}
	v, err := fnote.NewVerifierForCosignatureV1(vkey)
	if err != nil {
		return bad(err.Error())
	}
	return v, nil
}

// KeyMaterial returns the signature type and public key of a witness
// verifier key (its base64 part), "" when vkey is not name+hash+key. A
// cosignature does not sign the witness's name, so one key listed under two
// names could count twice towards a quorum: whoever lists witnesses refuses
// two entries with the same key material.
func KeyMaterial(vkey string) string {
	_, rest, _ := strings.Cut(vkey, "+")
	_, key, ok := strings.Cut(rest, "+")
	if !ok {
		return ""
	}
	return key
}

// keyID is SHA-256(name || 0x0A || alg || key)[:4] as a big-endian uint32.
func keyID(name string, alg byte, key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', alg})
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validKeyName reports whether name is a valid note key name: non-empty
// UTF-8 without Unicode spaces or '+' (c2sp.org/signed-note), nor control
// characters, which no signed note may contain, and at most 255 bytes (the
// limit of ML-DSA-44 cosigner names, which transparency-dev's verifiers
// apply to every cosigner).
func validKeyName(name string) bool {
	bad := func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '+' }
	return name != "" && len(name) <= 255 && utf8.ValidString(name) && strings.IndexFunc(name, bad) < 0
}
