// Package boltstore is the embedded registry.Store driver, backed by a bbolt
// file.
//
// # Layout
//
// The log lives in five top-level bbolt buckets whose names all start with
// "registry.", so the file can be shared with boltkv (whose only top-level
// bucket is "kv"; see boltkv.Store.DB and New):
//
//	registry.leaves   big-endian uint64 index            → leaf record
//	registry.hashes   big-endian uint64 stored-hash index → 32-byte hash
//	registry.heads    subject                             → big-endian uint64 seq ‖ op hash
//	registry.history  big-endian uint32 len(subject) ‖ subject ‖ big-endian uint64 seq
//	                                                      → big-endian uint64 index
//	registry.meta     "size"       → big-endian uint64 number of leaves
//	                  "checkpoint" → big-endian uint64 size ‖ 32-byte root ‖ signed note
//
// A leaf record is the JSON of {index, subject, seq, hash}, a newline, then the
// op bytes unchanged. Stored hashes are those of tlog.StoredHashes, indexed by
// tlog.StoredHashIndex. The length prefix of history keys keeps one subject's
// keys from ever being a prefix range of another's.
//
// # Group commit
//
// Append is compare-and-append in one bbolt read-write transaction: it checks
// the subject's head, computes the new leaf's stored hashes from the hashes
// already in the file (tlog.StoredHashes) and writes the leaf, its hashes, the
// head, the history entry and the new size. When several Appends are in flight
// they go through db.Batch, which runs them in one transaction and so shares
// one commit and one fsync among them; an Append returns only after the commit
// that holds its leaf has been fsynced. A lone Append (no other in flight)
// uses db.Update directly, so it does not wait db.MaxBatchDelay for company.
// The batch delay is DefaultBatchDelay (1ms) unless WithBatchDelay says
// otherwise; bbolt starts a batch early when it reaches db.MaxBatchSize calls.
//
// Batch may run a function more than once (when another function of the batch
// fails, the transaction is rolled back and retried), so the function resets
// its results on entry and never fails for a compare-and-append conflict: a
// conflict is recorded and the function returns nil without writing, which
// keeps it from forcing a rollback of the whole batch.
//
// AppendGuarded also compares other subjects' heads (registry.Guard) in the
// same transaction.
//
// # Subjects
//
// Subjects (registry.SubjectLister) walks the heads bucket, whose keys are
// the subjects in byte order, a page of subjectsPage keys per read
// transaction, so the callback never runs inside one.
//
// # Events
//
// The store is a registry.EventSource: after an Append's commit, its leaf's
// event goes to the store's in-process subscribers (registry.EventBus), held
// back until the events of all smaller indexes went out, since Appends
// sharing a commit return in any order. One process owns the file, so these
// are all the appends there are, provided one Store is used per database.
//
// # Checkpoints and read-only mode
//
// SaveCheckpoint stores, beside the signed note, the tree root it computes from
// the stored hashes at that size. Verify (run by New and Open, and callable
// again) recomputes that root; if the tree no longer matches the last
// checkpoint the store turns read-only: Append and SaveCheckpoint return
// registry.ErrReadOnly, reads keep working.
//
// # Durability
//
// Every write is fsynced before it returns (unless the caller set db.NoSync on
// a database given to New; Durable reports it).
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// DefaultTimeout is how long Open waits for the file lock by default.
const DefaultTimeout = 2 * time.Second

// DefaultBatchDelay is the default db.MaxBatchDelay: how long a group commit
// waits for more concurrent Appends. bbolt's own default (10ms) caps
// concurrent appenders at one commit per 10ms; 1ms keeps the batches full
// (every in-flight Append joins) at a fraction of the latency.
const DefaultBatchDelay = time.Millisecond

// Top-level bucket names; all start with "registry.".
var (
	bucketLeaves  = []byte("registry.leaves")
	bucketHashes  = []byte("registry.hashes")
	bucketHeads   = []byte("registry.heads")
	bucketHistory = []byte("registry.history")
	bucketMeta    = []byte("registry.meta")

	allBuckets = [][]byte{bucketLeaves, bucketHashes, bucketHeads, bucketHistory, bucketMeta}

	keySize       = []byte("size")
	keyCheckpoint = []byte("checkpoint")
)

// ErrLocked is matched (errors.Is) by the error Open returns when another
// process holds the data file.
var ErrLocked = errors.New("boltstore: data file is locked")

