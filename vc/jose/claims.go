package jose

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/credence/credence/vc"
)

// checkClaims enforces the registered JWT claims of a verified token: exp,
// nbf and iat (VC-JOSE-COSE: the validity of the signature) and, for
// presentations, aud and nonce as the options ask. Errors wrap
// vc.ErrProofOptions, or vc.ErrMalformed for a claim of the wrong type.
func checkClaims(v *Verified, o VerifyOptions) error {
	if err := CheckTimes(v.Claims, o.now(), o.Skew); err != nil {
		return err
	}
	if !v.Presentation() {
		return nil
	}
	if o.Audience != "" && !hasAudience(v.Claims["aud"], o.Audience) {
		return fmt.Errorf("%w: aud does not include %q", vc.ErrProofOptions, o.Audience)
	}
	if o.Nonce != "" {
		if n, _ := v.Claims["nonce"].(string); n != o.Nonce {
			return fmt.Errorf("%w: nonce does not match", vc.ErrProofOptions)
		}
	}
	return nil
}

// CheckTimes enforces the exp, nbf and iat claims (RFC 7519 §4.1), when
// present, at now with skew: expired, not yet valid or issued in the future
// wrap vc.ErrProofOptions; a claim that is not a number wraps
// vc.ErrMalformed.
func CheckTimes(claims map[string]any, now time.Time, skew time.Duration) error {
	t := float64(now.UnixNano()) / 1e9
	s := skew.Seconds()
	checks := []struct {
		name string
		bad  func(v float64) bool
		why  string
	}{
		{"exp", func(v float64) bool { return t > v+s }, "expired"},
		{"nbf", func(v float64) bool { return t+s < v }, "not valid yet"},
		{"iat", func(v float64) bool { return t+s < v }, "issued in the future"},
	}
	for _, c := range checks {
		v, ok, err := NumericDate(claims, c.name)
		if err != nil {
			return err
		}
		if ok && c.bad(v) {
			return fmt.Errorf("%w: token %s (%s %s)", vc.ErrProofOptions, c.why, c.name, unixTime(v))
		}
	}
	return nil
}

// signingTime is when a credential token says it was signed, for resolving
// its key as of then (vc.WithSigningTime): its iat or, for a VC 1.1 JWT
// without one, its nbf (the issuanceDate). It is zero for a presentation
// (authenticated with current keys only), a token without those claims, and
// a time after now plus skew, which checkClaims refuses.
func signingTime(v *Verified, o VerifyOptions) time.Time {
	if v.Presentation() {
		return time.Time{}
	}
	at, ok, err := NumericDate(v.Claims, "iat")
	if !ok && err == nil && v.Format == FormatVC11 {
		at, ok, err = NumericDate(v.Claims, "nbf")
	}
	limit := float64(o.now().Add(o.Skew).UnixNano()) / 1e9
	if !ok || err != nil || at < 0 || at > limit {
		return time.Time{}
	}
	return time.Unix(int64(at), 0).UTC()
}

// NumericDate reads a NumericDate claim (seconds since the epoch, possibly
// fractional). ok is false if the claim is absent.
func NumericDate(claims map[string]any, name string) (v float64, ok bool, err error) {
	raw, present := claims[name]
	if !present {
		return 0, false, nil
	}
	switch n := raw.(type) {
	case json.Number:
		v, err = n.Float64()
	case float64:
		v = n
	case int64:
		v = float64(n)
	case int:
		v = float64(n)
	default:
		err = fmt.Errorf("not a number")
	}
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false, fmt.Errorf("%w: claim %s is not a NumericDate", vc.ErrMalformed, name)
	}
	return v, true, nil
}

// unixTime renders a NumericDate as an RFC 3339 UTC time for messages and
// for the VC 1.1 date members.
func unixTime(v float64) string {
	if v > 253402300799 || v < -62135596800 { // outside years 0001-9999
		return fmt.Sprintf("%g", v)
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(time.RFC3339)
}

// hasAudience reports whether aud (a string or an array of strings) names
// want.
func hasAudience(aud any, want string) bool {
	for _, a := range vc.Strings(aud) {
		if a == want {
			return true
		}
	}
	return false
}
