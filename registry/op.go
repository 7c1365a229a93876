package registry

import "encoding/json"

// OpVersion is the version tag of the operation format.
const OpVersion = "credence.op/1"

// MaxOpBytes bounds an encoded operation (with proofs). A statuslist op with
// MaxStatusChanges indexes of 7 digits (about 128 KiB) fits.
const MaxOpBytes = 256 << 10

// OpType names what an operation does.
type OpType string

// Operation types.
const (
	DIDCreate        OpType = "did.create"
	DIDUpdate        OpType = "did.update"
	DIDDeactivate    OpType = "did.deactivate"
	DIDRecover       OpType = "did.recover"
	StatusListCreate OpType = "statuslist.create"
	StatusListUpdate OpType = "statuslist.update"
	TrustAccredit    OpType = "trust.accredit"
	TrustWithdraw    OpType = "trust.withdraw"
)

// Op is a signed ledger operation. Its canonical form is JCS (RFC 8785); the
// signatures in Proofs cover JCS(op without "proofs"). Field order here is for
// readability only: canonicalization sorts members.
type Op struct {
	V       string `json:"v"`
	Type    OpType `json:"type"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	// Prev is the hash (OpHash) of the subject's previous op; empty for seq 1.
	Prev string `json:"prev,omitempty"`
	// Time is RFC 3339 UTC with second precision.
	Time string `json:"time"`
	// Doc is the full DID document of did.* ops.
	Doc json.RawMessage `json:"doc,omitempty"`
	// UpdateKeys are the Multikeys that may sign the subject's next regular op.
	UpdateKeys []string `json:"updateKeys,omitempty"`
	// RecoveryKeys are the Multikeys that may sign did.recover (and deactivate).
	RecoveryKeys []string `json:"recoveryKeys,omitempty"`
	// NextKeyHashes commits to the next op's UpdateKeys (pre-rotation): when set,
	// every key of the next UpdateKeys must hash (KeyHash) to one of them.
	NextKeyHashes []string          `json:"nextKeyHashes,omitempty"`
	StatusList    *StatusListChange `json:"statusList,omitempty"`
	Accreditation json.RawMessage   `json:"accreditation,omitempty"`
	Proofs        []Proof           `json:"proofs,omitempty"`
}

// StatusListChange records a status list's bits that an op sets or clears and the
// hash of the resulting list (see statuslist.go for the rules).
type StatusListChange struct {
	// Issuer is the did:credence DID that controls the list: set on
	// statuslist.create only (its update keys sign every op of the list).
	Issuer string `json:"issuer,omitempty"`
	// Purpose and Size (bits) are set by the create and repeated by every update.
	Purpose string `json:"purpose"`
	Size    int    `json:"size"`
	// Set and Clear are the indexes the op sets and clears, each strictly
	// ascending, disjoint.
	Set   []int `json:"set,omitempty"`
	Clear []int `json:"clear,omitempty"`
	// ListHash is ListHash of the bitstring after the op.
	ListHash string `json:"listHash"`
}

// NewStatusListOp returns an unsigned statuslist.create or statuslist.update
// op on subject (the list's statusListCredential URL) at seq after prev (""
// for the create) at time (TimeLayout). Sign it with AddProof by a current
// update key of the issuer ("#" + Multikey kid). The change is copied.
func NewStatusListOp(typ OpType, subject string, seq uint64, prev, time string, change StatusListChange) *Op {
	c := change
	c.Set = cloneInts(change.Set)
	c.Clear = cloneInts(change.Clear)
	return &Op{V: OpVersion, Type: typ, Subject: subject, Seq: seq, Prev: prev, Time: time, StatusList: &c}
}

// cloneInts copies s; an empty list comes back nil (the op omits it).
func cloneInts(s []int) []int {
	if len(s) == 0 {
		return nil
	}
	return append([]int(nil), s...)
}

// Proof is one signature over the op: a compact JWS with a detached payload
// ("header..signature") whose payload is JCS(op without proofs).
type Proof struct {
	// KID names the signing key: a DID URL (did:credence:...#key-1) or, for update
	// and recovery keys, "#" + the key's Multikey.
	KID string `json:"kid"`
	JWS string `json:"jws"`
}
