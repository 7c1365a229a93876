package jose

import (
	"fmt"
	"strings"

	"github.com/credence/credence/vc"
)

// Media types of the enveloped forms (VC 2.0 §4.13).
const (
	MediaTypeVC = "application/vc+jwt"
	MediaTypeVP = "application/vp+jwt"
)

// Envelope wraps a vc+jwt (or, with presentation, a vp+jwt) token as an
// EnvelopedVerifiableCredential (EnvelopedVerifiablePresentation): the v2
// context, the type, and the token in a data: URL id. The context is an
// array: VC 2.0 §4.3 makes @context an ordered set, and verifiers that
// read that literally (the W3C VC 2.0 test suite does) refuse a string;
// Unenvelope accepts both.
func Envelope(token string, presentation bool) map[string]any {
	typ, media := vc.TypeEnvelopedCredential, MediaTypeVC
	if presentation {
		typ, media = vc.TypeEnvelopedPresentation, MediaTypeVP
	}
	return map[string]any{
		"@context": []any{vc.ContextV2},
		"id":       "data:" + media + "," + token,
		"type":     typ,
	}
}

// Unenvelope extracts the token of an enveloped credential or presentation.
// The object must have the v2 context first, exactly one type
// (EnvelopedVerifiableCredential or EnvelopedVerifiablePresentation) and an
// id "data:application/vc+jwt,<token>" (vp+jwt for a presentation) with no
// media type parameters and no base64 flag. Another media type (vc+sd-jwt,
// vc+cose, ...) wraps vc.ErrUnsupported; anything else vc.ErrMalformed.
// The token is returned unverified.
func Unenvelope(obj map[string]any) (token string, presentation bool, err error) {
	typ := envelopedType(obj)
	var want string
	switch typ {
	case vc.TypeEnvelopedCredential:
		want = MediaTypeVC
	case vc.TypeEnvelopedPresentation:
		want, presentation = MediaTypeVP, true
	default:
		return "", false, fmt.Errorf("%w: type must be exactly one enveloped type", vc.ErrMalformed)
	}
	if err := vc.ValidateEnveloped(obj, typ); err != nil {
		return "", false, err
	}
	id, _ := obj["id"].(string)
	media, data, ok := strings.Cut(strings.TrimPrefix(id, "data:"), ",")
	switch {
	case !ok:
		return "", false, fmt.Errorf("%w: data: URL without a comma", vc.ErrMalformed)
	case media == MediaTypeVC || media == MediaTypeVP:
		if media != want {
			return "", false, fmt.Errorf("%w: %s in an %s", vc.ErrMalformed, media, typ)
		}
	default:
		return "", false, fmt.Errorf("%w: enveloped media type %q", vc.ErrUnsupported, media)
	}
	if data == "" {
		return "", false, fmt.Errorf("%w: empty enveloped token", vc.ErrMalformed)
	}
	return data, presentation, nil
}

// envelopedType is the one type of obj ("" unless exactly one string).
func envelopedType(obj map[string]any) string {
	types := vc.Strings(obj["type"])
	if len(types) != 1 {
		return ""
	}
	if a, ok := obj["type"].([]any); ok && len(a) != 1 {
		return ""
	}
	return types[0]
}