// Store is a registry.Store on a bbolt file.
type Store struct {
	db       *bbolt.DB
	owned    bool         // Close closes db
	inflight atomic.Int64 // Appends in progress, to choose Update or Batch

	mu       sync.Mutex // guards readOnly
	readOnly error      // non-nil (wrapping registry.ErrReadOnly) when Verify failed

	events    *registry.EventBus
	evMu      sync.Mutex // guards evNext and evPending
	evNext    uint64     // index of the next event to publish
	evPending map[uint64]registry.Event
}

var (
	_ registry.Store           = (*Store)(nil)
	_ registry.GuardedAppender = (*Store)(nil)
	_ registry.EventSource     = (*Store)(nil)
	_ registry.SubjectLister   = (*Store)(nil)
)

// maxPendingEvents bounds the events held back waiting for an earlier index
// (which only another Store on the same database could have taken): beyond
// it, subscribers get a Reset and the gap is skipped.
const maxPendingEvents = 4096

type options struct {
	timeout    time.Duration
	batchDelay time.Duration
}

func newOptions(opts []Option) options {
	o := options{timeout: DefaultTimeout, batchDelay: DefaultBatchDelay}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Option configures Open and New.
type Option func(*options)

// WithTimeout sets how long Open waits for the file lock before failing;
// d <= 0 waits forever. The default is DefaultTimeout. New ignores it.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithBatchDelay sets db.MaxBatchDelay, how long a group commit waits for more
// concurrent Appends before it starts; d <= 0 leaves the database's setting
// alone. The default is DefaultBatchDelay.
func WithBatchDelay(d time.Duration) Option {
	return func(o *options) { o.batchDelay = d }
}

// Open opens, or creates with mode 0600, the bbolt file at path and returns a
// store that owns it (Close closes the file). Like New it runs Verify.
func Open(path string, opts ...Option) (*Store, error) {
	o := newOptions(opts)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: o.timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: data file %s is locked by another process (is a server running on this data dir?)", ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open data file %s: %w", path, err)
	}
	s, err := New(db, opts...)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// New returns a store keeping its buckets in db, which may be shared (for
// example boltkv.Store.DB()); the caller keeps ownership of db and Close does
// not close it. New sets db.MaxBatchDelay (see WithBatchDelay; boltkv never
// uses Batch, so sharing is unaffected), creates the buckets and runs Verify: a
// store whose tree does not match its last checkpoint is returned read-only
// (no error); I/O errors fail New.
func New(db *bbolt.DB, opts ...Option) (*Store, error) {
	o := newOptions(opts)
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("failed to create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if o.batchDelay > 0 {
		db.MaxBatchDelay = o.batchDelay
	}
	s := &Store{db: db, events: registry.NewEventBus(0), evPending: map[uint64]registry.Event{}}
	if err := s.Verify(context.Background()); err != nil && !errors.Is(err, registry.ErrReadOnly) {
		return nil, err
	}
	n, err := s.Size(context.Background())
	if err != nil {
		return nil, err
	}
	s.evNext = n
	return s, nil
}

// DB returns the underlying bbolt database.
func (s *Store) DB() *bbolt.DB { return s.db }

// Durable reports whether appends are fsynced before they return (false only
// when db.NoSync is set).
func (s *Store) Durable() bool { return !s.db.NoSync }

// --- encodings ---

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func encodeHead(h registry.Head) []byte {
	return append(be64(h.Seq), h.Hash...)
}

func decodeHead(v []byte) (registry.Head, error) {
	if v == nil {
		return registry.Head{}, nil
	}
	if len(v) < 8 {
		return registry.Head{}, errors.New("corrupt subject head")
	}
	return registry.Head{Seq: binary.BigEndian.Uint64(v), Hash: string(v[8:])}, nil
}

// historyPrefix is the key prefix of subject's history entries.
func historyPrefix(subject string) []byte {
	p := binary.BigEndian.AppendUint32(nil, uint32(len(subject)))
	return append(p, subject...)
}

func historyKey(subject string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(historyPrefix(subject), seq)
}

// checkpointRecord is the value of meta "checkpoint".
type checkpointRecord struct {
	size   uint64
	root   tlog.Hash
	signed []byte
}

func (c checkpointRecord) encode() []byte {
	out := be64(c.size)
	out = append(out, c.root[:]...)
	return append(out, c.signed...)
}

