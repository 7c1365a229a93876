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
// Every attempt is logged per watch (Deliveries, the latest MaxAttemptLog).
// Redirects are not followed; private addresses are refused unless allowed.
//
// # Secrets
//
// The signing secret is kept in the watch record to sign deliveries. With
// WithSealer (the key manager's master key) it is sealed at rest with the
// verifier and watch id as associated data; without, it is stored as is and
// the kv store must be protected like the key store.
package watch
