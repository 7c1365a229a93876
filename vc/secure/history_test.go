package secure

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// pastKeys holds keys only the past authorized: it answers a lookup that
// carries a signing time, whatever the purpose (vc.DIDKeys would also
// insist on assertionMethod), and refuses every other.
type pastKeys struct{ vc.StaticKeys }

func (k pastKeys) PublicKey(ctx context.Context, vm, purpose string) (crypto.PublicKey, error) {
	if _, ok := vc.SigningTime(ctx); !ok {
		return nil, fmt.Errorf("%w: %s is not a current key", vc.ErrKey, vm)
	}
	return k.StaticKeys.PublicKey(ctx, vm, purpose)
}

// TestRotatedKeys: a credential of every format carries its signing time
// to the key lookup, so it verifies with a key only the past authorized;
// a presentation's holder proof does not, even when the caller's context
// carries a signing time, so it needs a current key. An SD-JWT+KB's
// issuer-signed JWT is a credential: its iat counts.
func TestRotatedKeys(t *testing.T) {
	iss, holder := edParty(t), edParty(t)
	keys := pastKeys{vc.StaticKeys{iss.signer.VerificationMethod: iss.signer.Key.Public(),
		holder.signer.VerificationMethod: holder.signer.Key.Public()}}
	ctx := vc.WithSigningTime(context.Background(), now.Add(-time.Hour))
	var creds []any
	for _, f := range Formats() {
		in := issue(t, f, iss, holder)
		if _, err := engine.VerifyCredential(context.Background(), in, keys, VerifyOptions{Now: now}); err != nil {
			t.Errorf("%s credential: %v", f, err)
		}
		creds = append(creds, in)
	}
	for _, f := range []Format{DataIntegrity, JWT} {
		in := present(t, f, holder, creds[:1], PresentOptions{Challenge: challenge, Domain: domain})
		if _, err := engine.VerifyPresentation(ctx, in, keys, bound); !errors.Is(err, vc.ErrKey) {
			t.Errorf("%s presentation by a key of the past: %v, want an ErrKey", f, err)
		}
	}
	kb := present(t, SDJWT, holder, creds[len(creds)-1:], PresentOptions{Challenge: challenge, Domain: domain})
	if _, err := engine.VerifyPresentation(ctx, kb, keys, bound); err != nil {
		t.Errorf("SD-JWT+KB: %v", err)
	}
}

// TestJWTIssuedAt: a vc+jwt carries its issuance time as iat.
func TestJWTIssuedAt(t *testing.T) {
	in := issue(t, JWT, edParty(t), edParty(t))
	token, _, err := jose.Unenvelope(in.(map[string]any))
	if err != nil {
		t.Fatal(err)
	}
	j, err := jose.Parse(token, 0)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := vc.DecodeObject(j.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if iat, ok, _ := jose.NumericDate(claims, "iat"); !ok || int64(iat) != now.Unix() {
		t.Errorf("iat %v (present %v), want %d", iat, ok, now.Unix())
	}
}
