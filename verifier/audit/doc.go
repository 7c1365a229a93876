// Package audit keeps the tamper-evident log of verification decisions: who
// asked, when, which credentials (by id and digest, never their content),
// which checks ran, and the result. DOMAIN.md: "Every decision is recorded
// with who asked, when, what was checked, and the result."
//
// # Chains
//
// Each verifier tenant has its own chain (DefaultChain for requests without
// a tenant). An entry carries seq (1, 2, ...) and prev, the hash of the
// chain's previous entry, so changing, removing or reordering an entry
// breaks every later link.
//
// # Hash encoding
//
// An entry's hash is "sha256:" and the lowercase hex SHA-256 of the JCS
// (RFC 8785) form of its JSON object without the "hash" member. Times are
// RFC 3339 strings in UTC with up to nanosecond precision; the lists
// "credentials" and "checks" are always present (possibly empty); request,
// holder, errors and warnings are omitted when empty. Entries are stored
// and exported as the JCS form of the whole object, hash included.
//
// # Storage layout
//
// One kv bucket, "audit". Entry seq of chain C is key "e/C/" and seq as 20
// zero-padded digits, so keys sort by seq; "h/C" holds a hint: a decimal
// seq known to exist. Entries are gapless, so the head is found from the
// hint by galloping forward and bisecting: a stale hint costs a few reads and
// nothing else.
//
// # Appending: group commit
//
// Within a process, appends to one chain queue, and one committer goroutine
// per chain (running only while there is something queued) takes everything
// queued, up to 256 entries (and 4 MiB), numbers it from the head it
// remembers, N+1, N+2, ..., links each entry to the one before and stores
// the batch with one kv.CreateMany: one bbolt transaction and fsync, or one
// Redis script, for the whole batch (kv.Create for a batch of one). Every
// Append of the batch returns once that write is done, with its entry or
// the write's error: an entry is never reported recorded before it is
// stored. CreateMany writes all of the batch or none, and fails with
// kv.ErrExists if any of its keys exists, so it is the compare-and-set: of
// two writers racing for the same seqs, across processes too, exactly one
// wins; the loser finds the new head, links its whole batch to it and tries
// again. After any other error the committer forgets the head and reads it
// again, so the next batch links to one that was stored though its answer
// was lost. An Append whose context ends while queued is dropped from the
// queue and never stored; once its batch is being written it returns at
// once while the write goes on for the others (the write's context ends
// only when every Append of the batch has given up).
//
// The expensive part of sealing an entry, its canonical form, is computed by
// Append itself, in parallel, with seq, time and prev at zero values; the
// committer only fills those in and hashes (see form).
//
// The hint is raised after the batch is stored and its Appends have
// returned, when the batch reaches or passes a multiple of 16 (each write is
// an fsync on bbolt), so a crash between the two leaves only a stale hint.
//
// # Export and verification
//
// Export writes a chain from seq 1 as JSON Lines, each line the stored
// canonical entry, then one signed head line (SignedHead): chain, size, the
// last entry's hash, the signing time and the signer's Multikey, signed with
// Ed25519 over HeadContext followed by the JCS form of the head without its
// signature. Verify reads an export as a stream with bounded lines and
// names the first bad line: an entry that is not canonical or whose hash,
// seq, prev or chain is wrong, or a head that does not match the entries
// (a truncated export) or whose signature fails. The signed head is what
// makes a rewritten chain detectable: keep the heads you verified, and a
// later export must agree with them.
package audit
