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
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

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
