package jose

import (
	"fmt"

	"github.com/credence/credence/vc"
)

// legacy rebuilds the credential or presentation of a VC Data Model 1.1 JWT
// (§6.3.1 "JWT Decoding"): iss becomes the issuer (holder), sub the
// credentialSubject id, jti the id, nbf the issuanceDate and exp the
// expirationDate. Where the vc (vp) object already states the issuer,
// holder, id or subject id, it must agree with the claim: an ambiguous token
// is malformed. Dates are taken from the claims, as the specification says.
func (v *Verified) legacy(claims map[string]any, hasVC, hasVP bool) error {
	name, format := "vc", FormatVC11
	switch {
	case hasVC && hasVP:
		return fmt.Errorf("%w: JWT has both vc and vp claims", vc.ErrMalformed)
	case hasVP:
		name, format = "vp", FormatVP11
	case !hasVC:
		return fmt.Errorf("%w: JWT without typ vc+jwt or vp+jwt and without a vc or vp claim", vc.ErrUnsupported)
	}
	inner, ok := claims[name].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: the %s claim is not an object", vc.ErrMalformed, name)
	}
	doc := vc.Clone(inner).(map[string]any)
	var err error
	if format == FormatVC11 {
		err = rebuildCredential(doc, claims)
	} else {
		err = setID(doc, "holder", claims["iss"])
	}
	if err == nil {
		err = setString(doc, "id", claims["jti"])
	}
	if err != nil {
		return err
	}
	v.Format, v.Document = format, doc
	return nil
}

func rebuildCredential(doc, claims map[string]any) error {
	if err := setID(doc, "issuer", claims["iss"]); err != nil {
		return err
	}
	if err := setSubject(doc, claims["sub"]); err != nil {
		return err
	}
	for claim, member := range map[string]string{"nbf": "issuanceDate", "exp": "expirationDate"} {
		t, ok, err := NumericDate(claims, claim)
		if err != nil {
			return err
		}
		if ok {
			doc[member] = unixTime(t)
		}
	}
	return nil
}

// setID sets doc[member] (a string, or an object with an id) to the claim
// value, which must be a string; a different existing id is an error.
func setID(doc map[string]any, member string, claim any) error {
	if claim == nil {
		return nil
	}
	if obj, ok := doc[member].(map[string]any); ok {
		return setString(obj, "id", claim)
	}
	return setString(doc, member, claim)
}

// setString sets m[key] to claim unless m already holds another value.
func setString(m map[string]any, key string, claim any) error {
	if claim == nil {
		return nil
	}
	s, ok := claim.(string)
	if !ok {
		return fmt.Errorf("%w: JWT claim for %s is not a string", vc.ErrMalformed, key)
	}
	if old, present := m[key]; present && old != s {
		return fmt.Errorf("%w: %s %v disagrees with the JWT claim %q", vc.ErrMalformed, key, old, s)
	}
	m[key] = s
	return nil
}

// setSubject sets the id of the one credentialSubject from sub.
func setSubject(doc map[string]any, sub any) error {
	if sub == nil {
		return nil
	}
	if doc["credentialSubject"] == nil {
		doc["credentialSubject"] = map[string]any{}
	}
	subjects := vc.Objects(doc["credentialSubject"])
	if len(subjects) != 1 {
		return fmt.Errorf("%w: sub claim needs exactly one credentialSubject", vc.ErrMalformed)
	}
	return setString(subjects[0], "id", sub)
}
