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
// seq known to exist. Append takes seq N = head+1 and stores entry N with
// kv.Create, which is the compare-and-set: of two writers racing for N, across
// processes too, exactly one wins; the loser finds the new head, links to it
// and tries again. Entries are gapless, so the head is found from the hint by
// galloping forward and bisecting: a stale hint costs a few reads and nothing
// else. The hint is raised after the entry is stored, every 16th entry (each
// write is an fsync on bbolt), so a crash between the two leaves only a stale
// hint. Within a process, appends to one chain are serialized and its head
// is remembered.
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
