package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

type issuerMetadata struct {
	Issuer        string                    `json:"credential_issuer"`
	AuthServers   []string                  `json:"authorization_servers"`
	Credential    string                    `json:"credential_endpoint"`
	Nonce         string                    `json:"nonce_endpoint"`
	Configuration map[string]configMetadata `json:"credential_configurations_supported"`
}

type configMetadata struct {
	Format     string   `json:"format"`
	Binding    []string `json:"cryptographic_binding_methods_supported"`
	ProofTypes map[string]struct {
		Algs []string `json:"proof_signing_alg_values_supported"`
	} `json:"proof_types_supported"`
}

// wellKnown inserts a well-known path between the host and the path of an
// identifier (OpenID4VCI §12.2.2, RFC 8414 §3.1).
func wellKnown(id, suffix string) string {
	u, _ := url.Parse(id)
	u.Path = suffix + strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// readMetadata reads the credential issuer's metadata and finds the token
// endpoint in its authorization server's.
func (cl *claim) readMetadata(ctx context.Context) error {
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "metadata",
		url: wellKnown(cl.offer.Issuer, "/.well-known/openid-credential-issuer"), limit: maxMetadataBytes})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &cl.md); err != nil {
		return fmt.Errorf("%w: the issuer's metadata: %w", ErrIssuer, err)
	}
	if cl.md.Issuer != cl.offer.Issuer {
		return fmt.Errorf("%w: the metadata names credential_issuer %q, not %q", ErrIssuer, cl.md.Issuer, cl.offer.Issuer)
	}
	if err := cl.c.checkURL(cl.md.Credential); err != nil {
		return fmt.Errorf("%w: credential_endpoint: %w", ErrIssuer, err)
	}
	if cl.md.Nonce != "" {
		if err := cl.c.checkURL(cl.md.Nonce); err != nil {
			return fmt.Errorf("%w: nonce_endpoint: %w", ErrIssuer, err)
		}
	}
	for _, id := range cl.offer.Configs {
		cfg, ok := cl.md.Configuration[id]
		if !ok {
			return fmt.Errorf("%w: the issuer's metadata does not describe %q", ErrOffer, id)
		}
		if err := cl.checkConfig(id, cfg); err != nil {
			return err
		}
	}
	return nil
}

// checkConfig checks that the wallet can hold a configuration and prove
// its holder's key as the issuer asks.
func (cl *claim) checkConfig(id string, cfg configMetadata) error {
	if !slices.Contains(credentialFormats, cfg.Format) {
		return fmt.Errorf("%w: %s is in format %q, which this wallet does not hold", ErrOffer, id, cfg.Format)
	}
	method, _, _ := strings.Cut(strings.TrimPrefix(cl.did, "did:"), ":")
	if len(cfg.Binding) > 0 && !slices.Contains(cfg.Binding, "did:"+method) && !slices.Contains(cfg.Binding, "did") {
		return fmt.Errorf("%w: %s binds credentials to %v, not to the holder's did:%s", ErrOffer, id, cfg.Binding, method)
	}
	if len(cfg.ProofTypes) == 0 {
		return nil
	}
	jwt, ok := cfg.ProofTypes["jwt"]
	alg, err := cl.signer.Algorithm()
	if err != nil {
		return err
	}
	if !ok || !slices.Contains(jwt.Algs, alg) {
		return fmt.Errorf("%w: %s takes no jwt key proof signed with %s", ErrOffer, id, alg)
	}
	return nil
}

// tokenEndpoint finds the token endpoint in the authorization server's
// RFC 8414 metadata: the credential issuer's own, or the one of its
// authorization_servers the grant names (else the first).
func (cl *claim) tokenEndpoint(ctx context.Context) (string, error) {
	as := cl.offer.Issuer
	if servers := cl.md.AuthServers; len(servers) > 0 {
		as = servers[0]
		if hint := cl.grant.AuthServer; hint != "" {
			if !slices.Contains(servers, hint) {
				return "", fmt.Errorf("%w: the offer's authorization_server is not among the issuer's", ErrOffer)
			}
			as = hint
		}
	}
	if err := cl.c.checkURL(as); err != nil {
		return "", fmt.Errorf("%w: authorization server: %w", ErrIssuer, err)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodGet, endpoint: "authorization server metadata",
		url: wellKnown(as, "/.well-known/oauth-authorization-server"), limit: maxMetadataBytes})
	if err != nil {
		return "", err
	}
	var md struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(b, &md); err != nil || md.Issuer != as {
		return "", fmt.Errorf("%w: the authorization server's metadata does not name it as issuer %q", ErrIssuer, as)
	}
	if err := cl.c.checkURL(md.TokenEndpoint); err != nil {
		return "", fmt.Errorf("%w: token_endpoint: %w", ErrIssuer, err)
	}
	return md.TokenEndpoint, nil
}