func decodeCheckpoint(v []byte) (checkpointRecord, error) {
	if len(v) < 8+tlog.HashSize {
		return checkpointRecord{}, errors.New("corrupt checkpoint record")
	}
	var c checkpointRecord
	c.size = binary.BigEndian.Uint64(v)
	copy(c.root[:], v[8:])
	c.signed = bytes.Clone(v[8+tlog.HashSize:])
	return c, nil
}

// --- transaction helpers ---

func treeSize(tx *bbolt.Tx) (uint64, error) {
	v := tx.Bucket(bucketMeta).Get(keySize)
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, errors.New("corrupt tree size")
	}
	return binary.BigEndian.Uint64(v), nil
}

// txHashes reads stored hashes inside tx.
func txHashes(tx *bbolt.Tx, indexes []int64) ([]tlog.Hash, error) {
	b := tx.Bucket(bucketHashes)
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 {
			return nil, fmt.Errorf("invalid stored hash index %d", idx)
		}
		v := b.Get(be64(uint64(idx)))
		if v == nil {
			return nil, fmt.Errorf("%w: stored hash %d", registry.ErrNotFound, idx)
		}
		if len(v) != tlog.HashSize {
			return nil, fmt.Errorf("corrupt stored hash %d", idx)
		}
		copy(out[i][:], v)
	}
	return out, nil
}

func txReader(tx *bbolt.Tx) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return txHashes(tx, idx) })
}

func txCheckpoint(tx *bbolt.Tx) (checkpointRecord, bool, error) {
	v := tx.Bucket(bucketMeta).Get(keyCheckpoint)
	if v == nil {
		return checkpointRecord{}, false, nil
	}
	c, err := decodeCheckpoint(v)
	return c, err == nil, err
}

// --- Store ---

// validate rejects leaves the store cannot keep in order.
func validate(want registry.Head, leaf registry.Leaf) error {
	if leaf.Subject == "" {
		return errors.New("boltstore: leaf has an empty subject")
	}
	if leaf.Seq <= want.Seq {
		return fmt.Errorf("boltstore: leaf seq %d does not follow the expected head's seq %d", leaf.Seq, want.Seq)
	}
	return nil
}

// writable returns the read-only error, if any.
func (s *Store) writable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readOnly
}

