// Package wallet is the holder wallet's domain: holders (patients,
// clinicians) with their own keys and DIDs, the credentials they receive,
// kept encrypted, and the log of every disclosure they make. It owns no
// HTTP: package walletapi mounts routes over [Service], and the
// presentation logic builds on [Service.Credential], [Service.Signer] and
// [Service.RecordDisclosure].
//
// # Holders
//
// [Service.CreateHolder] generates the holder's signing key in the key
// manager (Ed25519 for did:key, P-256 for did:jwk; label "wallet holder
// <id>"), derives the DID and verification method, makes the holder's data
// key and issues a token with the scope [Scope](id) (subject "holder:<id>";
// its label names the id, never the holder's label). The secret is
// returned once. Holder ids are "h" and 26 lowercase base32 characters
// (128 random bits).
//
// # Encryption at rest
//
// Each holder has a random 32-byte data key (DEK). It is stored only
// wrapped by the master key ([keys.MasterKey.Seal], AES-256-GCM), the
// additional data binding the holder id, DID, verification method, key id
// and DID method: a holder record whose DID or key was changed in the
// store (to sign as another holder) no longer opens ([ErrCorrupt]), and
// [Service.Signer] opens it before it signs. Records written before that
// binding (version 1, the holder id only) still open and are rewritten
// bound on their first open. The holder record names the master key id,
// so a store opened with another master key fails with
// [keys.ErrWrongMasterKey]. Two keys are derived from the DEK with
// HKDF-SHA256: an AES-256-GCM key and an HMAC-SHA256 key.
//
// Credentials, disclosure-log entries and the holder label are sealed with
// AES-256-GCM under the DEK: version byte 1, a random 12-byte nonce, the
// ciphertext and tag. The additional data binds the holder id, the record
// kind ("credential", "disclosure", "label") and the record id, so a
// ciphertext copied to another holder or record fails with [ErrCorrupt].
// Types, issuers, formats, credential ids and claims are never in clear:
// they would tell which board or patient program a holder deals with.
//
// A credential's wallet id is "c" and the base32 of the first 16 bytes of
// the HMAC (under the holder's MAC key) of the credential: a JSON object
// compacted, or the compact token (also of an enveloped credential).
// Adding the same credential again, in either form, finds it; the id says
// nothing about the credential to anyone without the DEK, and the same
// credential has unrelated ids in two holders' wallets.
//
// Unwrapped DEKs are cached in process (at most 256, arbitrary eviction),
// each with the wrapped key it came from and the identity it was bound
// to: every operation reads the holder record, so a holder deleted,
// re-keyed or altered by another process misses the cache. A DEK is only reachable through a pointer to a type that formats
// as its holder id, so logging or printing never shows key bytes.
//
// Deleting a holder is crypto-shredding: [Service.DeleteHolder] first
// removes the wrapped DEK from the holder record (marking it deleting) and
// forgets the cached DEK, so nothing of the holder decrypts from then on,
// revokes the token, then deletes the records. The holder's signing key
// stays in the key manager, which has no delete.
//
// # kv layout
//
//	wallet-holders             <holder id>     -> holder record (JSON): id, DID, verification
//	                                              method, key id, DID method, created, token id,
//	                                              master key id, wrapped DEK, sealed label, counters
//	wallet-credentials/<holder> <credential id> -> sealed credential record
//	wallet-disclosures/<holder> <disclosure id> -> sealed disclosure entry
//
// Keys and bucket names hold holder ids and wallet ids only. Each holder
// has its own buckets, so listing one holder never reads another's records.
//
// # Limits and concurrency
//
// A credential is at most [MaxCredentialBytes] (256 KiB, [ErrTooLarge]); a
// holder keeps at most [MaxCredentials] (1,000) credentials of at most
// [MaxCredentialStoreBytes] (64 MiB sealed) in all, then [ErrLimit]. The
// holder record counts credentials and their sealed bytes: a new one is
// counted in a compare-and-swap (kv.Update) that checks both limits before
// it is written with kv.Create, and uncounted if the write fails or it is
// deleted, so concurrent adds in any number of processes never exceed the
// limits; a process dying between the two steps leaves the counts one
// credential too high (never too low). A holder stored before the byte
// count existed is counted once, on the first open of its record.
//
// A presentation considers at most [MaxChosenCredentials] (64) credential
// ids the holder chose, duplicates dropped.
//
// The disclosure log keeps the newest [MaxDisclosures] (10,000) entries
// rather than refusing a disclosure: the log must not stop a holder from
// presenting, and old entries matter least. Entries are counted the same
// way; when the count passes the limit by a hundredth, the oldest entries
// are deleted (so pruning costs one pass per hundred entries), and
// listings never return more than the limit.
//
// Listings decrypt a holder's records and sort them newest first: by
// received time (disclosure time), then by a per-holder sequence number
// kept in the sealed record. A listing decrypts every credential record,
// also when only its metadata is wanted (the list route drops the claims
// and the credential): the metadata is sealed with them.
//
// # Presenting
//
// A presentation is bound to the request's challenge and domain, and is
// only sent to a response_uri that domain names (its origin, or its host
// and port: OpenID4VP's rule for a redirect URI as client id), over https
// unless the Presenter allows http; a request that names another
// response_uri is refused, so a request copied from a real verifier cannot
// have the presentation sent elsewhere and relayed. The disclosure log
// records who received a presentation as the wallet knows it (the
// response_uri's host, else the domain); the name a request gives itself
// is kept apart as [Disclosure.ClaimedVerifier], unverified.
package wallet
