package issuer

import (
	"context"
	"errors"
	"time"
)

// TokenRequest is a token request of the pre-authorized code grant.
type TokenRequest struct {
	Code string
	// TxCode is the transaction code; HasTxCode tells an empty one from none.
	TxCode    string
	HasTxCode bool
}

// TokenResponse is the successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// Token exchanges a pre-authorized code for an access token, once. A
// missing or unexpected transaction code is invalid_request; an unknown,
// used, expired or burned code and a wrong transaction code are
// invalid_grant, and the MaxTxAttempts-th wrong transaction code burns the
// offer.
func (o *Offers) Token(ctx context.Context, tenantID string, req TokenRequest) (*TokenResponse, error) {
	if !validSecret(req.Code) {
		return nil, refuse(CodeInvalidGrant, "unknown pre-authorized_code")
	}
	id := offerID(req.Code)
	secret := randomString()
	now := o.svc.now().UTC()
	var outcome error
	err := o.update(ctx, id, func(rec *offerRecord) error {
		outcome = nil
		if rec.Tenant != tenantID {
			return refuse(CodeInvalidGrant, "unknown pre-authorized_code")
		}
		if err := rec.exchangeable(req, now); err != nil {
			return err
		}
		if rec.TxHash != "" && !equalHash(rec.TxHash, txHash(req.Code, req.TxCode)) {
			rec.Attempts++
			outcome = refuse(CodeInvalidGrant, "wrong tx_code (%d of %d attempts left)", MaxTxAttempts-rec.Attempts, MaxTxAttempts)
			if rec.Attempts >= MaxTxAttempts {
				rec.State, rec.Sealed = stateBurned, nil
				outcome = refuse(CodeInvalidGrant, "wrong tx_code; too many attempts: the offer is withdrawn")
			}
			return nil
		}
		tmpl, err := openTemplate(req.Code, id, rec.Sealed)
		if err != nil {
			return err
		}
		if rec.Sealed, err = sealTemplate(secret, id, tmpl); err != nil {
			return err
		}
		rec.State, rec.TokenHash, rec.TokenExpires = stateToken, tokenHash(secret), now.Add(AccessTokenTTL).Truncate(time.Second)
		return nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, refuse(CodeInvalidGrant, "unknown pre-authorized_code")
	case err != nil:
		return nil, err
	case outcome != nil:
		return nil, outcome
	}
	return &TokenResponse{AccessToken: id + "." + secret, TokenType: "Bearer", ExpiresIn: int(AccessTokenTTL.Seconds())}, nil
}

// exchangeable checks that the record's code may be exchanged now with req.
func (rec *offerRecord) exchangeable(req TokenRequest, now time.Time) error {
	switch {
	case rec.State == stateBurned:
		return refuse(CodeInvalidGrant, "the offer was withdrawn after too many wrong tx_code attempts")
	case rec.State != stateOffered:
		return refuse(CodeInvalidGrant, "the pre-authorized_code was already used")
	case !now.Before(rec.Expires):
		return refuse(CodeInvalidGrant, "the pre-authorized_code expired")
	case rec.TxHash != "" && !req.HasTxCode:
		return refuse(CodeInvalidRequest, "this offer requires a tx_code")
	case rec.TxHash == "" && req.HasTxCode:
		return refuse(CodeInvalidRequest, "this offer takes no tx_code")
	}
	return nil
}
