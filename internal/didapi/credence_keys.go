package didapi

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/registry"
)

// credKey is a managed key with its Multikey.
type credKey struct {
	id  string
	alg keys.Algorithm
	mk  string
	pub crypto.PublicKey
}

func (h *Hosted) newKey(ctx context.Context, alg keys.Algorithm, label string) (credKey, error) {
	k, err := h.keys.Generate(ctx, alg, label)
	if err != nil {
		return credKey{}, err
	}
	mk, err := did.EncodeMultikey(k.Public)
	if err != nil {
		return credKey{}, err
	}
	return credKey{id: k.ID, alg: k.Alg, mk: mk, pub: k.Public}, nil
}

// keyByID returns a managed key by id.
func (h *Hosted) keyByID(ctx context.Context, id string) (credKey, error) {
	k, err := h.keys.Key(ctx, id)
	if err != nil {
		return credKey{}, err
	}
	mk, err := did.EncodeMultikey(k.Public)
	if err != nil {
		return credKey{}, err
	}
	return credKey{id: k.ID, alg: k.Alg, mk: mk, pub: k.Public}, nil
}

// keyByMultikey finds the managed key of a Multikey from the ledger.
func (h *Hosted) keyByMultikey(ctx context.Context, subject, mk string) (credKey, error) {
	pub, err := did.DecodeMultikey(mk)
	if err != nil {
		return credKey{}, err
	}
	id, err := keys.KeyID(pub)
	if err != nil {
		return credKey{}, err
	}
	k, err := h.keyByID(ctx, id)
	if errors.Is(err, keys.ErrKeyNotFound) || err == nil && k.mk != mk {
		return credKey{}, httpx.Conflict(fmt.Sprintf("the ledger's key %s of %s is not held by this service's key manager", mk, subject))
	}
	return k, err
}

// sign adds a proof by k, signed in the key manager.
func (h *Hosted) sign(ctx context.Context, op *registry.Op, k credKey) error {
	return registry.AddProof(op, "#"+k.mk, k.pub, func(msg []byte) ([]byte, error) {
		return h.keys.Sign(ctx, k.id, msg)
	})
}

func (h *Hosted) submit(ctx context.Context, op *registry.Op) (registry.Receipt, error) {
	raw, err := json.Marshal(op)
	if err != nil {
		return registry.Receipt{}, err
	}
	return h.ledger.Submit(ctx, raw)
}

// opTime is now, UTC, in whole seconds, but never before last (the subject's
// latest op time): the ledger rejects times that go backwards.
func (h *Hosted) opTime(last string) string {
	t := h.now().UTC().Truncate(time.Second).Format(registry.TimeLayout)
	if last > t { // TimeLayout is fixed width: byte order is time order
		return last
	}
	return t
}

// verificationMethod is the Multikey method #key-n of subject.
func verificationMethod(subject string, n int, mk string) did.VerificationMethod {
	return did.VerificationMethod{ID: fmt.Sprintf("%s#key-%d", subject, n), Type: did.TypeMultikey, Controller: subject, PublicKeyMultibase: mk}
}

// setKey makes vm the document's only verification method, for assertion,
// authentication and capability invocation.
func setKey(doc *did.Document, vm did.VerificationMethod) {
	ref := []did.Relationship{{Ref: vm.ID}}
	doc.VerificationMethod = []did.VerificationMethod{vm}
	doc.AssertionMethod, doc.Authentication, doc.CapabilityInvocation = ref, ref, slices.Clone(ref)
	doc.CapabilityDelegation, doc.KeyAgreement = nil, nil
}
