package issuer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// CredentialRequest is a credential request (OpenID4VCI §8.2) as decoded
// by the HTTP layer.
type CredentialRequest struct {
	ConfigurationID string
	Identifier      string
	// Proofs is the proofs object: one proof type with a non-empty array.
	Proofs map[string]any
	// Encryption reports a credential_response_encryption member.
	Encryption bool
}

// CredentialResponse is the immediate credential response.
type CredentialResponse struct {
	Credentials []IssuedCredential `json:"credentials"`
}

// IssuedCredential is one credential of a response: a JSON object
// (ldp_vc) or a compact token (jwt_vc_json, dc+sd-jwt).
type IssuedCredential struct {
	Credential any `json:"credential"`
}

// Credential answers a credential request made with an access token of
// Token: it verifies the one jwt key proof (see verifyProof), issues the
// offered credential with credentialSubject.id the proof's DID through
// Service.Issue, and marks the offer redeemed, so each offer gives one
// credential. Refusals are *ProtocolError; a credential Issue rejects
// (e.g. a license past its expiry) is credential_request_denied.
func (o *Offers) Credential(ctx context.Context, tenantID, accessToken string, req CredentialRequest) (*CredentialResponse, error) {
	now := o.svc.now().UTC()
	id, secret, rec, err := o.tokenOffer(ctx, tenantID, accessToken, now)
	if err != nil {
		return nil, err
	}
	if err := checkCredentialRequest(req, rec.Config); err != nil {
		return nil, err
	}
	proof, err := proofJWT(req.Proofs)
	if err != nil {
		return nil, err
	}
	holder, pub, nonce, err := o.verifyProof(ctx, tenantID, proof, now)
	if err != nil {
		return nil, err
	}
	if rec.Format == string(secure.SDJWT) {
		if err := o.checkBinding(ctx, holder, pub); err != nil {
			return nil, err
		}
	}
	if err := o.useNonce(ctx, nonce, now); err != nil {
		return nil, err
	}
	tmpl, err := o.claim(ctx, id, secret, now)
	if err != nil {
		return nil, err
	}
	cred, err := o.issue(ctx, tenantID, id, tmpl, holder)
	if err != nil {
		return nil, err
	}
	return &CredentialResponse{Credentials: []IssuedCredential{{Credential: cred}}}, nil
}

// tokenOffer finds the offer of an access token that is valid now.
func (o *Offers) tokenOffer(ctx context.Context, tenantID, token string, now time.Time) (string, string, offerRecord, error) {
	id, secret, ok := strings.Cut(token, ".")
	invalid := refuse(CodeInvalidToken, "the access token is not valid")
	if !ok || !validSecret(secret) {
		return "", "", offerRecord{}, invalid
	}
	rec, err := o.load(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && (rec.Tenant != tenantID || !equalHash(rec.TokenHash, tokenHash(secret)))) {
		return "", "", offerRecord{}, invalid
	}
	switch {
	case err != nil:
		return "", "", offerRecord{}, err
	case rec.State != stateToken:
		return "", "", offerRecord{}, refuse(CodeInvalidToken, "the access token was used: an offer gives one credential")
	case !now.Before(rec.TokenExpires):
		return "", "", offerRecord{}, refuse(CodeInvalidToken, "the access token expired")
	}
	return id, secret, rec, nil
}

func checkCredentialRequest(req CredentialRequest, config string) error {
	switch {
	case req.Encryption:
		return refuse(CodeInvalidEncryption, "this issuer does not encrypt credential responses")
	case req.Identifier != "":
		return refuse(CodeInvalidCredentialRequest, "credential_identifier is only for authorization_details, which this issuer does not return: send credential_configuration_id")
	case req.ConfigurationID == "":
		return refuse(CodeInvalidCredentialRequest, "credential_configuration_id is required")
	case req.ConfigurationID != config:
		return refuse(CodeUnknownConfiguration, "the access token is for credential configuration %s only", config)
	}
	return nil
}

// claim moves the offer from token to issuing (so a concurrent request
// issues nothing) and opens its template.
func (o *Offers) claim(ctx context.Context, id, secret string, now time.Time) (IssueRequest, error) {
	var sealed []byte
	err := o.update(ctx, id, func(rec *offerRecord) error {
		if rec.State != stateToken || !equalHash(rec.TokenHash, tokenHash(secret)) || !now.Before(rec.TokenExpires) {
			return refuse(CodeInvalidToken, "the access token was used: an offer gives one credential")
		}
		rec.State, sealed = stateIssuing, rec.Sealed
		return nil
	})
	if err != nil {
		return IssueRequest{}, err
	}
	tmpl, err := openTemplate(secret, id, sealed)
	if err != nil {
		o.release(ctx, id)
		return IssueRequest{}, err
	}
	return tmpl, nil
}

// release returns a claimed offer to the token state after a failure.
func (o *Offers) release(ctx context.Context, id string) {
	_ = o.update(context.WithoutCancel(ctx), id, func(rec *offerRecord) error {
		if rec.State == stateIssuing {
			rec.State = stateToken
		}
		return nil
	})
}

// issue issues the template to holder and marks the offer redeemed.
func (o *Offers) issue(ctx context.Context, tenantID, id string, tmpl IssueRequest, holder string) (any, error) {
	subject := vc.Credential(tmpl.Credential).Subjects()
	if len(subject) != 1 {
		o.release(ctx, id)
		return nil, errors.New("issuer: the offer template lost its subject")
	}
	subject[0]["id"] = holder
	out, err := o.svc.Issue(ctx, tenantID, tmpl)
	var rej *Rejection
	switch {
	case errors.As(err, &rej) || errors.Is(err, ErrNotFound):
		o.release(ctx, id)
		return nil, refuse(CodeDenied, "the credential cannot be issued: %v", err)
	case err != nil:
		o.release(ctx, id)
		return nil, err
	}
	now := o.svc.now().UTC().Truncate(time.Second)
	// The credential is issued and in the inventory: if marking the offer
	// fails, it stays "issuing", which issues nothing more.
	_ = o.update(context.WithoutCancel(ctx), id, func(rec *offerRecord) error {
		rec.State, rec.Sealed, rec.CredentialID, rec.Redeemed = stateRedeemed, nil, out.Record.ID, now
		return nil
	})
	return compact(out.Credential), nil
}

// compact is the token of an enveloped credential (jwt_vc_json and
// dc+sd-jwt credentials are compact strings), or the credential itself.
func compact(secured any) any {
	m, ok := secured.(map[string]any)
	if !ok || !vc.Credential(m).HasType(vc.TypeEnvelopedCredential) {
		return secured
	}
	id, _ := m["id"].(string)
	if _, tok, ok := strings.Cut(id, ","); ok && strings.HasPrefix(id, "data:") {
		return tok
	}
	return secured
}
