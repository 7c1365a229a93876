package di

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/vc"
)

// MaxClockSkew is how far in the future a proof's created may be.
const MaxClockSkew = 5 * time.Minute

// VerifyOptions are what the verifier expects of every proof.
type VerifyOptions struct {
	Purpose   string    // default vc.PurposeAssertion
	Challenge string    // if set, every proof must carry it
	Domain    string    // if set, every proof's domain must be exactly it
	Now       time.Time // default time.Now()
}

// Result describes the verified proofs, in document order.
type Result struct {
	Proofs []ProofResult
}

// ProofResult describes one verified proof.
type ProofResult struct {
	Suite              Suite
	VerificationMethod string
	Purpose            string
	Created            time.Time // zero if the proof has none
}

// Verify checks every proof of doc (one, a set or a chain) and returns what
// they are, or the first failure, which wraps one of the vc sentinels.
func (e *Engine) Verify(ctx context.Context, doc map[string]any, keys vc.KeyResolver, o VerifyOptions) (*Result, error) {
	if doc == nil {
		return nil, fmt.Errorf("%w: no document", vc.ErrMalformed)
	}
	all, err := proofs(doc)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: document has no proof", vc.ErrMalformed)
	}
	if o.Now.IsZero() {
		o.Now = e.now()
	}
	res := &Result{Proofs: make([]ProofResult, 0, len(all))}
	for i, proof := range all {
		r, err := e.verifyProof(ctx, doc, all, proof, keys, o)
		if err != nil {
			if len(all) > 1 {
				return nil, fmt.Errorf("proof %d: %w", i, err)
			}
			return nil, err
		}
		res.Proofs = append(res.Proofs, r)
	}
	return res, nil
}

func (e *Engine) verifyProof(ctx context.Context, doc map[string]any, all []map[string]any, proof map[string]any, keys vc.KeyResolver, o VerifyOptions) (ProofResult, error) {
	r, err := checkProof(proof, o)
	if err != nil {
		return r, err
	}
	sig, err := decodeProofValue(proof["proofValue"])
	if err != nil {
		return r, err
	}
	previous, err := previousProofs(proof)
	if err != nil {
		return r, err
	}
	input, err := unsecured(doc, all, previous)
	if err != nil {
		return r, err
	}
	if c, ok := proof["@context"]; ok {
		if !contextPrefix(doc["@context"], c) {
			return r, fmt.Errorf("%w: the proof's @context does not begin the document's", vc.ErrMalformed)
		}
		if r.Suite == EdDSAJCS2022 {
			input["@context"] = c
		}
	}
	pub, err := publicKey(vc.WithSigningTime(ctx, signingTime(r)), keys, r.VerificationMethod, r.Purpose)
	if err != nil {
		return r, err
	}
	hash, err := e.hashData(r.Suite, input, proofConfig(r.Suite, input, proof))
	if err != nil {
		return r, err
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, hash, sig) {
		return r, fmt.Errorf("%w: %s proof by %s", vc.ErrSignature, r.Suite, r.VerificationMethod)
	}
	return r, nil
}

// checkProof reads a proof's suite and options and checks them against
// what the verifier expects.
func checkProof(proof map[string]any, o VerifyOptions) (ProofResult, error) {
	var r ProofResult
	suite, err := suiteOf(proof)
	if err != nil {
		return r, err
	}
	vm, _ := proof["verificationMethod"].(string)
	purpose, _ := proof["proofPurpose"].(string)
	if vm == "" || purpose == "" {
		return r, fmt.Errorf("%w: proof needs a verificationMethod and a proofPurpose", vc.ErrMalformed)
	}
	r = ProofResult{Suite: suite, VerificationMethod: vm, Purpose: purpose}
	if want := cmpOr(o.Purpose, vc.PurposeAssertion); purpose != want {
		return r, fmt.Errorf("%w: proof purpose is %s, want %s", vc.ErrProofOptions, purpose, want)
	}
	if r.Created, err = checkDates(proof, o.Now); err != nil {
		return r, err
	}
	if o.Challenge != "" && proof["challenge"] != o.Challenge {
		return r, fmt.Errorf("%w: challenge does not match", vc.ErrProofOptions)
	}
	if o.Domain != "" && !slices.Equal(stringList(proof["domain"]), []string{o.Domain}) {
		return r, fmt.Errorf("%w: domain does not match", vc.ErrProofOptions)
	}
	return r, nil
}

// checkDates: created, if present, is not in the future; expires, if
// present, has not passed.
func checkDates(proof map[string]any, now time.Time) (created time.Time, err error) {
	if v, ok := proof["created"]; ok {
		if created, err = parseDateTime(v); err != nil {
			return created, err
		}
		if created.After(now.Add(MaxClockSkew)) {
			return created, fmt.Errorf("%w: proof created in the future (%s)", vc.ErrProofOptions, dateTime(created))
		}
	}
	if v, ok := proof["expires"]; ok {
		expires, err := parseDateTime(v)
		if err != nil {
			return created, err
		}
		if !now.Before(expires) {
			return created, fmt.Errorf("%w: proof expired at %s", vc.ErrProofOptions, dateTime(expires))
		}
	}
	return created, nil
}

// signingTime is the time an assertion proof says it was made (its created,
// which checkDates keeps within MaxClockSkew of now), for resolving its key
// as of then (vc.WithSigningTime); zero for any other purpose, so that an
// authentication proof is checked against the current keys only.
func signingTime(r ProofResult) time.Time {
	if r.Purpose != vc.PurposeAssertion {
		return time.Time{}
	}
	return r.Created
}

// publicKey resolves an Ed25519 key of vm for purpose.
func publicKey(ctx context.Context, keys vc.KeyResolver, vm, purpose string) (ed25519.PublicKey, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: no key resolver", vc.ErrKey)
	}
	k, err := keys.PublicKey(ctx, vm, purpose)
	if err != nil {
		if errors.Is(err, vc.ErrKey) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %w", vc.ErrKey, vm, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %s is not an Ed25519 key (%T)", vc.ErrKey, vm, k)
	}
	return pub, nil
}

// stringList reads a string or a list of strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}
