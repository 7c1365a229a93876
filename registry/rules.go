package registry

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/json"
	"slices"
	"strings"

	"github.com/credence/credence/did"
	"github.com/gowebpki/jcs"
)

// MaxKeys bounds each of updateKeys, recoveryKeys and nextKeyHashes.
const MaxKeys = 8

// MaxProofs bounds the proofs of one op (at most one per update and recovery key).
const MaxProofs = 2 * MaxKeys

// The rules of the did.* operations. Summary of the decisions:
//
//   - Keys (updateKeys, recoveryKeys) are 1..MaxKeys distinct Ed25519 or P-256
//     Multikeys in the exact form did.EncodeMultikey writes; an op's update and
//     recovery keys are disjoint. Violations are ErrMalformed.
//   - A proof's kid is "#" + Multikey. Every proof must name a key authorized for
//     the op (else ErrUnauthorizedKey) and verify (else ErrBadSignature); kids are
//     distinct; an op without proofs is ErrUnauthorizedKey.
//   - did.create: the subject is "did:credence:" + DeriveSCID(op) (ErrBadSCID);
//     proofs by its own update or recovery keys, at least one by an update key.
//   - did.update: proofs by current update keys only. recoveryKeys must be absent
//     (ErrUnauthorizedKey: only did.recover changes them). updateKeys absent keeps
//     them, present rotates them. Pre-rotation (st.NextKeyHashes non-empty) makes
//     every update a rotation to committed keys and requires a fresh commitment
//     (ErrPreRotation): an update cannot switch pre-rotation off, only did.recover
//     can. With pre-rotation off, an update may switch it on.
//   - A commitment (nextKeyHashes, 1..MaxKeys distinct KeyHash values) must not
//     contain the KeyHash of a key it sits next to as an update key: committing to
//     an already exposed key would defeat it (ErrPreRotation).
//   - did.recover: proofs by current recovery keys only; replaces updateKeys,
//     recoveryKeys and doc (all required, ErrMalformed); not bound by the
//     pre-rotation commitment; nextKeyHashes as given, cleared when absent.
//   - did.deactivate: proofs by current recovery keys only (as Sidetree's
//     deactivate): an update key is online, and for hosted DIDs also signs
//     credentials, so its theft alone must not end a DID for good, which
//     did.recover could not undo. Carries no doc, keys or commitment.
//     Terminal; the state keeps the last doc and keys.
//   - did.* ops carry no statusList or accreditation (ErrMalformed).

// applyCreate checks a did.create and returns the subject's first state.
func applyCreate(op *Op) (SubjectState, error) {
	if err := noForeignMembers(op); err != nil {
		return SubjectState{}, err
	}
	if !strings.HasPrefix(op.Subject, MethodPrefix) || !isMultihash256(strings.TrimPrefix(op.Subject, MethodPrefix)) {
		return SubjectState{}, reject(ErrBadSCID, "subject %q is not %s followed by a base58btc sha2-256 multihash", op.Subject, MethodPrefix)
	}
	scid, err := DeriveSCID(op)
	if err != nil {
		return SubjectState{}, reject(ErrBadSCID, "%v", err)
	}
	if op.Subject != MethodPrefix+scid {
		return SubjectState{}, reject(ErrBadSCID, "subject %s, but the op derives %s%s", op.Subject, MethodPrefix, scid)
	}
	if err := checkKeys("updateKeys", op.UpdateKeys); err != nil {
		return SubjectState{}, err
	}
	if err := checkKeys("recoveryKeys", op.RecoveryKeys); err != nil {
		return SubjectState{}, err
	}
	if err := disjoint(op.UpdateKeys, op.RecoveryKeys); err != nil {
		return SubjectState{}, err
	}
	signers, err := checkProofs(op, "did.create", func(mk string) bool {
		return slices.Contains(op.UpdateKeys, mk) || slices.Contains(op.RecoveryKeys, mk)
	}, "an update or recovery key of the op")
	if err != nil {
		return SubjectState{}, err
	}
	if !slices.ContainsFunc(signers, func(mk string) bool { return slices.Contains(op.UpdateKeys, mk) }) {
		return SubjectState{}, reject(ErrUnauthorizedKey, "did.create has no proof by one of its update keys (signed by %v)", signers)
	}
	doc, err := checkDoc(op)
	if err != nil {
		return SubjectState{}, err
	}
	if err := checkCommitment(op.NextKeyHashes, op.UpdateKeys); err != nil {
		return SubjectState{}, err
	}
	return keyState(op, doc), nil
}

