package sdjwt

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
)

// Select makes the SD-JWT a holder presents without key binding: the
// issuer-signed JWT and the Disclosures of the claims at paths (JSON
// Pointers as at issuance), each with everything below it and the
// Disclosures it is nested in, and no other. A path must name a claim of
// the credential, disclosable or not. The SD-JWT is decoded, not verified:
// the holder verified it on receipt.
func Select(sdjwt string, paths []string) (string, error) {
	presented, _, err := selectDisclosures(sdjwt, paths)
	return presented, err
}

// Present is Select followed by a Key Binding JWT (typ kb+jwt, iat, aud,
// nonce, sd_hash) signed by holder, whose key must be the credential's
// cnf.jwk.
func Present(ctx context.Context, sdjwt string, paths []string, holder vc.Signer, aud, nonce string, opts ...Option) (string, error) {
	if aud == "" || nonce == "" {
		return "", fmt.Errorf("%w: key binding needs an audience and a nonce", vc.ErrProofOptions)
	}
	presented, claims, err := selectDisclosures(sdjwt, paths)
	if err != nil {
		return "", err
	}
	if err := sameKey(claims, holder); err != nil {
		return "", err
	}
	kb, err := signKB(ctx, presented, holder, aud, nonce, newConfig(opts).now())
	if err != nil {
		return "", err
	}
	return presented + kb, nil
}

// selectDisclosures returns the presented SD-JWT and the fully processed
// claims of the issued one.
func selectDisclosures(sdjwt string, paths []string) (string, map[string]any, error) {
	t, err := parse(sdjwt, 0)
	if err != nil {
		return "", nil, err
	}
	if t.kb != "" {
		return "", nil, fmt.Errorf("%w: already a presentation (it has a KB-JWT)", vc.ErrMalformed)
	}
	claims, err := vc.DecodeObject(t.jwt.Payload)
	if err != nil {
		return "", nil, fmt.Errorf("SD-JWT payload: %w", err)
	}
	p, err := newProcessor(t.disclosures)
	if err == nil {
		err = p.object(claims, "", nil)
	}
	if err == nil {
		err = p.unreferenced()
	}
	if err != nil {
		return "", nil, err
	}
	chosen := map[*disclosure]bool{}
	for _, path := range paths {
		if err := choose(chosen, t.disclosures, claims, path); err != nil {
			return "", nil, err
		}
	}
	var sb strings.Builder
	sb.WriteString(t.issuerJWT + "~")
	for _, d := range t.disclosures {
		if chosen[d] {
			sb.WriteString(d.raw + "~")
		}
	}
	return sb.String(), claims, nil
}

// choose marks the Disclosures path needs: those at or below it, and the
// ones they (or path itself) are nested in.
func choose(chosen map[*disclosure]bool, ds []*disclosure, claims map[string]any, path string) error {
	tokens, err := splitPointer(path)
	if err != nil {
		return err
	}
	found := false
	for _, d := range ds {
		if d.path != "" && (within(d.path, path) || within(path, d.path)) {
			found = true
			for a := d; a != nil; a = a.parent {
				chosen[a] = true
			}
		}
	}
	if !found {
		if _, err := resolve(claims, tokens); err != nil {
			return fmt.Errorf("%w: the credential has no claim %s", vc.ErrMalformed, path)
		}
	}
	return nil
}

// sameKey checks that holder's key is the credential's cnf.jwk.
func sameKey(claims map[string]any, holder vc.Signer) error {
	cnf, err := holderKey(claims)
	if err != nil {
		return err
	}
	a, errA := did.NewJWK(cnf)
	b, errB := did.NewJWK(holder.Key.Public())
	if errA != nil || errB != nil {
		return fmt.Errorf("%w: unusable holder key", vc.ErrKey)
	}
	ja, _ := vc.Marshal(a)
	jb, _ := vc.Marshal(b)
	if !bytes.Equal(ja, jb) {
		return fmt.Errorf("%w: the holder key is not the credential's cnf.jwk", vc.ErrKey)
	}
	return nil
}
