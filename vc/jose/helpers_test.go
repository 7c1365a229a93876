package jose_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

const (
	issuerDID = "did:example:medical-board"
	holderDID = "did:example:dr-avery-chen"
)

// now is the verification time of the tests: inside the license's validity.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// edKey and p256Key derive fixed keys from a seed byte, so fuzz corpora
// stay reproducible.
func edKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func p256Key(tb testing.TB, seed byte) *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// keyFor returns a fixed key of the named algorithm.
func keyFor(tb testing.TB, alg string, seed byte) crypto.Signer {
	if alg == "ES256" {
		return p256Key(tb, seed)
	}
	return edKey(seed)
}

func signer(key crypto.Signer, vm string) vc.Signer {
	return vc.Signer{Key: key, VerificationMethod: vm}
}

func keysOf(signers ...vc.Signer) vc.StaticKeys {
	k := vc.StaticKeys{}
	for _, s := range signers {
		k[s.VerificationMethod] = s.Key.Public()
	}
	return k
}

func loadJSON(tb testing.TB, path string) map[string]any {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := vc.DecodeObject(b)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func license(tb testing.TB) map[string]any { return loadJSON(tb, "testdata/license.json") }

func presentation(tb testing.TB, token string) map[string]any {
	return map[string]any{
		"@context": []any{vc.ContextV2},
		"type":     []any{"VerifiablePresentation"},
		"holder":   holderDID,
		"verifiableCredential": []any{map[string]any{
			"@context": vc.ContextV2,
			"type":     "EnvelopedVerifiableCredential",
			"id":       "data:application/vc+jwt," + token,
		}},
	}
}

var b64 = base64.RawURLEncoding

// segments decodes the header and payload of a compact JWS.
func segments(tb testing.TB, token string) (hdr, payload map[string]any, sig string) {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a compact JWS: %q", token)
	}
	for i, dst := range []*map[string]any{&hdr, &payload} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			tb.Fatal(err)
		}
	}
	return hdr, payload, parts[2]
}

// assemble encodes a header and payload and appends sig as is.
func assemble(tb testing.TB, hdr, payload any, sig string) string {
	tb.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + sig
}

// wantErr fails unless err wraps want (nil: no error).
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error %v, want one wrapping %v", err, want)
	}
}

// purposeKeys records the purpose each lookup asked for.
type purposeKeys struct {
	vc.StaticKeys
	purposes []string
}

func (p *purposeKeys) PublicKey(ctx context.Context, vm, purpose string) (crypto.PublicKey, error) {
	p.purposes = append(p.purposes, purpose)
	return p.StaticKeys.PublicKey(ctx, vm, purpose)
}
