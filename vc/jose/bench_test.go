package jose_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// The benchmarks sign and verify the license credential (testdata, 27
// members with the nested subject) as vc+jwt, next to the raw signature
// primitive over the same JWS signing input, so the overhead of the format
// (parsing, JSON, key lookup, checks) reads directly off the ratio.
//
//	go test ./vc/jose -run '^$' -bench . -benchmem

func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	cred := license(b)
	for _, alg := range []string{"EdDSA", "ES256"} {
		s := signer(keyFor(b, alg, 1), issuerDID+"#key-1")
		b.Run("vc+jwt/"+alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := jose.SignCredential(ctx, cred, s); err != nil {
					b.Fatal(err)
				}
			}
		})
		input := signingInput(b, cred, s)
		b.Run("raw/"+alg, func(b *testing.B) {
			for b.Loop() {
				rawSign(b, s.Key, input)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	cred := license(b)
	opts := jose.VerifyOptions{Now: now}
	for _, alg := range []string{"EdDSA", "ES256"} {
		s := signer(keyFor(b, alg, 1), issuerDID+"#key-1")
		token, err := jose.SignCredential(ctx, cred, s)
		if err != nil {
			b.Fatal(err)
		}
		keys := keysOf(s)
		b.Run("vc+jwt/"+alg, func(b *testing.B) {
			b.SetBytes(int64(len(token)))
			for b.Loop() {
				if _, err := jose.Verify(ctx, token, keys, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
		input := token[:strings.LastIndexByte(token, '.')]
		sig := rawSign(b, s.Key, input)
		b.Run("raw/"+alg, func(b *testing.B) {
			b.SetBytes(int64(len(token)))
			for b.Loop() {
				if !rawVerify(s.Key.Public(), input, sig) {
					b.Fatal("raw signature does not verify")
				}
			}
		})
	}
}

func signingInput(b *testing.B, cred map[string]any, s vc.Signer) string {
	token, err := jose.SignCredential(context.Background(), cred, s)
	if err != nil {
		b.Fatal(err)
	}
	return token[:strings.LastIndexByte(token, '.')]
}

// rawSign signs the JWS signing input as the primitive alone would: Ed25519
// over the bytes, ECDSA (ASN.1 DER) over their SHA-256.
func rawSign(b *testing.B, key crypto.Signer, input string) []byte {
	var sig []byte
	var err error
	switch k := key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(input))
	case *ecdsa.PrivateKey:
		d := sha256.Sum256([]byte(input))
		sig, err = ecdsa.SignASN1(rand.Reader, k, d[:])
	}
	if err != nil {
		b.Fatal(err)
	}
	return sig
}

func rawVerify(pub crypto.PublicKey, input string, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return ed25519.Verify(k, []byte(input), sig)
	case *ecdsa.PublicKey:
		d := sha256.Sum256([]byte(input))
		return ecdsa.VerifyASN1(k, d[:], sig)
	}
	return false
}
