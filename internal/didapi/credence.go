package didapi

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
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

// ServiceInput is one service of an update request. id is a fragment ("#hub").
type ServiceInput struct {
	ID              string `json:"id"`
	Type            string `json:"type"`
	ServiceEndpoint string `json:"serviceEndpoint"`
}

// Limits of service updates.
const (
	maxServices        = 20
	maxServiceEndpoint = 2000
)

var (
	serviceFragment = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	serviceType     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._:/#-]{0,199}$`)
	keyFragment     = regexp.MustCompile(`^key-([1-9][0-9]{0,8})$`)
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

// Rotate moves a hosted did:credence DID to its pre-committed next update key,
// commits to a freshly made one and makes the new key the document's only
// verification method.
func (h *Hosted) Rotate(ctx context.Context, id string) (LedgerResult, error) {
	return h.update(ctx, id, func(doc *did.Document, newKey credKey) error {
		n := 0
		for _, vm := range doc.VerificationMethod {
			_, frag, _ := strings.Cut(vm.ID, "#")
			if m := keyFragment.FindStringSubmatch(frag); m != nil {
				n = max(n, atoi(m[1]))
			}
		}
		setKey(doc, verificationMethod(doc.ID, n+1, newKey.mk))
		return nil
	})
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// UpdateServices replaces the services of a hosted did:credence DID; its
// verification methods stay. Pre-rotation makes the did.update rotate the ledger's
// update key all the same (see the package notes above).
func (h *Hosted) UpdateServices(ctx context.Context, id string, services []ServiceInput) (LedgerResult, error) {
	if len(services) > maxServices {
		return LedgerResult{}, &invalidField{"services", fmt.Sprintf("at most %d services", maxServices)}
	}
	var out []did.Service
	for i, s := range services {
		field := fmt.Sprintf("services[%d]", i)
		frag := strings.TrimPrefix(s.ID, id) // an absolute id of this DID is accepted
		frag, ok := strings.CutPrefix(frag, "#")
		switch {
		case !ok || !serviceFragment.MatchString(frag):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q must be a fragment such as \"#hub\": a letter or digit, then up to 63 letters, digits, '.', '_' or '-'", s.ID)}
		case strings.HasPrefix(frag, "key-"):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q is reserved for verification methods", s.ID)}
		case slices.ContainsFunc(out, func(o did.Service) bool { return o.ID == id+"#"+frag }):
			return LedgerResult{}, &invalidField{field + ".id", fmt.Sprintf("service id %q is listed twice", s.ID)}
		case !serviceType.MatchString(s.Type):
			return LedgerResult{}, &invalidField{field + ".type", fmt.Sprintf("service type %q must be a name such as \"LinkedDomains\" (letters, digits, '.', '_', ':', '/', '#', '-'; at most 200)", s.Type)}
		}
		if err := checkEndpoint(s.ServiceEndpoint); err != nil {
			return LedgerResult{}, &invalidField{field + ".serviceEndpoint", err.Error()}
		}
		ep, _ := json.Marshal(s.ServiceEndpoint)
		out = append(out, did.Service{ID: id + "#" + frag, Type: did.StringSet{s.Type}, ServiceEndpoint: ep})
	}
	return h.update(ctx, id, func(doc *did.Document, _ credKey) error {
		doc.Service = out
		return nil
	})
}

// checkEndpoint accepts an absolute https URL with a host and no credentials.
func checkEndpoint(s string) error {
	if len(s) > maxServiceEndpoint {
		return fmt.Errorf("serviceEndpoint is longer than %d characters", maxServiceEndpoint)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
		return fmt.Errorf("serviceEndpoint %q must be an absolute https URL without credentials", s)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("serviceEndpoint %q contains spaces or control characters", s)
	}
	return nil
}

// update writes a did.update: the ledger's update key moves to the committed next
// key, a new next key is made and committed, the op is signed by the current update
// key, and edit changes the document (given the new update key).
func (h *Hosted) update(ctx context.Context, id string, edit func(doc *did.Document, newUpdate credKey) error) (LedgerResult, error) {
	h.ledgerMu.Lock()
	defer h.ledgerMu.Unlock()
	s, err := h.load(ctx, id)
	if err != nil {
		return LedgerResult{}, err
	}
	next, err := h.nextKey(ctx, s)
	if err != nil {
		return LedgerResult{}, err
	}
	doc := s.doc
	if err := edit(&doc, next); err != nil {
		return LedgerResult{}, err
	}
	if err := doc.Validate(); err != nil {
		return LedgerResult{}, &invalidField{"services", err.Error()}
	}
	docJSON, err := json.Marshal(&doc)
	if err != nil {
		return LedgerResult{}, err
	}
	fresh, err := h.newKey(ctx, next.alg, "did:credence update key "+s.rec.Label)
	if err != nil {
		return LedgerResult{}, err
	}
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: id, Seq: s.st.Seq + 1, Prev: s.st.Hash,
		Time: h.opTime(s.st.Time), Doc: docJSON, UpdateKeys: []string{next.mk}, NextKeyHashes: []string{registry.KeyHash(fresh.mk)}}
	if err := h.sign(ctx, op, s.update); err != nil {
		return LedgerResult{}, err
	}
	// Remember the fresh key before the op can land, so the commitment is never
	// to a key the record does not know.
	if err := h.editRecord(ctx, id, func(r *Record) { r.Pending = append(r.Pending, fresh.id) }); err != nil {
		return LedgerResult{}, err
	}
	receipt, err := h.submit(ctx, op)
	if err != nil {
		_ = h.editRecord(context.WithoutCancel(ctx), id, func(r *Record) {
			r.Pending = slices.DeleteFunc(r.Pending, func(p string) bool { return p == fresh.id })
		})
		return LedgerResult{}, err
	}
	var rec Record
	err = h.editRecord(context.WithoutCancel(ctx), id, func(r *Record) {
		r.KeyIDs, r.Pending = []string{next.id, s.recovery.id, fresh.id}, nil
		rec = *r
	})
	if err != nil { // the op is on the ledger; the next op reconciles the record
		rec = s.rec
		rec.KeyIDs = []string{next.id, s.recovery.id, fresh.id}
	}
	return LedgerResult{Record: rec, Document: &doc, Receipt: receipt}, nil
}

// Deactivate deactivates a hosted did:credence DID with a did.deactivate signed by
// its recovery key. It is terminal.
func (h *Hosted) Deactivate(ctx context.Context, id string) (LedgerResult, error) {
	h.ledgerMu.Lock()
	defer h.ledgerMu.Unlock()
	s, err := h.load(ctx, id)
	if err != nil {
		return LedgerResult{}, err
	}
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDDeactivate, Subject: id, Seq: s.st.Seq + 1, Prev: s.st.Hash, Time: h.opTime(s.st.Time)}
	if err := h.sign(ctx, op, s.recovery); err != nil {
		return LedgerResult{}, err
	}
	receipt, err := h.submit(ctx, op)
	if err != nil {
		return LedgerResult{}, err
	}
	return LedgerResult{Record: s.rec, Document: &s.doc, Receipt: receipt}, nil
}

// editRecord changes the stored record of a did:credence DID atomically.
func (h *Hosted) editRecord(ctx context.Context, id string, edit func(*Record)) error {
	return h.kv.Update(ctx, bucketDIDs, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrNotHosted, id)
		}
		var r Record
		if err := json.Unmarshal(old, &r); err != nil {
			return nil, fmt.Errorf("failed to decode hosted DID: %w", err)
		}
		edit(&r)
		return json.Marshal(r)
	})
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
