// Package merkle is the global log's tree math: RFC 6962 Merkle tree roots,
// inclusion and consistency proofs, and C2SP checkpoints (signed notes that commit
// to a tree size and root).
//
// Hashing and proof logic come from golang.org/x/mod/sumdb/tlog and signed notes
// from golang.org/x/mod/sumdb/note; this package adds strict parsing, the
// checkpoint format, range checks and a JSON form for proofs.
//
// # Offline verification
//
// Everything a client needs to check the log without trusting the server is
// here and needs no network or storage: NewVerifier and Open check a signed
// checkpoint against the log's published verifier key, and
// VerifyCheckpointInclusion and VerifyCheckpointConsistency check proofs against
// checkpoints. VerifyInclusion and VerifyConsistency are the lower-level checks
// against bare roots; their callers must make sure each root really is the root
// of a tree of the size the proof names (see VerifyInclusion).
//
// # JSON
//
// Proofs marshal as {"index","size","hashes"} and {"from","to","hashes"}, where
// each hash is a standard (RFC 4648 §4, padded) base64 string of the 32-byte
// SHA-256 value, the same form tlog.Hash uses. Decoding is strict: a hash must be
// exactly the canonical 44-character encoding of 32 bytes.
//
// # Reference tree
//
// MemoryTree is a small in-memory tree built with tlog.StoredHashes. Tests and
// the store drivers' conformance suite use it to compute expected roots and
// proofs.
package merkle
