package registry

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/gowebpki/jcs"
)

// lifecycle runs create -> update (rotation under pre-rotation) -> recover ->
// update -> deactivate with keys from gen, checking the state after each op. It
// returns the ops applied.
func lifecycle(t *testing.T, gen func(i int) testKey) []*Op {
	u1, u2, u3, u4, u5 := gen(1), gen(2), gen(3), gen(4), gen(5)
	r1, r2 := gen(11), gen(12)
	l := newLedger(t)

	// create: update key u1, recovery r1, committing to u2 as the next update key.
	create := newCreate(t, []testKey{u1}, []testKey{r1}, keyHashes(u2))
	st := l.must(create)
	if !strings.HasPrefix(st.Subject, MethodPrefix+"Qm") || len(st.Subject) != len(MethodPrefix)+46 {
		t.Fatalf("subject %q is not a did:credence SCID", st.Subject)
	}
	canonical, _ := Canonical(create)
	want := SubjectState{
		Subject: create.Subject, Seq: 1, Hash: OpHash(canonical), Time: tm(0), Created: tm(0),
		UpdateKeys: mks(u1), RecoveryKeys: mks(r1), NextKeyHashes: keyHashes(u2), Doc: jcsOf(t, create.Doc),
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("state after create:\n got %+v\nwant %+v", st, want)
	}

	// update: rotate to the committed u2, commit to u3; signed by the current u1.
	upd := nextOp(t, st, DIDUpdate, 10)
	upd.Doc = testDoc(t, st.Subject, "v2", u2)
	upd.UpdateKeys = mks(u2)
	upd.NextKeyHashes = keyHashes(u3)
	st = l.must(sign(t, upd, u1))
	if st.Seq != 2 || !slices.Equal(st.UpdateKeys, mks(u2)) || !slices.Equal(st.NextKeyHashes, keyHashes(u3)) ||
		!slices.Equal(st.RecoveryKeys, mks(r1)) || st.Created != tm(0) || st.Updated != tm(10) || st.Time != tm(10) {
		t.Fatalf("state after rotation: %+v", st)
	}
	if !strings.Contains(string(st.Doc), "v2") {
		t.Fatalf("doc not replaced: %s", st.Doc)
	}

	// The rotated-out u1 no longer signs.
	stale := nextOp(t, st, DIDUpdate, 11)
	stale.Doc = testDoc(t, st.Subject, "stale", u3)
	stale.UpdateKeys = mks(u3)
	stale.NextKeyHashes = keyHashes(u4)
	wantRule(t, l.try(sign(t, stale, u1)), ErrUnauthorizedKey, "not a current update key")

	// recover: r1 replaces everything; no commitment given, so pre-rotation is off.
	rec := nextOp(t, st, DIDRecover, 20)
	rec.Doc = testDoc(t, st.Subject, "recovered", u4)
	rec.UpdateKeys = mks(u4)
	rec.RecoveryKeys = mks(r2)
	st = l.must(sign(t, rec, r1))
	if st.Seq != 3 || !slices.Equal(st.UpdateKeys, mks(u4)) || !slices.Equal(st.RecoveryKeys, mks(r2)) || st.NextKeyHashes != nil {
		t.Fatalf("state after recover: %+v", st)
	}

	// update without rotation (pre-rotation is off now): keys unchanged; then
	// rotate freely to u5 while switching pre-rotation back on.
	plain := nextOp(t, st, DIDUpdate, 30)
	plain.Doc = testDoc(t, st.Subject, "v4", u4)
	st = l.must(sign(t, plain, u4))
	if !slices.Equal(st.UpdateKeys, mks(u4)) || st.NextKeyHashes != nil {
		t.Fatalf("state after plain update: %+v", st)
	}
	rot := nextOp(t, st, DIDUpdate, 30) // equal time is allowed
	rot.Doc = testDoc(t, st.Subject, "v5", u5)
	rot.UpdateKeys = mks(u5)
	rot.NextKeyHashes = keyHashes(u1, u2)
	st = l.must(sign(t, rot, u4))

	// deactivate, signed by the recovery key.
	deact := nextOp(t, st, DIDDeactivate, 40)
	st = l.must(sign(t, deact, r2))
	if !st.Deactivated || st.Seq != 6 || st.Updated != tm(40) || st.Created != tm(0) || !slices.Equal(st.UpdateKeys, mks(u5)) {
		t.Fatalf("state after deactivate: %+v", st)
	}

	// Nothing follows: not an update, not a recover, not another deactivate.
	after := nextOp(t, st, DIDUpdate, 50)
	after.Doc = testDoc(t, st.Subject, "zombie", u1)
	after.UpdateKeys = mks(u1)
	after.NextKeyHashes = keyHashes(u2)
	wantRule(t, l.try(sign(t, after, u5)), ErrDeactivated, "deactivated at seq 6")
	again := nextOp(t, st, DIDRecover, 50)
	again.Doc = testDoc(t, st.Subject, "zombie", u1)
	again.UpdateKeys, again.RecoveryKeys = mks(u1), mks(r1)
	wantRule(t, l.try(sign(t, again, r2)), ErrDeactivated, "")
	wantRule(t, l.try(sign(t, nextOp(t, st, DIDDeactivate, 50), r2)), ErrDeactivated, "")

	return []*Op{create, upd, rec, plain, rot, deact}
}

