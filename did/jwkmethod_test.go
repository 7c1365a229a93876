package did

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
)

// From the did:jwk specification's examples.
const (
	specJWKP256   = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
	specJWKX25519 = "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9"
)

func TestJWKSpecExamples(t *testing.T) {
	doc, err := JWKDocument(MustParse(specJWKP256))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.VerificationMethod[0].ID; got != specJWKP256+"#0" {
		t.Errorf("vm id = %s", got)
	}
	for _, rel := range []string{"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation", "keyAgreement"} {
		if !doc.Authorizes(rel, "#0") {
			t.Errorf("P-256 did:jwk lacks %s", rel)
		}
	}
	pub, err := doc.VerificationMethod[0].PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	again, err := JWKDID(pub)
	if err != nil || again.String() != specJWKP256 {
		t.Errorf("JWKDID round trip = %s, %v", again, err)
	}
	x, err := JWKDocument(MustParse(specJWKX25519))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.AssertionMethod) != 0 || !x.Authorizes("keyAgreement", "#0") {
		t.Errorf("X25519 did:jwk must only allow key agreement: %+v", x)
	}
}

func TestJWKRoundTripAndRejects(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, pub := range []any{edPub, &ecKey.PublicKey} {
		d, err := JWKDID(pub)
		if err != nil {
			t.Fatal(err)
		}
		res, err := JWKMethod{}.Resolve(context.Background(), d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Document.Validate(); err != nil {
			t.Fatal(err)
		}
		got, _ := res.Document.VerificationMethod[0].PublicKey()
		if !samePublic(got, pub) {
			t.Errorf("%T: key does not round trip", pub)
		}
	}
	enc := func(s string) DID { return DID{Method: "jwk", ID: base64.RawURLEncoding.EncodeToString([]byte(s))} }
	bad := map[string]DID{
		"private key":  enc(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`),
		"not base64":   {Method: "jwk", ID: "%%%"},
		"not json":     enc(`not json`),
		"bad curve":    enc(`{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`),
		"unknown kty":  enc(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`),
		"off-curve":    enc(`{"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns"}`),
		"not did:jwk":  MustParse("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
		"oversize jwk": enc(`{"kty":"OKP","pad":"` + string(make([]byte, 3000)) + `"}`),
	}
	for name, d := range bad {
		if _, err := JWKDocument(d); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: err = %v, want ErrInvalidDID", name, err)
		}
	}
}

func samePublic(a, b any) bool {
	type eq interface {
		Equal(crypto.PublicKey) bool
	}
	x, ok := a.(eq)
	return ok && x.Equal(b)
}
