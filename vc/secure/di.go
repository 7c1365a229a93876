package secure

import (
	"context"
	"fmt"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
)

func (e *Engine) verifyDI(ctx context.Context, doc map[string]any, keys vc.KeyResolver, o VerifyOptions) (*Verified, error) {
	if err := vc.Credential(doc).Validate(); err != nil {
		return nil, err
	}
	res, err := e.di.Verify(ctx, doc, keys, di.VerifyOptions{Purpose: vc.PurposeAssertion, Now: o.Now})
	if err != nil {
		return nil, err
	}
	// A proof says who signed; the credential says who issued. They must be
	// the same party, or anyone could sign a credential naming any issuer.
	issuer := vc.Credential(doc).Issuer()
	for _, p := range res.Proofs {
		if controller(p.VerificationMethod) != issuer {
			return nil, fmt.Errorf("%w: the proof's key %s does not belong to the issuer %s", vc.ErrKey, p.VerificationMethod, issuer)
		}
	}
	v := &Verified{Format: string(res.Proofs[0].Suite), Credential: vc.Credential(doc), VerificationMethod: res.Proofs[0].VerificationMethod}
	return v, nil
}

// controller is the DID of a verification method id (the DID URL without
// its fragment, query and path).
func controller(vm string) string {
	if i := strings.IndexAny(vm, "#?/"); i >= 0 {
		return vm[:i]
	}
	return vm
}
