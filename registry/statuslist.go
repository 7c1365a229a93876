package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Status list bounds.
const (
	// MinStatusListBits is the smallest list (W3C Bitstring Status List: at
	// least 131,072 entries, so one credential hides in the crowd).
	MinStatusListBits = 131072
	// MaxStatusListBits is the largest list (1 MiB of bits).
	MaxStatusListBits = 1 << 23
	// MaxStatusChanges bounds set + clear of one op.
	MaxStatusChanges = 16384
	// MaxStatusListURLBytes bounds a status list's subject (its URL).
	MaxStatusListURLBytes = 512
)

// Status purposes, those of the W3C Bitstring Status List.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
	PurposeMessage    = "message"
	PurposeRefresh    = "refresh"
)

var statusPurposes = []string{PurposeRevocation, PurposeSuspension, PurposeMessage, PurposeRefresh}

// StatusListState is what the ledger knows about a status list: its issuer,
// purpose and size as the create set them, and the bitstring after the latest
// op with its ListHash.
type StatusListState struct {
	Issuer   string `json:"issuer"`
	Purpose  string `json:"purpose"`
	Size     int    `json:"size"`
	ListHash string `json:"listHash"`
	// Bits is the raw bitstring (Size/8 bytes, bit i is byte i/8, mask
	// 0x80>>(i%8)). It is not serialized: replay the chain to get it. Treat it
	// as read-only; Apply never modifies the Bits of the state it is given.
	Bits []byte `json:"-"`
}

// ListHash is the lowercase hex SHA-256 of a raw status list bitstring: the
// listHash a statuslist op records.
func ListHash(bits []byte) string {
	sum := sha256.Sum256(bits)
	return hex.EncodeToString(sum[:])
}

// StatusBit reports bit i of a raw bitstring in the W3C Bitstring Status List
// order (byte i/8, most significant bit first); false outside the bitstring.
func StatusBit(bits []byte, i int) bool {
	if i < 0 || i/8 >= len(bits) {
		return false
	}
	return bits[i/8]&(0x80>>(i%8)) != 0
}

// The rules of the statuslist.* operations. Summary:
//
//   - The subject is the list's statusListCredential URL: absolute http or
//     https, with a host, no query, no fragment, at most MaxStatusListURLBytes
//     (ErrMalformed; Decode checks it).
//   - The op carries statusList and nothing of the other families: no doc,
//     updateKeys, recoveryKeys, nextKeyHashes or accreditation (ErrMalformed).
//   - statuslist.create names the issuer (statusList.issuer, a did:credence
//     DID); statuslist.update must not (ErrMalformed): the list keeps it.
//   - Authorization is cross-subject: every op must be signed ("#" + Multikey
//     kids, as did.* ops) by a key in the current updateKeys of the issuer's
//     state at the op's position in the log, which Env.Controller provides.
//     An unknown issuer (or no Controller) is ErrUnauthorizedKey, a deactivated
//     one ErrDeactivated.
//   - purpose is one of the W3C purposes and size a multiple of 8 in
//     MinStatusListBits..MaxStatusListBits, both set by the create and repeated
//     unchanged by every update (ErrMalformed).
//   - set and clear are strictly ascending indexes in [0, size), disjoint, at
//     most MaxStatusChanges together; an update changes at least one index
//     (ErrMalformed). Setting a set bit or clearing a clear one is allowed.
//   - A set bit of a revocation list is never cleared (ErrIrreversible):
//     Bitstring Status List §2.1 (statusPurpose "revocation") says
//     revocation is not reversible; a suspension is. The issuer's own API
//     never clears one; this rule holds every op to it, whoever signs it.
//   - listHash is ListHash of the bitstring after the op (the create starts
//     from all zeros): 64 lowercase hex digits (ErrMalformed) equal to the
//     registry's own computation (ErrListHash).
//
// Checks run in this order: members, issuer member, authorization and
// signatures, purpose and size, indexes, irreversibility, listHash.

