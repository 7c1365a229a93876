// Package redisstore is the Redis registry.Store driver.
//
// # Layout
//
// Every key of one log carries the hash tag {<prefix>log}, so the log lives in
// one slot and its Lua scripts work unchanged on Redis Cluster, while logs with
// other prefixes spread over other slots. Keys also start with the prefix, like
// the other Redis drivers of this module. With base = <prefix>{<prefix>log}:
//
//	base+"size"              string   number of leaves (INCR)
//	base+"leaves"            hash     decimal index → leaf record
//	base+"hashes"            hash     decimal stored-hash index → 32-byte hash
//	base+"heads"             hash     subject → "<seq> <op hash>"
//	base+"history:"+subject  list     decimal indexes of the subject's leaves, in seq order
//	base+"checkpoint"        hash     size → decimal size, root → 32-byte tree root
//	                                  at that size, signed → the signed note
//	base+"events"            channel  (pub/sub, not a key) the JSON registry.Event
//	                                  of every appended leaf
//
// A leaf record is the JSON of {index, subject, seq, hash}, a newline, then the
// op bytes unchanged. Stored hashes are those of tlog.StoredHashes, indexed by
// tlog.StoredHashIndex. The prefix must not contain '{' or '}'.
//
// # Compare-and-append
//
// Redis Lua has no SHA-256, so the tree hashes are computed in Go: Append takes
// the tree size n it expects, computes the new leaf's stored hashes with
// tlog.StoredHashes (reading the hashes of completed subtrees it needs with
// HMGET, or from a small cache of the tree's right edge that this Store keeps),
// then runs one Lua script that atomically checks the subject's head against
// want (and, for AppendGuarded, other subjects' heads against the guards) and
// the size against n, and only then writes the leaf, its stored hashes, the
// head and the history entry, increments the size and publishes the leaf's
// event (see Events). A head mismatch is registry.ErrConflict (nothing
// written); a size mismatch means
// another appender (another goroutine or another replica on the same prefix)
// took index n first: the script returns the real size and Append recomputes
// and retries, at most maxAppendAttempts times, honouring ctx. Within one Store
// the read-compute-script step is serialised (a one-slot semaphore that
// respects ctx), so only other replicas cause retries.
//
// Stored hashes are never rewritten: the script writes the hashes of leaf n
// only while the size is n, so hashes read or cached earlier stay valid.
//
// An error from Append other than ErrConflict, ErrReadOnly or a context error
// before the script ran does not prove nothing was written (the connection may
// drop after the script ran); callers re-read the head.
//
// # Subjects
//
// Subjects (registry.SubjectLister) scans the heads hash with HSCAN and a
// MATCH pattern of the escaped prefix, then sorts what it found.
//
// # Events
//
// The append script PUBLISHes each appended leaf's registry.Event (JSON) on
// Channel() in the same atomic step as the append, so events leave Redis in
// index order, exactly once per leaf, whichever process appended. Events
// SUBSCRIBEs to that channel with the Store's client (one connection per call)
// and forwards what arrives; it notices what the subscription cannot promise:
//
//   - a dropped connection: it subscribes again (with backoff) and then sends
//     a Reset, since appends made meanwhile were published to nobody;
//   - an idle connection is pinged every EventsHealthInterval; no answer
//     within another interval counts as dropped;
//   - a gap in the indexes (a publication lost some other way) is a Reset;
//   - a duplicate or older index is dropped.
//
// A receiver slower than its buffer gets a Reset instead of the events it
// missed (registry.EventBus); Redis never waits for it. The event is published
// before WAITAOF confirms the append's fsync: a subscriber can read the leaf
// at once, as any reader could.
//
// # Durability
//
// The Store detects once (on Verify, the first Append, or Durability) how the
// server persists writes, on the node that owns the log's slot:
//
//   - AOF on and WAITAOF supported (Redis 7.2 and later): after the script,
//     Append sends WAITAOF 1 0 <timeout> on the same connection and fails with
//     ErrNotDurable unless the local fsync is confirmed. Durable reports true.
//   - AOF on, no WAITAOF (older Redis), appendfsync always: Redis fsyncs the
//     AOF before it replies, so the reply to the script is the confirmation.
//     Durable reports true.
//   - AOF on, no WAITAOF, appendfsync everysec or no (or unreadable, when CONFIG
//     is disabled): the append is acknowledged after the script and up to about
//     a second of appends can be lost in a crash. Durable reports false.
//   - AOF off (RDB snapshots only, or no persistence): the append is
//     acknowledged after the script, and the log lives in memory until the next
//     snapshot, if any. Durable reports false, so the server can warn.
//
// Durability describes the detected mode. If WAITAOF fails (for example AOF was
// turned off at run time) the mode is detected again on the next Append.
//
// # Checkpoints and read-only mode
//
// SaveCheckpoint computes the tree root at the checkpoint's size from the
// stored hashes and keeps it beside the signed note (it never goes backwards).
// Verify, which the server calls at start and which the first Append or
// SaveCheckpoint of a Store runs otherwise, recomputes that root from the stored
// hashes; if the tree is shorter than the checkpoint or its root differs, the
// Store refuses writes with registry.ErrReadOnly (reads keep working).
//
// # Ownership
//
// The store does not own the client: Close closes nothing.
package redisstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// WaitAOFTimeout bounds how long Append waits for WAITAOF to confirm the fsync
// (less if the context's deadline is sooner).
const WaitAOFTimeout = 5 * time.Second

