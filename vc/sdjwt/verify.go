package sdjwt

import (
	"context"
	"crypto"
	"fmt"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// DefaultKBMaxAge is how old a Key Binding JWT may be when
// VerifyOptions.KBMaxAge is zero.
const DefaultKBMaxAge = 5 * time.Minute

// VerifyOptions are the verifier's policy.
type VerifyOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Skew is the clock skew tolerated on exp, nbf and iat.
	Skew time.Duration
	// KeyBinding requires an SD-JWT+KB whose KB-JWT is signed by the cnf
	// key and carries Audience and Nonce (both then required). Without it
	// a KB-JWT, if present, is still verified, and Audience and Nonce are
	// checked if set.
	KeyBinding bool
	Audience   string
	Nonce      string
	// KBMaxAge bounds the age of the KB-JWT (its iat); 0 means
	// DefaultKBMaxAge.
	KBMaxAge time.Duration
	// MaxBytes bounds the input; 0 means jose.MaxTokenBytes.
	MaxBytes int
}

func (o VerifyOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Verified is an SD-JWT VC that verified.
type Verified struct {
	// Claims is the Processed SD-JWT Payload (RFC 9901 §7.1): the claims
	// the issuer left visible and those disclosed, without _sd and _sd_alg.
	Claims map[string]any
	// Disclosed lists the JSON Pointers of the disclosed claims, sorted;
	// array indexes count every element of the issued array.
	Disclosed []string
	// Header is the issuer-signed JWT's protected header.
	Header jose.Header
	// Issuer is the iss claim, the DID of VerificationMethod.
	Issuer             string
	VerificationMethod string
	// VCT is the credential type (the vct claim).
	VCT string
	// KeyBound reports that a KB-JWT verified with the cnf key.
	KeyBound bool
}

// Verify checks an SD-JWT VC (typ dc+sd-jwt, or vc+sd-jwt from earlier
// drafts) or SD-JWT+KB presentation: the issuer-signed JWT with the key its
// kid names, looked up through keys for assertionMethod (iss must be the
// kid's DID; alg pinned to the key type), _sd_alg, every Disclosure
// referenced exactly once and no digest twice, exp and nbf, and the Key
// Binding JWT as o asks. Errors wrap the vc sentinels: ErrProofOptions for
// a missing or mismatched key binding, expiry and the like.
func Verify(ctx context.Context, s string, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	t, claims, err := decode(s, o)
	if err != nil {
		return nil, err
	}
	if typ := typeOf(t.jwt.Header.Typ); typ != TypeSDJWTVC && typ != TypeSDJWTVCLegacy {
		return nil, fmt.Errorf("%w: SD-JWT typ %q (want %s)", vc.ErrUnsupported, t.jwt.Header.Typ, TypeSDJWTVC)
	}
	iss, _ := claims["iss"].(string)
	if iss == "" {
		return nil, fmt.Errorf("%w: SD-JWT without an iss claim", vc.ErrMalformed)
	}
	vm, err := jose.VerificationMethod(t.jwt.Header.Kid, iss)
	if err != nil {
		return nil, err
	}
	pub, err := keys.PublicKey(vc.WithSigningTime(ctx, issuedAt(claims, o)), vm, vc.PurposeAssertion)
	if err != nil {
		return nil, err
	}
	v, err := verifyWithKey(t, claims, pub, o)
	if err != nil {
		return nil, err
	}
	v.Issuer, v.VerificationMethod = iss, vm
	return v, nil
}

// issuedAt is the iat of the issuer-signed JWT, the time the issuer signed
// it, for resolving its key as of then (vc.WithSigningTime). Only an iat
// the issuer left visible counts (one in a Disclosure is not read before
// the key is found); it is zero when absent, malformed or after now plus
// skew (which checkProcessed refuses).
func issuedAt(claims map[string]any, o VerifyOptions) time.Time {
	at, ok, err := jose.NumericDate(claims, "iat")
	limit := float64(o.now().Add(o.Skew).UnixNano()) / 1e9
	if !ok || err != nil || at < 0 || at > limit {
		return time.Time{}
	}
	return time.Unix(int64(at), 0).UTC()
}

// decode parses the token and the issuer-signed JWT's claims.
func decode(s string, o VerifyOptions) (*token, map[string]any, error) {
	if o.KeyBinding && (o.Audience == "" || o.Nonce == "") {
		return nil, nil, fmt.Errorf("%w: key binding needs the expected audience and nonce", vc.ErrProofOptions)
	}
	t, err := parse(s, o.MaxBytes)
	if err != nil {
		return nil, nil, err
	}
	if o.KeyBinding && t.kb == "" {
		return nil, nil, fmt.Errorf("%w: key binding required, the presentation has no KB-JWT", vc.ErrProofOptions)
	}
	if err := checkAlg(t.jwt.Header.Alg); err != nil {
		return nil, nil, err
	}
	claims, err := vc.DecodeObject(t.jwt.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("SD-JWT payload: %w", err)
	}
	return t, claims, nil
}

// verifyWithKey checks everything after key discovery.
func verifyWithKey(t *token, claims map[string]any, pub crypto.PublicKey, o VerifyOptions) (*Verified, error) {
	if err := t.jwt.Verify(pub); err != nil {
		return nil, err
	}
	if alg, ok := claims["_sd_alg"]; ok && alg != HashAlg {
		return nil, fmt.Errorf("%w: _sd_alg %v (want %s)", vc.ErrUnsupported, alg, HashAlg)
	}
	delete(claims, "_sd_alg")
	p, err := newProcessor(t.disclosures)
	if err != nil {
		return nil, err
	}
	if err := p.object(claims, "", nil); err != nil {
		return nil, err
	}
	if err := p.unreferenced(); err != nil {
		return nil, err
	}
	if err := checkProcessed(claims, p, o); err != nil {
		return nil, err
	}
	v := &Verified{Claims: claims, Disclosed: p.paths(), Header: t.jwt.Header}
	v.VCT, _ = claims["vct"].(string)
	if t.kb != "" {
		if err := verifyKB(t, claims, o); err != nil {
			return nil, err
		}
		v.KeyBound = true
	}
	return v, nil
}

// checkProcessed applies the SD-JWT VC rules to the processed payload: a
// vct, no selectively disclosed registered claim, and exp and nbf.
func checkProcessed(claims map[string]any, p *processor, o VerifyOptions) error {
	if vct, _ := claims["vct"].(string); vct == "" {
		return fmt.Errorf("%w: SD-JWT VC without a vct claim", vc.ErrMalformed)
	}
	for _, d := range p.byDigest {
		if tokens, err := splitPointer(d.path); err == nil && protected[tokens[0]] {
			return fmt.Errorf("%w: claim %s must not be selectively disclosed", vc.ErrMalformed, d.path)
		}
	}
	return jose.CheckTimes(claims, o.now(), o.Skew)
}

// protected are the registered claims an SD-JWT VC must not disclose
// selectively, nor anything inside them (draft-ietf-oauth-sd-jwt-vc
// §3.2.2.2), and _sd_alg.
var protected = map[string]bool{
	"iss": true, "nbf": true, "exp": true, "cnf": true, "vct": true,
	"vct#integrity": true, "aka_vcts": true, "status": true, "_sd_alg": true,
}
