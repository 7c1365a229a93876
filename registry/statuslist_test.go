package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestListHashAndStatusBit(t *testing.T) {
	bits := make([]byte, 2)
	bits[0] = 0x80 // bit 0
	bits[1] = 0x01 // bit 15
	for i := range 16 {
		if got, want := StatusBit(bits, i), i == 0 || i == 15; got != want {
			t.Errorf("StatusBit(%d) = %v", i, got)
		}
	}
	if StatusBit(bits, -1) || StatusBit(bits, 16) {
		t.Error("StatusBit outside the bitstring")
	}
	// The SHA-256 of 16 KiB of zeros (the empty 131072-bit list).
	if got := ListHash(make([]byte, MinStatusListBits/8)); got != "4fe7b59af6de3b665b67788cc2f99892ab827efae3a467342b3bb4e3bc8e5bfe" {
		t.Errorf("ListHash(zeros) = %s", got)
	}
	if got := applyIndexes(nil, 16, []int{0, 15}, nil); !bytes.Equal(got, bits) {
		t.Errorf("applyIndexes = %x", got)
	}
}

func TestNewStatusListOpCopiesAndOmitsEmpty(t *testing.T) {
	set := []int{1, 2}
	op := NewStatusListOp(StatusListUpdate, testListURL, 2, strings.Repeat("a", 64), tm(1), StatusListChange{Purpose: "revocation", Size: MinStatusListBits, Set: set, Clear: []int{}, ListHash: "h"})
	set[0] = 9
	if op.StatusList.Set[0] != 1 {
		t.Error("NewStatusListOp aliases the change's Set")
	}
	b := mustJSON(t, op)
	if bytes.Contains(b, []byte(`"clear"`)) || bytes.Contains(b, []byte(`"issuer"`)) || bytes.Contains(b, []byte(`"proofs"`)) {
		t.Errorf("encoded op carries empty members: %s", b)
	}
	if op.V != OpVersion || op.Type != StatusListUpdate || op.Seq != 2 || op.Time != tm(1) {
		t.Errorf("op = %+v", op)
	}
}

func TestStatusListLifecycle(t *testing.T) {
	w := newIssuerWorld(t)
	issuer := w.issuer.st.Subject
	st := w.list.must(statusCreate(t, testListURL, issuer, MinStatusListBits, []int{3}, w.u))
	if st.Seq != 1 || st.Created != tm(1) || st.Updated != "" || st.StatusList == nil {
		t.Fatalf("state after create: %+v", st)
	}
	sl := st.StatusList
	if sl.Issuer != issuer || sl.Purpose != PurposeRevocation || sl.Size != MinStatusListBits || len(sl.Bits) != MinStatusListBits/8 ||
		!StatusBit(sl.Bits, 3) || sl.ListHash != ListHash(sl.Bits) {
		t.Fatalf("status list after create: %+v", *sl)
	}
	if st.UpdateKeys != nil || st.RecoveryKeys != nil || st.Doc != nil || st.Deactivated {
		t.Fatalf("a status list has no keys or doc: %+v", st)
	}
	created := st

	// Set two bits, then clear one; the create's state is untouched (copy on write).
	st = w.list.must(statusUpdate(t, st, 2, []int{94567, MinStatusListBits - 1}, nil, w.u))
	if !StatusBit(st.StatusList.Bits, 94567) || !StatusBit(st.StatusList.Bits, MinStatusListBits-1) || !StatusBit(st.StatusList.Bits, 3) {
		t.Fatal("bits not set")
	}
	if StatusBit(created.StatusList.Bits, 94567) || created.StatusList.ListHash == st.StatusList.ListHash {
		t.Fatal("Apply modified the previous state's bits")
	}
	// A revoked index is never cleared; clearing a clear one is allowed.
	wantRule(t, w.list.try(statusUpdate(t, st, 3, []int{5}, []int{3}, w.u)), ErrIrreversible, "index 3, which is revoked")
	st = w.list.must(statusUpdate(t, st, 3, []int{5}, []int{4}, w.u))
	if !StatusBit(st.StatusList.Bits, 3) || StatusBit(st.StatusList.Bits, 4) || !StatusBit(st.StatusList.Bits, 5) || st.Seq != 3 || st.Updated != tm(3) || st.Created != tm(1) {
		t.Fatalf("state after set+clear: %+v", st)
	}

	// Idempotent changes are accepted and recorded: a new seq and head hash.
	before := st
	st = w.list.must(statusUpdate(t, st, 3, []int{5}, []int{4}, w.u))
	if st.Seq != 4 || st.Hash == before.Hash || !bytes.Equal(st.StatusList.Bits, before.StatusList.Bits) || st.StatusList.ListHash != before.StatusList.ListHash {
		t.Fatalf("idempotent update: %+v", st)
	}

	// Every purpose and the largest size are accepted.
	for i, p := range statusPurposes {
		w := newIssuerWorld(t)
		op := NewStatusListOp(StatusListCreate, fmt.Sprintf("http://example.com/s/%d", i), 1, "", tm(1), StatusListChange{
			Issuer: issuer, Purpose: p, Size: MinStatusListBits + 8, Set: []int{MinStatusListBits + 7},
			ListHash: ListHash(applyIndexes(nil, MinStatusListBits+8, []int{MinStatusListBits + 7}, nil)),
		})
		if st := w.list.must(sign(t, op, w.u)); st.StatusList.Purpose != p {
			t.Errorf("purpose %s: state %+v", p, st.StatusList)
		}
	}
	big := newIssuerWorld(t).list
	big.ctrl = w.list.ctrl
	if st := big.must(statusCreate(t, testListURL, issuer, MaxStatusListBits, []int{MaxStatusListBits - 1}, w.u)); len(st.StatusList.Bits) != 1<<20 {
		t.Errorf("largest list has %d bytes", len(st.StatusList.Bits))
	}
}