func jcsOf(t testing.TB, b []byte) json.RawMessage {
	t.Helper()
	c, err := jcs.Transform(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLifecycleEd25519(t *testing.T) {
	lifecycle(t, func(i int) testKey { return edKey(t, byte(i)) })
}

func TestLifecycleP256(t *testing.T) {
	lifecycle(t, func(int) testKey { return p256Key(t) })
}

func TestLifecycleMixedKeys(t *testing.T) {
	lifecycle(t, func(i int) testKey {
		if i%2 == 0 {
			return p256Key(t)
		}
		return edKey(t, byte(i))
	})
}

// TestDeterminism applies the same op sequence twice, from the canonical bytes, and
// wants deep-equal states at every step.
func TestDeterminism(t *testing.T) {
	ops := lifecycle(t, func(i int) testKey {
		if i == 12 {
			return p256Key(t)
		}
		return edKey(t, byte(i))
	})
	run := func() []SubjectState {
		var st SubjectState
		hashes := map[uint64]string{}
		var out []SubjectState
		for _, op := range ops {
			c, err := Canonical(op)
			if err != nil {
				t.Fatal(err)
			}
			dop, canonical, err := Decode(c)
			if err != nil {
				t.Fatal(err)
			}
			st, err = Apply(st, dop, canonical, func(seq uint64) (string, bool) { h, ok := hashes[seq]; return h, ok })
			if err != nil {
				t.Fatal(err)
			}
			hashes[st.Seq] = st.Hash
			out = append(out, st)
		}
		return out
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two runs differ:\n%+v\n%+v", a, b)
	}
	if len(a) != len(ops) || !a[len(a)-1].Deactivated {
		t.Fatalf("unexpected final state %+v", a[len(a)-1])
	}
}

// TestApplyDoesNotAlias: the returned state shares no slices with st or op, so a
// caller mutating one cannot change the other.
func TestApplyDoesNotAlias(t *testing.T) {
	u1, r1, u2 := edKey(t, 1), edKey(t, 2), edKey(t, 3)
	l := newLedger(t)
	st := l.must(newCreate(t, []testKey{u1}, []testKey{r1}, nil))
	op := nextOp(t, st, DIDUpdate, 1)
	op.Doc = testDoc(t, st.Subject, "x", u2)
	op.UpdateKeys = mks(u2)
	sign(t, op, u1)
	c, _ := Canonical(op)
	before := clone(t, op)
	next, err := Apply(st, op, c, l.prior)
	if err != nil {
		t.Fatal(err)
	}
	next.UpdateKeys[0] = "mutated"
	next.RecoveryKeys[0] = "mutated"
	if op.UpdateKeys[0] != u2.mk || st.RecoveryKeys[0] != r1.mk {
		t.Fatal("state aliases the op or the previous state")
	}
	if !reflect.DeepEqual(clone(t, op), before) {
		t.Fatal("Apply modified the op")
	}
}

func TestCreateRules(t *testing.T) {
	u1, u2, r1, r2, other := edKey(t, 1), edKey(t, 2), edKey(t, 3), edKey(t, 4), edKey(t, 5)
	pu := p256Key(t)
	xk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := did.EncodeMultikey(xk.PublicKey()) // key agreement only
	if err != nil {
		t.Fatal(err)
	}

	// build makes a create from a placeholder op that edit adjusts, then derives the
	// SCID and signs it (unless edit set proofs to a sentinel value).
	build := func(edit func(op *Op), signers ...testKey) *Op {
		ph := MethodPrefix + SCIDPlaceholder
		op := &Op{V: OpVersion, Type: DIDCreate, Subject: ph, Seq: 1, Time: tm(0),
			Doc: testDoc(t, ph, "", u1), UpdateKeys: mks(u1), RecoveryKeys: mks(r1)}
		if edit != nil {
			edit(op)
		}
		if err := NewCreate(op); err != nil {
			t.Fatal(err)
		}
		if len(signers) == 0 {
			signers = []testKey{u1}
		}
		return sign(t, op, signers...)
	}
	nine := make([]string, 9)
	for i := range nine {
		nine[i] = edKey(t, byte(100+i)).mk
	}

	tests := []struct {
		name   string
		op     func() *Op
		want   error
		reason string
	}{
		{"valid", func() *Op { return build(nil) }, nil, ""},
		{"valid P-256 update key and two proofs", func() *Op {
			return build(func(op *Op) { op.UpdateKeys = mks(pu, u2) }, pu, r1)
		}, nil, ""},
		{"subject not derived from the op", func() *Op {
			op := build(nil)
			op.Subject = build(func(op *Op) { op.Time = tm(1) }).Subject
			op.Proofs = nil
			return sign(t, op, u1)
		}, ErrBadSCID, "derives"},
		{"subject edited to a random multihash", func() *Op {
			op := build(nil)
			op.Subject = MethodPrefix + KeyHash("whatever")
			op.Proofs = nil
			return sign(t, op, u1)
		}, ErrBadSCID, "derives"},
		{"subject is not a multihash", func() *Op {
			op := build(nil)
			op.Subject = MethodPrefix + "abc"
			op.Proofs = nil
			return sign(t, op, u1)
		}, ErrBadSCID, "multihash"},
		{"placeholder left in the doc", func() *Op {
			op := build(nil)
			op.Doc = json.RawMessage(strings.Replace(string(op.Doc), `"type":"Multikey"`, `"type":"Multikey","note":"{SCID}"`, 1))
			op.Proofs = nil
			return sign(t, op, u1)
		}, ErrBadSCID, "placeholder"},
		{"not a did:credence subject", func() *Op {
			op := build(nil)
			op.Subject = "did:example:123"
			return op
		}, ErrBadSCID, "did:credence"},
		{"no doc", func() *Op { return build(func(op *Op) { op.Doc = nil }) }, ErrMalformed, "must carry a doc"},
		{"doc id is not the subject", func() *Op {
			return build(func(op *Op) { op.Doc = testDoc(t, "did:example:other", "", u1) })
		}, ErrMalformed, "is not the subject"},
		{"doc fails validation", func() *Op {
			return build(func(op *Op) {
				op.Doc = json.RawMessage(`{"id":"did:credence:{SCID}","authentication":["#nowhere"]}`)
			})
		}, ErrMalformed, "unknown verification method"},
		{"no update keys", func() *Op { return build(func(op *Op) { op.UpdateKeys = nil }, r1) }, ErrMalformed, "updateKeys has 0 keys"},
		{"nine update keys", func() *Op { return build(func(op *Op) { op.UpdateKeys = append(nine, u1.mk)[1:] }) }, ErrMalformed, "updateKeys has 9 keys"},
		{"no recovery keys", func() *Op { return build(func(op *Op) { op.RecoveryKeys = nil }) }, ErrMalformed, "recoveryKeys has 0 keys"},
		{"duplicate update key", func() *Op { return build(func(op *Op) { op.UpdateKeys = mks(u1, u1) }) }, ErrMalformed, "twice"},
		{"not a Multikey", func() *Op { return build(func(op *Op) { op.RecoveryKeys = []string{"zNotAKey"} }) }, ErrMalformed, "recoveryKeys[0]"},
		{"X25519 key", func() *Op { return build(func(op *Op) { op.RecoveryKeys = []string{x25519} }) }, ErrMalformed, "only Ed25519 and P-256"},
		{"recovery key is also an update key", func() *Op {
			return build(func(op *Op) { op.RecoveryKeys = mks(r1, u1) })
		}, ErrMalformed, "both an update key and a recovery key"},
		{"no proofs", func() *Op { op := build(nil); op.Proofs = nil; return op }, ErrUnauthorizedKey, "no proofs"},
		{"signed by the recovery key only", func() *Op { return build(nil, r1) }, ErrUnauthorizedKey, "no proof by one of its update keys"},
		{"signed by a foreign key", func() *Op { return build(nil, u1, other) }, ErrUnauthorizedKey, "not an update or recovery key"},
		{"bad commitment", func() *Op { return build(func(op *Op) { op.NextKeyHashes = []string{"Qmnothash"} }) }, ErrMalformed, "nextKeyHashes[0]"},
		{"commitment to its own update key", func() *Op {
			return build(func(op *Op) { op.NextKeyHashes = keyHashes(u2, u1) })
		}, ErrPreRotation, "already an update key"},
		{"statusList on a did op", func() *Op {
			return build(func(op *Op) { op.StatusList = &StatusListChange{Purpose: "revocation", Size: 8, ListHash: "x"} })
		}, ErrMalformed, "statusList"},
		{"create at seq 2", func() *Op {
			op := build(nil)
			op.Seq, op.Prev, op.Proofs = 2, strings.Repeat("a", 64), nil
			return sign(t, op, u1)
		}, ErrSeqGap, "starts at seq 1"},
		{"signed by update, recovery and a foreign key", func() *Op { return build(nil, u1, r1, r2) }, ErrUnauthorizedKey, "proof 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := newLedger(t).try(tc.op())
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRule(t, err, tc.want, tc.reason)
		})
	}
}

// existing returns a ledger holding a created subject (update key u, recovery key
// r, optional commitment).
func existing(t *testing.T, u, r testKey, next []string) *ledger {
	l := newLedger(t)
	l.must(newCreate(t, []testKey{u}, []testKey{r}, next))
	return l
}

func TestUpdateRules(t *testing.T) {
	u1, r1, u2, u3, other := edKey(t, 1), edKey(t, 2), edKey(t, 3), edKey(t, 4), edKey(t, 5)
	tests := []struct {
		name   string
		next   []string // the create's commitment
		op     func(st SubjectState) *Op
		want   error
		reason string
	}{
		{"doc only", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, u1)
		}, nil, ""},
		{"rotation without pre-rotation", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys = testDoc(t, st.Subject, "v2", u2), mks(u2, u3)
			return sign(t, op, u1)
		}, nil, ""},
		{"equal time", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 0)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, u1)
		}, nil, ""},
		{"time before the head", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, -1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, u1)
		}, ErrTimeNotMonotonic, tm(-1)},
		{"signed by the recovery key", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, r1)
		}, ErrUnauthorizedKey, "not a current update key"},
		{"one good and one foreign proof", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, u1, other)
		}, ErrUnauthorizedKey, "proof 1"},
		{"kid is a DID URL", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			if err := AddProof(op, st.Subject+"#key-1", u1.pub, u1.sign()); err != nil {
				t.Fatal(err)
			}
			return op
		}, ErrUnauthorizedKey, "is not \"#\" + a Multikey"},
		{"the same key twice", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return sign(t, op, u1, u1)
		}, ErrMalformed, "both by"},
		{"unsigned", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, st.Subject, "v2", u1)
			return op
		}, ErrUnauthorizedKey, "no proofs"},
		{"changes recovery keys", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.RecoveryKeys = testDoc(t, st.Subject, "v2", u1), mks(u3)
			return sign(t, op, u1)
		}, ErrUnauthorizedKey, "only did.recover"},
		{"no doc", nil, func(st SubjectState) *Op { return sign(t, nextOp(t, st, DIDUpdate, 1), u1) }, ErrMalformed, "must carry a doc"},
		{"doc for another DID", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc = testDoc(t, "did:credence:QmOther", "v2", u1)
			return sign(t, op, u1)
		}, ErrMalformed, "is not the subject"},
		{"new update key is the recovery key", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys = testDoc(t, st.Subject, "v2", u1), mks(r1)
			return sign(t, op, u1)
		}, ErrMalformed, "both an update key and a recovery key"},
		{"pre-rotation: rotate to the committed key", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u2), mks(u2), keyHashes(u3)
			return sign(t, op, u1)
		}, nil, ""},
		{"pre-rotation: no rotation", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u1), keyHashes(u3)
			return sign(t, op, u1)
		}, ErrPreRotation, "must rotate"},
		{"pre-rotation: uncommitted key", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u3), mks(u3), keyHashes(u2)
			return sign(t, op, u1)
		}, ErrPreRotation, "not in the commitment"},
		{"pre-rotation: one of two keys uncommitted", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u2), mks(u2, u3), keyHashes(other)
			return sign(t, op, u1)
		}, ErrPreRotation, u3.mk},
		{"pre-rotation: no fresh commitment", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys = testDoc(t, st.Subject, "v2", u2), mks(u2)
			return sign(t, op, u1)
		}, ErrPreRotation, "only did.recover can switch it off"},
		{"pre-rotation: recommits to the key it reveals", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u2), mks(u2), keyHashes(u2)
			return sign(t, op, u1)
		}, ErrPreRotation, "already an update key"},
		{"pre-rotation: signed by the new key instead of the current", keyHashes(u2), func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u2), mks(u2), keyHashes(u3)
			return sign(t, op, u2)
		}, ErrUnauthorizedKey, "not a current update key"},
		{"commitment switched on without rotation", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u1), keyHashes(u2)
			return sign(t, op, u1)
		}, nil, ""},
		{"commitment to the current key", nil, func(st SubjectState) *Op {
			op := nextOp(t, st, DIDUpdate, 1)
			op.Doc, op.NextKeyHashes = testDoc(t, st.Subject, "v2", u1), keyHashes(u1)
			return sign(t, op, u1)
		}, ErrPreRotation, "already an update key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := existing(t, u1, r1, tc.next)
			err := l.try(tc.op(l.st))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRule(t, err, tc.want, tc.reason)
		})
	}
}

