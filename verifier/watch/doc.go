// Package watch is the verifier's watch-list: a verifier tenant registers the
// credentials it relies on and is told by webhook when one of them is
// revoked, suspended, reinstated, about to expire or expired. Credentialing
// is continuous, not point-in-time (DOMAIN.md).
//
// # Watches
//
// Add records a verified credential's revocation and suspension status
// entries (other purposes are not watched), its validUntil and a webhook URL,
// reads the current bits at once (a later change is detected relative to
// registration; a credential already revoked shows in the result's State) and
// returns a per-watch signing secret, shown once. A verifier sees only its own
// watches: another tenant's id is ErrNotFound.
//
// # Limits
//
// A verifier has at most maxWatches watches (WithMaxWatches), exactly, also
// under concurrent Adds in several processes: each verifier has a count in
// the kv store, and Add takes a slot in one compare-and-swap of it before it
// stores the watch (giving it back when the Add fails); the Remove that
// deletes a watch gives its slot back. A verifier without a count (watches
// stored by an earlier version) is counted from its stored watches on its
// first Add or Remove; every Add and Remove makes sure the count exists
// before it changes a watch, so none changes while they are counted. A
// process that dies between taking a slot and storing the watch, or between
// deleting a watch and giving its slot back, leaves the count one too high
// (never too low): deleting the verifier's count while it adds and removes
// no watch has it counted afresh.
//
// # Changes
//
// Status lists on the ledger are re-read on every ledger event of their
// subject, and all of them on a Reset event; lists off the ledger are polled
// through a ListSource (WithPolling), by one process at a time (a lease in
// the kv store). A ledger read older than one already applied is ignored
// (the list's seq), so concurrent readers never report a change backwards.
// Expiry is checked every minute (WithTick): credential.expiring once at the
// lead time (60 days by default, the DOMAIN.md warning; at once for a
// credential registered inside it), then credential.expired; a credential
// found expired gets no warning, and one already expired at Add neither.
//
// A change is recorded atomically with the watch (its last bits and an outbox
// entry, in one compare-and-swap), then moved to the delivery queue. Of
// several processes sharing the kv store, only the one whose update wins
// queues the notification.
//
// # Delivery
//
// Deliveries follow the Standard Webhooks specification: a POST of the JSON
// Event with webhook-id, webhook-timestamp and webhook-signature
// ("v1,<base64 HMAC-SHA256 of id.timestamp.body>" keyed by the base64 bytes of
// the whsec_ secret). The webhook-id is deterministic per watch and event, so
// a receiver can deduplicate: a notification re-queued after a crash, or
// delivered by two processes, carries the same id. A delivery is persisted
// before its first attempt, claimed with a lease, and retried with
// exponential backoff and ±20% jitter (5 s, 30 s, 2 min, 10 min, 1 h, 2 h,
// 4 h, 8 h, 8 h: about a day), or the receiver's Retry-After when longer,
// until a 2xx; after the last retry, or on 410 Gone, it is marked failed.
// Every attempt is logged per watch (Deliveries, the latest MaxAttemptLog),
// a failure as a category only (the Fail constants, or "HTTP status N"), so
// that a tenant never reads an address the server resolved; the details are
// logged at Warn. Redirects are not followed; private addresses are refused
// unless allowed.
//
// # Fairness
//
// The queue is scanned every tick and whenever deliveries are queued; each
// process then attempts at most WithWorkers deliveries at a time, at most one
// per verifier tenant and one per webhook host (with its port), tenants taking
// turns in the order of their ids from the one after the tenant served last.
// When an attempt ends the next one starts at once, from the last scan. So a
// tenant whose endpoint stalls holds one worker however many deliveries it
// has queued, and has its next turn only after every other tenant with a
// deliverable due delivery had one. A host that fails BreakerFailures times
// in a row (connection errors, timeouts, 5xx) is held for BreakerCooldown,
// doubling up to BreakerMaxCooldown while the one probe after each hold
// fails; held deliveries stay queued and due, and an attempt not made is not
// counted against the retry schedule. All of this is per
// process: of P processes sharing the kv store, a tenant or a host has at
// most P attempts under way, one in each, and each process keeps its own
// circuit breakers (a held host can be tried by another process, whose own
// breaker then learns).
//
// # Secrets
//
// The signing secret is kept in the watch record to sign deliveries. With
// WithSealer (the key manager's master key) it is sealed at rest with the
// verifier and watch id as associated data; without, it is stored as is and
// the kv store must be protected like the key store.
package watch