// applyUpdate checks a did.update against st.
func applyUpdate(st SubjectState, op *Op) (SubjectState, error) {
	if err := noForeignMembers(op); err != nil {
		return SubjectState{}, err
	}
	if _, err := checkProofs(op, "did.update", func(mk string) bool {
		return slices.Contains(st.UpdateKeys, mk)
	}, "a current update key"); err != nil {
		return SubjectState{}, err
	}
	if len(op.RecoveryKeys) > 0 {
		return SubjectState{}, reject(ErrUnauthorizedKey, "did.update carries recoveryKeys %v; only did.recover, signed by a recovery key, changes them", op.RecoveryKeys)
	}
	doc, err := checkDoc(op)
	if err != nil {
		return SubjectState{}, err
	}
	updateKeys := st.UpdateKeys
	if len(op.UpdateKeys) > 0 {
		if err := checkKeys("updateKeys", op.UpdateKeys); err != nil {
			return SubjectState{}, err
		}
		if err := disjoint(op.UpdateKeys, st.RecoveryKeys); err != nil {
			return SubjectState{}, err
		}
		updateKeys = op.UpdateKeys
	}
	if len(st.NextKeyHashes) > 0 {
		if len(op.UpdateKeys) == 0 {
			return SubjectState{}, reject(ErrPreRotation, "pre-rotation is on (%d committed key hashes): did.update must rotate updateKeys to committed keys", len(st.NextKeyHashes))
		}
		for _, k := range op.UpdateKeys {
			if h := KeyHash(k); !slices.Contains(st.NextKeyHashes, h) {
				return SubjectState{}, reject(ErrPreRotation, "update key %s (hash %s) is not in the commitment %v", k, h, st.NextKeyHashes)
			}
		}
		if len(op.NextKeyHashes) == 0 {
			return SubjectState{}, reject(ErrPreRotation, "pre-rotation is on: did.update must commit to the next keys (nextKeyHashes); only did.recover can switch it off")
		}
	}
	if err := checkCommitment(op.NextKeyHashes, updateKeys); err != nil {
		return SubjectState{}, err
	}
	return SubjectState{
		UpdateKeys:    slices.Clone(updateKeys),
		RecoveryKeys:  slices.Clone(st.RecoveryKeys),
		NextKeyHashes: slices.Clone(op.NextKeyHashes),
		Doc:           doc,
	}, nil
}

// applyRecover checks a did.recover against st.
func applyRecover(st SubjectState, op *Op) (SubjectState, error) {
	if err := noForeignMembers(op); err != nil {
		return SubjectState{}, err
	}
	if _, err := checkProofs(op, "did.recover", func(mk string) bool {
		return slices.Contains(st.RecoveryKeys, mk)
	}, "a current recovery key"); err != nil {
		return SubjectState{}, err
	}
	switch {
	case len(op.UpdateKeys) == 0:
		return SubjectState{}, reject(ErrMalformed, "did.recover must carry new updateKeys")
	case len(op.RecoveryKeys) == 0:
		return SubjectState{}, reject(ErrMalformed, "did.recover must carry new recoveryKeys")
	case len(op.Doc) == 0:
		return SubjectState{}, reject(ErrMalformed, "did.recover must carry a doc")
	}
	if err := checkKeys("updateKeys", op.UpdateKeys); err != nil {
		return SubjectState{}, err
	}
	if err := checkKeys("recoveryKeys", op.RecoveryKeys); err != nil {
		return SubjectState{}, err
	}
	if err := disjoint(op.UpdateKeys, op.RecoveryKeys); err != nil {
		return SubjectState{}, err
	}
	doc, err := checkDoc(op)
	if err != nil {
		return SubjectState{}, err
	}
	if err := checkCommitment(op.NextKeyHashes, op.UpdateKeys); err != nil {
		return SubjectState{}, err
	}
	return keyState(op, doc), nil
}

// applyDeactivate checks a did.deactivate against st.
func applyDeactivate(st SubjectState, op *Op) (SubjectState, error) {
	if err := noForeignMembers(op); err != nil {
		return SubjectState{}, err
	}
	if _, err := checkProofs(op, "did.deactivate", func(mk string) bool {
		return slices.Contains(st.RecoveryKeys, mk)
	}, "a current recovery key"); err != nil {
		return SubjectState{}, err
	}
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"doc", len(op.Doc) > 0},
		{"updateKeys", len(op.UpdateKeys) > 0},
		{"recoveryKeys", len(op.RecoveryKeys) > 0},
		{"nextKeyHashes", len(op.NextKeyHashes) > 0},
	} {
		if m.present {
			return SubjectState{}, reject(ErrMalformed, "did.deactivate carries %s; it takes none", m.name)
		}
	}
	return SubjectState{
		UpdateKeys:    slices.Clone(st.UpdateKeys),
		RecoveryKeys:  slices.Clone(st.RecoveryKeys),
		NextKeyHashes: slices.Clone(st.NextKeyHashes),
		Deactivated:   true,
		Doc:           slices.Clone(st.Doc),
	}, nil
}

// noForeignMembers rejects members of other op families on a did.* op.
func noForeignMembers(op *Op) error {
	if op.StatusList != nil {
		return reject(ErrMalformed, "%s carries statusList", op.Type)
	}
	if len(op.Accreditation) > 0 {
		return reject(ErrMalformed, "%s carries accreditation", op.Type)
	}
	return nil
}

