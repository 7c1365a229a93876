package jose

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/vc"
)

// SignCredential secures a VC 2.0 credential as application/vc+jwt: the JWS
// payload is the credential itself, the protected header {alg, typ "vc+jwt",
// cty "vc", kid}. The signer's verification method must be an absolute
// DID URL of the credential's issuer (vc.ErrKey otherwise). The credential
// is signed as given; validating it against the data model is the caller's
// part (vc.Credential.Validate).
func SignCredential(ctx context.Context, cred map[string]any, s vc.Signer) (string, error) {
	if err := checkDocument(cred, false); err != nil {
		return "", err
	}
	issuer := vc.Credential(cred).Issuer()
	if issuer == "" {
		return "", fmt.Errorf("%w: credential has no issuer id", vc.ErrMalformed)
	}
	return signDocument(ctx, cred, s, issuer, FormatVC, "vc")
}

// SignPresentation secures a VC 2.0 presentation as application/vp+jwt,
// signed by the holder. The payload is the presentation with, alongside its
// members, the JWT claims iat (now), aud and nonce (when not empty) that
// bind it to one verifier and transaction; a holder is added (the signer's
// DID) when the presentation has none. The input map is not modified.
func SignPresentation(ctx context.Context, vp map[string]any, s vc.Signer, audience, nonce string) (string, error) {
	if err := checkDocument(vp, true); err != nil {
		return "", err
	}
	p := make(map[string]any, len(vp)+3)
	for k, v := range vp {
		p[k] = v
	}
	holder := vc.Presentation(p).Holder()
	if holder == "" {
		if p["holder"] != nil {
			return "", fmt.Errorf("%w: holder has no id", vc.ErrMalformed)
		}
		holder, _, _ = strings.Cut(s.VerificationMethod, "#")
		p["holder"] = holder
	}
	for claim, val := range map[string]string{"aud": audience, "nonce": nonce} {
		if val == "" {
			continue
		}
		if old, ok := p[claim]; ok && old != val {
			return "", fmt.Errorf("%w: presentation already has %s %v", vc.ErrMalformed, claim, old)
		}
		p[claim] = val
	}
	p["iat"] = time.Now().Unix()
	return signDocument(ctx, p, s, holder, FormatVP, "vp")
}

func signDocument(ctx context.Context, doc map[string]any, s vc.Signer, signer, typ, cty string) (string, error) {
	if strings.HasPrefix(s.VerificationMethod, "#") {
		return "", fmt.Errorf("%w: verification method %q is not absolute", vc.ErrKey, s.VerificationMethod)
	}
	vm, err := VerificationMethod(s.VerificationMethod, signer)
	if err != nil {
		return "", err
	}
	payload, err := vc.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("%w: failed to encode the %s: %w", vc.ErrMalformed, cty, err)
	}
	return Sign(ctx, Header{Typ: typ, Cty: cty, Kid: vm}, payload, s)
}

// checkDocument refuses the vc and vp claims, which VC-JOSE-COSE forbids
// in the payload (they mark a VC 1.1 JWT), and a document not typed as the
// kind it is signed as.
func checkDocument(doc map[string]any, presentation bool) error {
	for _, c := range []string{"vc", "vp"} {
		if _, ok := doc[c]; ok {
			return fmt.Errorf("%w: a vc+jwt or vp+jwt payload must not have a %s member", vc.ErrMalformed, c)
		}
	}
	if err := checkV2(doc); err != nil {
		return err
	}
	return checkType(doc, presentation)
}

// checkV2 refuses a vc+jwt or vp+jwt payload that is not a VC 2.0 document:
// VC-JOSE-COSE §3.1 secures credentials and presentations "conforming to
// [VC-DATA-MODEL-2.0]" (a VC 1.1 JWT carries the document in a vc or vp
// claim instead).
func checkV2(doc map[string]any) error {
	if vc.Credential(doc).Version() != vc.V2 {
		return fmt.Errorf("%w: a vc+jwt or vp+jwt payload is a VC 2.0 document: its first @context must be %s", vc.ErrMalformed, vc.ContextV2)
	}
	return nil
}