// checkStatusListURL checks a status list subject.
func checkStatusListURL(s string) error {
	if len(s) > MaxStatusListURLBytes {
		return reject(ErrMalformed, "status list subject is %d bytes, max %d", len(s), MaxStatusListURLBytes)
	}
	u, err := url.Parse(s)
	if err != nil {
		return reject(ErrMalformed, "status list subject %q is not a URL: %v", s, err)
	}
	switch {
	case (u.Scheme != "http" && u.Scheme != "https") || !strings.HasPrefix(s, u.Scheme+"://"):
		return reject(ErrMalformed, "status list subject %q is not an absolute http or https URL", s)
	case u.Host == "":
		return reject(ErrMalformed, "status list subject %q has no host", s)
	case strings.Contains(s, "?"):
		return reject(ErrMalformed, "status list subject %q has a query", s)
	case strings.Contains(s, "#"):
		return reject(ErrMalformed, "status list subject %q has a fragment", s)
	}
	return nil
}

// statusMembers checks that a statuslist op carries statusList and nothing of
// the other op families.
func statusMembers(op *Op) error {
	if op.StatusList == nil {
		return reject(ErrMalformed, "%s must carry statusList", op.Type)
	}
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"doc", len(op.Doc) > 0},
		{"updateKeys", len(op.UpdateKeys) > 0},
		{"recoveryKeys", len(op.RecoveryKeys) > 0},
		{"nextKeyHashes", len(op.NextKeyHashes) > 0},
		{"accreditation", len(op.Accreditation) > 0},
	} {
		if m.present {
			return reject(ErrMalformed, "%s carries %s; it takes statusList only", op.Type, m.name)
		}
	}
	return nil
}

// applyStatusCreate checks a statuslist.create and returns the list's first
// state.
func applyStatusCreate(op *Op, env Env) (SubjectState, error) {
	if err := statusMembers(op); err != nil {
		return SubjectState{}, err
	}
	c := op.StatusList
	if c.Issuer == "" {
		return SubjectState{}, reject(ErrMalformed, "statuslist.create must name the issuer (statusList.issuer)")
	}
	if !strings.HasPrefix(c.Issuer, MethodPrefix) || !isMultihash256(strings.TrimPrefix(c.Issuer, MethodPrefix)) {
		return SubjectState{}, reject(ErrMalformed, "statusList.issuer %q is not a %s DID", c.Issuer, strings.TrimSuffix(MethodPrefix, ":"))
	}
	if err := authorizeStatus(op, c.Issuer, env); err != nil {
		return SubjectState{}, err
	}
	if !slices.Contains(statusPurposes, c.Purpose) {
		return SubjectState{}, reject(ErrMalformed, "statusList.purpose %q is not one of %v", c.Purpose, statusPurposes)
	}
	if c.Size < MinStatusListBits || c.Size > MaxStatusListBits || c.Size%8 != 0 {
		return SubjectState{}, reject(ErrMalformed, "statusList.size %d is not a multiple of 8 in %d..%d", c.Size, MinStatusListBits, MaxStatusListBits)
	}
	if err := checkIndexes(c); err != nil {
		return SubjectState{}, err
	}
	bits := make([]byte, c.Size/8)
	if err := applyBits(bits, c); err != nil {
		return SubjectState{}, err
	}
	return SubjectState{StatusList: &StatusListState{Issuer: c.Issuer, Purpose: c.Purpose, Size: c.Size, ListHash: c.ListHash, Bits: bits}}, nil
}