// Append appends leaf if the subject's head is still want (see the package
// documentation for how concurrent appends share a commit). It returns the
// leaf's index once its commit is fsynced.
func (s *Store) Append(ctx context.Context, want registry.Head, leaf registry.Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

// AppendGuarded is Append that also requires every guard's subject to have
// the guard's head, checked in the same transaction (registry.ErrConflict
// otherwise, nothing written).
func (s *Store) AppendGuarded(ctx context.Context, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	if err := validate(want, leaf); err != nil {
		return 0, err
	}
	for _, g := range guards {
		if g.Subject == "" || g.Subject == leaf.Subject {
			return 0, fmt.Errorf("boltstore: invalid guard on subject %q", g.Subject)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.writable(); err != nil {
		return 0, err
	}
	wantEnc := encodeHead(want)
	newHead := encodeHead(registry.Head{Seq: leaf.Seq, Hash: leaf.Hash})
	recordHash := tlog.RecordHash(leaf.Data)

	// Results of the last run of fn; reset on every run (Batch may retry).
	var (
		index    uint64
		conflict bool
	)
	fn := func(tx *bbolt.Tx) error {
		index, conflict = 0, false
		heads := tx.Bucket(bucketHeads)
		cur := heads.Get([]byte(leaf.Subject))
		if !headIs(cur, want, wantEnc) {
			conflict = true
			return nil // write nothing, but do not fail the batch
		}
		for _, g := range guards {
			if !headIs(heads.Get([]byte(g.Subject)), g.Head, encodeHead(g.Head)) {
				conflict = true
				return nil
			}
		}
		n, err := treeSize(tx)
		if err != nil {
			return err
		}
		hashes, err := tlog.StoredHashesForRecordHash(int64(n), recordHash, txReader(tx))
		if err != nil {
			return fmt.Errorf("failed to compute tree hashes: %w", err)
		}
		l := leaf
		l.Index = n
		rec, err := registry.EncodeLeaf(l)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketLeaves).Put(be64(n), rec); err != nil {
			return err
		}
		hb := tx.Bucket(bucketHashes)
		base := tlog.StoredHashIndex(0, int64(n))
		for i, h := range hashes {
			if err := hb.Put(be64(uint64(base)+uint64(i)), bytes.Clone(h[:])); err != nil {
				return err
			}
		}
		if err := heads.Put([]byte(leaf.Subject), newHead); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHistory).Put(historyKey(leaf.Subject, leaf.Seq), be64(n)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Put(keySize, be64(n+1)); err != nil {
			return err
		}
		index = n
		return nil
	}

	var err error
	if s.inflight.Add(1) == 1 {
		err = s.db.Update(fn) // alone: commit now
	} else {
		err = s.db.Batch(fn) // share a commit with the others in flight
	}
	s.inflight.Add(-1)
	if err != nil {
		return 0, fmt.Errorf("failed to append leaf: %w", err)
	}
	if conflict {
		return 0, registry.ErrConflict
	}
	ev := registry.LeafEvent(leaf)
	ev.Index = index
	s.publish(ev)
	return index, nil
}

// headIs reports whether a stored head value cur is want (encoded wantEnc).
func headIs(cur []byte, want registry.Head, wantEnc []byte) bool {
	if cur == nil {
		return want == (registry.Head{})
	}
	return bytes.Equal(cur, wantEnc)
}

// publish hands an appended leaf's event to subscribers in index order:
// Appends sharing a commit return in any order, so events wait for the
// earlier indexes.
func (s *Store) publish(ev registry.Event) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if ev.Index < s.evNext {
		return
	}
	s.evPending[ev.Index] = ev
	if len(s.evPending) > maxPendingEvents {
		// A gap that does not fill: another Store appends to this database.
		s.events.Publish(registry.Event{Reset: true})
		s.evNext = ev.Index
		for i := range s.evPending {
			s.evNext = min(s.evNext, i)
		}
	}
	for {
		e, ok := s.evPending[s.evNext]
		if !ok {
			return
		}
		delete(s.evPending, s.evNext)
		s.events.Publish(e)
		s.evNext++
	}
}

// Events reports every leaf appended through this Store from now on, in index
// order (see registry.EventSource). The embedded store has one process, so the
// events are in-process: use one Store per database.
func (s *Store) Events(ctx context.Context) (<-chan registry.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.events.Subscribe(ctx), nil
}

// Leaf returns the leaf at index, or registry.ErrNotFound.
func (s *Store) Leaf(ctx context.Context, index uint64) (registry.Leaf, error) {
	if err := ctx.Err(); err != nil {
		return registry.Leaf{}, err
	}
	var (
		l     registry.Leaf
		found bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketLeaves).Get(be64(index))
		if v == nil {
			return nil
		}
		var err error
		l, err = registry.DecodeLeaf(v)
		found = err == nil
		return err
	})
	if err != nil {
		return registry.Leaf{}, fmt.Errorf("failed to read leaf %d: %w", index, err)
	}
	if !found {
		return registry.Leaf{}, fmt.Errorf("%w: leaf %d", registry.ErrNotFound, index)
	}
	return l, nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = treeSize(tx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("failed to read tree size: %w", err)
	}
	return n, nil
}

// Head returns the subject's head (zero Head for an unknown subject).
func (s *Store) Head(ctx context.Context, subject string) (registry.Head, error) {
	if err := ctx.Err(); err != nil {
		return registry.Head{}, err
	}
	var h registry.Head
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		h, err = decodeHead(tx.Bucket(bucketHeads).Get([]byte(subject)))
		return err
	})
	if err != nil {
		return registry.Head{}, fmt.Errorf("failed to read head of %q: %w", subject, err)
	}
	return h, nil
}

// History returns the indexes of the subject's leaves in seq order.
func (s *Store) History(ctx context.Context, subject string) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prefix := historyPrefix(subject)
	var out []uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) != 8 || len(k) != len(prefix)+8 {
				return errors.New("corrupt history entry")
			}
			out = append(out, binary.BigEndian.Uint64(v))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read history of %q: %w", subject, err)
	}
	return out, nil
}

// subjectsPage is how many subjects Subjects reads in one transaction.
const subjectsPage = 256

