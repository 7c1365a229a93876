package registry

import "encoding/json"

// OpVersion is the version tag of the operation format.
const OpVersion = "credence.op/1"

// MaxOpBytes bounds an encoded operation (with proofs).
const MaxOpBytes = 64 << 10

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
// hash of the resulting list.
type StatusListChange struct {
	Purpose  string `json:"purpose"`
	Size     int    `json:"size"`
	Set      []int  `json:"set,omitempty"`
	Clear    []int  `json:"clear,omitempty"`
	ListHash string `json:"listHash"`
}

// Proof is one signature over the op: a compact JWS with a detached payload
// ("header..signature") whose payload is JCS(op without proofs).
type Proof struct {
	// KID names the signing key: a DID URL (did:credence:...#key-1) or, for update
	// and recovery keys, "#" + the key's Multikey.
	KID string `json:"kid"`
	JWS string `json:"jws"`
}
