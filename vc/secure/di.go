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
	// A proof says who signed; the credential says who issued. One of the
	// proofs, all of which verified, must be the issuer's, or anyone could
	// sign a credential naming any issuer. The others are other parties'
	// (a proof set or chain: a co-signer, a notary; Data Integrity §2.1).
	issuer := vc.Credential(doc).Issuer()
	for _, p := range res.Proofs {
		if controller(p.VerificationMethod) == issuer {
			return &Verified{Format: string(p.Suite), Credential: vc.Credential(doc), VerificationMethod: p.VerificationMethod}, nil
		}
	}
	if len(res.Proofs) == 1 {
		return nil, fmt.Errorf("%w: the proof's key %s does not belong to the issuer %s", vc.ErrKey, res.Proofs[0].VerificationMethod, issuer)
	}
	return nil, fmt.Errorf("%w: none of the %d proofs is by a key of the issuer %s", vc.ErrKey, len(res.Proofs), issuer)
}

// controller is the controller of a verification method id: for a DID URL,
// the DID (without its fragment, query and path); for another URL (a
// controlled identifier document's, such as https://example.com/issuer#key-1),
// the URL without its fragment.
func controller(vm string) string {
	seps := "#"
	if strings.HasPrefix(vm, "did:") {
		seps = "#?/"
	}
	if i := strings.IndexAny(vm, seps); i >= 0 {
		return vm[:i]
	}
	return vm
}
