package issuer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/credence/credence/vc/secure"
)

// Secrets and their derivations.

var b64 = base64.RawURLEncoding

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return b64.EncodeToString(b[:])
}

func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0' + byte(randUint(10))
	}
	return string(b)
}

// randUint is uniform in [0, n) for small n.
func randUint(n uint8) uint8 {
	limit := 256 - 256%int(n)
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return b[0] % n
		}
	}
}

// validSecret reports whether s is the base64url of 32 bytes.
func validSecret(s string) bool {
	b, err := b64.Strict().DecodeString(s)
	return err == nil && len(b) == 32
}

func sum(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// codeOf derives the pre-authorized code from the offer's reference.
func codeOf(ref string) string {
	h := sha256.Sum256([]byte("credence oid4vci pre-authorized_code\x00" + ref))
	return b64.EncodeToString(h[:])
}

func offerID(code string) string                  { return sum("credence oid4vci offer", code) }
func txHash(code, tx string) string               { return sum("credence oid4vci tx_code", code, tx) }
func tokenHash(secret string) string              { return sum("credence oid4vci access token", secret) }
func configID(typ string, f secure.Format) string { return typ + "_" + string(f) }

// sealTemplate encrypts the template under a key derived from secret (the
// code, then the access token's secret), bound to the offer id.
func sealTemplate(secret, id string, req IssueRequest) ([]byte, error) {
	pt, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	aead, err := templateAEAD(secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pt)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, pt, []byte(id)), nil
}

func openTemplate(secret, id string, sealed []byte) (IssueRequest, error) {
	var req IssueRequest
	aead, err := templateAEAD(secret)
	if err != nil {
		return req, err
	}
	if len(sealed) < aead.NonceSize() {
		return req, errors.New("issuer: sealed offer template too short")
	}
	pt, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(id))
	if err != nil {
		return req, fmt.Errorf("issuer: the offer template does not decrypt: %w", err)
	}
	d := json.NewDecoder(strings.NewReader(string(pt)))
	d.UseNumber()
	return req, d.Decode(&req)
}

func templateAEAD(secret string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "credence oid4vci offer template", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func equalHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
