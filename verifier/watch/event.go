package watch

import "time"

// Event types.
const (
	TypeRevoked    = "credential.revoked"
	TypeSuspended  = "credential.suspended"
	TypeReinstated = "credential.reinstated"
	TypeExpiring   = "credential.expiring"
	TypeExpired    = "credential.expired"
)

// Event is the body of a webhook (Standard Webhooks payload structure). It
// carries identifiers only, no personal data.
type Event struct {
	Type string `json:"type"`
	// Timestamp is when the change happened: the ledger op's time, the time
	// a polled change was seen, or the expiry time.
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is what changed.
type EventData struct {
	WatchID              string `json:"watchId"`
	CredentialID         string `json:"credentialId"`
	StatusPurpose        string `json:"statusPurpose,omitempty"`
	StatusListCredential string `json:"statusListCredential,omitempty"`
	StatusListIndex      string `json:"statusListIndex,omitempty"`
	// LedgerSeq is the list's seq in which the change was read; LedgerIndex
	// the log index of that op, when known.
	LedgerSeq   uint64    `json:"ledgerSeq,omitempty"`
	LedgerIndex *uint64   `json:"ledgerIndex,omitempty"`
	ValidUntil  time.Time `json:"validUntil,omitzero"`
}
