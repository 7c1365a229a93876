package registry

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// SubjectState is what the ledger knows about one subject after its ops so far. The
// zero value is an unknown subject.
type SubjectState struct {
	Subject string `json:"subject"`
	// Seq and Hash are the subject's latest op (its head): Hash is OpHash of it.
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
	// Time is the latest op's time; Created the time of the create (seq 1);
	// Updated the time of the latest op after the create ("" until there is one,
	// as DID Core's "updated" metadata).
	Time    string `json:"time"`
	Created string `json:"created"`
	Updated string `json:"updated,omitempty"`
	// UpdateKeys may sign did.update (and the statuslist ops of the lists
	// this DID issues); RecoveryKeys may sign did.recover and did.deactivate.
	// Multikeys.
	UpdateKeys   []string `json:"updateKeys,omitempty"`
	RecoveryKeys []string `json:"recoveryKeys,omitempty"`
	// NextKeyHashes is the pre-rotation commitment (KeyHash values) the next
	// rotation of UpdateKeys must satisfy; empty when pre-rotation is off.
	NextKeyHashes []string `json:"nextKeyHashes,omitempty"`
	// Deactivated is terminal: no op is accepted afterwards (did.deactivate,
	// or trust.withdraw for an accreditation).
	Deactivated bool `json:"deactivated,omitempty"`
	// Doc is the current DID document, in JCS form.
	Doc json.RawMessage `json:"doc,omitempty"`
	// StatusList is set for a status list subject (and only then).
	StatusList *StatusListState `json:"statusList,omitempty"`
	// Accreditation is set for an accreditation subject (and only then).
	Accreditation *AccreditationState `json:"accreditation,omitempty"`
}

// Clone returns a deep copy of s (its Bits included), which the caller may
// modify freely.
func (s SubjectState) Clone() SubjectState {
	c := s
	c.UpdateKeys = slices.Clone(s.UpdateKeys)
	c.RecoveryKeys = slices.Clone(s.RecoveryKeys)
	c.NextKeyHashes = slices.Clone(s.NextKeyHashes)
	c.Doc = slices.Clone(s.Doc)
	if s.StatusList != nil {
		sl := *s.StatusList
		sl.Bits = slices.Clone(s.StatusList.Bits)
		c.StatusList = &sl
	}
	if s.Accreditation != nil {
		a := s.Accreditation.Clone()
		c.Accreditation = &a
	}
	return c
}

// Prior gives the hash of the subject's op at a seq already on the ledger (for
// telling a replay from a fork).
type Prior func(seq uint64) (hash string, ok bool)

// Env is what Apply may consult beyond the subject's own state.
type Env struct {
	// Prior gives the subject's earlier op hashes (nil: none known).
	Prior Prior
	// Controller returns the state of the DID that controls the subject (a
	// status list's issuer) as of the op's position in the log: the result of
	// the DID's ops with a smaller log index; the zero state for a DID without
	// ops there. A nil Controller makes every statuslist op ErrUnauthorizedKey.
	// An error it returns is returned by ApplyEnv unchanged (wrapped).
	Controller func(did string) (SubjectState, error)
	// Stewards are the Multikeys of the registry's governance that may sign
	// trust ops. None makes every trust op ErrUnauthorizedKey.
	Stewards []string
}

// Apply is ApplyEnv with only a Prior: it applies did.* ops (statuslist ops
// need a Controller, trust ops Stewards, and are ErrUnauthorizedKey here).
func Apply(st SubjectState, op *Op, canonical []byte, prior Prior) (SubjectState, error) {
	return ApplyEnv(st, op, canonical, Env{Prior: prior})
}

// ApplyEnv validates op (already decoded; canonical its canonical bytes, as Decode
// returned them) against st, the subject's state, and returns the new state. It
// verifies signatures, never reads the clock, does no I/O except through env, and
// does not modify st or op. A rejection is a *RuleError wrapping exactly one of
// the rule sentinels (an error from env.Controller is returned as it is, wrapped).
//
// Checks run in this order, and the first failure is returned:
//
//  1. the op's own fields (as Decode checks them: for statuslist.* ops the
//     subject is an http(s) URL, for trust.* ops an accreditation URN) and
//     that canonical is its canonical form (ErrMalformed, ErrUnsupportedType);
//  2. the chain: unknown subject (ErrUnknownSubject for anything but a create:
//     did.create, statuslist.create, or trust.accredit at seq 1; ErrSeqGap for
//     a did.create or statuslist.create with seq != 1); an op at or below the
//     head is ErrReplay if env.Prior has the same hash at its seq, else
//     ErrSubjectExists for a create and ErrFork otherwise; then ErrDeactivated
//     (a deactivated DID, a withdrawn accreditation); seq beyond head+1 is
//     ErrSeqGap; prev other than the head's hash is ErrFork;
//  3. an op of one family (did.*, statuslist.*, trust.*) on a subject of
//     another: ErrMalformed;
//  4. time before the head's time: ErrTimeNotMonotonic (equal is allowed);
//  5. the rules of the op type (see rules.go, statuslist.go and trust.go):
//     members, authorization and signatures first (for statuslist ops against
//     the issuer's state from env.Controller, for trust ops against
//     env.Stewards), then content.
func ApplyEnv(st SubjectState, op *Op, canonical []byte, env Env) (SubjectState, error) {
	if err := validateOp(op); err != nil {
		return SubjectState{}, err
	}
	want, err := Canonical(op)
	if err != nil {
		return SubjectState{}, reject(ErrMalformed, "canonicalize: %v", err)
	}
	if !bytes.Equal(want, canonical) {
		return SubjectState{}, reject(ErrMalformed, "canonical bytes (hash %s) are not the op's canonical form (hash %s)", OpHash(canonical), OpHash(want))
	}
	hash := OpHash(canonical)
	if err := checkChain(st, op, hash, env.Prior); err != nil {
		return SubjectState{}, err
	}
	if f := stateFamily(st); st.Seq > 0 && f != opFamily(op.Type) {
		return SubjectState{}, reject(ErrMalformed, "%s on %s, which is %s", op.Type, op.Subject, f)
	}
	if st.Seq > 0 && op.Time < st.Time {
		// Both times are in TimeLayout (fixed width), so byte order is time order.
		return SubjectState{}, reject(ErrTimeNotMonotonic, "seq %d time %s is before seq %d time %s", op.Seq, op.Time, st.Seq, st.Time)
	}
	var next SubjectState
	switch op.Type {
	case DIDCreate:
		next, err = applyCreate(op)
	case DIDUpdate:
		next, err = applyUpdate(st, op)
	case DIDRecover:
		next, err = applyRecover(st, op)
	case DIDDeactivate:
		next, err = applyDeactivate(st, op)
	case StatusListCreate:
		next, err = applyStatusCreate(op, env)
	case StatusListUpdate:
		next, err = applyStatusUpdate(st, op, env)
	case TrustAccredit:
		next, err = applyAccredit(st, op, env)
	case TrustWithdraw:
		next, err = applyWithdraw(st, op, env)
	default:
		err = reject(ErrUnsupportedType, "type %q", op.Type)
	}
	if err != nil {
		return SubjectState{}, err
	}
	next.Subject = op.Subject
	next.Seq = op.Seq
	next.Hash = hash
	next.Time = op.Time
	if op.Seq == 1 {
		next.Created, next.Updated = op.Time, ""
	} else {
		next.Created, next.Updated = st.Created, op.Time
	}
	return next, nil
}

