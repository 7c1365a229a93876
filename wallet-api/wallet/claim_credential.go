package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Details     []struct {
		Type        string   `json:"type"`
		Config      string   `json:"credential_configuration_id"`
		Identifiers []string `json:"credential_identifiers"`
	} `json:"authorization_details"`
}

// exchange gets the access token for the pre-authorized code.
func (cl *claim) exchange(ctx context.Context, txCode string) error {
	endpoint, err := cl.tokenEndpoint(ctx)
	if err != nil {
		return err
	}
	form := url.Values{"grant_type": {grantPreAuthorized}, "pre-authorized_code": {cl.grant.Code}}
	if cl.grant.TxCode != nil {
		form.Set("tx_code", txCode)
	}
	b, err := cl.c.do(ctx, call{method: http.MethodPost, endpoint: "token", url: endpoint,
		ctype: "application/x-www-form-urlencoded", body: []byte(form.Encode()), limit: maxTokenBytes})
	if err != nil {
		return err
	}
	var tr tokenResponse
	if err := json.Unmarshal(b, &tr); err != nil || tr.AccessToken == "" {
		return fmt.Errorf("%w: the token response has no access_token", ErrIssuer)
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return fmt.Errorf("%w: token_type %q (this wallet uses Bearer tokens)", ErrIssuer, tr.TokenType)
	}
	cl.token, cl.idents = tr.AccessToken, map[string][]string{}
	for _, d := range tr.Details {
		if d.Type == "openid_credential" && len(d.Identifiers) > 0 {
			cl.idents[d.Config] = d.Identifiers
		}
	}
	return nil
}

// receive requests one configuration (each of its credential identifiers
// when the token response gave some) and stores what comes back. A
// rejected nonce is retried once with a fresh one.
func (cl *claim) receive(ctx context.Context, config string) error {
	targets := []map[string]any{{"credential_configuration_id": config}}
	if ids := cl.idents[config]; len(ids) > 0 {
		targets = targets[:0]
		for _, id := range ids {
			targets = append(targets, map[string]any{"credential_identifier": id})
		}
	}
	for _, body := range targets {
		b, err := cl.requestCredential(ctx, config, body)
		var ie *IssuerError
		if errors.As(err, &ie) && ie.Code == "invalid_nonce" {
			b, err = cl.requestCredential(ctx, config, body)
		}
		if err != nil {
			return err
		}
		if err := cl.store(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// requestCredential sends a credential request, with a key proof when
// the configuration takes one.
func (cl *claim) requestCredential(ctx context.Context, config string, body map[string]any) ([]byte, error) {
	if len(cl.md.Configuration[config].ProofTypes) > 0 {
		proof, err := cl.proof(ctx)
		if err != nil {
			return nil, err
		}
		body["proofs"] = map[string]any{"jwt": []string{proof}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return cl.c.do(ctx, call{method: http.MethodPost, endpoint: "credential", url: cl.md.Credential,
		ctype: "application/json", bearer: cl.token, body: b, limit: maxCredentialResp})
}

// proof signs a key proof: typ openid4vci-proof+jwt, kid the holder's DID
// URL; aud the credential issuer, iat now and the c_nonce, without iss
// (the token was obtained anonymously).
func (cl *claim) proof(ctx context.Context) (string, error) {
	claims := map[string]any{"aud": cl.offer.Issuer, "iat": cl.c.Wallet.now().Unix()}
	if cl.md.Nonce != "" {
		b, err := cl.c.do(ctx, call{method: http.MethodPost, endpoint: "nonce", url: cl.md.Nonce, limit: maxTokenBytes})
		if err != nil {
			return "", err
		}
		var n struct {
			Nonce string `json:"c_nonce"`
		}
		if err := json.Unmarshal(b, &n); err != nil || n.Nonce == "" {
			return "", fmt.Errorf("%w: the nonce response has no c_nonce", ErrIssuer)
		}
		claims["nonce"] = n.Nonce
	}
	payload, err := vc.Marshal(claims)
	if err != nil {
		return "", err
	}
	return jose.Sign(ctx, jose.Header{Typ: proofTyp, Kid: cl.signer.VerificationMethod}, payload, cl.signer)
}

// store adds each credential of a credential response to the wallet.
func (cl *claim) store(ctx context.Context, b []byte) error {
	var resp struct {
		Credentials []struct {
			Credential json.RawMessage `json:"credential"`
		} `json:"credentials"`
		TransactionID string `json:"transaction_id"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("%w: the credential response: %w", ErrIssuer, err)
	}
	if resp.TransactionID != "" {
		return fmt.Errorf("%w: the issuer defers issuance, which this wallet does not support", ErrIssuer)
	}
	if len(resp.Credentials) == 0 {
		return fmt.Errorf("%w: the credential response has no credentials", ErrIssuer)
	}
	for _, c := range resp.Credentials {
		st, err := cl.c.Wallet.AddCredential(ctx, cl.holder, c.Credential)
		if err != nil {
			return err
		}
		cl.stored = append(cl.stored, st)
	}
	return nil
}