func TestUpdateOnUnknownSubject(t *testing.T) {
	u1 := edKey(t, 1)
	op := &Op{V: OpVersion, Type: DIDUpdate, Subject: MethodPrefix + KeyHash("x"), Seq: 1, Time: tm(0), Doc: testDoc(t, MethodPrefix+KeyHash("x"), "", u1)}
	wantRule(t, newLedger(t).try(sign(t, op, u1)), ErrUnknownSubject, "create it first")
	op.Seq, op.Prev, op.Proofs = 2, strings.Repeat("0", 64), nil
	wantRule(t, newLedger(t).try(sign(t, op, u1)), ErrUnknownSubject, "")
}

func TestRecoverRules(t *testing.T) {
	u1, r1, u2, r2 := edKey(t, 1), edKey(t, 2), edKey(t, 3), edKey(t, 4)
	full := func(st SubjectState) *Op {
		op := nextOp(t, st, DIDRecover, 1)
		op.Doc, op.UpdateKeys, op.RecoveryKeys = testDoc(t, st.Subject, "r", u2), mks(u2), mks(r2)
		return op
	}
	tests := []struct {
		name   string
		next   []string
		op     func(st SubjectState) *Op
		want   error
		reason string
	}{
		{"valid", nil, func(st SubjectState) *Op { return sign(t, full(st), r1) }, nil, ""},
		{"valid under pre-rotation, to an uncommitted key", keyHashes(edKey(t, 9)), func(st SubjectState) *Op { return sign(t, full(st), r1) }, nil, ""},
		{"keeps the recovery key", nil, func(st SubjectState) *Op {
			op := full(st)
			op.RecoveryKeys = mks(r1)
			return sign(t, op, r1)
		}, nil, ""},
		{"signed by the update key", nil, func(st SubjectState) *Op { return sign(t, full(st), u1) }, ErrUnauthorizedKey, "not a current recovery key"},
		{"signed by the new recovery key", nil, func(st SubjectState) *Op { return sign(t, full(st), r2) }, ErrUnauthorizedKey, "not a current recovery key"},
		{"no update keys", nil, func(st SubjectState) *Op { op := full(st); op.UpdateKeys = nil; return sign(t, op, r1) }, ErrMalformed, "new updateKeys"},
		{"no recovery keys", nil, func(st SubjectState) *Op { op := full(st); op.RecoveryKeys = nil; return sign(t, op, r1) }, ErrMalformed, "new recoveryKeys"},
		{"no doc", nil, func(st SubjectState) *Op { op := full(st); op.Doc = nil; return sign(t, op, r1) }, ErrMalformed, "must carry a doc"},
		{"overlapping keys", nil, func(st SubjectState) *Op {
			op := full(st)
			op.RecoveryKeys = mks(u2)
			return sign(t, op, r1)
		}, ErrMalformed, "both an update key and a recovery key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := existing(t, u1, r1, tc.next)
			err := l.try(tc.op(l.st))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if l.st.NextKeyHashes != nil || !slices.Equal(l.st.UpdateKeys, mks(u2)) {
					t.Fatalf("state after recover: %+v", l.st)
				}
				return
			}
			wantRule(t, err, tc.want, tc.reason)
		})
	}
}

