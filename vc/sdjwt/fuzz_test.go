package sdjwt_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc/sdjwt"
)

// FuzzVerify: Verify never panics; with key binding required nothing but
// the seed presentations verify (sd_hash binds the disclosures, the KB-JWT
// the rest); without it, what verifies is the issuer's JWT with a subset of
// its Disclosures, never anything else.
//
//	go test ./vc/sdjwt -run '^$' -fuzz FuzzVerify -fuzztime 1m
func FuzzVerify(f *testing.F) {
	p := newParties(f, "EdDSA") // deterministic signatures and salts: workers rebuild the same seeds
	issued := p.issue(f, sdjwt.WithRand(&counter{}))
	parts := strings.Split(issued, "~")
	presentations := map[string]bool{}
	for _, paths := range [][]string{nil, {"/given_name", "/birthdate"}, {"/address/postal_code", "/allergies/1"}} {
		pres := p.present(f, issued, paths...)
		presentations[pres] = true
		f.Add(pres)
	}
	f.Add(issued)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := sdjwt.Verify(ctx, s, p.keys, kbOptions()); err == nil && !presentations[s] {
			t.Fatalf("a modified presentation verifies: %q", s)
		}
		v, err := sdjwt.Verify(ctx, s, p.keys, sdjwt.VerifyOptions{Now: now})
		if err != nil || v.KeyBound {
			return
		}
		got := strings.Split(s, "~")
		if got[0] != parts[0] {
			t.Fatalf("another issuer JWT verifies: %q", s)
		}
		for _, d := range got[1 : len(got)-1] {
			if !slices.Contains(parts[1:], d) {
				t.Fatalf("a disclosure the issuer did not make verifies: %q", d)
			}
		}
	})
}
