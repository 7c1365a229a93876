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
