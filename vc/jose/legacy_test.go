package jose_test

import (
	"context"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// vc11 is the credential of a VC 1.1 JWT's vc claim, as issuers put it:
// issuer, id, dates and subject id left to the registered claims.
func vc11() map[string]any {
	return map[string]any{
		"@context":          []any{vc.ContextV1},
		"type":              []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": map[string]any{"npi": "1234567893"},
	}
}

func TestVerifyVC11(t *testing.T) {
	ctx := context.Background()
	iss := signer(edKey(1), issuerDID+"#key-1")
	claims := map[string]any{
		"iss": issuerDID, "sub": holderDID, "jti": "urn:uuid:1",
		"nbf": 1262373804, "exp": 1893456000, "vc": vc11(),
	}
	for _, typ := range []string{"", "JWT"} {
		tok, err := jose.Sign(ctx, jose.Header{Typ: typ, Kid: "#key-1"}, mustMarshal(t, claims), iss)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jose.Verify(ctx, tok, keysOf(iss), jose.VerifyOptions{Now: now})
		if err != nil {
			t.Fatalf("typ %q: %v", typ, err)
		}
		c := vc.Credential(got.Document)
		if got.Format != jose.FormatVC11 || c.Issuer() != issuerDID || c.ID() != "urn:uuid:1" {
			t.Errorf("format %s issuer %s id %s", got.Format, c.Issuer(), c.ID())
		}
		if ids := c.SubjectIDs(); len(ids) != 1 || ids[0] != holderDID {
			t.Errorf("subject ids %v", ids)
		}
		if got.Document["issuanceDate"] != "2010-01-01T19:23:24Z" || got.Document["expirationDate"] != "2030-01-01T00:00:00Z" {
			t.Errorf("dates %v %v", got.Document["issuanceDate"], got.Document["expirationDate"])
		}
		if _, ok := got.Claims["vc"]; !ok {
			t.Error("Claims lacks the JWT claims")
		}
	}
}

func TestVerifyVC11Rejects(t *testing.T) {
	ctx := context.Background()
	iss := signer(edKey(1), issuerDID+"#key-1")
	base := func() map[string]any {
		return map[string]any{"iss": issuerDID, "sub": holderDID, "nbf": 1262373804, "vc": vc11()}
	}
	tests := []struct {
		name string
		edit func(c map[string]any)
		want error
	}{
		{"valid", func(map[string]any) {}, nil},
		{"issuer object agrees", func(c map[string]any) { c["vc"].(map[string]any)["issuer"] = map[string]any{"id": issuerDID} }, nil},
		{"issuer disagrees with iss", func(c map[string]any) { c["vc"].(map[string]any)["issuer"] = "did:example:mallory" }, vc.ErrMalformed},
		{"subject id disagrees with sub", func(c map[string]any) {
			c["vc"].(map[string]any)["credentialSubject"].(map[string]any)["id"] = "did:example:x"
		}, vc.ErrMalformed},
		{"no iss: issuer from the vc claim", func(c map[string]any) { delete(c, "iss"); c["vc"].(map[string]any)["issuer"] = issuerDID }, nil},
		{"no issuer at all", func(c map[string]any) { delete(c, "iss") }, vc.ErrMalformed},
		{"iss of another DID than kid", func(c map[string]any) { c["iss"] = "did:example:mallory" }, vc.ErrKey},
		{"vc and vp", func(c map[string]any) { c["vp"] = map[string]any{} }, vc.ErrMalformed},
		{"vc not an object", func(c map[string]any) { c["vc"] = "x" }, vc.ErrMalformed},
		{"iss not a string", func(c map[string]any) { c["iss"] = 7 }, vc.ErrMalformed},
		{"expired", func(c map[string]any) { c["exp"] = now.Unix() - 3600 }, vc.ErrProofOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(c)
			tok, err := jose.Sign(ctx, jose.Header{Typ: "JWT", Kid: iss.VerificationMethod}, mustMarshal(t, c), iss)
			if err != nil {
				t.Fatal(err)
			}
			_, err = jose.Verify(ctx, tok, keysOf(iss), jose.VerifyOptions{Now: now})
			wantErr(t, err, tt.want)
		})
	}
}

func TestVerifyVP11(t *testing.T) {
	ctx := context.Background()
	hol := signer(keyFor(t, "ES256", 2), holderDID+"#key-1")
	claims := map[string]any{
		"iss": holderDID, "aud": []any{"https://v.example"}, "nonce": "n1", "jti": "urn:uuid:vp",
		"vp": map[string]any{
			"@context":             []any{vc.ContextV1},
			"type":                 []any{"VerifiablePresentation"},
			"verifiableCredential": []any{"a.b.c"},
		},
	}
	tok, err := jose.Sign(ctx, jose.Header{Typ: "JWT", Kid: hol.VerificationMethod}, mustMarshal(t, claims), hol)
	if err != nil {
		t.Fatal(err)
	}
	keys := &purposeKeys{StaticKeys: keysOf(hol)}
	got, err := jose.Verify(ctx, tok, keys, jose.VerifyOptions{Now: now, Audience: "https://v.example", Nonce: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != jose.FormatVP11 || vc.Presentation(got.Document).Holder() != holderDID || got.Document["id"] != "urn:uuid:vp" {
		t.Errorf("format %s document %v", got.Format, got.Document)
	}
	if keys.purposes[0] != vc.PurposeAuthentication {
		t.Errorf("purpose %v", keys.purposes)
	}
	_, err = jose.Verify(ctx, tok, keysOf(hol), jose.VerifyOptions{Now: now, Audience: "https://v.example", Nonce: "n2"})
	wantErr(t, err, vc.ErrProofOptions)
}