func TestDeactivateRules(t *testing.T) {
	u1, r1, other := edKey(t, 1), edKey(t, 2), edKey(t, 3)
	tests := []struct {
		name   string
		op     func(st SubjectState) *Op
		want   error
		reason string
	}{
		// The update key is online (for hosted DIDs it signs credentials too):
		// its theft alone must not end the DID for good.
		{"by the update key", func(st SubjectState) *Op { return sign(t, nextOp(t, st, DIDDeactivate, 1), u1) }, ErrUnauthorizedKey, "not a current recovery key"},
		{"by the recovery key", func(st SubjectState) *Op { return sign(t, nextOp(t, st, DIDDeactivate, 1), r1) }, nil, ""},
		{"by the recovery and the update key", func(st SubjectState) *Op { return sign(t, nextOp(t, st, DIDDeactivate, 1), r1, u1) }, ErrUnauthorizedKey, "proof 1"},
		{"by a foreign key", func(st SubjectState) *Op { return sign(t, nextOp(t, st, DIDDeactivate, 1), other) }, ErrUnauthorizedKey, "not a current recovery key"},
		{"with a doc", func(st SubjectState) *Op {
			op := nextOp(t, st, DIDDeactivate, 1)
			op.Doc = testDoc(t, st.Subject, "", u1)
			return sign(t, op, r1)
		}, ErrMalformed, "carries doc"},
		{"with update keys", func(st SubjectState) *Op {
			op := nextOp(t, st, DIDDeactivate, 1)
			op.UpdateKeys = mks(other)
			return sign(t, op, r1)
		}, ErrMalformed, "carries updateKeys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := existing(t, u1, r1, nil)
			doc := l.st.Doc
			err := l.try(tc.op(l.st))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if !l.st.Deactivated || string(l.st.Doc) != string(doc) {
					t.Fatalf("state after deactivate: %+v", l.st)
				}
				return
			}
			wantRule(t, err, tc.want, tc.reason)
		})
	}
}

