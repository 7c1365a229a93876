package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
)

// testKey is a signing key with its Multikey.
type testKey struct {
	mk   string
	pub  crypto.PublicKey
	priv crypto.Signer
}

func (k testKey) kid() string { return "#" + k.mk }

func (k testKey) sign() SignFunc { return SignerFunc(k.priv) }

// edKey returns a deterministic Ed25519 key for seed.
func edKey(t testing.TB, seed byte) testKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return mkKey(t, priv)
}

// p256Key returns a fresh P-256 key.
func p256Key(t testing.TB) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mkKey(t, priv)
}

func mkKey(t testing.TB, priv crypto.Signer) testKey {
	t.Helper()
	mk, err := did.EncodeMultikey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return testKey{mk: mk, pub: priv.Public(), priv: priv}
}

func mks(keys ...testKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.mk
	}
	return out
}

func keyHashes(keys ...testKey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = KeyHash(k.mk)
	}
	return out
}

// tm is a fixed op time, i minutes after a base time.
func tm(i int) string {
	return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(TimeLayout)
}

// testDoc is a DID document for subject with one Multikey method per key (the
// "note" member varies the content between versions).
func testDoc(t testing.TB, subject, note string, keys ...testKey) json.RawMessage {
	t.Helper()
	doc := map[string]any{
		"@context": []string{did.ContextDIDv1, did.ContextMultikey},
		"id":       subject,
	}
	var vms []map[string]any
	var refs []string
	for i, k := range keys {
		id := fmt.Sprintf("#key-%d", i+1)
		vms = append(vms, map[string]any{"id": subject + id, "type": did.TypeMultikey, "controller": subject, "publicKeyMultibase": k.mk})
		refs = append(refs, id)
	}
	if len(vms) > 0 {
		doc["verificationMethod"] = vms
		doc["authentication"] = refs
		doc["assertionMethod"] = refs
	}
	if note != "" {
		doc["service"] = []map[string]any{{"id": subject + "#note", "type": "Note", "serviceEndpoint": "https://example.com/" + note}}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign adds a proof by each key ("#" + Multikey kid).
func sign(t testing.TB, op *Op, keys ...testKey) *Op {
	t.Helper()
	for _, k := range keys {
		if err := AddProof(op, k.kid(), k.pub, k.sign()); err != nil {
			t.Fatal(err)
		}
	}
	return op
}

// newCreate builds a did.create with update and recovery keys, an optional
// commitment, signed by signers (by default the first update key).
func newCreate(t testing.TB, update, recovery []testKey, next []string, signers ...testKey) *Op {
	t.Helper()
	placeholder := MethodPrefix + SCIDPlaceholder
	op := &Op{
		V: OpVersion, Type: DIDCreate, Subject: placeholder, Seq: 1, Time: tm(0),
		Doc:           testDoc(t, placeholder, "", update[0]),
		UpdateKeys:    mks(update...),
		RecoveryKeys:  mks(recovery...),
		NextKeyHashes: next,
	}
	if err := NewCreate(op); err != nil {
		t.Fatal(err)
	}
	if len(signers) == 0 {
		signers = update[:1]
	}
	return sign(t, op, signers...)
}

// next builds an unsigned op that follows st.
func nextOp(t testing.TB, st SubjectState, typ OpType, minutes int) *Op {
	t.Helper()
	return &Op{V: OpVersion, Type: typ, Subject: st.Subject, Seq: st.Seq + 1, Prev: st.Hash, Time: tm(minutes)}
}

// ledger is a test subject chain: its state and the hashes of its ops by seq.
// ctrl, when set, is the Env.Controller its ops are applied with (statuslist
// ops: the issuer's state).
type ledger struct {
	t      testing.TB
	st     SubjectState
	hashes map[uint64]string
	states []SubjectState
	ctrl   func(did string) (SubjectState, error)
}

func newLedger(t testing.TB) *ledger {
	return &ledger{t: t, hashes: map[uint64]string{}}
}

func (l *ledger) prior(seq uint64) (string, bool) {
	h, ok := l.hashes[seq]
	return h, ok
}

// try encodes op (as a client would, json.Marshal), decodes it and applies it;
// on success the ledger advances.
func (l *ledger) try(op *Op) error {
	l.t.Helper()
	raw, err := json.Marshal(op)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.tryRaw(raw)
}

func (l *ledger) tryRaw(raw []byte) error {
	l.t.Helper()
	dop, canonical, err := Decode(raw)
	if err != nil {
		return err
	}
	st, err := ApplyEnv(l.st, dop, canonical, Env{Prior: l.prior, Controller: l.ctrl})
	if err != nil {
		return err
	}
	l.st = st
	l.hashes[st.Seq] = st.Hash
	l.states = append(l.states, st)
	return nil
}

// must applies op and fails the test if it is rejected.
func (l *ledger) must(op *Op) SubjectState {
	l.t.Helper()
	if err := l.try(op); err != nil {
		l.t.Fatalf("%s seq %d rejected: %v", op.Type, op.Seq, err)
	}
	return l.st
}

// wantRule checks that err is a *RuleError wrapping want and, if reason is not
// empty, that its reason contains it.
func wantRule(t testing.TB, err, want error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("got %T (%v), want *RuleError", err, err)
	}
	if re.Rule != want {
		t.Fatalf("RuleError.Rule = %v, want %v", re.Rule, want)
	}
	if !strings.Contains(re.Reason, reason) {
		t.Fatalf("reason %q does not contain %q", re.Reason, reason)
	}
}

// mustJSON marshals v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clone deep-copies an op (through JSON).
func clone(t testing.TB, op *Op) *Op {
	t.Helper()
	var c Op
	if err := json.Unmarshal(mustJSON(t, op), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// forgeProof builds a compact detached JWS over op's signing input with an
// arbitrary protected header, signed by sign (raw signature bytes as returned).
func forgeProof(t testing.TB, op *Op, kid, header string, signFn SignFunc) Proof {
	t.Helper()
	payload, err := SigningInput(op)
	if err != nil {
		t.Fatal(err)
	}
	h := b64.EncodeToString([]byte(header))
	var sig []byte
	if signFn != nil {
		if sig, err = signFn([]byte(h + "." + b64.EncodeToString(payload))); err != nil {
			t.Fatal(err)
		}
	}
	return Proof{KID: kid, JWS: h + ".." + b64.EncodeToString(sig)}
}

// testListURL is a status list subject.
const testListURL = "https://status.example.com/lists/rev-1"

// applyIndexes returns a copy of bits (a new zero list of size bits when nil)
// with set and clear applied.
func applyIndexes(bits []byte, size int, set, clear []int) []byte {
	out := make([]byte, size/8)
	copy(out, bits)
	for _, i := range set {
		out[i/8] |= 0x80 >> (i % 8)
	}
	for _, i := range clear {
		out[i/8] &^= 0x80 >> (i % 8)
	}
	return out
}

// statusCreate builds a statuslist.create of subject by issuer (size bits,
// revocation) setting set, with the right listHash, signed by signers.
func statusCreate(t testing.TB, subject, issuer string, size int, set []int, signers ...testKey) *Op {
	t.Helper()
	op := NewStatusListOp(StatusListCreate, subject, 1, "", tm(1), StatusListChange{
		Issuer: issuer, Purpose: PurposeRevocation, Size: size, Set: set,
		ListHash: ListHash(applyIndexes(nil, size, set, nil)),
	})
	return sign(t, op, signers...)
}

// statusUpdate builds the statuslist.update that follows st (a status list
// state with its bits), at tm(minutes), with the right listHash, signed by
// signers.
func statusUpdate(t testing.TB, st SubjectState, minutes int, set, clear []int, signers ...testKey) *Op {
	t.Helper()
	sl := st.StatusList
	op := NewStatusListOp(StatusListUpdate, st.Subject, st.Seq+1, st.Hash, tm(minutes), StatusListChange{
		Purpose: sl.Purpose, Size: sl.Size, Set: set, Clear: clear,
		ListHash: ListHash(applyIndexes(sl.Bits, sl.Size, set, clear)),
	})
	return sign(t, op, signers...)
}

// issuerWorld is a DID (issuer) and a status list ledger whose controller is
// the DID's ledger.
type issuerWorld struct {
	u, r   testKey // the issuer's update and recovery keys
	issuer *ledger
	list   *ledger
}

func newIssuerWorld(t testing.TB) *issuerWorld {
	t.Helper()
	w := &issuerWorld{u: edKey(t, 101), r: edKey(t, 102), issuer: newLedger(t), list: newLedger(t)}
	w.issuer.must(newCreate(t, []testKey{w.u}, []testKey{w.r}, nil))
	w.list.ctrl = func(did string) (SubjectState, error) {
		if did == w.issuer.st.Subject {
			return w.issuer.st, nil
		}
		return SubjectState{}, nil
	}
	return w
}
