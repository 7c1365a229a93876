package secure

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/credence/credence/vc/jose"
)

// BenchmarkFormats issues and verifies a license credential in every
// format, next to raw Ed25519 signing and verification of 64 bytes in the
// same run (the crypto floor). Verify includes parsing the secured bytes and
// resolving the did:key issuer (cached after the first call).
//
//	go test -run '^$' -bench Formats -benchtime 2000x -count 5 ./vc/secure
func BenchmarkFormats(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := make([]byte, 64)
	sig := ed25519.Sign(priv, msg)
	b.Run("raw-ed25519/sign", func(b *testing.B) {
		for range b.N {
			ed25519.Sign(priv, msg)
		}
	})
	b.Run("raw-ed25519/verify", func(b *testing.B) {
		for range b.N {
			if !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, sig) {
				b.Fatal("bad signature")
			}
		}
	})
	iss, holder := edParty(b), edParty(b)
	for _, f := range Formats() {
		o := IssueOptions{Format: f, Now: now, HolderKey: holder.signer.Key.Public()}
		cred := licenseCredential(iss.did, holder.did)
		b.Run(string(f)+"/issue", func(b *testing.B) {
			for range b.N {
				if _, err := engine.Issue(context.Background(), cred, iss.signer, o); err != nil {
					b.Fatal(err)
				}
			}
		})
		out, _ := engine.Issue(context.Background(), cred, iss.signer, o)
		raw, _ := marshal(out)
		if f == JWT {
			// the floor for this token: Ed25519 over its signing input
			// (about 2 KB, against the 64 bytes above)
			token, _, err := jose.Unenvelope(out.(map[string]any))
			if err != nil {
				b.Fatal(err)
			}
			dot := strings.LastIndexByte(token, '.')
			input, sig := []byte(token[:dot]), b64Decode(b, token[dot+1:])
			pub := iss.signer.Key.Public().(ed25519.PublicKey)
			b.Run("raw-ed25519/verify-jwt-input", func(b *testing.B) {
				for range b.N {
					if !ed25519.Verify(pub, input, sig) {
						b.Fatal("bad signature")
					}
				}
			})
		}
		b.Run(string(f)+"/verify", func(b *testing.B) {
			for range b.N {
				in, err := ParseInput(raw)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := verify(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func b64Decode(b *testing.B, s string) []byte {
	out, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		b.Fatal(err)
	}
	return out
}
