// Package witness is a C2SP transparency log witness for the registry's log:
// it cosigns checkpoints (https://c2sp.org/tlog-cosignature, cosignature/v1)
// after checking that each one extends the last checkpoint it cosigned for the
// same log, and it serves the add-checkpoint protocol of
// https://c2sp.org/tlog-witness. A log that shows different clients different
// trees (equivocation) or shrinks its tree (rollback) cannot get both views
// cosigned by an honest witness, so a quorum of cosignatures (VerifyCosigned)
// turns those attacks into detected faults.
//
// # Witness side
//
// New builds a Witness from a Cosigner (the witness's Ed25519 key, named after
// the witness, held by any crypto.Signer such as the key manager's), the logs
// it follows (origin and checkpoint verifier keys) and a Store remembering the
// latest cosigned checkpoint of each log. AddCheckpoint is the protocol's one
// write; Handler serves it at POST /add-checkpoint and the latest cosigned
// checkpoints at GET /<hex SHA-256 of origin>/checkpoint.
//
// The cosignatures are Ed25519 cosignature/v1 (signature type 0x04), not the
// ML-DSA-44 ones tlog-witness recommends: the key manager (internal/keys)
// holds Ed25519 and P-256 keys only, and the witness's key must live there.
//
// # Log side
//
// Add calls a witness's add-checkpoint endpoint. A *ConflictError carries the
// size the witness last cosigned: the log then retries with a consistency
// proof from that size. AppendCosignatures checks the returned lines against
// the witness's verifier key and adds them to the checkpoint.
//
// # Publishing
//
// A Publisher runs the log side continuously. NewPublisher takes the log (a
// Source: its latest checkpoint, consistency proofs and key; *registry.Log
// satisfies it), the witnesses to publish to (Targets: URL and cosignature
// key) and a quorum. Each round (Publish) sends the log's latest checkpoint
// to every target at once, with a consistency proof from the size that
// target last cosigned (learnt from its answers, 409s included, and kept in
// memory), and merges the cosignatures into one note. Run repeats rounds at
// start, on wake-ups (say, after each append), every interval and, after
// failures, with a doubling backoff.
//
// The notes are kept in a kv.Store shared by every replica of the log: the
// latest with at least one cosignature and the latest with a quorum
// (Witnessed), each replaced in one kv.Store.Update only by a larger
// checkpoint, or merged with a round's cosignatures for the same one, so that
// neither moves backwards. Attach adds the stored cosignatures to the
// checkpoint the log serves. Stored notes are verified again when read.
//
// A witness that refuses the log's checkpoint because it holds a larger one
// (409) or because the proof does not match what it holds (422) is asked for
// its checkpoint (Latest). Only if that checkpoint is signed by the log's own
// key and the log's current tree does not extend it is it a fault (Fault):
// ErrRollback when the tree is smaller, ErrFork when its leaves differ. Any
// other answer (a checkpoint not signed by the log, or consistent with the
// tree) makes the witness a liar or broken, reported in Status, never a
// fault: no witness can stop the log by its word alone. A target's fault
// clears when it cosigns a checkpoint of the log again, for example after the
// operator restored the log's store. Faults are also stored in the
// publisher's bucket, so that Gate keeps the log's writes refused across a
// restart and in every replica sharing the store, before their own rounds
// find the fault again.
//
// # Verifier side
//
// VerifyCosigned checks a checkpoint's log signature and at least a quorum of
// cosignatures by distinct known witnesses. NewVerifier parses a witness's
// verifier key (signature type 0x04, or 0x06 for ML-DSA-44 cosigners run by
// others); the cosignature verification itself is
// github.com/transparency-dev/formats/note's.
//
// # Guarantees
//
// The check of the old size against the stored state and the write of the new
// state are one compare-and-swap (Store.Update), so of concurrent requests
// from the same old size at most one succeeds, and the witness never cosigns a
// checkpoint smaller than, or inconsistent with, one it already cosigned.
// Cosignature timestamps never go backwards for a log, even if the clock does.
//
// # Errors
//
// AddCheckpoint's errors map to the statuses of tlog-witness: ErrMalformed
// (400), ErrBadSignature (403), ErrUnknownLog (404), *ConflictError (409, with
// ErrConflict), ErrBadProof (422); anything else is an internal failure (500).
// Add returns the same errors for the same statuses.
package witness
