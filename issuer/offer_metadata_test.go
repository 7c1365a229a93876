package issuer

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestOfferMetadata(t *testing.T) {
	e := newOfferEnv(t)
	md, err := e.offers.Metadata(context.Background(), e.identity.ID)
	if err != nil {
		t.Fatal(err)
	}
	iss := testBase + "/issuers/" + e.identity.ID
	if md.CredentialIssuer != iss || md.CredentialEndpoint != iss+"/credential" || md.NonceEndpoint != iss+"/nonce" {
		t.Errorf("endpoints %+v", md)
	}
	if len(md.Configurations) != 3 {
		t.Errorf("configurations %v, want PatientIdentityCredential in three formats (not *)", md.Configurations)
	}
	for id, want := range map[string]string{"PatientIdentityCredential_di": "ldp_vc", "PatientIdentityCredential_jwt": "jwt_vc_json", "PatientIdentityCredential_sd-jwt": "dc+sd-jwt"} {
		c := md.Configurations[id]
		if c.Format != want || c.ProofTypes["jwt"].Algs == nil || len(c.BindingMethods) == 0 {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if c := md.Configurations["PatientIdentityCredential_sd-jwt"]; c.VCT != "https://w3id.org/credence/healthcare#PatientIdentityCredential" && !strings.HasSuffix(c.VCT, "PatientIdentityCredential") {
		t.Errorf("vct %q", c.VCT)
	}
	if c := md.Configurations["PatientIdentityCredential_di"]; c.Definition == nil || len(c.Definition.Context) != 2 || c.SigningAlgs[0] != "eddsa-rdfc-2022" {
		t.Errorf("ldp_vc definition %+v", c.Definition)
	}
	as, err := e.offers.AuthServer(context.Background(), e.identity.ID)
	if err != nil || as.Issuer != iss || as.TokenEndpoint != iss+"/token" || !as.Anonymous || as.GrantTypes[0] != GrantPreAuthorized {
		t.Errorf("authorization server %+v %v", as, err)
	}
	if _, err := e.offers.Metadata(context.Background(), "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}
