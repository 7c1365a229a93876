package sdjwt_test

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/sdjwt"
)

// timeKeys records the signing time (vc.SigningTime) of each key lookup.
type timeKeys struct {
	vc.StaticKeys
	got []time.Time
}

func (k *timeKeys) PublicKey(ctx context.Context, vm, purpose string) (crypto.PublicKey, error) {
	t, _ := vc.SigningTime(ctx)
	k.got = append(k.got, t)
	return k.StaticKeys.PublicKey(ctx, vm, purpose)
}

// TestSigningTimeOfIssuerJWT: the issuer's key is looked up with the
// issuer-signed JWT's iat as the signing time, in an SD-JWT and in an
// SD-JWT+KB (the KB-JWT's own iat does not count); an iat past now plus
// skew gives none.
func TestSigningTimeOfIssuerJWT(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := now.Add(-72 * time.Hour)
	at := func(t time.Time) sdjwt.Option { return sdjwt.WithClock(func() time.Time { return t }) }
	tests := []struct {
		name  string
		token string
		o     sdjwt.VerifyOptions
		want  time.Time
		err   error
	}{
		{"SD-JWT", p.issue(t, at(issued)), sdjwt.VerifyOptions{Now: now}, issued, nil},
		{"SD-JWT+KB", p.present(t, p.issue(t, at(issued)), "/given_name"), kbOptions(), issued, nil},
		{"iat in the future", p.issue(t, at(now.Add(time.Hour))), sdjwt.VerifyOptions{Now: now, Skew: time.Minute}, time.Time{}, vc.ErrProofOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := &timeKeys{StaticKeys: p.keys}
			_, err := sdjwt.Verify(vc.WithSigningTime(context.Background(), now.Add(-time.Hour)), tt.token, keys, tt.o)
			wantErr(t, err, tt.err)
			if len(keys.got) != 1 || !keys.got[0].Equal(tt.want) {
				t.Errorf("signing times %v, want [%v]", keys.got, tt.want)
			}
		})
	}
}
