package issuer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// TestOfferProofRefused sends bad proofs on one access token: none spends
// it, and a good proof then succeeds.
func TestOfferProofRefused(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	tn, h, other := e.board, newHolderKey(t), newHolderKey(t)
	config := "MedicalLicenseCredential_di"
	tok := e.token(t, tn, e.create(t, tn, template(t, "MedicalLicenseCredential", "di")))

	// A nonce used by another redemption.
	used := e.nonce(t, tn)
	prior := e.token(t, tn, e.create(t, tn, template(t, "MedicalLicenseCredential", "di")))
	if _, err := e.offers.Credential(ctx, tn.ID, prior, request(config, e.proof(t, h, tn, used, nil))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		proof func() string
		want  string
	}{
		{"wrong aud", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["aud"] = testBase + "/issuers/someone-else" })
		}, CodeInvalidProof},
		{"aud as the tenant DID", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["aud"] = tn.DID })
		}, CodeInvalidProof},
		{"stale iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["iat"] = e.now.Add(-ProofMaxAge - time.Second).Unix() })
		}, CodeInvalidProof},
		{"future iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { c["iat"] = e.now.Add(2 * ProofSkew).Unix() })
		}, CodeInvalidProof},
		{"no iat", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { delete(c, "iat") })
		}, CodeInvalidProof},
		{"no nonce", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(_ *jose.Header, c map[string]any) { delete(c, "nonce") })
		}, CodeInvalidProof},
		{"reused nonce", func() string { return e.proof(t, h, tn, used, nil) }, CodeInvalidNonce},
		{"forged nonce", func() string {
			return e.proof(t, h, tn, base64.RawURLEncoding.EncodeToString(make([]byte, 40)), nil)
		}, CodeInvalidNonce},
		{"nonce of another tenant", func() string { return e.proof(t, h, tn, e.nonce(t, e.identity), nil) }, CodeInvalidNonce},
		{"nonce under another key", func() string {
			other := NewOffers(e.svc, nil, testBase, bytes.Repeat([]byte{0xa3}, NonceKeyBytes))
			n, err := other.Nonce(context.Background(), tn.ID)
			if err != nil {
				t.Fatal(err)
			}
			return e.proof(t, h, tn, n, nil)
		}, CodeInvalidNonce},
		{"wrong typ", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Typ = "JWT" })
		}, CodeInvalidProof},
		{"no kid", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = "" })
		}, CodeInvalidProof},
		{"kid not a DID URL", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = "key-1" })
		}, CodeInvalidProof},
		{"key not of the kid's DID", func() string {
			return e.proof(t, h, tn, e.nonce(t, tn), func(hdr *jose.Header, _ map[string]any) { hdr.Kid = other.signer.VerificationMethod })
		}, CodeInvalidProof},
		{"jwk header", func() string { return withHeader(t, e.proof(t, h, tn, e.nonce(t, tn), nil), `"jwk":{"kty":"OKP"}`) }, CodeInvalidProof},
		{"alg none", func() string { return unsigned(t, e.proof(t, h, tn, e.nonce(t, tn), nil)) }, CodeInvalidProof},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.offers.Credential(ctx, tn.ID, tok, request(config, c.proof()))
			if code(err) != c.want {
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}

	// Malformed requests.
	good := func() string { return e.proof(t, h, tn, e.nonce(t, tn), nil) }
	for _, c := range []struct {
		name string
		req  CredentialRequest
		want string
	}{
		{"no proofs", CredentialRequest{ConfigurationID: config}, CodeInvalidProof},
		{"two proofs", request(config, good(), good()), CodeInvalidCredentialRequest},
		{"di_vp proof", CredentialRequest{ConfigurationID: config, Proofs: map[string]any{"di_vp": []any{map[string]any{}}}}, CodeInvalidProof},
		{"another configuration", request("MedicalLicenseCredential_jwt", good()), CodeUnknownConfiguration},
		{"no configuration", request("", good()), CodeInvalidCredentialRequest},
		{"credential_identifier", CredentialRequest{Identifier: "x", Proofs: request("", good()).Proofs}, CodeInvalidCredentialRequest},
		{"response encryption", CredentialRequest{ConfigurationID: config, Encryption: true, Proofs: request("", good()).Proofs}, CodeInvalidEncryption},
	} {
		if _, err := e.offers.Credential(ctx, tn.ID, tok, c.req); code(err) != c.want {
			t.Errorf("%s: got %v, want %s", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"", "x.y", tok + "x", strings.Replace(tok, ".", ".A", 1)} {
		if _, err := e.offers.Credential(ctx, tn.ID, bad, request(config, good())); code(err) != CodeInvalidToken {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if _, err := e.offers.Credential(ctx, e.identity.ID, tok, request(config, good())); code(err) != CodeInvalidToken {
		t.Errorf("the token at another tenant: %v", err)
	}

	if _, err := e.offers.Credential(ctx, tn.ID, tok, request(config, good())); err != nil {
		t.Errorf("a good proof after the refused ones: %v", err)
	}
}

// withHeader adds members to a token's protected header (its signature
// no longer matters: the header is refused first).
func withHeader(t testing.TB, tok, members string) string {
	t.Helper()
	parts := strings.SplitN(tok, ".", 2)
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	h = append(h[:len(h)-1], []byte(","+members+"}")...)
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1]
}

// unsigned rewrites a token's alg to none.
func unsigned(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	h = []byte(strings.Replace(string(h), `"alg":"EdDSA"`, `"alg":"none"`, 1))
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
}

// TestOfferSDJWTBinding: an SD-JWT VC binds the DID's first
// authentication key (a P-256 did:jwk here); a proof by another key of the
// DID is refused.
func TestOfferSDJWTBinding(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	tn := e.identity
	k1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d, err := did.JWKDID(k1.Public())
	if err != nil {
		t.Fatal(err)
	}
	h := holderKey{did: d.String(), signer: vc.Signer{Key: k1, VerificationMethod: d.String() + "#0"}}
	tok := e.token(t, tn, e.create(t, tn, template(t, "PatientIdentityCredential", "sd-jwt")))
	resp, err := e.offers.Credential(ctx, tn.ID, tok, request("PatientIdentityCredential_sd-jwt", e.proof(t, h, tn, e.nonce(t, tn), nil)))
	if err != nil {
		t.Fatalf("ES256 did:jwk holder: %v", err)
	}
	if v := e.verify(t, resp.Credentials[0].Credential); v.Credential.SubjectIDs()[0] != h.did {
		t.Errorf("subject %v", v.Credential.SubjectIDs())
	}

	// A second key of a DID (here as a resolver would find it in a
	// did:web document) proves possession, but is not the key the SD-JWT
	// binds: refused.
	second := newHolderKey(t)
	holder := newHolderKey(t)
	vm := holder.did + "#key-2"
	e.offers.keys = fakeProofKeys{vm: second.signer.Key.Public()}
	signed := holderKey{did: holder.did, signer: vc.Signer{Key: second.signer.Key, VerificationMethod: vm}}
	tok = e.token(t, tn, e.create(t, tn, template(t, "PatientIdentityCredential", "sd-jwt")))
	if _, err := e.offers.Credential(ctx, tn.ID, tok, request("PatientIdentityCredential_sd-jwt", e.proof(t, signed, tn, e.nonce(t, tn), nil))); code(err) != CodeInvalidProof {
		t.Errorf("proof by a key the SD-JWT does not bind: %v", err)
	}
}

type fakeProofKeys map[string]crypto.PublicKey

func (f fakeProofKeys) PublicKey(_ context.Context, vm, _ string) (crypto.PublicKey, error) {
	if k, ok := f[vm]; ok {
		return k, nil
	}
	return nil, vc.ErrKey
}
