package jose_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// attack is one hostile or broken token and the error class it must get.
type attack struct {
	name  string
	token func(t *testing.T) string
	keys  vc.KeyResolver // nil: the issuer's key under its kid
	opts  jose.VerifyOptions
	want  error
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	iss := signer(edKey(1), issuerDID+"#key-1")
	good := func(t *testing.T) string {
		tok, err := jose.SignCredential(ctx, license(t), iss)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	signWith := func(h jose.Header, payload map[string]any) func(t *testing.T) string {
		return func(t *testing.T) string {
			tok, err := jose.Sign(ctx, h, mustMarshal(t, payload), iss)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	hdr := jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}
	withClaim := func(k string, v any) map[string]any { c := license(t); c[k] = v; return c }
	otherKey := vc.StaticKeys{iss.VerificationMethod: edKey(9).Public()}
	p256Key := vc.StaticKeys{iss.VerificationMethod: p256Key(t, 1).Public()}
	tests := []attack{
		{name: "valid", token: good},
		{name: "payload tampered", token: func(t *testing.T) string {
			h, p, sig := segments(t, good(t))
			p["credentialSubject"].(map[string]any)["familyName"] = "Mallory"
			return assemble(t, h, p, sig)
		}, want: vc.ErrSignature},
		{name: "header tampered", token: func(t *testing.T) string {
			h, p, sig := segments(t, good(t))
			h["cty"] = "vp"
			return assemble(t, h, p, sig)
		}, want: vc.ErrSignature},
		{name: "signature tampered", token: func(t *testing.T) string {
			tok := []byte(good(t))
			i := len(tok) - 10
			tok[i] = map[bool]byte{true: 'B', false: 'A'}[tok[i] == 'A']
			return string(tok)
		}, want: vc.ErrSignature},
		{name: "signature of another payload", token: func(t *testing.T) string {
			other, _ := jose.SignCredential(ctx, withClaim("name", "x"), iss)
			tok := good(t)
			return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
		}, want: vc.ErrSignature},
		{name: "swapped key", token: good, keys: otherKey, want: vc.ErrSignature},
		{name: "key of the wrong type for alg", token: good, keys: p256Key, want: vc.ErrSignature},
		{name: "a VC 1.1 credential as vc+jwt", token: signWith(hdr, withClaim("@context", []any{vc.ContextV1})), want: vc.ErrMalformed},
		{name: "alg none, empty signature", token: func(t *testing.T) string {
			return assemble(t, map[string]any{"alg": "none", "typ": "vc+jwt", "kid": iss.VerificationMethod}, license(t), "")
		}, want: vc.ErrMalformed},
		{name: "alg none", token: func(t *testing.T) string {
			return assemble(t, map[string]any{"alg": "none", "typ": "vc+jwt", "kid": iss.VerificationMethod}, license(t), "AA")
		}, want: vc.ErrUnsupported},
		{name: "HS256 keyed with the public key", token: hmacToken(iss), want: vc.ErrUnsupported},
		{name: "embedded jwk of the attacker", token: embeddedJWK(iss), want: vc.ErrSignature},
		{name: "crit", token: critToken(iss), want: vc.ErrUnsupported},
		{name: "kid of another DID", token: func(t *testing.T) string {
			other := signer(edKey(1), "did:example:mallory#key-1")
			tok, _ := jose.Sign(ctx, jose.Header{Typ: "vc+jwt", Kid: other.VerificationMethod}, mustMarshal(t, license(t)), other)
			return tok
		}, keys: vc.StaticKeys{"did:example:mallory#key-1": edKey(1).Public()}, want: vc.ErrKey},
		{name: "kid without fragment", token: signWith(jose.Header{Typ: "vc+jwt", Kid: issuerDID}, license(t)), want: vc.ErrKey},
		{name: "no kid", token: signWith(jose.Header{Typ: "vc+jwt"}, license(t)), want: vc.ErrKey},
		{name: "unknown kid", token: signWith(jose.Header{Typ: "vc+jwt", Kid: issuerDID + "#key-2"}, license(t)), want: vc.ErrKey},
		{name: "expired", token: signWith(hdr, withClaim("exp", now.Add(-time.Hour).Unix())), want: vc.ErrProofOptions},
		{name: "expired within skew", token: signWith(hdr, withClaim("exp", now.Add(-time.Minute).Unix())), opts: jose.VerifyOptions{Skew: 2 * time.Minute}},
		{name: "not yet valid", token: signWith(hdr, withClaim("nbf", now.Add(time.Hour).Unix())), want: vc.ErrProofOptions},
		{name: "issued in the future", token: signWith(hdr, withClaim("iat", now.Add(time.Hour).Unix())), want: vc.ErrProofOptions},
		{name: "exp not a number", token: signWith(hdr, withClaim("exp", "tomorrow")), want: vc.ErrMalformed},
		{name: "no typ", token: signWith(jose.Header{Kid: iss.VerificationMethod}, license(t)), want: vc.ErrUnsupported},
		{name: "draft typ vc-ld+jwt", token: signWith(jose.Header{Typ: "vc-ld+jwt", Kid: iss.VerificationMethod}, license(t)), want: vc.ErrUnsupported},
		{name: "typ with application/ prefix", token: signWith(jose.Header{Typ: "application/VC+JWT", Kid: iss.VerificationMethod}, license(t))},
		{name: "credential typed vp+jwt", token: signWith(jose.Header{Typ: "vp+jwt", Kid: iss.VerificationMethod}, license(t)), want: vc.ErrMalformed},
		{name: "vc claim in a vc+jwt", token: signWith(hdr, withClaim("vc", map[string]any{})), want: vc.ErrMalformed},
		{name: "iss claim not the issuer", token: signWith(hdr, withClaim("iss", "did:example:mallory")), want: vc.ErrMalformed},
		{name: "iss header not the issuer", token: signWith(jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod, Iss: "did:example:mallory"}, license(t)), want: vc.ErrMalformed},
		{name: "iss header is the issuer", token: signWith(jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod, Iss: issuerDID}, license(t))},
		{name: "payload not an object", token: signWith(hdr, nil), want: vc.ErrMalformed},
		{name: "duplicate member", token: func(t *testing.T) string {
			tok, _ := jose.Sign(ctx, hdr, []byte(`{"issuer":"`+issuerDID+`","issuer":"did:example:mallory"}`), iss)
			return tok
		}, want: vc.ErrMalformed},
		{name: "line break in the signature", token: func(t *testing.T) string {
			tok := good(t)
			return tok[:len(tok)-4] + "\n" + tok[len(tok)-4:]
		}, want: vc.ErrMalformed},
		{name: "non-canonical base64 signature", token: func(t *testing.T) string {
			tok := []byte(good(t)) // 64 bytes: the last character carries 4 zero bits
			tok[len(tok)-1] = b64.EncodeToString([]byte{0, 0, 0, 0})[0] + 1
			return string(tok)
		}, want: vc.ErrMalformed},
		{name: "padding", token: func(t *testing.T) string { return good(t) + "==" }, want: vc.ErrMalformed},
		{name: "JSON serialization", token: func(t *testing.T) string { return `{"payload":"e30","signatures":[]}` }, want: vc.ErrMalformed},
		{name: "too large", token: good, opts: jose.VerifyOptions{MaxBytes: 100}, want: vc.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = keysOf(iss)
			}
			if tt.opts.Now.IsZero() {
				tt.opts.Now = now
			}
			_, err := jose.Verify(ctx, tt.token(t), keys, tt.opts)
			t.Log(err)
			wantErr(t, err, tt.want)
		})
	}
}

