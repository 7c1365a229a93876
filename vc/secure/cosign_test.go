package secure

import (
	"context"
	"errors"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
)

// TestProofsByOtherParties: a Data Integrity credential may carry proofs
// by parties other than its issuer (a proof set or chain: a co-signer, a
// notary). It verifies when every proof verifies and one is the issuer's,
// which is the verification method reported.
func TestProofsByOtherParties(t *testing.T) {
	ctx := context.Background()
	holder, iss, notary, mallory := edParty(t), edParty(t), edParty(t), edParty(t)
	sign := func(doc map[string]any, p party, o di.Options) map[string]any {
		t.Helper()
		o.Created = now
		out, err := engine.di.Sign(ctx, doc, p.signer, o)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cred := licenseCredential(iss.did, holder.did)
	byIssuer := sign(cred, iss, di.Options{ID: "urn:uuid:7f1c4c1e-0d0b-4a47-9a43-1d8a1b5e6a01"})
	notarized := sign(byIssuer, notary, di.Options{PreviousProof: []string{"urn:uuid:7f1c4c1e-0d0b-4a47-9a43-1d8a1b5e6a01"}})
	countersigned := sign(sign(cred, notary, di.Options{ID: "urn:uuid:7f1c4c1e-0d0b-4a47-9a43-1d8a1b5e6a02"}), iss,
		di.Options{PreviousProof: []string{"urn:uuid:7f1c4c1e-0d0b-4a47-9a43-1d8a1b5e6a02"}})
	set := sign(byIssuer, notary, di.Options{})
	for name, doc := range map[string]map[string]any{"chain, issuer first": notarized, "chain, issuer last": countersigned, "set": set} {
		v, err := verify(doc)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if controller(v.VerificationMethod) != iss.did {
			t.Errorf("%s: verification method %s, want the issuer's", name, v.VerificationMethod)
		}
	}

	bad := map[string]map[string]any{
		"no proof by the issuer":      sign(sign(cred, mallory, di.Options{}), notary, di.Options{}),
		"one proof, not the issuer's": sign(cred, mallory, di.Options{}),
	}
	for name, doc := range bad {
		if _, err := verify(doc); !errors.Is(err, vc.ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
	}
	// Every proof must still verify: the issuer's does not cover a bad one.
	broken := vc.Clone(set).(map[string]any)
	proofs := broken["proof"].([]any)
	proofs[1].(map[string]any)["proofValue"] = proofs[0].(map[string]any)["proofValue"]
	if _, err := verify(broken); !errors.Is(err, vc.ErrSignature) {
		t.Errorf("a set with a forged co-signature: %v, want ErrSignature", err)
	}
}