// checkProofs verifies every proof of op: its kid must be "#" + a Multikey that
// allowed accepts (else ErrUnauthorizedKey, naming who may sign), and it must
// verify (ErrBadSignature). It returns the signing Multikeys in proof order.
func checkProofs(op *Op, what string, allowed func(multikey string) bool, who string) ([]string, error) {
	if len(op.Proofs) == 0 {
		return nil, reject(ErrUnauthorizedKey, "%s has no proofs; it must be signed by %s", what, who)
	}
	if len(op.Proofs) > MaxProofs {
		return nil, reject(ErrMalformed, "%s has %d proofs, max %d", what, len(op.Proofs), MaxProofs)
	}
	payload, err := SigningInput(op)
	if err != nil {
		return nil, reject(ErrMalformed, "signing input: %v", err)
	}
	signers := make([]string, 0, len(op.Proofs))
	for i, p := range op.Proofs {
		mk, ok := strings.CutPrefix(p.KID, "#")
		if !ok {
			return nil, reject(ErrUnauthorizedKey, "proof %d kid %q is not \"#\" + a Multikey; %s must be signed by %s", i, p.KID, what, who)
		}
		if slices.Contains(signers, mk) {
			return nil, reject(ErrMalformed, "proofs %d and %d are both by %s", slices.Index(signers, mk), i, p.KID)
		}
		if !allowed(mk) {
			return nil, reject(ErrUnauthorizedKey, "proof %d is by %s, which is not %s", i, mk, who)
		}
		pub, err := did.DecodeMultikey(mk)
		if err != nil {
			return nil, reject(ErrUnauthorizedKey, "proof %d key %s: %v", i, mk, err)
		}
		if err := verifyProof(payload, p, pub); err != nil {
			return nil, err
		}
		signers = append(signers, mk)
	}
	return signers, nil
}

// checkKeys checks a list of update or recovery keys.
func checkKeys(field string, keys []string) error {
	if len(keys) < 1 || len(keys) > MaxKeys {
		return reject(ErrMalformed, "%s has %d keys, want 1..%d", field, len(keys), MaxKeys)
	}
	for i, k := range keys {
		if slices.Index(keys, k) != i {
			return reject(ErrMalformed, "%s lists %s twice", field, k)
		}
		pub, err := did.DecodeMultikey(k)
		if err != nil {
			return reject(ErrMalformed, "%s[%d] %q: %v", field, i, k, err)
		}
		if !allowedKey(pub) {
			return reject(ErrMalformed, "%s[%d] %s is a %T key; only Ed25519 and P-256 keys may sign", field, i, k, pub)
		}
		if enc, err := did.EncodeMultikey(pub); err != nil || enc != k {
			return reject(ErrMalformed, "%s[%d] %q is not in canonical Multikey form (%s)", field, i, k, enc)
		}
	}
	return nil
}

func allowedKey(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return true
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256()
	}
	return false
}

// disjoint rejects a key that is both an update and a recovery key.
func disjoint(update, recovery []string) error {
	for _, k := range update {
		if slices.Contains(recovery, k) {
			return reject(ErrMalformed, "%s is both an update key and a recovery key", k)
		}
	}
	return nil
}

// checkCommitment checks a pre-rotation commitment made next to updateKeys.
func checkCommitment(hashes, updateKeys []string) error {
	if len(hashes) == 0 {
		return nil
	}
	if len(hashes) > MaxKeys {
		return reject(ErrMalformed, "nextKeyHashes has %d hashes, max %d", len(hashes), MaxKeys)
	}
	for i, h := range hashes {
		if slices.Index(hashes, h) != i {
			return reject(ErrMalformed, "nextKeyHashes lists %s twice", h)
		}
		if !isMultihash256(h) {
			return reject(ErrMalformed, "nextKeyHashes[%d] %q is not a base58btc sha2-256 multihash", i, h)
		}
	}
	for _, k := range updateKeys {
		if slices.Contains(hashes, KeyHash(k)) {
			return reject(ErrPreRotation, "nextKeyHashes commits to %s, which is already an update key", k)
		}
	}
	return nil
}

// checkDoc checks that op carries a valid DID document for its subject and returns
// it in JCS form.
func checkDoc(op *Op) (json.RawMessage, error) {
	if len(op.Doc) == 0 {
		return nil, reject(ErrMalformed, "%s must carry a doc", op.Type)
	}
	var doc did.Document
	if err := json.Unmarshal(op.Doc, &doc); err != nil {
		return nil, reject(ErrMalformed, "doc: %v", err)
	}
	if doc.ID != op.Subject {
		return nil, reject(ErrMalformed, "doc id %q is not the subject %q", doc.ID, op.Subject)
	}
	if err := doc.Validate(); err != nil {
		return nil, reject(ErrMalformed, "doc: %v", err)
	}
	c, err := jcs.Transform(op.Doc)
	if err != nil {
		return nil, reject(ErrMalformed, "doc: %v", err)
	}
	return c, nil
}

// keyState is the state a did.create or did.recover establishes: the op's keys,
// commitment and document.
func keyState(op *Op, doc json.RawMessage) SubjectState {
	return SubjectState{
		UpdateKeys:    slices.Clone(op.UpdateKeys),
		RecoveryKeys:  slices.Clone(op.RecoveryKeys),
		NextKeyHashes: slices.Clone(op.NextKeyHashes),
		Doc:           doc,
	}
}