// hmacToken signs with HS256 keyed by the issuer's public key bytes, the
// classic algorithm confusion attack.
func hmacToken(iss vc.Signer) func(t *testing.T) string {
	return func(t *testing.T) string {
		h, p, _ := segments(t, mustSign(t, iss))
		h["alg"] = "HS256"
		unsigned := assemble(t, h, p, "")
		mac := hmac.New(sha256.New, iss.Key.Public().(ed25519.PublicKey))
		mac.Write([]byte(strings.TrimSuffix(unsigned, ".")))
		return unsigned + b64.EncodeToString(mac.Sum(nil))
	}
}

// embeddedJWK is signed by the attacker's key, which the header carries as
// jwk next to the issuer's kid.
func embeddedJWK(iss vc.Signer) func(t *testing.T) string {
	return func(t *testing.T) string {
		attacker := edKey(7)
		pub, err := jwk.Import(attacker.Public())
		if err != nil {
			t.Fatal(err)
		}
		h := jws.NewHeaders()
		for k, v := range map[string]any{"typ": "vc+jwt", "kid": iss.VerificationMethod, "jwk": pub} {
			if err := h.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		tok, err := jws.Sign(mustMarshal(t, license(t)), jws.WithKey(jwa.EdDSA(), attacker, jws.WithProtectedHeaders(h)))
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
}

// critToken carries a critical extension nobody understands.
func critToken(iss vc.Signer) func(t *testing.T) string {
	return func(t *testing.T) string {
		h := jws.NewHeaders()
		for k, v := range map[string]any{"typ": "vc+jwt", "kid": iss.VerificationMethod, "crit": []string{"exp"}, "exp": 1} {
			if err := h.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		tok, err := jws.Sign(mustMarshal(t, license(t)), jws.WithKey(jwa.EdDSA(), iss.Key, jws.WithProtectedHeaders(h)))
		if err != nil {
			t.Fatal(err)
		}
		return string(tok)
	}
}

func mustSign(t *testing.T, iss vc.Signer) string {
	t.Helper()
	tok, err := jose.SignCredential(context.Background(), license(t), iss)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifyPresentationRejects(t *testing.T) {
	ctx := context.Background()
	hol := signer(edKey(2), holderDID+"#key-1")
	mallory := signer(edKey(3), "did:example:mallory#key-1")
	sign := func(t *testing.T, s vc.Signer, aud, nonce string) string {
		tok, err := jose.SignPresentation(ctx, presentation(t, "a.b.c"), s, aud, nonce)
		if err != nil && s == hol {
			t.Fatal(err)
		}
		return tok
	}
	forged := func(t *testing.T) string {
		// Mallory signs Avery's presentation (holder Avery) with her own key.
		tok, err := jose.Sign(ctx, jose.Header{Typ: "vp+jwt", Kid: mallory.VerificationMethod}, mustMarshal(t, presentation(t, "a.b.c")), mallory)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name  string
		token string
		opts  jose.VerifyOptions
		want  error
	}{
		{"valid", sign(t, hol, "https://v.example", "n1"), jose.VerifyOptions{Audience: "https://v.example", Nonce: "n1"}, nil},
		{"wrong audience", sign(t, hol, "https://other.example", "n1"), jose.VerifyOptions{Audience: "https://v.example", Nonce: "n1"}, vc.ErrProofOptions},
		{"wrong nonce", sign(t, hol, "https://v.example", "n0"), jose.VerifyOptions{Audience: "https://v.example", Nonce: "n1"}, vc.ErrProofOptions},
		{"no audience", sign(t, hol, "", "n1"), jose.VerifyOptions{Audience: "https://v.example"}, vc.ErrProofOptions},
		{"no nonce", sign(t, hol, "https://v.example", ""), jose.VerifyOptions{Nonce: "n1"}, vc.ErrProofOptions},
		{"signed by someone else than the holder", forged(t), jose.VerifyOptions{}, vc.ErrKey},
	}
	keys := keysOf(hol, mallory)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jose.Verify(ctx, tt.token, keys, tt.opts)
			wantErr(t, err, tt.want)
		})
	}
}