// TestStatusListRules is the table of rejections. Each case builds an op from
// the valid create (or update) and says what the registry answers.
func TestStatusListRules(t *testing.T) {
	// A second DID, with its own keys, unknown to the worlds' controllers.
	otherKey := edKey(t, 120)
	otherIssuer := newLedger(t)
	otherIssuer.must(newCreate(t, []testKey{otherKey}, []testKey{edKey(t, 121)}, nil))
	// strip removes the proofs of a built op.
	strip := func(b func(w *issuerWorld) *Op) func(w *issuerWorld) *Op {
		return func(w *issuerWorld) *Op { op := b(w); op.Proofs = nil; return op }
	}

	type tc struct {
		name   string
		build  func(w *issuerWorld) *Op
		want   error
		reason string
	}
	create := func(mutate func(op *Op), signers ...func(w *issuerWorld) testKey) func(w *issuerWorld) *Op {
		return func(w *issuerWorld) *Op {
			op := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{7})
			mutate(op)
			if len(signers) == 0 {
				return sign(t, op, w.u)
			}
			for _, s := range signers {
				sign(t, op, s(w))
			}
			return op
		}
	}
	rehash := func(op *Op) {
		op.StatusList.ListHash = ListHash(applyIndexes(nil, op.StatusList.Size, op.StatusList.Set, op.StatusList.Clear))
	}
	createCases := []tc{
		{"subject is a DID", create(func(op *Op) { op.Subject = "did:credence:QmTRmdwVbij2LKzrfxmD5v891c6YqW7goCHmvQVXB7o6Kt" }), ErrMalformed, "not an absolute http or https URL"},
		{"subject ftp", create(func(op *Op) { op.Subject = "ftp://example.com/l" }), ErrMalformed, "not an absolute http or https URL"},
		{"subject relative", create(func(op *Op) { op.Subject = "/status/1" }), ErrMalformed, "not an absolute http or https URL"},
		{"subject upper-case scheme", create(func(op *Op) { op.Subject = "HTTPS://example.com/l" }), ErrMalformed, "not an absolute http or https URL"},
		{"subject opaque", create(func(op *Op) { op.Subject = "https:example.com/l" }), ErrMalformed, "not an absolute http or https URL"},
		{"subject without host", create(func(op *Op) { op.Subject = "https:///l" }), ErrMalformed, "has no host"},
		{"subject with query", create(func(op *Op) { op.Subject = "https://example.com/l?x=1" }), ErrMalformed, "has a query"},
		{"subject with empty query", create(func(op *Op) { op.Subject = "https://example.com/l?" }), ErrMalformed, "has a query"},
		{"subject with fragment", create(func(op *Op) { op.Subject = "https://example.com/l#x" }), ErrMalformed, "has a fragment"},
		{"subject with empty fragment", create(func(op *Op) { op.Subject = "https://example.com/l#" }), ErrMalformed, "has a fragment"},
		{"subject not a URL", create(func(op *Op) { op.Subject = "https://exa mple.com/%zz" }), ErrMalformed, "not a URL"},
		{"subject too long", create(func(op *Op) { op.Subject = "https://example.com/" + strings.Repeat("a", 493) }), ErrMalformed, "513 bytes, max 512"},
		{"no statusList", create(func(op *Op) { op.StatusList = nil }), ErrMalformed, "must carry statusList"},
		{"doc", create(func(op *Op) { op.Doc = json.RawMessage(`{"id":"x"}`) }), ErrMalformed, "carries doc"},
		{"updateKeys", create(func(op *Op) { op.UpdateKeys = []string{edKey(t, 1).mk} }), ErrMalformed, "carries updateKeys"},
		{"recoveryKeys", create(func(op *Op) { op.RecoveryKeys = []string{edKey(t, 1).mk} }), ErrMalformed, "carries recoveryKeys"},
		{"nextKeyHashes", create(func(op *Op) { op.NextKeyHashes = keyHashes(edKey(t, 1)) }), ErrMalformed, "carries nextKeyHashes"},
		{"accreditation", create(func(op *Op) { op.Accreditation = json.RawMessage(`{}`) }), ErrMalformed, "carries accreditation"},
		{"no issuer", create(func(op *Op) { op.StatusList.Issuer = "" }), ErrMalformed, "must name the issuer"},
		{"issuer did:key", create(func(op *Op) { op.StatusList.Issuer = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" }), ErrMalformed, "is not a did:credence DID"},
		{"issuer not a SCID", create(func(op *Op) { op.StatusList.Issuer = "did:credence:abc" }), ErrMalformed, "is not a did:credence DID"},
		{"issuer unknown", create(func(op *Op) { op.StatusList.Issuer = otherIssuer.st.Subject }, func(*issuerWorld) testKey { return otherKey }), ErrUnauthorizedKey, "is not on the ledger"},
		{"unsigned", strip(create(func(op *Op) {})), ErrUnauthorizedKey, "statuslist.create has no proofs"},
		{"wrong signer", create(func(op *Op) {}, func(*issuerWorld) testKey { return edKey(t, 77) }), ErrUnauthorizedKey, "not a current update key of the issuer"},
		{"signed by the issuer's recovery key", create(func(op *Op) {}, func(w *issuerWorld) testKey { return w.r }), ErrUnauthorizedKey, "not a current update key of the issuer"},
		{"signed by another DID's update key", create(func(op *Op) {}, func(*issuerWorld) testKey { return otherKey }), ErrUnauthorizedKey, "not a current update key of the issuer"},
		{"second proof by a stranger", create(func(op *Op) {}, func(w *issuerWorld) testKey { return w.u }, func(*issuerWorld) testKey { return otherKey }), ErrUnauthorizedKey, "not a current update key"},
		{"purpose", create(func(op *Op) { op.StatusList.Purpose = "revoked" }), ErrMalformed, "statusList.purpose \"revoked\""},
		{"size below the minimum", create(func(op *Op) { op.StatusList.Size = MinStatusListBits - 8; rehash(op) }), ErrMalformed, "statusList.size 131064"},
		{"size not a multiple of 8", create(func(op *Op) { op.StatusList.Size = MinStatusListBits + 1 }), ErrMalformed, "statusList.size 131073"},
		{"size above the maximum", create(func(op *Op) { op.StatusList.Size = MaxStatusListBits + 8 }), ErrMalformed, "statusList.size 8388616"},
		{"size zero", create(func(op *Op) { op.StatusList.Size = 0 }), ErrMalformed, "statusList.size 0"},
		{"index out of range", create(func(op *Op) { op.StatusList.Set = []int{MinStatusListBits} }), ErrMalformed, "statusList.set[0] = 131072 is outside [0, 131072)"},
		{"clear index out of range", create(func(op *Op) { op.StatusList.Clear = []int{1 << 40} }), ErrMalformed, "statusList.clear[0]"},
		{"set not ascending", create(func(op *Op) { op.StatusList.Set = []int{9, 7}; rehash(op) }), ErrMalformed, "not strictly ascending at [1] (7 after 9)"},
		{"set duplicate", create(func(op *Op) { op.StatusList.Set = []int{7, 7}; rehash(op) }), ErrMalformed, "not strictly ascending"},
		{"clear duplicate", create(func(op *Op) { op.StatusList.Clear = []int{1, 1}; rehash(op) }), ErrMalformed, "statusList.clear is not strictly ascending"},
		{"set and clear overlap", create(func(op *Op) { op.StatusList.Set = []int{1, 7, 9}; op.StatusList.Clear = []int{2, 9} }), ErrMalformed, "both sets and clears index 9"},
		{"too many changes", create(func(op *Op) {
			op.StatusList.Set = seqInts(0, 10000)
			op.StatusList.Clear = seqInts(10000, MaxStatusChanges-10000+1)
			rehash(op)
		}), ErrMalformed, "changes 16385 indexes, max 16384"},
		{"listHash not hex", create(func(op *Op) { op.StatusList.ListHash = strings.ToUpper(op.StatusList.ListHash) }), ErrMalformed, "not 64 lowercase hex digits"},
		{"listHash of another list", create(func(op *Op) { op.StatusList.ListHash = ListHash(make([]byte, MinStatusListBits/8)) }), ErrListHash, "the list after this op hashes to"},
		{"listHash of the list before", create(func(op *Op) { op.StatusList.Set = []int{8} }), ErrListHash, ""},
		{"create at seq 2", create(func(op *Op) { op.Seq = 2; op.Prev = strings.Repeat("a", 64) }), ErrSeqGap, "create at seq 2"},
		{"update on an unknown list", create(func(op *Op) {
			op.Type, op.Seq, op.Prev, op.StatusList.Issuer = StatusListUpdate, 2, strings.Repeat("a", 64), ""
		}), ErrUnknownSubject, "statuslist.update on " + testListURL + ", which has no ops"},
	}
	for _, c := range createCases {
		t.Run("create/"+c.name, func(t *testing.T) {
			w := newIssuerWorld(t)
			wantRule(t, w.list.try(c.build(w)), c.want, c.reason)
		})
	}

	t.Run("create/issuer deactivated", func(t *testing.T) {
		w := newIssuerWorld(t)
		w.issuer.must(sign(t, nextOp(t, w.issuer.st, DIDDeactivate, 1), w.r))
		wantRule(t, w.list.try(statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, nil, w.u)), ErrDeactivated, "was deactivated at seq 2")
	})
	t.Run("create/no controller (plain Apply)", func(t *testing.T) {
		w := newIssuerWorld(t)
		op := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, nil, w.u)
		c, _ := Canonical(op)
		_, err := Apply(SubjectState{}, op, c, nil)
		wantRule(t, err, ErrUnauthorizedKey, "no controller state available")
	})
	t.Run("create/controller fails", func(t *testing.T) {
		w := newIssuerWorld(t)
		boom := errors.New("store down")
		w.list.ctrl = func(string) (SubjectState, error) { return SubjectState{}, boom }
		err := w.list.try(statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, nil, w.u))
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want the controller's error", err)
		}
		if _, ok := errors.AsType[*RuleError](err); ok {
			t.Fatalf("a controller failure is not a rule violation: %v", err)
		}
	})
	t.Run("create/tampered after signing", func(t *testing.T) {
		w := newIssuerWorld(t)
		op := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{7}, w.u)
		op.StatusList.Set = []int{8}
		rehash(op)
		wantRule(t, w.list.try(op), ErrBadSignature, "")
	})

	// Updates, on a list with bit 7 set at seq 1.
	setup := func(t *testing.T) *issuerWorld {
		w := newIssuerWorld(t)
		w.list.must(statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{7}, w.u))
		return w
	}
	update := func(mutate func(op *Op), signers ...func(w *issuerWorld) testKey) func(w *issuerWorld) *Op {
		return func(w *issuerWorld) *Op {
			op := statusUpdate(t, w.list.st, 2, []int{9}, []int{8})
			mutate(op)
			if len(signers) == 0 {
				return sign(t, op, w.u)
			}
			for _, s := range signers {
				sign(t, op, s(w))
			}
			return op
		}
	}
	updateCases := []tc{
		{"names the issuer", update(func(op *Op) { op.StatusList.Issuer = "did:credence:QmTRmdwVbij2LKzrfxmD5v891c6YqW7goCHmvQVXB7o6Kt" }), ErrMalformed, "only the create names it"},
		{"changes purpose", update(func(op *Op) { op.StatusList.Purpose = PurposeSuspension }), ErrMalformed, "differs from the list's \"revocation\""},
		{"changes size", update(func(op *Op) { op.StatusList.Size = MinStatusListBits * 2 }), ErrMalformed, "statusList.size 262144 differs from the list's 131072"},
		{"changes nothing", update(func(op *Op) { op.StatusList.Set, op.StatusList.Clear = nil, nil }), ErrMalformed, "sets and clears nothing"},
		{"index out of range", update(func(op *Op) { op.StatusList.Set = []int{9, MinStatusListBits + 5} }), ErrMalformed, "outside [0, 131072)"},
		{"doc", update(func(op *Op) { op.Doc = json.RawMessage(`{"a":1}`) }), ErrMalformed, "carries doc"},
		{"wrong signer", update(func(op *Op) {}, func(*issuerWorld) testKey { return edKey(t, 78) }), ErrUnauthorizedKey, "not a current update key of the issuer"},
		{"recovery key", update(func(op *Op) {}, func(w *issuerWorld) testKey { return w.r }), ErrUnauthorizedKey, "not a current update key of the issuer"},
		{"unsigned", strip(update(func(op *Op) {})), ErrUnauthorizedKey, "statuslist.update has no proofs"},
		{"listHash mismatch", update(func(op *Op) { op.StatusList.ListHash = strings.Repeat("0", 64) }), ErrListHash, ""},
		{"listHash as if from an empty list", update(func(op *Op) {
			op.StatusList.Clear = nil
			op.StatusList.ListHash = ListHash(applyIndexes(nil, MinStatusListBits, op.StatusList.Set, nil))
		}), ErrListHash, ""},
		{"time before the head", update(func(op *Op) { op.Time = tm(0) }), ErrTimeNotMonotonic, ""},
		{"seq gap", update(func(op *Op) { op.Seq = 3 }), ErrSeqGap, ""},
		{"wrong prev", update(func(op *Op) { op.Prev = strings.Repeat("b", 64) }), ErrFork, "is not the head hash"},
		{"clears a revoked index", func(w *issuerWorld) *Op {
			return statusUpdate(t, w.list.st, 2, nil, []int{7}, w.u)
		}, ErrIrreversible, "statusList.clear names index 7, which is revoked"},
		{"sets one index and clears a revoked one", func(w *issuerWorld) *Op {
			return statusUpdate(t, w.list.st, 2, []int{9}, []int{3, 7}, w.u)
		}, ErrIrreversible, "index 7"},
		{"a second create", func(w *issuerWorld) *Op {
			return statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{8}, w.u)
		}, ErrSubjectExists, ""},
		{"a did.update on the list", func(w *issuerWorld) *Op {
			op := nextOp(t, w.list.st, DIDUpdate, 3)
			op.Doc = testDoc(t, w.list.st.Subject, "x", w.u)
			return sign(t, op, w.u)
		}, ErrMalformed, "which is a status list"},
	}
	for _, c := range updateCases {
		t.Run("update/"+c.name, func(t *testing.T) {
			w := setup(t)
			wantRule(t, w.list.try(c.build(w)), c.want, c.reason)
		})
	}
	t.Run("update/suspension is reversible", func(t *testing.T) {
		w := newIssuerWorld(t)
		op := NewStatusListOp(StatusListCreate, testListURL, 1, "", tm(1), StatusListChange{
			Issuer: w.issuer.st.Subject, Purpose: PurposeSuspension, Size: MinStatusListBits, Set: []int{7},
			ListHash: ListHash(applyIndexes(nil, MinStatusListBits, []int{7}, nil)),
		})
		w.list.must(sign(t, op, w.u))
		if st := w.list.must(statusUpdate(t, w.list.st, 2, nil, []int{7}, w.u)); StatusBit(st.StatusList.Bits, 7) {
			t.Fatal("a suspension was not lifted")
		}
	})
	t.Run("update/replay and fork", func(t *testing.T) {
		w := setup(t)
		create := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{7}, w.u)
		upd := statusUpdate(t, w.list.st, 2, []int{9}, nil, w.u)
		w.list.must(upd)
		wantRule(t, w.list.try(upd), ErrReplay, "already on the ledger")
		wantRule(t, w.list.try(create), ErrReplay, "seq 1")
		fork := statusUpdate(t, w.list.states[0], 2, []int{10}, nil, w.u)
		wantRule(t, w.list.try(fork), ErrFork, "differs from the ledger's")
	})
	t.Run("update/issuer deactivated", func(t *testing.T) {
		w := setup(t)
		w.issuer.must(sign(t, nextOp(t, w.issuer.st, DIDDeactivate, 1), w.r))
		wantRule(t, w.list.try(statusUpdate(t, w.list.st, 2, []int{9}, nil, w.u)), ErrDeactivated, "its status lists take no more ops")
	})
	t.Run("update/issuer rotated", func(t *testing.T) {
		w := setup(t)
		u2 := edKey(t, 103)
		rot := nextOp(t, w.issuer.st, DIDUpdate, 1)
		rot.Doc, rot.UpdateKeys = testDoc(t, w.issuer.st.Subject, "v2", u2), mks(u2)
		w.issuer.must(sign(t, rot, w.u))
		wantRule(t, w.list.try(statusUpdate(t, w.list.st, 2, []int{9}, nil, w.u)), ErrUnauthorizedKey, "not a current update key")
		w.list.must(statusUpdate(t, w.list.st, 2, []int{9}, nil, u2))
	})
	t.Run("update/P-256 issuer key", func(t *testing.T) {
		p := p256Key(t)
		w := &issuerWorld{u: p, r: edKey(t, 104), issuer: newLedger(t), list: newLedger(t)}
		w.issuer.must(newCreate(t, []testKey{p}, []testKey{w.r}, nil))
		w.list.ctrl = func(string) (SubjectState, error) { return w.issuer.st, nil }
		w.list.must(statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, nil, p))
		w.list.must(statusUpdate(t, w.list.st, 2, []int{1}, nil, p))
	})
	t.Run("did ops keep refusing statusList", func(t *testing.T) {
		w := newIssuerWorld(t)
		op := nextOp(t, w.issuer.st, DIDUpdate, 1)
		op.Doc = testDoc(t, w.issuer.st.Subject, "v2", w.u)
		op.StatusList = &StatusListChange{Purpose: PurposeRevocation, Size: MinStatusListBits, ListHash: strings.Repeat("0", 64)}
		wantRule(t, w.issuer.try(sign(t, op, w.u)), ErrMalformed, "carries statusList")
	})
}