// applyStatusUpdate checks a statuslist.update against st.
func applyStatusUpdate(st SubjectState, op *Op, env Env) (SubjectState, error) {
	if err := statusMembers(op); err != nil {
		return SubjectState{}, err
	}
	c := op.StatusList
	if c.Issuer != "" {
		return SubjectState{}, reject(ErrMalformed, "statuslist.update carries statusList.issuer; only the create names it")
	}
	sl := st.StatusList
	if err := authorizeStatus(op, sl.Issuer, env); err != nil {
		return SubjectState{}, err
	}
	if c.Purpose != sl.Purpose {
		return SubjectState{}, reject(ErrMalformed, "statusList.purpose %q differs from the list's %q", c.Purpose, sl.Purpose)
	}
	if c.Size != sl.Size {
		return SubjectState{}, reject(ErrMalformed, "statusList.size %d differs from the list's %d", c.Size, sl.Size)
	}
	if len(c.Set) == 0 && len(c.Clear) == 0 {
		return SubjectState{}, reject(ErrMalformed, "statuslist.update sets and clears nothing")
	}
	if err := checkIndexes(c); err != nil {
		return SubjectState{}, err
	}
	if len(sl.Bits) != sl.Size/8 {
		return SubjectState{}, fmt.Errorf("registry: the state of %s has %d bytes of bits for %d bits (Bits is not serialized: replay the chain)", st.Subject, len(sl.Bits), sl.Size)
	}
	if sl.Purpose == PurposeRevocation {
		for _, i := range c.Clear {
			if StatusBit(sl.Bits, i) {
				return SubjectState{}, reject(ErrIrreversible, "statusList.clear names index %d, which is revoked", i)
			}
		}
	}
	bits := slices.Clone(sl.Bits) // copy on write: st is not modified
	if err := applyBits(bits, c); err != nil {
		return SubjectState{}, err
	}
	return SubjectState{StatusList: &StatusListState{Issuer: sl.Issuer, Purpose: sl.Purpose, Size: sl.Size, ListHash: c.ListHash, Bits: bits}}, nil
}

// authorizeStatus checks that op is signed by current update keys of issuer,
// as env's Controller has it at the op's position.
func authorizeStatus(op *Op, issuer string, env Env) error {
	if env.Controller == nil {
		return reject(ErrUnauthorizedKey, "%s must be signed by an update key of its issuer %s: no controller state available", op.Type, issuer)
	}
	ist, err := env.Controller(issuer)
	if err != nil {
		return fmt.Errorf("state of the issuer %s: %w", issuer, err)
	}
	if ist.Seq == 0 {
		return reject(ErrUnauthorizedKey, "the issuer %s is not on the ledger (at this op's position); %s must be signed by one of its update keys", issuer, op.Type)
	}
	if ist.Subject != issuer {
		return fmt.Errorf("registry: the controller state given for %s is that of %q", issuer, ist.Subject)
	}
	if ist.Deactivated {
		return reject(ErrDeactivated, "the issuer %s was deactivated at seq %d; its status lists take no more ops", issuer, ist.Seq)
	}
	_, err = checkProofs(op, string(op.Type), func(mk string) bool {
		return slices.Contains(ist.UpdateKeys, mk)
	}, "a current update key of the issuer "+issuer)
	return err
}

// checkIndexes checks set and clear against the op's size.
func checkIndexes(c *StatusListChange) error {
	if n := len(c.Set) + len(c.Clear); n > MaxStatusChanges {
		return reject(ErrMalformed, "statusList changes %d indexes, max %d", n, MaxStatusChanges)
	}
	for _, l := range []struct {
		name string
		idx  []int
	}{{"set", c.Set}, {"clear", c.Clear}} {
		for i, v := range l.idx {
			if v < 0 || v >= c.Size {
				return reject(ErrMalformed, "statusList.%s[%d] = %d is outside [0, %d)", l.name, i, v, c.Size)
			}
			if i > 0 && v <= l.idx[i-1] {
				return reject(ErrMalformed, "statusList.%s is not strictly ascending at [%d] (%d after %d)", l.name, i, v, l.idx[i-1])
			}
		}
	}
	for i, j := 0, 0; i < len(c.Set) && j < len(c.Clear); {
		switch {
		case c.Set[i] == c.Clear[j]:
			return reject(ErrMalformed, "statusList both sets and clears index %d", c.Set[i])
		case c.Set[i] < c.Clear[j]:
			i++
		default:
			j++
		}
	}
	return nil
}

// applyBits applies c's set and clear to bits (checked indexes) and compares
// the result with c's listHash.
func applyBits(bits []byte, c *StatusListChange) error {
	if !isHashHex(c.ListHash) {
		return reject(ErrMalformed, "statusList.listHash %q is not 64 lowercase hex digits", c.ListHash)
	}
	for _, i := range c.Set {
		bits[i/8] |= 0x80 >> (i % 8)
	}
	for _, i := range c.Clear {
		bits[i/8] &^= 0x80 >> (i % 8)
	}
	if h := ListHash(bits); h != c.ListHash {
		return reject(ErrListHash, "the list after this op hashes to %s, the op says %s", h, c.ListHash)
	}
	return nil
}
