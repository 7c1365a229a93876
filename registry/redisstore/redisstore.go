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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// maxAppendAttempts bounds Append's retries when other appenders keep taking
// the next index first.
const maxAppendAttempts = 1000

// WaitAOFTimeout bounds how long Append waits for WAITAOF to confirm the fsync
// (less if the context's deadline is sooner).
const WaitAOFTimeout = 5 * time.Second

// hmgetChunk bounds the fields of one HMGET.
const hmgetChunk = 1000

var (
	// ErrContention is returned by Append when every attempt lost the next
	// index to another appender.
	ErrContention = errors.New("redisstore: too much contention on the log")
	// ErrNotDurable is returned by Append when the leaf was written but WAITAOF
	// did not confirm its fsync: the leaf is in the log (and will be served),
	// but may be lost if Redis crashes.
	ErrNotDurable = errors.New("redisstore: append written but its fsync was not confirmed")
)

// appendScript is the compare-and-append.
//
//	KEYS: size, leaves, hashes, heads, history:<subject>
//	ARGV: n, subject, want head (empty = none), new head, leaf record,
//	      events channel, event, number of guards g, then g guard
//	      subject/head pairs, then stored-hash index/hash pairs
//
// It returns {1, n} when it appended leaf n (and published its event), {-1,
// size} when the subject's head is not want or a guard's subject's head is
// not the guard's, {0, size} when the log's size is not n.
var appendScript = redis.NewScript(`
local head = redis.call('HGET', KEYS[4], ARGV[2]) or ''
local size = redis.call('GET', KEYS[1]) or '0'
if head ~= ARGV[3] then return {-1, size} end
local g = tonumber(ARGV[8])
for i = 0, g - 1 do
	local cur = redis.call('HGET', KEYS[4], ARGV[9 + 2 * i]) or ''
	if cur ~= ARGV[10 + 2 * i] then return {-1, size} end
end
if size ~= ARGV[1] then return {0, size} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[3], unpack(ARGV, 9 + 2 * g))
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
redis.call('RPUSH', KEYS[5], ARGV[1])
redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, size}
`)

// checkpointScript saves a checkpoint unless it goes backwards or beyond the
// tree. Sizes are canonical decimals, compared by length then bytes.
//
//	KEYS: checkpoint, size
//	ARGV: size, root, signed
//
// It returns {1, empty string} when saved, {0, tree size} when beyond the
// tree, {-1, latest size} when below the latest checkpoint.
var checkpointScript = redis.NewScript(`
local function less(a, b)
	if #a ~= #b then return #a < #b end
	return a < b
end
local tree = redis.call('GET', KEYS[2]) or '0'
if less(tree, ARGV[1]) then return {0, tree} end
local cur = redis.call('HGET', KEYS[1], 'size')
if cur and less(ARGV[1], cur) then return {-1, cur} end
redis.call('HSET', KEYS[1], 'size', ARGV[1], 'root', ARGV[2], 'signed', ARGV[3])
return {1, ''}
`)

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

// --- reads ---

// Leaf returns the leaf at index, or registry.ErrNotFound.
func (s *Store) Leaf(ctx context.Context, index uint64) (registry.Leaf, error) {
	rec, err := s.client.HGet(ctx, s.leavesKey(), dec(index)).Bytes()
	if errors.Is(err, redis.Nil) {
		return registry.Leaf{}, fmt.Errorf("%w: leaf %d", registry.ErrNotFound, index)
	}
	if err != nil {
		return registry.Leaf{}, fmt.Errorf("failed to read leaf %d: %w", index, err)
	}
	l, err := registry.DecodeLeaf(rec)
	if err != nil {
		return registry.Leaf{}, fmt.Errorf("failed to read leaf %d: %w", index, err)
	}
	return l, nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	n, err := s.client.Get(ctx, s.sizeKey()).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read tree size: %w", err)
	}
	return n, nil
}

// Head returns the subject's head (zero Head for an unknown subject).
func (s *Store) Head(ctx context.Context, subject string) (registry.Head, error) {
	v, err := s.client.HGet(ctx, s.headsKey(), subject).Result()
	if errors.Is(err, redis.Nil) {
		return registry.Head{}, nil
	}
	if err == nil {
		var h registry.Head
		if h, err = decodeHead(v); err == nil {
			return h, nil
		}
	}
	return registry.Head{}, fmt.Errorf("failed to read head of %q: %w", subject, err)
}

