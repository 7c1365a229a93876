package secure

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/sdjwt"
)

// SD-JWT VC is not the VC data model: a credential maps to it as claims
// about its subject. The subject's members become top-level claims (each
// selectively disclosable unless a mandatory pointer names it), its id
// becomes sub, the credential's id jti, validFrom nbf, validUntil exp, and
// its type the vct: the healthcare vocabulary IRI of a healthcare type,
// "urn:credence:type:<name>" otherwise. Verification maps the disclosed
// claims back to a VC 2.0 credential so verifiers see one shape.

// MediaSDJWT is the media type of an SD-JWT VC in an enveloped credential.
const MediaSDJWT = "application/dc+sd-jwt"

const vctPrefix = "urn:credence:type:"

func isSDJWTMedia(m string) bool { return m == MediaSDJWT || m == "application/vc+sd-jwt" }

// vctOf names the SD-JWT VC type of a credential: its type other than
// VerifiableCredential (exactly one).
func vctOf(c vc.Credential) (string, error) {
	var types []string
	for _, t := range c.Types() {
		if t != vc.TypeCredential {
			types = append(types, t)
		}
	}
	if len(types) != 1 {
		return "", fmt.Errorf("%w: an SD-JWT VC has one type besides VerifiableCredential, not %v", vc.ErrUnsupported, types)
	}
	if _, ok := healthcare.Lookup(types[0]); ok {
		return healthcare.Vocab + types[0], nil
	}
	return vctPrefix + types[0], nil
}

func typeOfVCT(vct string) (string, bool) {
	if name, ok := strings.CutPrefix(vct, healthcare.Vocab); ok {
		_, known := healthcare.Lookup(name)
		return name, known
	}
	name, ok := strings.CutPrefix(vct, vctPrefix)
	return name, ok && name != ""
}

func (e *Engine) issueSDJWT(ctx context.Context, cred map[string]any, s vc.Signer, o IssueOptions, now time.Time) (any, error) {
	c := vc.Credential(cred)
	subjects := c.Subjects()
	if len(subjects) != 1 {
		return nil, fmt.Errorf("%w: an SD-JWT VC has exactly one subject", vc.ErrUnsupported)
	}
	vct, err := vctOf(c)
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	var disclose []string
	for k, v := range subjects[0] {
		if k == "id" {
			claims["sub"] = v
			continue
		}
		claims[k] = v
		if !slices.Contains(o.MandatoryPointers, "/credentialSubject/"+k) {
			disclose = append(disclose, "/"+escapePointer(k))
		}
	}
	slices.Sort(disclose)
	if id := c.ID(); id != "" {
		claims["jti"] = id
	}
	sd := sdjwt.Credential{VCT: vct, Claims: claims, Disclose: disclose, Holder: o.HolderKey, IssuedAt: now}
	if t, ok := c.ValidFrom(); ok {
		sd.NotBefore = t
	}
	if t, ok := c.ValidUntil(); ok {
		sd.Expires = t
	}
	token, err := sdjwt.Issue(ctx, sd, s)
	if err != nil {
		return nil, err
	}
	return map[string]any{"@context": vc.ContextV2, "id": "data:" + MediaSDJWT + "," + token, "type": vc.TypeEnvelopedCredential}, nil
}

func (e *Engine) verifySDJWT(ctx context.Context, token string, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	v, err := sdjwt.Verify(ctx, token, keys, sdjwt.VerifyOptions{Now: o.Now, Skew: o.Skew, KeyBinding: o.KeyBinding, Audience: o.Audience, Nonce: o.Nonce})
	if err != nil {
		return nil, err
	}
	cred, err := credentialOfSDJWT(v)
	if err != nil {
		return nil, err
	}
	disclosed := make([]string, len(v.Disclosed))
	for i, p := range v.Disclosed {
		disclosed[i] = "/credentialSubject" + p
	}
	return checked(&Verified{Format: "dc+sd-jwt", Credential: cred, VerificationMethod: v.VerificationMethod, Disclosed: disclosed})
}

// credentialOfSDJWT rebuilds the VC 2.0 view of verified SD-JWT VC claims.
func credentialOfSDJWT(v *sdjwt.Verified) (vc.Credential, error) {
	typ, ok := typeOfVCT(v.VCT)
	if !ok {
		return nil, fmt.Errorf("%w: vct %q is not a credential type Credence knows", vc.ErrUnsupported, v.VCT)
	}
	ctx := []any{vc.ContextV2}
	if _, health := healthcare.Lookup(typ); health {
		ctx = append(ctx, healthcare.ContextURL)
	}
	subject := map[string]any{}
	cred := vc.Credential{"@context": ctx, "type": []any{vc.TypeCredential, typ}, "issuer": v.Issuer, "credentialSubject": subject}
	for k, val := range v.Claims {
		switch k {
		case "iss", "vct", "cnf", "status", "iat":
		case "sub":
			subject["id"] = val
		case "jti":
			cred["id"] = val
		case "nbf":
			cred["validFrom"] = numericTime(val)
		case "exp":
			cred["validUntil"] = numericTime(val)
		default:
			subject[k] = val
		}
	}
	if _, ok := cred["validFrom"]; !ok {
		if iat, ok := v.Claims["iat"]; ok {
			cred["validFrom"] = numericTime(iat)
		}
	}
	return cred, nil
}

func numericTime(v any) any {
	var sec float64
	switch n := v.(type) {
	case float64:
		sec = n
	case int64:
		sec = float64(n)
	case interface{ Float64() (float64, error) }:
		sec, _ = n.Float64()
	default:
		return v
	}
	return time.Unix(int64(sec), 0).UTC().Format(time.RFC3339)
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
