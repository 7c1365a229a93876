package didapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
)

// The service's own did:credence DIDs. Each has three keys in the key manager:
//
//   - the update key (Ed25519 or P-256, as requested), which signs did.update; at
//     create it is also the document's one verification method (#key-1);
//   - the recovery key (Ed25519), which signs did.deactivate (and would sign
//     did.recover); it never appears in the document;
//   - the next update key, made in advance: only its KeyHash is on the ledger
//     (nextKeyHashes), so a thief of the current update key cannot even produce
//     a valid did.update: the rules require the next updateKeys to hash to the
//     commitment, and the committed public key has never been published.
//
// Pre-rotation is therefore always on, and the ledger rules make every did.update
// a rotation to the committed key with a fresh commitment. Both admin operations
// that write a did.update rotate the ledger keys the same way (the committed next
// key becomes the update key, a new next key is made and its hash committed); they
// differ in the document:
//
//   - rotate replaces the document's verification method by the new update key,
//     under a new fragment (#key-N, N one more than the highest so far, so a
//     verification method id never names two different keys over time);
//   - update replaces the services and keeps the verification methods as they
//     are ("keys unchanged" for verifiers), even though the ledger's update key
//     moved on underneath.
//
// The record in bucket "dids" lists KeyIDs [update, recovery, next]. The ledger is
// the source of truth: before each op the update and recovery keys are derived
// from the subject's ledger state (key ids derive from public keys), and the next
// key is found by its hash among the record's next key and the keys made for ops
// that may have landed without the record catching up (Pending). A crash between
// the ledger append and the record write therefore loses nothing.

// Ledger is the registry log did:credence DIDs are recorded on; *registry.Log
// implements it.
type Ledger interface {
	Submit(ctx context.Context, raw []byte) (registry.Receipt, error)
	State(ctx context.Context, subject string, upTo uint64) (registry.SubjectState, error)
}

// HostedOption configures a Hosted.
type HostedOption func(*Hosted)

// WithLedger lets the Hosted create and maintain did:credence DIDs on l.
func WithLedger(l Ledger) HostedOption { return func(h *Hosted) { h.ledger = l } }

// ErrNoLedger means a did:credence operation was asked of a Hosted without a ledger
// (e.g. the offline CLI).
var ErrNoLedger = errors.New("did:credence needs the ledger of a running server")

// ErrNotHosted means the DID is not a did:credence DID this service controls.
var ErrNotHosted = errors.New("no such did:credence DID is hosted here")

// LedgerResult is the outcome of a did:credence operation: the DID's record, the
// document as of the op (for a deactivation, the last document) and the ledger's
// receipt.
type LedgerResult struct {
	Record   Record
	Document *did.Document
	Receipt  registry.Receipt
}

// VersionID is the DID's version after the op (its ledger seq).
func (r LedgerResult) VersionID() string { return strconv.FormatUint(r.Receipt.Seq, 10) }

// CreateCredence creates a did:credence DID on the ledger: an update key of alg,
// an Ed25519 recovery key and a pre-rotated next update key of alg, all in the key
// manager; the create op is signed by the update key.
func (h *Hosted) CreateCredence(ctx context.Context, alg keys.Algorithm, label string) (LedgerResult, error) {
	if h.ledger == nil {
		return LedgerResult{}, ErrNoLedger
	}
	upd, err := h.newKey(ctx, alg, "did:credence update key "+label)
	if err != nil {
		return LedgerResult{}, err
	}
	rcv, err := h.newKey(ctx, keys.Ed25519, "did:credence recovery key "+label)
	if err != nil {
		return LedgerResult{}, err
	}
	next, err := h.newKey(ctx, alg, "did:credence update key "+label)
	if err != nil {
		return LedgerResult{}, err
	}
	placeholder := registry.MethodPrefix + registry.SCIDPlaceholder
	doc := &did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: placeholder}
	setKey(doc, verificationMethod(placeholder, 1, upd.mk))
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return LedgerResult{}, err
	}
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: placeholder, Seq: 1, Time: h.opTime(""),
		Doc: docJSON, UpdateKeys: []string{upd.mk}, RecoveryKeys: []string{rcv.mk}, NextKeyHashes: []string{registry.KeyHash(next.mk)}}
	if err := registry.NewCreate(op); err != nil {
		return LedgerResult{}, err
	}
	if err := h.sign(ctx, op, upd); err != nil {
		return LedgerResult{}, err
	}
	rec := Record{DID: op.Subject, Method: "credence", KeyIDs: []string{upd.id, rcv.id, next.id}, Label: label,
		Created: h.now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(rec)
	// The record first: a crash after the append must not leave a DID on the
	// ledger whose keys nothing points to.
	if err := h.kv.Create(ctx, bucketDIDs, rec.DID, b); err != nil {
		return LedgerResult{}, err
	}
	receipt, err := h.submit(ctx, op)
	if err != nil {
		_ = h.kv.Delete(context.WithoutCancel(ctx), bucketDIDs, rec.DID)
		return LedgerResult{}, err
	}
	var final did.Document
	if err := json.Unmarshal(op.Doc, &final); err != nil {
		return LedgerResult{}, err
	}
	return LedgerResult{Record: rec, Document: &final, Receipt: receipt}, nil
}