// History returns the indexes of the subject's leaves in seq order.
func (s *Store) History(ctx context.Context, subject string) ([]uint64, error) {
	vs, err := s.client.LRange(ctx, s.historyKey(subject), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("failed to read history of %q: %w", subject, err)
	}
	out := make([]uint64, len(vs))
	for i, v := range vs {
		if out[i], err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fmt.Errorf("corrupt history entry of %q: %q", subject, v)
		}
	}
	return out, nil
}

// scanCount is the COUNT hint of Subjects' HSCAN.
const scanCount = 1000

// Subjects calls fn for every subject whose name starts with prefix, in byte
// order, stopping at fn's first error. It scans the heads hash (HSCAN with
// MATCH on the glob-escaped prefix), collecting the matching subjects before
// it sorts them and calls fn: a walk holds every matching name in memory.
func (s *Store) Subjects(ctx context.Context, prefix string, fn func(subject string) error) error {
	pattern := globEscape(prefix) + "*"
	var subjects []string
	for cursor := uint64(0); ; {
		kv, next, err := s.client.HScan(ctx, s.headsKey(), cursor, pattern, scanCount).Result()
		if err != nil {
			return fmt.Errorf("failed to list subjects: %w", err)
		}
		for i := 0; i+1 < len(kv); i += 2 { // field, value pairs
			if strings.HasPrefix(kv[i], prefix) {
				subjects = append(subjects, kv[i])
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(subjects)
	subjects = slices.Compact(subjects) // a rehash may return a field twice
	for _, subject := range subjects {
		if err := fn(subject); err != nil {
			return err
		}
	}
	return nil
}

// globEscape escapes the characters Redis's glob-style MATCH patterns give a
// meaning to, so that s matches only itself.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\*?[]^-`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReadHashes returns stored tree hashes by stored-hash index; an index that was
// never written is an error wrapping registry.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for start := 0; start < len(indexes); start += hmgetChunk {
		chunk := indexes[start:min(start+hmgetChunk, len(indexes))]
		fields := make([]string, len(chunk))
		for i, idx := range chunk {
			if idx < 0 {
				return nil, fmt.Errorf("invalid stored hash index %d", idx)
			}
			fields[i] = strconv.FormatInt(idx, 10)
		}
		vs, err := s.client.HMGet(ctx, s.hashesKey(), fields...).Result()
		if err != nil {
			return nil, fmt.Errorf("failed to read tree hashes: %w", err)
		}
		for i, v := range vs {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%w: stored hash %d", registry.ErrNotFound, chunk[i])
			}
			if len(str) != tlog.HashSize {
				return nil, fmt.Errorf("corrupt stored hash %d", chunk[i])
			}
			copy(out[start+i][:], str)
		}
	}
	return out, nil
}

// Checkpoint returns the latest saved checkpoint, or registry.ErrNotFound.
func (s *Store) Checkpoint(ctx context.Context) (uint64, []byte, error) {
	size, _, signed, ok, err := s.checkpoint(ctx)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, fmt.Errorf("%w: no checkpoint", registry.ErrNotFound)
	}
	return size, signed, nil
}

// checkpoint reads the latest checkpoint with its recorded root.
func (s *Store) checkpoint(ctx context.Context) (size uint64, root tlog.Hash, signed []byte, ok bool, err error) {
	vs, err := s.client.HMGet(ctx, s.checkpointKey(), "size", "root", "signed").Result()
	if err != nil {
		return 0, root, nil, false, fmt.Errorf("failed to read checkpoint: %w", err)
	}
	if vs[0] == nil {
		return 0, root, nil, false, nil
	}
	sz, _ := vs[0].(string)
	r, _ := vs[1].(string)
	sig, okSig := vs[2].(string)
	size, perr := strconv.ParseUint(sz, 10, 64)
	if perr != nil || len(r) != tlog.HashSize || !okSig {
		return 0, root, nil, false, errors.New("failed to read checkpoint: corrupt checkpoint record")
	}
	copy(root[:], r)
	return size, root, []byte(sig), true, nil
}

// --- writes ---

// validate rejects leaves the store cannot keep in order.
func validate(want registry.Head, leaf registry.Leaf) error {
	if leaf.Subject == "" {
		return errors.New("redisstore: leaf has an empty subject")
	}
	if leaf.Seq <= want.Seq {
		return fmt.Errorf("redisstore: leaf seq %d does not follow the expected head's seq %d", leaf.Seq, want.Seq)
	}
	return nil
}

