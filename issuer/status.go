package issuer

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/registry"
)

// Status lists. A tenant has, per purpose (revocation, suspension), one open
// W3C Bitstring Status List from which indexes are handed out at random and
// never reused; a full list is closed and the next one opened. Every list is a
// subject of the ledger: statuslist.create when it opens, one statuslist.update
// per change call (all the bits a call flips in that list, in one op), each
// signed by the tenant's DID and carrying the hash of the resulting bitstring.
// The ledger's state is the source of truth for the bits; the signed status
// list credential is derived from it and cached per ledger version.

const (
	bucketStatus = "statuslists"
	// statusBlock is how many indexes one store write reserves for a process.
	statusBlock = 256
	// MaxStatusIDs bounds the credentials of one status change call.
	MaxStatusIDs = 50000
	// maxReason bounds a status change reason.
	maxReason = 500
	// StatusListTTL is the ttl a status list credential states: how long a
	// verifier may use it without refetching (verifiers of this service are
	// told of changes at once through registry events).
	StatusListTTL = 5 * time.Minute
)

// Status change actions.
const (
	ActionRevoke    = "revoke"
	ActionSuspend   = "suspend"
	ActionReinstate = "reinstate"
)

// StatusLedger is the part of the registry the status lists use.
type StatusLedger interface {
	Submit(ctx context.Context, raw []byte) (registry.Receipt, error)
	State(ctx context.Context, subject string, upTo uint64) (registry.SubjectState, error)
}

// OpSigner signs ledger ops as a DID's controller (its current update key).
type OpSigner interface {
	SignOp(ctx context.Context, did string, op *registry.Op) error
}

// WithStatusLists enables status lists: ops go to ledger, signed through
// signer; list URLs are baseURL + "/status/{issuer}/{list}".
func WithStatusLists(ledger StatusLedger, signer OpSigner, baseURL string) Option {
	return func(s *Service) {
		s.ledger, s.opSigner, s.baseURL = ledger, signer, strings.TrimRight(baseURL, "/")
	}
}

// WithStatusListSize sets the bits of new status lists (tests; at least
// status.MinBits).
func WithStatusListSize(bits int) Option { return func(s *Service) { s.listBits = bits } }

// OnStatusChange registers f, called with a list's URL as soon as a change
// of it is on the ledger (before UpdateStatus returns): the server drops the
// list from its own verifier's cache there, so a revocation is effective in
// this process at once (other processes learn it from registry events). Set
// it before use.
func (s *Service) OnStatusChange(f func(url string)) { s.onChange = f }

// StatusRef is one status entry of an issued credential.
type StatusRef struct {
	Purpose string `json:"statusPurpose"`
	List    string `json:"statusListCredential"`
	Index   int    `json:"statusListIndex"`
	// Set is the bit's current value on the ledger (filled when read).
	Set *bool `json:"set,omitempty"`
}

// StatusEvent is one status change of a credential, kept in its inventory
// record (the reason stays with the issuer; the ledger records bits only).
type StatusEvent struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Reason string    `json:"reason,omitempty"`
	// List and Seq name the ledger op: the list's subject and its version.
	List string `json:"list"`
	Seq  uint64 `json:"seq"`
}

// statusState is the in-process part of status lists.
type statusState struct {
	mu    sync.Mutex
	pools map[string]*reserved // tenant \x00 purpose
	locks sync.Map             // list URL -> *sync.Mutex
}

func (st *statusState) listLock(url string) *sync.Mutex {
	m, _ := st.locks.LoadOrStore(url, &sync.Mutex{})
	return m.(*sync.Mutex)
}
