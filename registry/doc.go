// Package registry is the ledger: signed operations on subjects (did:credence DIDs,
// status lists, accreditations), the rules that accept or reject them, a
// deterministic state machine that applies accepted ones, and the global
// append-only Merkle log (RFC 6962 hashing) with signed C2SP checkpoints and
// inclusion and consistency proofs.
//
// # Two chains
//
// Every subject has an ordered chain of operations linked by seq and prev (the hash
// of the subject's previous op), so gaps, forks and replays are rejected. Every
// accepted op is also a leaf of one Merkle tree over all subjects, so nobody can
// rewrite history without breaking a checkpoint someone already holds.
//
// # Determinism
//
// Apply never reads the wall clock, never depends on map order and never does I/O:
// the same op sequence gives the same state on every node, which is what lets the
// same rules run inside a consensus application later. Time enters only as an
// argument (a block time, or the sequencer's clock).
//
// # Status lists
//
// A status list (W3C Bitstring Status List) is a subject whose id is its
// statusListCredential URL. Its ops record which bits were set and cleared
// and the hash of the resulting bitstring, and are authorized by another
// subject: the update keys of the issuer DID as of the op's position in the
// log (Env.Controller). See statuslist.go.
//
// # Trust registry
//
// An accreditation says that an issuer DID may issue some credential types in
// some jurisdictions (USPS state and territory codes; none: every one, as for
// a specialty board or the DEA) during a validity window. It is a subject
// named AccreditationPrefix + an id of [a-z0-9-]{1,64} chosen by the steward:
// trust.accredit at seq 1 creates it, a later trust.accredit replaces the
// grant (an amendment: a longer window, another state; the issuer stays), and
// trust.withdraw ends it for good (its time is the withdrawal time; an
// optional short reason, never personal data). The grant is the op's
// accreditation member, parsed strictly (ParseAccreditation, CheckGrant).
//
// Trust ops are authorized by governance, not by their subject: every proof
// must be by a steward key ("#" + Multikey kid) of the registry's governance,
// configuration given to the Log (WithStewards) and through Env.Stewards to
// ApplyEnv (and AuditStewards to Audit); with no stewards every trust op is
// ErrUnauthorizedKey. The governance is not on the ledger, so a steward key
// that is rotated out must be kept as retired (WithRetiredStewards): it signs
// nothing new, but the ops it signed still replay. See trust.go.
//
// TrustIndex is the trust registry for verifiers: every accreditation, loaded
// through SubjectLister and kept current from the Log's events, answering
// Accredited(issuer, type, jurisdiction, at) from memory.
//
// # The Log
//
// Log validates and appends submitted ops, signs checkpoints, answers state
// queries from a bounded per-subject cache checked against the store's heads,
// and reports every append to subscribers (Subscribe; Event, EventSource).
//
// # Storage
//
// Store is the small contract drivers implement (registry/boltstore,
// registry/redisstore); registry/storetest is the conformance suite every driver
// passes. This package never imports a driver.
package registry