func TestApplyRequiresTheCanonicalBytes(t *testing.T) {
	u1, r1 := edKey(t, 1), edKey(t, 2)
	op := newCreate(t, []testKey{u1}, []testKey{r1}, nil)
	raw := mustJSON(t, op)
	if _, err := Apply(SubjectState{}, op, raw, nil); err == nil {
		t.Fatal("Apply accepted non-canonical bytes")
	} else {
		wantRule(t, err, ErrMalformed, "not the op's canonical form")
	}
	bad := clone(t, op)
	bad.V = "credence.op/0"
	c, _ := Canonical(bad)
	wantRule(t, func() error { _, err := Apply(SubjectState{}, bad, c, nil); return err }(), ErrMalformed, "credence.op/0")
}

func TestApplyStateForAnotherSubject(t *testing.T) {
	a := existing(t, edKey(t, 1), edKey(t, 2), nil)
	b := existing(t, edKey(t, 3), edKey(t, 4), nil)
	// A valid update of b applied to a's state (a sequencer mix-up).
	op := nextOp(t, b.st, DIDUpdate, 1)
	op.Doc = testDoc(t, b.st.Subject, "v2", edKey(t, 3))
	sign(t, op, edKey(t, 3))
	wantRule(t, a.try(op), ErrUnknownSubject, "applied to the state of")
}

func TestCheckTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	op := &Op{Time: tm(0)}
	for _, tc := range []struct {
		time string
		skew time.Duration
		want error
	}{
		{tm(0), 0, nil},
		{tm(-60), 0, nil},
		{tm(1), 0, ErrTimeInFuture},
		{tm(1), time.Minute, nil},
		{tm(2), time.Minute, ErrTimeInFuture},
		{"2026-03-01T12:00:00.5Z", time.Minute, ErrMalformed},
	} {
		op.Time = tc.time
		err := CheckTime(op, now, tc.skew)
		if tc.want == nil {
			if err != nil {
				t.Errorf("CheckTime(%s, skew %s) = %v", tc.time, tc.skew, err)
			}
			continue
		}
		wantRule(t, err, tc.want, "")
	}
	// A non-UTC clock compares by instant.
	op.Time = tm(30)
	if err := CheckTime(op, now.In(time.FixedZone("X", 3600)), 30*time.Minute); err != nil {
		t.Error(err)
	}
}
