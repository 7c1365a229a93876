package jose

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
)

// Formats reported by Verify.
const (
	FormatVC   = "vc+jwt"     // VC-JOSE-COSE credential: the payload is the credential
	FormatVP   = "vp+jwt"     // VC-JOSE-COSE presentation: the payload is the presentation
	FormatVC11 = "jwt-vc-1.1" // VC Data Model 1.1 §6.3.1: credential in the vc claim
	FormatVP11 = "jwt-vp-1.1" // VC Data Model 1.1 §6.3.1: presentation in the vp claim
)

// VerifyOptions are what the verifier expects of a token.
type VerifyOptions struct {
	// Now is the verification time; zero means time.Now().
	Now time.Time
	// Skew is the clock skew tolerated on exp, nbf and iat.
	Skew time.Duration
	// Audience, if set, must be among a presentation's aud claim values.
	Audience string
	// Nonce, if set, must equal a presentation's nonce claim.
	Nonce string
	// MaxBytes bounds the token; 0 means MaxTokenBytes.
	MaxBytes int
}

func (o VerifyOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// Verified is a token that verified.
type Verified struct {
	// Format is one of FormatVC, FormatVP, FormatVC11, FormatVP11.
	Format string
	// Document is the credential or presentation. For VC 2.0 formats it is
	// the payload itself; for 1.1 JWTs it is rebuilt from the vc or vp
	// claim and the registered claims.
	Document map[string]any
	// Claims is the decoded JWT payload (the same map as Document for the
	// VC 2.0 formats).
	Claims map[string]any
	// Header is the protected header.
	Header Header
	// VerificationMethod is the absolute id of the key that verified.
	VerificationMethod string
}

// Presentation reports whether the token secured a presentation.
func (v *Verified) Presentation() bool { return v.Format == FormatVP || v.Format == FormatVP11 }

// Verify checks a compact JWS securing a credential or presentation: as
// application/vc+jwt or application/vp+jwt (typ required) or as a VC 1.1
// JWT (typ absent or "JWT", with a vc or vp claim). The kid is resolved
// through keys for assertionMethod (credentials) or authentication
// (presentations), a relative kid against the issuer or holder; the kid's
// DID must be the issuer (holder) and alg must match its key type. exp, nbf
// and iat are enforced when present, and for presentations the audience and
// nonce the options ask for.
//
// Verify checks the securing mechanism only: the data model rules, validity
// period and status of the document are the caller's (vc.Credential).
func Verify(ctx context.Context, token string, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	j, err := Parse(token, o.MaxBytes)
	if err != nil {
		return nil, err
	}
	if err := checkAlg(j.Header.Alg); err != nil {
		return nil, err
	}
	claims, err := vc.DecodeObject(j.Payload)
	if err != nil {
		return nil, fmt.Errorf("JWS payload: %w", err)
	}
	v, signer, err := interpret(j.Header, claims)
	if err != nil {
		return nil, err
	}
	if v.VerificationMethod, err = VerificationMethod(j.Header.Kid, signer); err != nil {
		return nil, err
	}
	purpose := vc.PurposeAssertion
	if v.Presentation() {
		purpose = vc.PurposeAuthentication
	}
	pub, err := keys.PublicKey(vc.WithSigningTime(ctx, signingTime(v, o)), v.VerificationMethod, purpose)
	if err != nil {
		return nil, err
	}
	if err := j.Verify(pub); err != nil {
		return nil, err
	}
	if err := checkClaims(v, o); err != nil {
		return nil, err
	}
	return v, nil
}

// interpret picks the format from typ and the claims and returns the
// document with the id of the party that must have signed it ("" for a
// presentation without holder: any key of the kid's DID).
func interpret(h Header, claims map[string]any) (*Verified, string, error) {
	v := &Verified{Claims: claims, Header: h}
	_, hasVC := claims["vc"]
	_, hasVP := claims["vp"]
	switch typ := mediaType(h.Typ); typ {
	case FormatVC, FormatVP:
		if hasVC || hasVP {
			return nil, "", fmt.Errorf("%w: a %s payload must not have a vc or vp claim", vc.ErrMalformed, typ)
		}
		if err := checkV2(claims); err != nil {
			return nil, "", err
		}
		v.Format, v.Document = typ, claims
	case "", "jwt":
		if err := v.legacy(claims, hasVC, hasVP); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", fmt.Errorf("%w: JWS typ %q", vc.ErrUnsupported, h.Typ)
	}
	if err := checkType(v.Document, v.Presentation()); err != nil {
		return nil, "", err
	}
	signer, err := v.signer()
	if err != nil {
		return nil, "", err
	}
	if err := checkIss(h.Iss, claims, signer); err != nil {
		return nil, "", err
	}
	if signer == "" { // a presentation without holder: iss, if any, signs
		signer, _ = claims["iss"].(string)
		if signer == "" {
			signer = h.Iss
		}
	}
	return v, signer, nil
}

// checkType refuses a credential typed as a presentation or the reverse,
// so a token cannot be verified as the other kind.
func checkType(doc map[string]any, presentation bool) error {
	want := vc.TypeCredential
	if presentation {
		want = vc.TypePresentation
	}
	if !slices.Contains(vc.Strings(doc["type"]), want) {
		return fmt.Errorf("%w: type does not include %s", vc.ErrMalformed, want)
	}
	return nil
}

// mediaType normalizes typ (RFC 7515 §4.1.9: case-insensitive, the
// "application/" prefix optional). The pre-Recommendation names vc-ld+jwt
// and vc+ld+json+jwt are not accepted: the Recommendation registered only
// vc+jwt and vp+jwt.
func mediaType(typ string) string {
	t := strings.ToLower(typ)
	return strings.TrimPrefix(t, "application/")
}

// signer is the issuer of a credential or the holder of a presentation.
func (v *Verified) signer() (string, error) {
	if v.Presentation() {
		h := vc.Presentation(v.Document).Holder()
		if h == "" && v.Document["holder"] != nil {
			return "", fmt.Errorf("%w: holder has no id", vc.ErrMalformed)
		}
		return h, nil
	}
	iss := vc.Credential(v.Document).Issuer()
	if iss == "" {
		return "", fmt.Errorf("%w: credential has no issuer id", vc.ErrMalformed)
	}
	return iss, nil
}

// checkIss applies VC-JOSE-COSE §4.1 (iss): when present, in the header or
// the claims, iss must be the issuer (holder).
func checkIss(hdrIss string, claims map[string]any, signer string) error {
	for _, iss := range []any{hdrIss, claims["iss"]} {
		if iss == "" || iss == nil {
			continue
		}
		if s, ok := iss.(string); !ok || (signer != "" && s != signer) {
			return fmt.Errorf("%w: iss %v is not the issuer %s", vc.ErrMalformed, iss, signer)
		}
	}
	return nil
}

// VerificationMethod makes a kid absolute (a relative "#key" joins the
// signer's DID) and checks that it belongs to signer: a DID URL with a
// fragment whose DID is signer (or, for another URL, signer followed by a
// fragment). With signer "", any absolute kid is accepted. Errors wrap
// vc.ErrKey.
func VerificationMethod(kid, signer string) (string, error) {
	if kid == "" {
		return "", fmt.Errorf("%w: JWS header has no kid", vc.ErrKey)
	}
	vm := kid
	if kid[0] == '#' {
		if signer == "" {
			return "", fmt.Errorf("%w: relative kid %q without an issuer or holder", vc.ErrKey, kid)
		}
		vm = signer + kid
	}
	owner, _, _ := strings.Cut(vm, "#")
	if strings.HasPrefix(vm, "did:") {
		u, err := did.ParseURL(vm)
		if err != nil || u.Fragment == "" {
			return "", fmt.Errorf("%w: kid %q is not a DID URL with a fragment", vc.ErrKey, kid)
		}
		owner = u.DID.String()
	}
	if signer != "" && owner != signer {
		return "", fmt.Errorf("%w: kid %s does not belong to %s", vc.ErrKey, vm, signer)
	}
	return vm, nil
}
