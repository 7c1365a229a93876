package registry

import (
	"bytes"
	"encoding/json"
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
	// UpdateKeys may sign did.update and did.deactivate; RecoveryKeys may sign
	// did.recover and did.deactivate. Multikeys.
	UpdateKeys   []string `json:"updateKeys,omitempty"`
	RecoveryKeys []string `json:"recoveryKeys,omitempty"`
	// NextKeyHashes is the pre-rotation commitment (KeyHash values) the next
	// rotation of UpdateKeys must satisfy; empty when pre-rotation is off.
	NextKeyHashes []string `json:"nextKeyHashes,omitempty"`
	// Deactivated is terminal: no op is accepted afterwards.
	Deactivated bool `json:"deactivated,omitempty"`
	// Doc is the current DID document, in JCS form.
	Doc json.RawMessage `json:"doc,omitempty"`
}

// Prior gives the hash of the subject's op at a seq already on the ledger (for
// telling a replay from a fork).
type Prior func(seq uint64) (hash string, ok bool)

// Apply validates op (already decoded; canonical its canonical bytes, as Decode
// returned them) against st, the subject's state, and returns the new state. It
// verifies signatures, never reads the clock, does no I/O except calling prior, and
// does not modify st or op. A rejection is a *RuleError wrapping exactly one of the
// rule sentinels.
//
// Checks run in this order, and the first failure is returned:
//
//  1. the op's own fields (as Decode checks them) and that canonical is its
//     canonical form (ErrMalformed, ErrUnsupportedType);
//  2. statuslist.* and trust.* ops: ErrUnsupportedType, until those land;
//  3. the chain: unknown subject (ErrUnknownSubject for anything but did.create,
//     ErrSeqGap for a create with seq != 1); an op at or below the head is ErrReplay
//     if prior has the same hash at its seq, else ErrSubjectExists for a create and
//     ErrFork otherwise; then ErrDeactivated; seq beyond head+1 is ErrSeqGap; prev
//     other than the head's hash is ErrFork;
//  4. time before the head's time: ErrTimeNotMonotonic (equal is allowed);
//  5. the rules of the op type (see rules.go): authorization and signatures first,
//     then content.
func Apply(st SubjectState, op *Op, canonical []byte, prior Prior) (SubjectState, error) {
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
	switch op.Type {
	case StatusListCreate, StatusListUpdate:
		return SubjectState{}, reject(ErrUnsupportedType, "%s is accepted once status lists land", op.Type)
	case TrustAccredit, TrustWithdraw:
		return SubjectState{}, reject(ErrUnsupportedType, "%s is accepted once the trust registry lands", op.Type)
	}
	hash := OpHash(canonical)
	if err := checkChain(st, op, hash, prior); err != nil {
		return SubjectState{}, err
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

// checkChain places op in the subject's chain of ops.
func checkChain(st SubjectState, op *Op, hash string, prior Prior) error {
	if st.Seq == 0 {
		switch {
		case op.Type != DIDCreate:
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
		case op.Type == DIDCreate:
			return reject(ErrSubjectExists, "%s exists (head seq %d); create hash %s differs from the ledger's", op.Subject, st.Seq, hash)
		case !ok:
			return reject(ErrFork, "seq %d (hash %s) is at or below head seq %d and the ledger's op at seq %d is unknown", op.Seq, hash, st.Seq, op.Seq)
		default:
			return reject(ErrFork, "seq %d hash %s differs from the ledger's %s at that seq", op.Seq, hash, have)
		}
	}
	if st.Deactivated {
		return reject(ErrDeactivated, "%s was deactivated at seq %d", st.Subject, st.Seq)
	}
	if op.Type == DIDCreate {
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
