package wallet

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/secure"
)

// formatSDJWT is secure.Verified.Format of an SD-JWT VC.
const formatSDJWT = "dc+sd-jwt"

// received is a credential as received: what Verify takes, the JSON the
// wallet keeps, and the bytes its dedup hash covers.
type received struct {
	input any             // a map (JSON object) or a compact token
	raw   json.RawMessage // the JSON received: an object or a string
	canon []byte          // the object compacted, or the token, with a kind prefix
}

// parseReceived reads a credential with secure.ParseInput semantics: a JSON
// object, a JSON string holding a compact token, or a bare compact token
// (kept as a JSON string).
func parseReceived(b []byte) (*received, error) {
	if len(b) > MaxCredentialBytes {
		return nil, fmt.Errorf("%w: the credential is %d bytes, the limit is %d", ErrTooLarge, len(b), MaxCredentialBytes)
	}
	b = bytes.TrimSpace(b)
	in, err := secure.ParseInput(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	switch t := in.(type) {
	case map[string]any:
		if tok, ok := envelopedToken(t); ok { // the same credential as its token
			return &received{input: t, raw: bytes.Clone(b), canon: []byte("token\x00" + tok)}, nil
		}
		var c bytes.Buffer
		if err := json.Compact(&c, b); err != nil {
			return nil, fmt.Errorf("%w: %w: %w", ErrInvalid, vc.ErrMalformed, err)
		}
		return &received{input: t, raw: bytes.Clone(b), canon: append([]byte("object\x00"), c.Bytes()...)}, nil
	case string:
		if t == "" {
			return nil, fmt.Errorf("%w: %w: an empty token", ErrInvalid, vc.ErrMalformed)
		}
		raw := bytes.Clone(b)
		if b[0] != '"' {
			if raw, err = vc.Marshal(t); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
			}
		}
		return &received{input: t, raw: raw, canon: []byte("token\x00" + t)}, nil
	}
	return nil, fmt.Errorf("%w: %w: a credential is a JSON object or a compact token", ErrInvalid, vc.ErrMalformed)
}

// envelopedToken is the token of an EnvelopedVerifiableCredential
// ("data:<media type>,<token>"), unchecked.
func envelopedToken(m map[string]any) (string, bool) {
	id, _ := m["id"].(string)
	if !vc.Credential(m).HasType(vc.TypeEnvelopedCredential) || !strings.HasPrefix(id, "data:") {
		return "", false
	}
	_, tok, ok := strings.Cut(id, ",")
	return tok, ok && tok != ""
}

// describe builds the wallet's view of a verified credential and checks
// that it is bound to the holder: a W3C credential by a credentialSubject
// id equal to the holder's DID, an SD-JWT VC by its cnf.jwk being the
// holder's key.
func (s *Service) describe(ctx context.Context, r *holderRecord, in *received, v *secure.Verified) (Stored, error) {
	c := v.Credential
	st := Stored{Format: v.Format, Types: c.Types(), Issuer: c.Issuer(), CredentialID: c.ID(),
		Received: s.now(), Claims: c, Credential: in.raw}
	if t, ok := c.ValidFrom(); ok {
		st.ValidFrom = &t
	}
	if t, ok := c.ValidUntil(); ok {
		st.ValidUntil = &t
	}
	if v.Format != formatSDJWT {
		if !slices.Contains(c.SubjectIDs(), r.DID) {
			return Stored{}, fmt.Errorf("%w: no credentialSubject id is the holder's DID %s", ErrNotBound, r.DID)
		}
		return st, nil
	}
	payload, err := sdjwtPayload(in.input)
	if err != nil {
		return Stored{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	st.VCT, _ = payload["vct"].(string)
	k, err := s.Keys.Key(ctx, r.KeyID)
	if err != nil {
		return Stored{}, fmt.Errorf("failed to load the key of holder %s: %w", r.ID, err)
	}
	if err := boundTo(payload, k.Public); err != nil {
		return Stored{}, err
	}
	return st, nil
}

// sdjwtPayload decodes the issuer-signed JWT payload of an SD-JWT (a
// compact token or an enveloped one) whose signature Verify has checked.
func sdjwtPayload(input any) (map[string]any, error) {
	token, _ := input.(string)
	if m, ok := input.(map[string]any); ok {
		token, _ = envelopedToken(m)
	}
	jwt, _, ok := strings.Cut(token, "~")
	if !ok {
		return nil, fmt.Errorf("%w: not an SD-JWT", vc.ErrMalformed)
	}
	j, err := jose.Parse(jwt, 0)
	if err != nil {
		return nil, err
	}
	return vc.DecodeObject(j.Payload)
}

// boundTo checks that the SD-JWT payload's cnf.jwk is pub.
func boundTo(payload map[string]any, pub crypto.PublicKey) error {
	cnf, _ := payload["cnf"].(map[string]any)
	jwk, ok := cnf["jwk"].(map[string]any)
	if !ok {
		return fmt.Errorf("%w: the SD-JWT has no cnf.jwk holder key", ErrNotBound)
	}
	b, err := vc.Marshal(jwk)
	if err != nil {
		return fmt.Errorf("%w: cnf.jwk: %w", ErrNotBound, err)
	}
	_, key, err := did.ParseJWK(b)
	if err != nil {
		return fmt.Errorf("%w: cnf.jwk: %w", ErrNotBound, err)
	}
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(key) {
		return fmt.Errorf("%w: the SD-JWT's cnf.jwk is another key than the holder's", ErrNotBound)
	}
	return nil
}
