package issuer

import (
	"context"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
)

// IssuerMetadata is the Credential Issuer Metadata (OpenID4VCI §12.2). It
// has no authorization_servers: the credential issuer is its own
// authorization server, whose token endpoint AuthServerMetadata publishes.
type IssuerMetadata struct {
	CredentialIssuer   string                             `json:"credential_issuer"`
	CredentialEndpoint string                             `json:"credential_endpoint"`
	NonceEndpoint      string                             `json:"nonce_endpoint"`
	Display            []Display                          `json:"display,omitempty"`
	Configurations     map[string]CredentialConfiguration `json:"credential_configurations_supported"`
}

// Display is a display object of the metadata.
type Display struct {
	Name        string `json:"name"`
	Locale      string `json:"locale,omitempty"`
	Description string `json:"description,omitempty"`
}

// CredentialConfiguration describes one credential an issuer offers: a
// type in a format.
type CredentialConfiguration struct {
	Format         string                       `json:"format"`
	Definition     *CredentialDefinition        `json:"credential_definition,omitempty"`
	VCT            string                       `json:"vct,omitempty"`
	SigningAlgs    []string                     `json:"credential_signing_alg_values_supported,omitempty"`
	BindingMethods []string                     `json:"cryptographic_binding_methods_supported"`
	ProofTypes     map[string]ProofTypeMetadata `json:"proof_types_supported"`
	Metadata       *CredentialMetadata          `json:"credential_metadata,omitempty"`
}

// CredentialDefinition is the W3C credential's @context (ldp_vc only) and type.
type CredentialDefinition struct {
	Context []string `json:"@context,omitempty"`
	Type    []string `json:"type"`
}

// ProofTypeMetadata lists the algorithms of a proof type.
type ProofTypeMetadata struct {
	Algs []string `json:"proof_signing_alg_values_supported"`
}

// CredentialMetadata holds a configuration's display.
type CredentialMetadata struct {
	Display []Display `json:"display,omitempty"`
}

// AuthServerMetadata is the RFC 8414 metadata of the tenant's
// authorization server (the credential issuer itself).
type AuthServerMetadata struct {
	Issuer        string   `json:"issuer"`
	TokenEndpoint string   `json:"token_endpoint"`
	GrantTypes    []string `json:"grant_types_supported"`
	AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
	Anonymous     bool     `json:"pre-authorized_grant_anonymous_access_supported"`
}

// offerFormats maps the formats an offer may use to OpenID4VCI format
// identifiers, in metadata order.
var offerFormats = []struct {
	format secure.Format
	id     string
}{{secure.DataIntegrity, "ldp_vc"}, {secure.JWT, "jwt_vc_json"}, {secure.SDJWT, "dc+sd-jwt"}}

// bindingMethods are the DID methods a key proof's kid may use.
var bindingMethods = []string{"did:key", "did:jwk", "did:web", "did:credence"}

// Metadata is a tenant's credential issuer metadata: a configuration
// "<type>_<format>" for each type the tenant lists by name, in di (ldp_vc,
// Ed25519 tenants only), jwt (jwt_vc_json) and sd-jwt (dc+sd-jwt).
func (o *Offers) Metadata(ctx context.Context, tenantID string) (*IssuerMetadata, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	alg, err := o.svc.signingAlg(ctx, t)
	if err != nil {
		return nil, err
	}
	iss := o.IssuerURL(t.ID)
	md := &IssuerMetadata{CredentialIssuer: iss, CredentialEndpoint: iss + PathCredential, NonceEndpoint: iss + PathNonce,
		Display: []Display{{Name: t.Name}}, Configurations: map[string]CredentialConfiguration{}}
	for _, typ := range t.Types {
		if typ == AnyType {
			continue
		}
		for _, f := range offerFormats {
			if f.format == secure.DataIntegrity && alg != "EdDSA" {
				continue
			}
			md.Configurations[configID(typ, f.format)] = configuration(typ, f.id, alg)
		}
	}
	return md, nil
}

func configuration(typ, format, alg string) CredentialConfiguration {
	c := CredentialConfiguration{Format: format, SigningAlgs: []string{alg}, BindingMethods: bindingMethods,
		ProofTypes: map[string]ProofTypeMetadata{"jwt": {Algs: proofAlgs}}}
	d := Display{Name: words(typ)}
	if ht, ok := healthcare.Lookup(typ); ok {
		d.Description = ht.Description
	}
	c.Metadata = &CredentialMetadata{Display: []Display{d}}
	switch format {
	case "ldp_vc":
		c.Definition = &CredentialDefinition{Context: contextOf(typ), Type: []string{vc.TypeCredential, typ}}
		c.SigningAlgs = []string{"eddsa-rdfc-2022"}
	case "jwt_vc_json":
		c.Definition = &CredentialDefinition{Type: []string{vc.TypeCredential, typ}}
	default:
		c.VCT = vctOf(typ)
	}
	return c
}

// vctOf is the SD-JWT VC type secure.Engine gives a credential type.
func vctOf(typ string) string {
	if _, ok := healthcare.Lookup(typ); ok {
		return healthcare.Vocab + typ
	}
	return "urn:credence:type:" + typ
}

// words splits a type name: "MedicalLicenseCredential" → "Medical License
// Credential".
func words(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' && s[i-1] >= 'a' && s[i-1] <= 'z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// AuthServer is a tenant's authorization server metadata.
func (o *Offers) AuthServer(ctx context.Context, tenantID string) (*AuthServerMetadata, error) {
	t, err := o.svc.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	iss := o.IssuerURL(t.ID)
	return &AuthServerMetadata{Issuer: iss, TokenEndpoint: iss + PathToken, GrantTypes: []string{GrantPreAuthorized},
		AuthMethods: []string{"none"}, Anonymous: true}, nil
}

// contextOf is the @context of a type's credentials.
func contextOf(typ string) []string {
	if _, ok := healthcare.Lookup(typ); ok {
		return []string{vc.ContextV2, healthcare.ContextURL}
	}
	return []string{vc.ContextV2}
}
