package sdjwt_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/sdjwt"
)

var b64 = base64.RawURLEncoding

// disc encodes a Disclosure and its digest, as a (possibly hostile) issuer
// would.
func disc(t *testing.T, parts ...any) (raw, digest string) {
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	raw = b64.EncodeToString(b)
	sum := sha256.Sum256([]byte(raw))
	return raw, b64.EncodeToString(sum[:])
}

// craft signs an arbitrary SD-JWT payload as the issuer, with the
// registered claims a valid one has unless the payload sets them.
func (p parties) craft(t *testing.T, payload map[string]any, disclosures ...string) string {
	base := map[string]any{"iss": issuerDID, "vct": vct, "_sd_alg": "sha-256"}
	for k, v := range base {
		if _, ok := payload[k]; !ok {
			payload[k] = v
		}
	}
	b, _ := json.Marshal(payload)
	jwt, err := jose.Sign(context.Background(), jose.Header{Typ: "dc+sd-jwt", Kid: p.issuer.VerificationMethod}, b, p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return jwt + "~" + strings.Join(append(disclosures, ""), "~")
}

func jwtPayload(t *testing.T, s string) map[string]any {
	parts := strings.Split(s[:strings.IndexByte(s, '~')], ".")
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerifyRejects(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := p.issue(t)
	parts := strings.Split(issued, "~") // jwt, 13 disclosures, ""
	jwt, ds := parts[0], parts[1:len(parts)-1]
	pres := p.present(t, issued, "/given_name", "/birthdate")
	presParts := strings.Split(pres, "~") // jwt, 2 disclosures, kb
	kb := presParts[len(presParts)-1]
	mallory := parties{issuer: p.issuer, holder: vc.Signer{Key: edKey(7), VerificationMethod: "did:example:mallory#k"}}
	otherIssued := newParties(t, "ES256").issue(t)

	dName, hName := disc(t, "salt-1", "given_name", "Mallory")
	dSD, hSD := disc(t, "salt-2", "_sd", []any{})
	dExp, hExp := disc(t, "salt-3", "exp", 1)
	dElem, hElem := disc(t, "salt-4", "x")
	dA, hA := disc(t, "salt-5", "a", 1)
	dJWK, hJWK := disc(t, "salt-6", "jwk", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"})

	tests := []struct {
		name  string
		token string
		opts  sdjwt.VerifyOptions
		want  error
	}{
		{"issued", issued, sdjwt.VerifyOptions{Now: now}, nil},
		{"presented", pres, kbOptions(), nil},
		{"tampered disclosure", jwt + "~" + ds[0][:len(ds[0])-2] + "Zz~", sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"disclosure with another value", jwt + "~" + revalued(t, ds[4], "Mallory") + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"disclosure of another credential", jwt + "~" + strings.Split(otherIssued, "~")[1] + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"disclosure twice", jwt + "~" + ds[0] + "~" + ds[0] + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"empty disclosure", jwt + "~~" + ds[0] + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"no KB when required", strings.Join(presParts[:len(presParts)-1], "~") + "~", kbOptions(), vc.ErrProofOptions},
		{"KB required, no nonce expected", pres, sdjwt.VerifyOptions{Now: now, KeyBinding: true, Audience: verifier}, vc.ErrProofOptions},
		{"wrong nonce", pres, sdjwt.VerifyOptions{Now: now, KeyBinding: true, Audience: verifier, Nonce: "other"}, vc.ErrProofOptions},
		{"wrong audience", pres, sdjwt.VerifyOptions{Now: now, KeyBinding: true, Audience: "https://evil.example", Nonce: nonce}, vc.ErrProofOptions},
		{"KB too old", pres, sdjwt.VerifyOptions{Now: now.Add(10 * time.Minute), KeyBinding: true, Audience: verifier, Nonce: nonce}, vc.ErrProofOptions},
		{"KB from the future", pres, sdjwt.VerifyOptions{Now: now.Add(-10 * time.Minute), KeyBinding: true, Audience: verifier, Nonce: nonce}, vc.ErrProofOptions},
		{"KB over other disclosures (sd_hash)", jwt + "~" + ds[4] + "~" + kb, kbOptions(), vc.ErrSignature},
		{"KB with a disclosure dropped (sd_hash)", presParts[0] + "~" + presParts[1] + "~" + kb, kbOptions(), vc.ErrSignature},
		{"KB by another key", kbBy(t, issued, mallory.holder), kbOptions(), vc.ErrSignature},
		{"KB by the holder, built by hand", kbBy(t, issued, p.holder), kbOptions(), nil},
		{"KB typ", pres[:strings.LastIndexByte(pres, '~')+1] + retyped(t, p, kb), kbOptions(), vc.ErrMalformed},
		{"issuer signature", tamperSig(jwt) + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrSignature},
		{"expired", issued, sdjwt.VerifyOptions{Now: now.AddDate(2, 0, 0)}, vc.ErrProofOptions},
		{"disclosure name collides", p.craft(t, map[string]any{"given_name": "Maria", "_sd": []any{hName}}, dName), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"disclosure named _sd", p.craft(t, map[string]any{"_sd": []any{hSD}}, dSD), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"selectively disclosed exp", p.craft(t, map[string]any{"_sd": []any{hExp}}, dExp), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"selectively disclosed cnf.jwk", p.craft(t, map[string]any{"cnf": map[string]any{"_sd": []any{hJWK}}}, dJWK), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"digest twice", p.craft(t, map[string]any{"_sd": []any{hA}, "o": map[string]any{"_sd": []any{hA}}}, dA), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"undisclosed digest twice", p.craft(t, map[string]any{"_sd": []any{hA, hA}}), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"element disclosure in _sd", p.craft(t, map[string]any{"_sd": []any{hElem}}, dElem), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"member disclosure in an array", p.craft(t, map[string]any{"a": []any{map[string]any{"...": hA}}}, dA), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"... with other members", p.craft(t, map[string]any{"a": []any{map[string]any{"...": hElem, "b": 1}}}, dElem), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"_sd not an array", p.craft(t, map[string]any{"_sd": "x"}), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"_sd_alg sha-512", p.craft(t, map[string]any{"_sd_alg": "sha-512"}), sdjwt.VerifyOptions{Now: now}, vc.ErrUnsupported},
		{"no vct", p.craft(t, map[string]any{"vct": ""}), sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"iss of another DID than kid", p.craft(t, map[string]any{"iss": "did:example:mallory"}), sdjwt.VerifyOptions{Now: now}, vc.ErrKey},
		{"legacy typ vc+sd-jwt", retypedIssuer(t, p, "vc+sd-jwt"), sdjwt.VerifyOptions{Now: now}, nil},
		{"typ JWT", retypedIssuer(t, p, "JWT"), sdjwt.VerifyOptions{Now: now}, vc.ErrUnsupported},
		{"alg none", noneJWT(t) + "~", sdjwt.VerifyOptions{Now: now}, vc.ErrUnsupported},
		{"not an SD-JWT", jwt, sdjwt.VerifyOptions{Now: now}, vc.ErrMalformed},
		{"too large", issued, sdjwt.VerifyOptions{Now: now, MaxBytes: 100}, vc.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sdjwt.Verify(context.Background(), tt.token, p.keys, tt.opts)
			t.Log(err)
			wantErr(t, err, tt.want)
		})
	}
}

// kbBy presents given_name with a KB-JWT that signer makes by hand: a
// valid sd_hash, aud and nonce, but the key may not be the cnf key.
func kbBy(t *testing.T, issued string, signer vc.Signer) string {
	sel, err := sdjwt.Select(issued, []string{"/given_name"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(sel))
	b, _ := json.Marshal(map[string]any{"iat": now.Unix(), "aud": verifier, "nonce": nonce, "sd_hash": b64.EncodeToString(sum[:])})
	kb, err := jose.Sign(context.Background(), jose.Header{Typ: "kb+jwt"}, b, signer)
	if err != nil {
		t.Fatal(err)
	}
	return sel + kb
}

// revalued changes the value of a Disclosure, keeping salt and name.
func revalued(t *testing.T, raw string, v any) string {
	b, err := b64.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	var a []any
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	a[len(a)-1] = v
	out, _ := disc(t, a...)
	return out
}

func tamperSig(jwt string) string {
	b := []byte(jwt)
	i := len(b) - 5
	b[i] = map[bool]byte{true: 'B', false: 'A'}[b[i] == 'A']
	return string(b)
}

// retyped re-signs a KB-JWT with another typ.
func retyped(t *testing.T, p parties, kb string) string {
	j, err := jose.Parse(kb, 0)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jose.Sign(context.Background(), jose.Header{Typ: "JWT"}, j.Payload, p.holder)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// retypedIssuer issues an SD-JWT without disclosures under another typ.
func retypedIssuer(t *testing.T, p parties, typ string) string {
	b, _ := json.Marshal(map[string]any{"iss": issuerDID, "vct": vct})
	jwt, err := jose.Sign(context.Background(), jose.Header{Typ: typ, Kid: p.issuer.VerificationMethod}, b, p.issuer)
	if err != nil {
		t.Fatal(err)
	}
	return jwt + "~"
}

func noneJWT(t *testing.T) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "dc+sd-jwt", "kid": issuerDID + "#key-1"})
	b, _ := json.Marshal(map[string]any{"iss": issuerDID, "vct": vct})
	return b64.EncodeToString(h) + "." + b64.EncodeToString(b) + ".AA"
}
