package sdjwt

import (
	"context"
	"crypto"
	"fmt"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// verifyKB checks the Key Binding JWT (RFC 9901 §7.3 step 5): typ kb+jwt,
// signed by the cnf key of the processed payload, iat within KBMaxAge, aud
// and nonce as expected, sd_hash over the presented SD-JWT.
func verifyKB(t *token, claims map[string]any, o VerifyOptions) error {
	j, err := jose.Parse(t.kb, 0)
	if err != nil {
		return fmt.Errorf("KB-JWT: %w", err)
	}
	if typeOf(j.Header.Typ) != TypeKeyBinding {
		return fmt.Errorf("%w: KB-JWT typ %q (want %s)", vc.ErrMalformed, j.Header.Typ, TypeKeyBinding)
	}
	if err := checkAlg(j.Header.Alg); err != nil {
		return err
	}
	pub, err := holderKey(claims)
	if err != nil {
		return err
	}
	if err := j.Verify(pub); err != nil {
		return fmt.Errorf("KB-JWT: %w", err)
	}
	kc, err := vc.DecodeObject(j.Payload)
	if err != nil {
		return fmt.Errorf("KB-JWT payload: %w", err)
	}
	if err := checkKBClaims(kc, o); err != nil {
		return err
	}
	if h, _ := kc["sd_hash"].(string); h != sdHash(t.presented) {
		return fmt.Errorf("%w: KB-JWT sd_hash does not match the presented SD-JWT", vc.ErrSignature)
	}
	return nil
}

// checkKBClaims checks iat, aud, nonce and any exp and nbf.
func checkKBClaims(kc map[string]any, o VerifyOptions) error {
	iat, ok, err := jose.NumericDate(kc, "iat")
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: KB-JWT without iat", vc.ErrMalformed)
	}
	maxAge := o.KBMaxAge
	if maxAge == 0 {
		maxAge = DefaultKBMaxAge
	}
	oldest := o.now().Add(-maxAge - o.Skew)
	if iat < float64(oldest.Unix()) {
		return fmt.Errorf("%w: KB-JWT is older than %s", vc.ErrProofOptions, maxAge)
	}
	if err := jose.CheckTimes(kc, o.now(), o.Skew); err != nil {
		return err
	}
	aud, audOK := kc["aud"].(string)
	nonce, nonceOK := kc["nonce"].(string)
	if !audOK || !nonceOK {
		return fmt.Errorf("%w: KB-JWT needs aud and nonce strings", vc.ErrMalformed)
	}
	if o.Audience != "" && aud != o.Audience {
		return fmt.Errorf("%w: KB-JWT aud %q, want %q", vc.ErrProofOptions, aud, o.Audience)
	}
	if o.Nonce != "" && nonce != o.Nonce {
		return fmt.Errorf("%w: KB-JWT nonce does not match", vc.ErrProofOptions)
	}
	return nil
}

// holderKey reads cnf.jwk (RFC 7800 §3.2) from the processed payload.
func holderKey(claims map[string]any) (crypto.PublicKey, error) {
	cnf, _ := claims["cnf"].(map[string]any)
	jwk, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the SD-JWT has no cnf.jwk holder key", vc.ErrKey)
	}
	b, err := vc.Marshal(jwk)
	if err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk: %w", vc.ErrKey, err)
	}
	_, pub, err := did.ParseJWK(b)
	if err != nil {
		return nil, fmt.Errorf("%w: cnf.jwk: %w", vc.ErrKey, err)
	}
	return pub, nil
}

// signKB makes the KB-JWT for a presented SD-JWT.
func signKB(ctx context.Context, presented string, holder vc.Signer, aud, nonce string, now time.Time) (string, error) {
	claims := map[string]any{
		"iat":     now.Unix(),
		"aud":     aud,
		"nonce":   nonce,
		"sd_hash": sdHash(presented),
	}
	payload, err := vc.Marshal(claims)
	if err != nil {
		return "", err
	}
	return jose.Sign(ctx, jose.Header{Typ: TypeKeyBinding}, payload, holder)
}
