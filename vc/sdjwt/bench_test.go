package sdjwt_test

import (
	"context"
	"testing"

	"github.com/credence/credence/vc/sdjwt"
)

// The benchmarks issue, present and verify the patient identity credential
// (testdata/patient.json, 13 Disclosures) with EdDSA and ES256 keys for
// both issuer and holder. The presentation discloses name and birth date.
//
//	go test ./vc/sdjwt -run '^$' -bench . -benchmem
func BenchmarkSDJWT(b *testing.B) {
	ctx := context.Background()
	front := []string{"/given_name", "/family_name", "/birthdate"}
	for _, alg := range []string{"EdDSA", "ES256"} {
		p := newParties(b, alg)
		c := sdjwt.Credential{VCT: vct, Claims: patient(b), Disclose: disclose, Holder: p.holder.Key.Public(), Expires: now.AddDate(1, 0, 0)}
		b.Run("issue/"+alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := sdjwt.Issue(ctx, c, p.issuer, sdjwt.WithClock(clock)); err != nil {
					b.Fatal(err)
				}
			}
		})
		issued := p.issue(b)
		b.Run("present/"+alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := sdjwt.Present(ctx, issued, front, p.holder, verifier, nonce, sdjwt.WithClock(clock)); err != nil {
					b.Fatal(err)
				}
			}
		})
		pres := p.present(b, issued, front...)
		b.Run("verify/"+alg, func(b *testing.B) {
			b.SetBytes(int64(len(pres)))
			for b.Loop() {
				if _, err := sdjwt.Verify(ctx, pres, p.keys, kbOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
