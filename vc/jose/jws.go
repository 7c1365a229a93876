package jose

import (
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
	"strings"
	"unsafe"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"

	"github.com/credence/credence/vc"
)

// MaxTokenBytes bounds the compact JWS accepted by Parse and Verify.
const MaxTokenBytes = vc.MaxDocumentBytes

// Header is the part of a JWS protected header Credence reads and writes.
// Parse refuses crit and b64 (RFC 7515 §4.1.11, RFC 7797): no extension is
// understood. Other members, including jwk, jku, x5u and x5c, are ignored:
// keys come only from a vc.KeyResolver or, for SD-JWT key binding, from the
// issuer-signed cnf claim.
type Header struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Cty string `json:"cty,omitempty"`
	Kid string `json:"kid,omitempty"`
	Iss string `json:"iss,omitempty"`
}

// JWS is a parsed compact JWS whose signature has not been checked.
type JWS struct {
	Header  Header
	Payload []byte // the decoded payload

	signingInput string // "header.payload" as received
	signature    []byte
}

var b64 = base64.RawURLEncoding.Strict()

// Parse splits and decodes a compact JWS: three base64url segments without
// padding, line breaks or non-canonical trailing bits (so no two strings
// parse to the same token), at most limit bytes (MaxTokenBytes if limit is
// 0). Errors wrap vc.ErrMalformed, or vc.ErrUnsupported for crit and b64.
func Parse(token string, limit int) (*JWS, error) {
	if limit <= 0 {
		limit = MaxTokenBytes
	}
	if len(token) > limit {
		return nil, fmt.Errorf("%w: token is %d bytes, the limit is %d", vc.ErrMalformed, len(token), limit)
	}
	h, p, s, ok := split(token)
	if !ok {
		return nil, fmt.Errorf("%w: not a compact JWS", vc.ErrMalformed)
	}
	hdr, err := decodeHeader(token[:h])
	if err != nil {
		return nil, err
	}
	payload, err := b64.DecodeString(token[h+1 : p])
	if err != nil {
		return nil, fmt.Errorf("%w: JWS payload: %w", vc.ErrMalformed, err)
	}
	sig, err := b64.DecodeString(token[s:])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("%w: JWS signature is not base64url", vc.ErrMalformed)
	}
	return &JWS{Header: hdr, Payload: payload, signingInput: token[:p], signature: sig}, nil
}

// split finds the two dots of a compact JWS and returns the offsets of the
// first, the second and the signature. Line breaks, which base64 decoding
// would skip, are refused here; the strict decoder refuses every other
// character outside the base64url alphabet.
func split(token string) (h, p, s int, ok bool) {
	h = strings.IndexByte(token, '.')
	if h <= 0 || strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return 0, 0, 0, false
	}
	p = strings.IndexByte(token[h+1:], '.') + h + 1
	if p == h || strings.IndexByte(token[p+1:], '.') >= 0 {
		return 0, 0, 0, false
	}
	return h, p, p + 1, true
}

// decodeHeader reads the protected header strictly (DecodeObject: no
// repeated member) and by exact member names: encoding/json's
// case-insensitive struct matching would let "ALG" stand in for "alg".
func decodeHeader(seg string) (Header, error) {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return Header{}, fmt.Errorf("%w: JWS header: %w", vc.ErrMalformed, err)
	}
	m, err := vc.DecodeObject(raw)
	if err != nil {
		return Header{}, fmt.Errorf("JWS header: %w", err)
	}
	if _, ok := m["crit"]; ok {
		return Header{}, fmt.Errorf("%w: JWS header with crit", vc.ErrUnsupported)
	}
	if _, ok := m["b64"]; ok {
		return Header{}, fmt.Errorf("%w: JWS header with b64", vc.ErrUnsupported)
	}
	var h Header
	for name, dst := range map[string]*string{"alg": &h.Alg, "typ": &h.Typ, "cty": &h.Cty, "kid": &h.Kid, "iss": &h.Iss} {
		v, ok := m[name]
		if !ok {
			continue
		}
		if *dst, ok = v.(string); !ok {
			return Header{}, fmt.Errorf("%w: JWS header %s is not a string", vc.ErrMalformed, name)
		}
	}
	if h.Alg == "" {
		return Header{}, fmt.Errorf("%w: JWS header without alg", vc.ErrMalformed)
	}
	return h, nil
}

// SigningInput is the signed "header.payload" string.
func (j *JWS) SigningInput() string { return j.signingInput }

// Verify checks the signature with pub. The algorithm is pinned to the key
// type (EdDSA for Ed25519, ES256 for P-256): a header naming any other
// algorithm fails, so neither "none" nor algorithm confusion can pass.
// Errors wrap vc.ErrKey (unusable key) or vc.ErrSignature.
func (j *JWS) Verify(pub crypto.PublicKey) error {
	alg, err := vc.KeyAlgorithm(pub)
	if err != nil {
		return fmt.Errorf("%w: %w", vc.ErrKey, err)
	}
	if j.Header.Alg != alg {
		return fmt.Errorf("%w: alg %q does not match the %s key", vc.ErrSignature, j.Header.Alg, alg)
	}
	if err := jwsbb.Verify(pub, alg, readOnlyBytes(j.signingInput), j.signature); err != nil {
		return fmt.Errorf("%w: %w", vc.ErrSignature, err)
	}
	return nil
}

// readOnlyBytes views s as bytes without copying (a JWT's signing input is
// most of the token: copying it was a fifth of the verify path's garbage).
// Only for callees that read: signature verification does not write to the
// message.
func readOnlyBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// checkAlg refuses, before any key lookup, algorithms Credence never
// accepts.
func checkAlg(alg string) error {
	switch alg {
	case "EdDSA", "ES256":
		return nil
	}
	return fmt.Errorf("%w: alg %q (want EdDSA or ES256)", vc.ErrUnsupported, alg)
}

// Sign produces a compact JWS of payload with jwx. The protected header is
// h with alg set from the signer's key; ES256 signatures come out as raw
// r||s. Errors wrap vc.ErrUnsupported (key type) or vc.ErrKey.
func Sign(_ context.Context, h Header, payload []byte, s vc.Signer) (string, error) {
	alg, err := s.Algorithm()
	if err != nil {
		return "", err
	}
	hdrs := jws.NewHeaders()
	for name, v := range map[string]string{"typ": h.Typ, "cty": h.Cty, "kid": h.Kid, "iss": h.Iss} {
		if v == "" {
			continue
		}
		if err := hdrs.Set(name, v); err != nil {
			return "", fmt.Errorf("failed to set JWS header %s: %w", name, err)
		}
	}
	jalg, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return "", fmt.Errorf("%w: alg %s", vc.ErrUnsupported, alg)
	}
	out, err := jws.Sign(payload, jws.WithKey(jalg, s.Key, jws.WithProtectedHeaders(hdrs)), jws.WithStrictECDSA(true))
	if err != nil {
		return "", fmt.Errorf("%w: failed to sign: %w", vc.ErrKey, err)
	}
	return string(out), nil
}
