package sdjwt

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// Header types (RFC 9901 §4, draft-ietf-oauth-sd-jwt-vc §3.2.1).
const (
	TypeSDJWTVC       = "dc+sd-jwt" // issued by Credence
	TypeSDJWTVCLegacy = "vc+sd-jwt" // the draft name before -06, accepted on verify
	TypeKeyBinding    = "kb+jwt"
)

// token is an SD-JWT or SD-JWT+KB split at its tildes.
type token struct {
	jwt         *jose.JWS
	issuerJWT   string
	disclosures []*disclosure
	kb          string // "" for an SD-JWT without key binding
	presented   string // "<JWT>~<D1>~...~<Dn>~", the input of sd_hash
}

// parse splits s (RFC 9901 §4: "<JWT>~<D1>~...~<Dn>~[<KB-JWT>]") and
// decodes the issuer-signed JWT and the Disclosures, checking no signature.
func parse(s string, limit int) (*token, error) {
	if limit <= 0 {
		limit = jose.MaxTokenBytes
	}
	if len(s) > limit {
		return nil, fmt.Errorf("%w: SD-JWT is %d bytes, the limit is %d", vc.ErrMalformed, len(s), limit)
	}
	last := strings.LastIndexByte(s, '~')
	first := strings.IndexByte(s, '~')
	if first < 0 {
		return nil, fmt.Errorf("%w: not an SD-JWT (no ~)", vc.ErrMalformed)
	}
	t := &token{issuerJWT: s[:first], kb: s[last+1:], presented: s[:last+1]}
	var err error
	if t.jwt, err = jose.Parse(t.issuerJWT, limit); err != nil {
		return nil, err
	}
	if first == last {
		return t, nil
	}
	for _, raw := range strings.Split(s[first+1:last], "~") {
		if raw == "" {
			return nil, fmt.Errorf("%w: empty disclosure", vc.ErrMalformed)
		}
		d, err := parseDisclosure(raw)
		if err != nil {
			return nil, err
		}
		t.disclosures = append(t.disclosures, d)
	}
	return t, nil
}

// sdHash is the base64url SHA-256 of the presented SD-JWT (§4.3.1).
func sdHash(presented string) string {
	sum := sha256.Sum256([]byte(presented))
	return b64.EncodeToString(sum[:])
}

// typeOf normalizes a typ header value (case-insensitive, "application/"
// optional; RFC 7515 §4.1.9).
func typeOf(typ string) string {
	return strings.TrimPrefix(strings.ToLower(typ), "application/")
}

// checkAlg refuses any algorithm but EdDSA and ES256 before key lookup.
func checkAlg(alg string) error {
	if alg != "EdDSA" && alg != "ES256" {
		return fmt.Errorf("%w: alg %q (want EdDSA or ES256)", vc.ErrUnsupported, alg)
	}
	return nil
}
