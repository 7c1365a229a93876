package jose_test

import (
	"context"
	"crypto"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
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

// TestSigningTimeOfTokens: a credential token's key is looked up with its
// iat (a VC 1.1 JWT without iat: its nbf) as the signing time; a
// presentation's, or a token with neither claim or a time past now plus
// skew, with none, even under a context that carries one.
func TestSigningTimeOfTokens(t *testing.T) {
	iss := signer(edKey(1), issuerDID+"#key-1")
	holder := signer(edKey(2), holderDID+"#key-1")
	issued := now.Add(-48 * time.Hour)
	outer := vc.WithSigningTime(context.Background(), now.Add(-time.Hour))
	with := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	vc11 := func(kv ...any) map[string]any {
		return with(map[string]any{"iss": issuerDID, "sub": holderDID, "vc": vc11()}, kv...)
	}
	tests := []struct {
		name   string
		hdr    jose.Header
		s      vc.Signer
		claims map[string]any
		skew   time.Duration
		want   time.Time
		err    error // the token fails after the lookup
	}{
		{"vc+jwt iat", jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}, iss, with(license(t), "iat", issued.Unix()), 0, issued, nil},
		{"vc+jwt without iat", jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}, iss, license(t), 0, time.Time{}, nil},
		{"vc+jwt nbf is not iat", jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}, iss, with(license(t), "nbf", issued.Unix()), 0, time.Time{}, nil},
		{"vc+jwt iat within skew", jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}, iss,
			with(license(t), "iat", now.Add(time.Minute).Unix()), 2 * time.Minute, now.Add(time.Minute), nil},
		{"vc+jwt iat in the future", jose.Header{Typ: "vc+jwt", Kid: iss.VerificationMethod}, iss,
			with(license(t), "iat", now.Add(time.Hour).Unix()), time.Minute, time.Time{}, vc.ErrProofOptions},
		{"1.1 JWT iat", jose.Header{Kid: "#key-1"}, iss, vc11("iat", issued.Unix(), "nbf", issued.Add(time.Hour).Unix()), 0, issued, nil},
		{"1.1 JWT nbf", jose.Header{Kid: "#key-1"}, iss, vc11("nbf", issued.Unix()), 0, issued, nil},
		{"vp+jwt", jose.Header{Typ: "vp+jwt", Kid: holder.VerificationMethod}, holder,
			with(presentation(t, "x.y.z"), "iat", issued.Unix()), 0, time.Time{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := jose.Sign(context.Background(), tt.hdr, mustMarshal(t, tt.claims), tt.s)
			if err != nil {
				t.Fatal(err)
			}
			keys := &timeKeys{StaticKeys: keysOf(iss, holder)}
			_, err = jose.Verify(outer, tok, keys, jose.VerifyOptions{Now: now, Skew: tt.skew})
			wantErr(t, err, tt.err)
			if len(keys.got) != 1 || !keys.got[0].Equal(tt.want) {
				t.Errorf("signing times %v, want [%v]", keys.got, tt.want)
			}
		})
	}
}
