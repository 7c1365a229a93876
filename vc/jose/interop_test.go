package jose_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// TestInterop verifies vc+jwt tokens that the jose npm package signed
// (testdata/interop/sign.mjs, outputs committed), so Credence reads what an
// independent implementation writes.
func TestInterop(t *testing.T) {
	b, err := os.ReadFile("testdata/interop/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	var jwks map[string]struct {
		did.JWK
		D string `json:"d"`
	}
	if err := json.Unmarshal(b, &jwks); err != nil {
		t.Fatal(err)
	}
	for alg, k := range jwks {
		t.Run(alg, func(t *testing.T) {
			public := did.JWK{Kty: k.Kty, Crv: k.Crv, X: k.X, Y: k.Y}
			pub, err := public.PublicKey()
			if err != nil {
				t.Fatal(err)
			}
			token := golden(t, "testdata/interop/license-"+strings.ToLower(alg)+".jwt")
			got, err := jose.Verify(context.Background(), token, vc.StaticKeys{k.Kid: pub}, jose.VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Alg != alg || got.Format != jose.FormatVC || !reflect.DeepEqual(got.Document, license(t)) {
				t.Errorf("alg %s format %s, document equal: %v", got.Header.Alg, got.Format, reflect.DeepEqual(got.Document, license(t)))
			}
		})
	}
}