var (
	// ErrContention is returned by Append when every attempt lost the next
	// index to another appender.
	ErrContention = errors.New("redisstore: too much contention on the log")
	// ErrNotDurable is returned by Append when the leaf was written but WAITAOF
	// did not confirm its fsync: the leaf is in the log (and will be served),
	// but may be lost if Redis crashes.
	ErrNotDurable = errors.New("redisstore: append written but its fsync was not confirmed")
)

// Store is a registry.Store on Redis.
type Store struct {
	client redis.UniversalClient
	base   string // <prefix>{<prefix>log}:

	// sem serialises Append's read-compute-script step and guards size,
	// sizeKnown and edge.
	sem       chan struct{}
	size      uint64              // the size the next append expects
	sizeKnown bool                // size was learnt and no write outcome is unknown since
	edge      map[int64]tlog.Hash // stored hashes of the tree's right edge at size

	mu       sync.Mutex // guards the fields below
	verified bool       // Verify has run to completion
	readOnly error      // non-nil (wrapping registry.ErrReadOnly) when Verify failed
	dur      *Durability
}

var (
	_ registry.Store           = (*Store)(nil)
	_ registry.GuardedAppender = (*Store)(nil)
	_ registry.EventSource     = (*Store)(nil)
	_ registry.SubjectLister   = (*Store)(nil)
)

// New returns a store keeping the log under prefix in client. The caller
// keeps ownership of client. New does no I/O: call Verify at start (the first
// Append or SaveCheckpoint runs it otherwise).
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{
		client: client,
		base:   prefix + "{" + prefix + "log}:",
		sem:    make(chan struct{}, 1),
		edge:   map[int64]tlog.Hash{},
	}
}

func (s *Store) sizeKey() string       { return s.base + "size" }
func (s *Store) leavesKey() string     { return s.base + "leaves" }
func (s *Store) hashesKey() string     { return s.base + "hashes" }
func (s *Store) headsKey() string      { return s.base + "heads" }
func (s *Store) checkpointKey() string { return s.base + "checkpoint" }

// Channel is the pub/sub channel on which every append publishes its event.
func (s *Store) Channel() string { return s.base + "events" }
func (s *Store) historyKey(subject string) string {
	return s.base + "history:" + subject
}

// --- encodings ---

func dec(n uint64) string { return strconv.FormatUint(n, 10) }

// encodeHead is the heads field value; the zero Head (no field) is "".
func encodeHead(h registry.Head) string {
	if h == (registry.Head{}) {
		return ""
	}
	return dec(h.Seq) + " " + h.Hash
}

func decodeHead(v string) (registry.Head, error) {
	seq, hash, ok := strings.Cut(v, " ")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		return registry.Head{}, fmt.Errorf("corrupt subject head %q", v)
	}
	return registry.Head{Seq: n, Hash: hash}, nil
}

// scriptResult parses a script's {code, size} reply.
func scriptResult(v any) (int64, string, error) {
	r, ok := v.([]any)
	if !ok || len(r) != 2 {
		return 0, "", fmt.Errorf("unexpected script reply %v", v)
	}
	code, ok1 := r[0].(int64)
	size, ok2 := r[1].(string)
	if !ok1 || !ok2 {
		return 0, "", fmt.Errorf("unexpected script reply %v", v)
	}
	return code, size, nil
}

// Close closes nothing: the client belongs to the caller of New.
func (s *Store) Close() error { return nil }