// ready runs Verify on first use and detects durability; it returns the
// read-only error when the tree is inconsistent.
func (s *Store) ready(ctx context.Context) (Durability, error) {
	s.mu.Lock()
	verified, ro := s.verified, s.readOnly
	s.mu.Unlock()
	if !verified {
		if err := s.Verify(ctx); err != nil {
			return Durability{}, err
		}
	} else if ro != nil {
		return Durability{}, ro
	}
	return s.Durability(ctx)
}

// Append appends leaf if the subject's head is still want; see the package
// documentation for the compare-and-append and when it returns.
func (s *Store) Append(ctx context.Context, want registry.Head, leaf registry.Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

// AppendGuarded is Append that also requires every guard's subject to have
// the guard's head, checked in the same script (registry.ErrConflict
// otherwise, nothing written).
func (s *Store) AppendGuarded(ctx context.Context, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	if err := validate(want, leaf); err != nil {
		return 0, err
	}
	for _, g := range guards {
		if g.Subject == "" || g.Subject == leaf.Subject {
			return 0, fmt.Errorf("redisstore: invalid guard on subject %q", g.Subject)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dur, err := s.ready(ctx)
	if err != nil {
		return 0, err
	}
	var (
		runner redis.Scripter = s.client
		conn   *redis.Conn
	)
	if dur.waitAOF() {
		// WAITAOF waits for the writes of its own connection: run the script
		// and WAITAOF on one connection to the node owning the log.
		node, ok := s.node(ctx)
		if !ok {
			return 0, errors.New("redisstore: cannot pin a connection for WAITAOF")
		}
		conn = node.Conn()
		defer conn.Close()
		runner = conn
	}
	index, err := s.compareAndAppend(ctx, runner, want, guards, leaf)
	if err != nil {
		return 0, err
	}
	if conn != nil {
		if err := s.waitAOF(ctx, conn); err != nil {
			return 0, fmt.Errorf("%w: leaf %d: %v", ErrNotDurable, index, err)
		}
	}
	return index, nil
}

// compareAndAppend is the serialised read-compute-script step.
func (s *Store) compareAndAppend(ctx context.Context, runner redis.Scripter, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.sem }()

	keys := []string{s.sizeKey(), s.leavesKey(), s.hashesKey(), s.headsKey(), s.historyKey(leaf.Subject)}
	wantEnc := encodeHead(want)
	newHead := encodeHead(registry.Head{Seq: leaf.Seq, Hash: leaf.Hash})
	recordHash := tlog.RecordHash(leaf.Data)
	ev := registry.LeafEvent(leaf)
	for range maxAppendAttempts {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !s.sizeKnown {
			n, err := s.Size(ctx)
			if err != nil {
				return 0, err
			}
			s.setSize(n)
		}
		n := s.size
		hashes, err := tlog.StoredHashesForRecordHash(int64(n), recordHash, s.edgeReader(ctx))
		if err != nil {
			return 0, fmt.Errorf("failed to compute tree hashes: %w", err)
		}
		l := leaf
		l.Index = n
		rec, err := registry.EncodeLeaf(l)
		if err != nil {
			return 0, err
		}
		ev.Index = n
		evData, err := json.Marshal(ev)
		if err != nil {
			return 0, err
		}
		args := make([]any, 0, 8+2*len(guards)+2*len(hashes))
		args = append(args, dec(n), leaf.Subject, wantEnc, newHead, rec, s.Channel(), evData, len(guards))
		for _, g := range guards {
			args = append(args, g.Subject, encodeHead(g.Head))
		}
		base := tlog.StoredHashIndex(0, int64(n))
		for i, h := range hashes {
			args = append(args, strconv.FormatInt(base+int64(i), 10), h[:])
		}
		v, err := appendScript.Run(ctx, runner, keys, args...).Result()
		if err != nil {
			s.sizeKnown = false // the script may or may not have run
			return 0, fmt.Errorf("failed to append leaf: %w", err)
		}
		code, cur, err := scriptResult(v)
		if err != nil {
			s.sizeKnown = false
			return 0, fmt.Errorf("failed to append leaf: %w", err)
		}
		switch code {
		case 1:
			s.advance(n, hashes)
			return n, nil
		case -1:
			s.learnSize(cur)
			return 0, registry.ErrConflict
		default: // another appender took index n
			s.learnSize(cur)
		}
	}
	return 0, ErrContention
}

// setSize records the size the next append expects, keeping only the cached
// hashes that are on the right edge of a tree of that size.
func (s *Store) setSize(n uint64) {
	s.size, s.sizeKnown = n, true
	keep := map[int64]bool{}
	for level := 0; level < 64; level++ {
		if n>>level&1 == 1 {
			keep[tlog.StoredHashIndex(level, int64(n>>level)-1)] = true
		}
	}
	for idx := range s.edge {
		if !keep[idx] {
			delete(s.edge, idx)
		}
	}
}

// learnSize records the size a script reported.
func (s *Store) learnSize(v string) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.sizeKnown = false
		return
	}
	s.setSize(n)
}