// isCreate reports whether op starts a subject's chain: did.create and
// statuslist.create (at any seq: ErrSeqGap unless 1), trust.accredit at seq 1
// (at a later seq it amends).
func isCreate(op *Op) bool {
	return op.Type == DIDCreate || op.Type == StatusListCreate || op.Type == TrustAccredit && op.Seq == 1
}

// isStatusOp reports whether t is a statuslist op.
func isStatusOp(t OpType) bool { return t == StatusListCreate || t == StatusListUpdate }

// family is a family of op types, and of the subjects they make.
type family uint8

const (
	familyDID family = iota
	familyStatusList
	familyTrust
)

func (f family) String() string {
	return [...]string{"a DID", "a status list", "an accreditation"}[f]
}

func opFamily(t OpType) family {
	switch {
	case isStatusOp(t):
		return familyStatusList
	case isTrustOp(t):
		return familyTrust
	}
	return familyDID
}

func stateFamily(st SubjectState) family {
	switch {
	case st.StatusList != nil:
		return familyStatusList
	case st.Accreditation != nil:
		return familyTrust
	}
	return familyDID
}

// checkChain places op in the subject's chain of ops.
func checkChain(st SubjectState, op *Op, hash string, prior Prior) error {
	if st.Seq == 0 {
		switch {
		case !isCreate(op):
			return reject(ErrUnknownSubject, "%s on %s, which has no ops (create it first)", op.Type, op.Subject)
		case op.Seq != 1:
			return reject(ErrSeqGap, "create at seq %d; a subject starts at seq 1", op.Seq)
		}
		return nil
	}
	if op.Subject != st.Subject {
		return reject(ErrUnknownSubject, "op for %s applied to the state of %s", op.Subject, st.Subject)
	}
	if op.Seq <= st.Seq {
		var have string
		ok := false
		if prior != nil {
			have, ok = prior(op.Seq)
		}
		switch {
		case ok && have == hash:
			return reject(ErrReplay, "seq %d with hash %s is already on the ledger", op.Seq, hash)
		case isCreate(op):
			return reject(ErrSubjectExists, "%s exists (head seq %d); create hash %s differs from the ledger's", op.Subject, st.Seq, hash)
		case !ok:
			return reject(ErrFork, "seq %d (hash %s) is at or below head seq %d and the ledger's op at seq %d is unknown", op.Seq, hash, st.Seq, op.Seq)
		default:
			return reject(ErrFork, "seq %d hash %s differs from the ledger's %s at that seq", op.Seq, hash, have)
		}
	}
	if st.Deactivated {
		what := "deactivated"
		if st.Accreditation != nil {
			what = "withdrawn"
		}
		return reject(ErrDeactivated, "%s was %s at seq %d", st.Subject, what, st.Seq)
	}
	if isCreate(op) {
		return reject(ErrSubjectExists, "%s exists (head seq %d)", op.Subject, st.Seq)
	}
	if op.Seq > st.Seq+1 {
		return reject(ErrSeqGap, "seq %d after head seq %d (want %d)", op.Seq, st.Seq, st.Seq+1)
	}
	if op.Prev != st.Hash {
		return reject(ErrFork, "seq %d prev %s is not the head hash %s", op.Seq, op.Prev, st.Hash)
	}
	return nil
}

// CheckTime rejects an op whose time is more than skew after now (ErrTimeInFuture).
// The sequencer calls it with its clock, a consensus application with the block
// time; Apply never does.
func CheckTime(op *Op, now time.Time, skew time.Duration) error {
	t, err := parseTime(op.Time)
	if err != nil {
		return reject(ErrMalformed, "time: %v", err)
	}
	if limit := now.Add(skew); t.After(limit) {
		return reject(ErrTimeInFuture, "time %s is after %s (now %s + skew %s)", op.Time, limit.UTC().Format(TimeLayout), now.UTC().Format(time.RFC3339Nano), skew)
	}
	return nil
}