// Subjects calls fn for every subject whose name starts with prefix, in byte
// order (a cursor over the heads bucket, read a page at a time: fn runs
// outside any transaction), stopping at fn's first error.
func (s *Store) Subjects(ctx context.Context, prefix string, fn func(subject string) error) error {
	from := []byte(prefix)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := s.subjectsPage(prefix, from)
		if err != nil {
			return fmt.Errorf("failed to list subjects: %w", err)
		}
		for _, subject := range page {
			if err := fn(subject); err != nil {
				return err
			}
		}
		if len(page) < subjectsPage {
			return nil
		}
		// The next page starts right after the last subject: its name plus a
		// zero byte is the smallest key above it.
		from = append([]byte(page[len(page)-1]), 0)
	}
}

// subjectsPage reads up to subjectsPage subjects with prefix from key from on.
func (s *Store) subjectsPage(prefix string, from []byte) ([]string, error) {
	var page []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketHeads).Cursor()
		for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, []byte(prefix)) && len(page) < subjectsPage; k, _ = c.Next() {
			page = append(page, string(k))
		}
		return nil
	})
	return page, err
}

// ReadHashes returns stored tree hashes by stored-hash index; an index that was
// never written is an error wrapping registry.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []tlog.Hash
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = txHashes(tx, indexes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read tree hashes: %w", err)
	}
	return out, nil
}

// SaveCheckpoint records a signed checkpoint for tree size size, with the
// root it computes from the stored hashes. It refuses a size beyond the tree
// or below the latest saved checkpoint; an equal size replaces it.
func (s *Store) SaveCheckpoint(ctx context.Context, size uint64, signed []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		n, err := treeSize(tx)
		if err != nil {
			return err
		}
		if size > n {
			return fmt.Errorf("checkpoint size %d is beyond the tree size %d", size, n)
		}
		cur, ok, err := txCheckpoint(tx)
		if err != nil {
			return err
		}
		if ok && size < cur.size {
			return fmt.Errorf("checkpoint size %d is below the latest checkpoint's %d", size, cur.size)
		}
		root, err := tlog.TreeHash(int64(size), txReader(tx))
		if err != nil {
			return fmt.Errorf("failed to compute the tree root: %w", err)
		}
		rec := checkpointRecord{size: size, root: root, signed: bytes.Clone(signed)}
		return tx.Bucket(bucketMeta).Put(keyCheckpoint, rec.encode())
	})
	if err != nil {
		return fmt.Errorf("failed to save checkpoint: %w", err)
	}
	return nil
}

// Checkpoint returns the latest saved checkpoint, or registry.ErrNotFound.
func (s *Store) Checkpoint(ctx context.Context) (uint64, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	var (
		c  checkpointRecord
		ok bool
	)
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		c, ok, err = txCheckpoint(tx)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("failed to read checkpoint: %w", err)
	}
	if !ok {
		return 0, nil, fmt.Errorf("%w: no checkpoint", registry.ErrNotFound)
	}
	return c.size, c.signed, nil
}

// Verify checks that the tree still matches the latest saved checkpoint: the
// tree has at least that many leaves and its root at that size is the root
// recorded with the checkpoint. On a mismatch it makes the store read-only and
// returns an error wrapping registry.ErrReadOnly; when the tree matches it
// makes the store writable again. Other errors (I/O) leave the mode alone.
func (s *Store) Verify(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var mismatch error
	err := s.db.View(func(tx *bbolt.Tx) error {
		c, ok, err := txCheckpoint(tx)
		if err != nil || !ok {
			return err
		}
		n, err := treeSize(tx)
		if err != nil {
			return err
		}
		if n < c.size {
			mismatch = fmt.Errorf("the tree has %d leaves, fewer than the last checkpoint's %d", n, c.size)
			return nil
		}
		root, err := tlog.TreeHash(int64(c.size), txReader(tx))
		if errors.Is(err, registry.ErrNotFound) {
			mismatch = fmt.Errorf("the tree at the last checkpoint's size %d is incomplete: %v", c.size, err)
			return nil
		}
		if err != nil {
			return err
		}
		if root != c.root {
			mismatch = fmt.Errorf("the tree root at size %d is %x, the last checkpoint's is %x", c.size, root[:], c.root[:])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to verify the tree: %w", err)
	}
	if mismatch != nil {
		mismatch = fmt.Errorf("%w: %v", registry.ErrReadOnly, mismatch)
	}
	s.mu.Lock()
	s.readOnly = mismatch
	s.mu.Unlock()
	return mismatch
}

// Close closes the bbolt file if Open opened it; a database given to New is
// left open for its owner.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("failed to close data file: %w", err)
	}
	return nil
}
