package secure

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/credence/credence/vc"
)

// FuzzVerifyPresentation: VerifyPresentation never panics on what
// ParseInput accepts, every failure wraps one of the vc sentinels, and
// whatever verifies was signed by the one holder key (the issuer's key
// signs credentials only, for assertionMethod).
//
//	go test ./vc/secure -run '^$' -fuzz FuzzVerifyPresentation -fuzztime 1m
func FuzzVerifyPresentation(f *testing.F) {
	// Fixed keys, so that every fuzzing worker verifies every seed.
	iss := newParty(f, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)))
	holder := newParty(f, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)))
	ctx := context.Background()
	var creds []any
	for _, format := range []Format{DataIntegrity, JWT, SDJWT} {
		o := IssueOptions{Format: format, Now: now, HolderKey: holder.signer.Key.Public()}
		c, err := engine.Issue(ctx, licenseCredential(iss.did, holder.did), iss.signer, o)
		if err != nil {
			f.Fatal(err)
		}
		creds = append(creds, c)
	}
	seed := func(v any) {
		b, err := vc.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, format := range []Format{DataIntegrity, DataIntegrityJCS, JWT} {
		o := PresentOptions{Format: format, Now: now, Challenge: challenge, Domain: domain}
		vp, err := engine.Present(ctx, holder.did, creds[:2], holder.signer, o)
		if err != nil {
			f.Fatal(err)
		}
		seed(vp)
		if format == JWT {
			seed(tokenOf(vp))
		}
	}
	kb, err := engine.Present(ctx, holder.did, creds[2:], holder.signer,
		PresentOptions{Format: SDJWT, Now: now, Challenge: challenge, Domain: domain, Disclose: []string{"/credentialSubject/license"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(kb.(string)))
	sentinels := []error{vc.ErrMalformed, vc.ErrUnsupported, vc.ErrKey, vc.ErrSignature, vc.ErrProofOptions}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseInput(b)
		if err != nil {
			return
		}
		v, err := engine.VerifyPresentation(ctx, in, resolver, bound)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("an error that wraps no vc sentinel: %v", err)
		}
		if v.Holder != holder.did || !v.HolderProof || len(v.Credentials) > MaxCredentials {
			t.Fatalf("verified a presentation by %s (%v) with %d credentials", v.Holder, v.HolderProof, len(v.Credentials))
		}
	})
}