// advance records that leaf n was appended with the given stored hashes.
func (s *Store) advance(n uint64, hashes []tlog.Hash) {
	base := tlog.StoredHashIndex(0, int64(n))
	for i, h := range hashes {
		s.edge[base+int64(i)] = h
	}
	s.setSize(n + 1)
}

// edgeReader reads stored hashes from the edge cache, then Redis (caching
// what it reads: pruned by the next setSize).
func (s *Store) edgeReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		var at []int
		for i, idx := range indexes {
			if h, ok := s.edge[idx]; ok {
				out[i] = h
			} else {
				missing = append(missing, idx)
				at = append(at, i)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		hs, err := s.ReadHashes(ctx, missing)
		if err != nil {
			return nil, err
		}
		for j, h := range hs {
			out[at[j]] = h
			s.edge[missing[j]] = h
		}
		return out, nil
	})
}

// SaveCheckpoint records a signed checkpoint for tree size size, with the
// tree root it computes from the stored hashes at that size. It refuses a size
// beyond the tree or below the latest saved checkpoint; an equal size replaces
// it.
func (s *Store) SaveCheckpoint(ctx context.Context, size uint64, signed []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := s.ready(ctx); err != nil {
		return err
	}
	n, err := s.Size(ctx)
	if err != nil {
		return err
	}
	if size > n {
		return fmt.Errorf("redisstore: checkpoint size %d is beyond the tree size %d", size, n)
	}
	root, err := tlog.TreeHash(int64(size), registry.HashReader(ctx, s))
	if err != nil {
		return fmt.Errorf("failed to compute the tree root: %w", err)
	}
	v, err := checkpointScript.Run(ctx, s.client, []string{s.checkpointKey(), s.sizeKey()}, dec(size), root[:], signed).Result()
	if err != nil {
		return fmt.Errorf("failed to save checkpoint: %w", err)
	}
	code, cur, err := scriptResult(v)
	if err != nil {
		return fmt.Errorf("failed to save checkpoint: %w", err)
	}
	switch code {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redisstore: checkpoint size %d is beyond the tree size %s", size, cur)
	default:
		return fmt.Errorf("redisstore: checkpoint size %d is below the latest checkpoint's %s", size, cur)
	}
}

// Verify checks that the tree still matches the latest saved checkpoint: the
// tree has at least that many leaves and its root at that size, recomputed
// from the stored hashes, is the root recorded with the checkpoint. On a
// mismatch the Store refuses writes and Verify returns an error wrapping
// registry.ErrReadOnly; when the tree matches, writes are allowed again. Other
// errors (network) leave the mode alone. Verify also detects durability
// (see Durability).
func (s *Store) Verify(ctx context.Context) error {
	mismatch, err := s.check(ctx)
	if err != nil {
		return fmt.Errorf("failed to verify the tree: %w", err)
	}
	if mismatch != nil {
		mismatch = fmt.Errorf("%w: %v", registry.ErrReadOnly, mismatch)
	}
	s.mu.Lock()
	s.verified, s.readOnly = true, mismatch
	s.mu.Unlock()
	if mismatch != nil {
		return mismatch
	}
	_, err = s.Durability(ctx)
	return err
}

// check compares the tree with the latest checkpoint: mismatch describes an
// inconsistency, err a failure to look.
func (s *Store) check(ctx context.Context) (mismatch, err error) {
	size, want, _, ok, err := s.checkpoint(ctx)
	if err != nil || !ok {
		return nil, err
	}
	n, err := s.Size(ctx)
	if err != nil {
		return nil, err
	}
	if n < size {
		return fmt.Errorf("the tree has %d leaves, fewer than the last checkpoint's %d", n, size), nil
	}
	root, err := tlog.TreeHash(int64(size), registry.HashReader(ctx, s))
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("the tree at the last checkpoint's size %d is incomplete: %v", size, err), nil
	}
	if err != nil {
		return nil, err
	}
	if root != want {
		return fmt.Errorf("the tree root at size %d is %x, the last checkpoint's is %x", size, root[:], want[:]), nil
	}
	return nil, nil
}

// Close closes nothing: the client belongs to the caller of New.
func (s *Store) Close() error { return nil }
