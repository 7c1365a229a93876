package jose_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

func TestCredentialRoundTrip(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			iss := signer(keyFor(t, alg, 1), issuerDID+"#key-1")
			cred := license(t)
			token, err := jose.SignCredential(ctx, cred, iss)
			if err != nil {
				t.Fatal(err)
			}
			keys := &purposeKeys{StaticKeys: keysOf(iss)}
			got, err := jose.Verify(ctx, token, keys, jose.VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			want := jose.Header{Alg: alg, Typ: "vc+jwt", Cty: "vc", Kid: issuerDID + "#key-1"}
			if got.Header != want {
				t.Errorf("header = %+v, want %+v", got.Header, want)
			}
			if got.Format != jose.FormatVC || got.Presentation() || got.VerificationMethod != want.Kid {
				t.Errorf("format %s, presentation %v, vm %s", got.Format, got.Presentation(), got.VerificationMethod)
			}
			if !reflect.DeepEqual(got.Document, cred) {
				t.Errorf("document differs from the signed credential:\n%v\n%v", got.Document, cred)
			}
			if !reflect.DeepEqual(keys.purposes, []string{vc.PurposeAssertion}) {
				t.Errorf("purposes = %v", keys.purposes)
			}
		})
	}
}

func TestPresentationRoundTrip(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			ctx := context.Background()
			iss := signer(keyFor(t, alg, 1), issuerDID+"#key-1")
			hol := signer(keyFor(t, alg, 2), holderDID+"#key-1")
			cred, err := jose.SignCredential(ctx, license(t), iss)
			if err != nil {
				t.Fatal(err)
			}
			vp := presentation(t, cred)
			token, err := jose.SignPresentation(ctx, vp, hol, "https://verifier.example", "n-0S6_WzA2Mj")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := vp["nonce"]; ok {
				t.Fatal("SignPresentation modified its input")
			}
			keys := &purposeKeys{StaticKeys: keysOf(hol)}
			got, err := jose.Verify(ctx, token, keys, jose.VerifyOptions{Audience: "https://verifier.example", Nonce: "n-0S6_WzA2Mj"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Format != jose.FormatVP || !got.Presentation() || got.Header.Typ != "vp+jwt" {
				t.Errorf("format %s, header %+v", got.Format, got.Header)
			}
			if !reflect.DeepEqual(keys.purposes, []string{vc.PurposeAuthentication}) {
				t.Errorf("purposes = %v", keys.purposes)
			}
			inner, _, err := jose.Unenvelope(vc.Presentation(got.Document).Credentials()[0].(map[string]any))
			if err != nil || inner != cred {
				t.Fatalf("enveloped credential: %v", err)
			}
		})
	}
}

// TestPresentationAddsHolder: a presentation without holder gets the
// signer's DID, so the holder binding is part of the signed payload.
func TestPresentationAddsHolder(t *testing.T) {
	ctx := context.Background()
	hol := signer(edKey(2), holderDID+"#key-1")
	vp := presentation(t, "a.b.c")
	delete(vp, "holder")
	token, err := jose.SignPresentation(ctx, vp, hol, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := jose.Verify(ctx, token, keysOf(hol), jose.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Document["holder"] != holderDID {
		t.Errorf("holder = %v", got.Document["holder"])
	}
}

// TestES256RawSignature: jwx turns the crypto.Signer's ASN.1 DER into the
// 64-byte r||s of RFC 7518 §3.4.
func TestES256RawSignature(t *testing.T) {
	key := p256Key(t, 1)
	token, err := jose.SignCredential(context.Background(), license(t), signer(key, issuerDID+"#key-1"))
	if err != nil {
		t.Fatal(err)
	}
	dot := strings.LastIndexByte(token, '.')
	sig, err := b64.DecodeString(token[dot+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %d bytes, %v", len(sig), err)
	}
	digest := sha256.Sum256([]byte(token[:dot]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
		t.Fatal("raw r||s does not verify")
	}
}

// TestGolden verifies a token signed earlier (ES256, relative kid), so a
// change in encoding or verification that breaks old tokens shows.
func TestGolden(t *testing.T) {
	keys := vc.StaticKeys{issuerDID + "#key-2": p256Key(t, 1).Public()}
	got, err := jose.Verify(context.Background(), golden(t, "testdata/license-es256.jwt"), keys, jose.VerifyOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Document, license(t)) {
		t.Error("document differs from testdata/license.json")
	}
}

func TestRelativeKid(t *testing.T) {
	ctx := context.Background()
	iss := signer(edKey(1), issuerDID+"#key-1")
	token, err := jose.Sign(ctx, jose.Header{Typ: "vc+jwt", Kid: "#key-1"}, mustMarshal(t, license(t)), iss)
	if err != nil {
		t.Fatal(err)
	}
	got, err := jose.Verify(ctx, token, keysOf(iss), jose.VerifyOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if got.VerificationMethod != issuerDID+"#key-1" || got.Header.Kid != "#key-1" {
		t.Errorf("vm %s, kid %s", got.VerificationMethod, got.Header.Kid)
	}
}

func TestSignRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(map[string]any)
		vm   string
		want error
	}{
		{"vc claim", func(c map[string]any) { c["vc"] = map[string]any{} }, issuerDID + "#key-1", vc.ErrMalformed},
		{"no issuer", func(c map[string]any) { delete(c, "issuer") }, issuerDID + "#key-1", vc.ErrMalformed},
		{"not a credential", func(c map[string]any) { c["type"] = "VerifiablePresentation" }, issuerDID + "#key-1", vc.ErrMalformed},
		{"a VC 1.1 credential", func(c map[string]any) { c["@context"] = []any{vc.ContextV1} }, issuerDID + "#key-1", vc.ErrMalformed},
		{"key of another DID", func(map[string]any) {}, "did:example:other#key-1", vc.ErrKey},
		{"relative verification method", func(map[string]any) {}, "#key-1", vc.ErrKey},
		{"no fragment", func(map[string]any) {}, issuerDID, vc.ErrKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := license(t)
			tt.edit(c)
			_, err := jose.SignCredential(ctx, c, signer(edKey(1), tt.vm))
			wantErr(t, err, tt.want)
		})
	}
}

func mustMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := vc.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