func seqInts(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

// TestStatusListLargestOpFits: MaxStatusChanges indexes of the largest list
// (7 digits each) fit in MaxOpBytes, and decode and apply.
func TestStatusListLargestOpFits(t *testing.T) {
	w := newIssuerWorld(t)
	w.list.must(statusCreate(t, testListURL, w.issuer.st.Subject, MaxStatusListBits, nil, w.u))
	set := make([]int, MaxStatusChanges)
	for i := range set {
		set[i] = MaxStatusListBits - 1 - (MaxStatusChanges-1-i)*509
	}
	op := statusUpdate(t, w.list.st, 2, set, nil, w.u)
	raw := mustJSON(t, op)
	if len(raw) > MaxOpBytes || len(raw) < MaxOpBytes/3 {
		t.Fatalf("largest op is %d bytes (max %d)", len(raw), MaxOpBytes)
	}
	st := w.list.must(op)
	for _, i := range set {
		if !StatusBit(st.StatusList.Bits, i) {
			t.Fatalf("bit %d not set", i)
		}
	}
	// One more index is refused.
	op = statusUpdate(t, w.list.st, 3, append([]int{0}, set...), nil, w.u)
	wantRule(t, w.list.try(op), ErrMalformed, "max 16384")
}

// TestStatusListDecode: the strict decoder's view of statusList.
func TestStatusListDecode(t *testing.T) {
	w := newIssuerWorld(t)
	op := statusCreate(t, testListURL, w.issuer.st.Subject, MinStatusListBits, []int{7}, w.u)
	raw := mustJSON(t, op)
	dop, canonical, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dop.StatusList, op.StatusList) {
		t.Errorf("decoded %+v, want %+v", dop.StatusList, op.StatusList)
	}
	if !bytes.Contains(canonical, []byte(`"statusList":{"issuer":"`+w.issuer.st.Subject+`","listHash":"`)) {
		t.Errorf("canonical form: %s", canonical)
	}
	for _, c := range []struct {
		name, from, to, reason string
	}{
		{"empty issuer", `"issuer":"` + w.issuer.st.Subject + `"`, `"issuer":""`, "statusList.issuer is empty"},
		{"issuer not a string", `"issuer":"` + w.issuer.st.Subject + `"`, `"issuer":1`, "statusList.issuer is a number"},
		{"negative index", `"set":[7]`, `"set":[-7]`, "statusList.set[0]"},
		{"fractional index", `"set":[7]`, `"set":[7.0]`, "statusList.set[0]"},
		{"empty set", `"set":[7]`, `"set":[]`, "statusList.set is an empty array"},
		{"unknown member", `"set":[7]`, `"set":[7],"bits":"x"`, `unknown member "bits"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Replace(raw, []byte(c.from), []byte(c.to), 1)
			if bytes.Equal(bad, raw) {
				t.Fatal("nothing replaced")
			}
			_, _, err := Decode(bad)
			wantRule(t, err, ErrMalformed, c.reason)
		})
	}
}