// credenceSubject is a hosted did:credence DID with its ledger state and the
// managed keys the state names.
type credenceSubject struct {
	rec      Record
	st       registry.SubjectState
	doc      did.Document
	update   credKey
	recovery credKey
}

// load reads a hosted did:credence DID: its record, its ledger state (which must
// be live) and its current update and recovery keys.
func (h *Hosted) load(ctx context.Context, id string) (credenceSubject, error) {
	if h.ledger == nil {
		return credenceSubject{}, ErrNoLedger
	}
	d, err := did.Parse(id)
	if err != nil {
		return credenceSubject{}, &invalidField{"did", fmt.Sprintf("%q is not a DID", id)}
	}
	if d.Method != "credence" {
		return credenceSubject{}, &invalidField{"did", fmt.Sprintf("only did:credence DIDs are rotated, updated or deactivated on the ledger, not did:%s", d.Method)}
	}
	b, err := h.kv.Get(ctx, bucketDIDs, id)
	if errors.Is(err, kv.ErrNotFound) {
		return credenceSubject{}, fmt.Errorf("%w: %s", ErrNotHosted, id)
	}
	if err != nil {
		return credenceSubject{}, err
	}
	var s credenceSubject
	if err := json.Unmarshal(b, &s.rec); err != nil {
		return credenceSubject{}, fmt.Errorf("failed to decode hosted DID: %w", err)
	}
	if s.rec.Method != "credence" || len(s.rec.KeyIDs) < 3 {
		return credenceSubject{}, fmt.Errorf("%w: %s", ErrNotHosted, id)
	}
	if s.st, err = h.ledger.State(ctx, id, 0); err != nil {
		return credenceSubject{}, err
	}
	switch {
	case s.st.Seq == 0:
		return credenceSubject{}, httpx.Conflict(id + " is not on the ledger: its create did not complete")
	case s.st.Deactivated:
		return credenceSubject{}, &registry.RuleError{Rule: registry.ErrDeactivated, Reason: fmt.Sprintf("%s was deactivated at version %d", id, s.st.Seq)}
	case len(s.st.UpdateKeys) != 1 || len(s.st.RecoveryKeys) != 1:
		return credenceSubject{}, httpx.Conflict(id + " has ledger keys this service did not make")
	}
	if err := json.Unmarshal(s.st.Doc, &s.doc); err != nil {
		return credenceSubject{}, fmt.Errorf("ledger document of %s: %w", id, err)
	}
	if s.update, err = h.keyByMultikey(ctx, id, s.st.UpdateKeys[0]); err != nil {
		return credenceSubject{}, err
	}
	if s.recovery, err = h.keyByMultikey(ctx, id, s.st.RecoveryKeys[0]); err != nil {
		return credenceSubject{}, err
	}
	return s, nil
}

// nextKey finds the managed key the ledger's commitment names: the record's next
// key, or one made for an op that landed before the record caught up.
func (h *Hosted) nextKey(ctx context.Context, s credenceSubject) (credKey, error) {
	for _, id := range append(slices.Clone(s.rec.KeyIDs[2:]), s.rec.Pending...) {
		k, err := h.keyByID(ctx, id)
		if errors.Is(err, keys.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return credKey{}, err
		}
		if slices.Contains(s.st.NextKeyHashes, registry.KeyHash(k.mk)) {
			return k, nil
		}
	}
	return credKey{}, httpx.Conflict(fmt.Sprintf("no key in the key manager matches the pre-rotation commitment of %s (version %d); only a did.recover can restore control", s.rec.DID, s.st.Seq))
}

// AssertionKey is the current assertion key of a hosted did:credence DID: the
// verification method (an absolute DID URL) its ledger document lists first
// under assertionMethod, and the id of the managed key behind it. Issuers sign
// with it; it follows rotations because it is read from the ledger.
func (h *Hosted) AssertionKey(ctx context.Context, id string) (vm string, keyID string, err error) {
	s, err := h.load(ctx, id)
	if err != nil {
		return "", "", err
	}
	if len(s.doc.AssertionMethod) == 0 {
		return "", "", httpx.Conflict(id + " has no assertion method")
	}
	ref := s.doc.AssertionMethod[0].ID()
	m, ok := s.doc.Method(ref)
	if !ok || m.PublicKeyMultibase == "" {
		return "", "", httpx.Conflict(id + " has no Multikey assertion method")
	}
	k, err := h.keyByMultikey(ctx, id, m.PublicKeyMultibase)
	if err != nil {
		return "", "", err
	}
	if strings.HasPrefix(ref, "#") {
		ref = id + ref
	}
	return ref, k.id, nil
}

// SignOp signs a ledger op for another subject that a hosted did:credence DID
// controls (a status list of an issuer): one proof by the DID's current update
// key, which the ledger checks against the DID's state.
func (h *Hosted) SignOp(ctx context.Context, id string, op *registry.Op) error {
	s, err := h.load(ctx, id)
	if err != nil {
		return err
	}
	op.Proofs = nil
	return h.sign(ctx, op, s.update)
}
