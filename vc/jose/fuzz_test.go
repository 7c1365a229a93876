package jose_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// FuzzVerify: Verify never panics, and nothing but the seeds themselves
// verifies: every change to a valid token, however small, is rejected.
//
//	go test ./vc/jose -run '^$' -fuzz FuzzVerify -fuzztime 1m
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	iss := signer(edKey(1), issuerDID+"#key-1")
	iss256 := signer(p256Key(f, 1), issuerDID+"#key-2") // signed testdata/license-es256.jwt
	hol := signer(edKey(2), holderDID+"#key-1")
	keys := keysOf(iss, iss256, hol)
	sign := func(s vc.Signer, h jose.Header, payload map[string]any) string {
		tok, err := jose.Sign(ctx, h, mustMarshal(f, payload), s)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	valid := map[string]bool{}
	for _, tok := range []string{
		sign(iss, jose.Header{Typ: "vc+jwt", Cty: "vc", Kid: iss.VerificationMethod}, license(f)),
		golden(f, "testdata/license-es256.jwt"), // ECDSA signatures are random: one fixed token
		sign(hol, jose.Header{Typ: "vp+jwt", Kid: hol.VerificationMethod}, presentation(f, "a.b.c")),
		sign(iss, jose.Header{Typ: "JWT", Kid: iss.VerificationMethod}, map[string]any{"iss": issuerDID, "sub": holderDID, "vc": vc11()}),
	} {
		if _, err := jose.Verify(ctx, tok, keys, jose.VerifyOptions{Now: now}); err != nil {
			f.Fatalf("seed does not verify: %v", err)
		}
		valid[tok] = true
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		v, err := jose.Verify(ctx, token, keys, jose.VerifyOptions{Now: now})
		if err == nil && !valid[token] {
			t.Fatalf("a modified token verifies: %q (%s)", token, v.Format)
		}
	})
}

// golden reads a token from testdata.
func golden(tb testing.TB, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
