// Package boltkv is the embedded kv.Store driver, backed by a single bbolt file.
//
// # Layout
//
// All kv buckets live as nested buckets under one top-level bbolt bucket named
// "kv", so other packages can share the file (see Store.DB) with their own
// top-level buckets without colliding with kv bucket names. The top-level name
// "kv" is therefore reserved. Buckets are created on first write; reading a
// bucket that was never written gives kv.ErrNotFound or an empty list.
//
// # Durability and locking
//
// Every write runs in its own bbolt read-write transaction that is committed,
// and fsynced, before the method returns. bbolt holds an exclusive file lock
// while the file is open, so a second process opening the same file fails
// after the open timeout with an error matching ErrLocked.
//
// # Callbacks
//
// Update runs fn inside the write transaction: fn must not call the store
// (that would deadlock). List reads in batches and calls fn outside any
// transaction, so its callback may read and write the store; keys written
// behind the walk's position are not visited.
package boltkv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/credence/credence/internal/kv"
)

// DefaultTimeout is how long Open waits for the file lock by default.
const DefaultTimeout = 2 * time.Second

// listBatch is how many entries List copies out of one read transaction.
const listBatch = 256

// rootBucket is the top-level bbolt bucket holding every kv bucket.
var rootBucket = []byte("kv")

// ErrLocked is matched (errors.Is) by the error Open returns when another
// process holds the data file.
var ErrLocked = errors.New("boltkv: data file is locked")

// lockedError reports a data file locked by another process.
type lockedError struct {
	path string
	err  error
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("data file %s is locked by another process (is a server running on this data dir?)", e.path)
}

func (e *lockedError) Is(target error) bool { return target == ErrLocked }
func (e *lockedError) Unwrap() error        { return e.err }

// Store is a kv.Store on a bbolt file.
type Store struct {
	db *bbolt.DB
}

var _ kv.Store = (*Store)(nil)

type options struct {
	timeout time.Duration
}

// Option configures Open.
type Option func(*options)

// WithTimeout sets how long Open waits for the file lock before failing;
// d <= 0 waits forever. The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// Open opens, or creates with mode 0600, the bbolt file at path.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	// The freelist is not written on commit (it is rebuilt by scanning
	// the file on open) and is kept as a hash map: each commit writes
	// fewer pages, as etcd runs bbolt.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: o.timeout, NoFreelistSync: true,
		FreelistType: bbolt.FreelistMapType})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to open data file %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// DB returns the underlying bbolt database, for packages that keep their own
// top-level buckets in the same file. The top-level bucket "kv" is reserved.
func (s *Store) DB() *bbolt.DB { return s.db }

// readBucket returns the kv bucket, or nil if it was never written.
func readBucket(tx *bbolt.Tx, bucket string) *bbolt.Bucket {
	root := tx.Bucket(rootBucket)
	if root == nil {
		return nil
	}
	return root.Bucket([]byte(bucket))
}

// writeBucket returns the kv bucket, creating it and the root if needed.
func writeBucket(tx *bbolt.Tx, bucket string) (*bbolt.Bucket, error) {
	root, err := tx.CreateBucketIfNotExists(rootBucket)
	if err != nil {
		return nil, fmt.Errorf("failed to create root bucket: %w", err)
	}
	b, err := root.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return nil, fmt.Errorf("failed to create bucket %q: %w", bucket, err)
	}
	return b, nil
}

// clone copies a bbolt value out of its transaction. It never returns nil, so
// a present empty value stays distinguishable from an absent key.
func clone(v []byte) []byte { return append([]byte{}, v...) }

// check validates names and the context before an operation.
func check(ctx context.Context, bucket, key string) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	return ctx.Err()
}

// Get returns the value for key in bucket, or kv.ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := check(ctx, bucket, key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := readBucket(tx, bucket); b != nil {
			if v := b.Get([]byte(key)); v != nil {
				out = clone(v)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to get %q/%q: %w", bucket, key, err)
	}
	if out == nil {
		return nil, kv.ErrNotFound
	}
	return out, nil
}

// Put stores value under key, replacing any existing value.
func (s *Store) Put(ctx context.Context, bucket, key string, value []byte) error {
	if err := check(ctx, bucket, key); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := writeBucket(tx, bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), clone(value))
	})
	if err != nil {
		return fmt.Errorf("failed to put %q/%q: %w", bucket, key, err)
	}
	return nil
}

// PutMany stores items in one transaction (one fsync).
func (s *Store) PutMany(ctx context.Context, bucket string, items []kv.Item) error {
	for _, it := range items {
		if err := check(ctx, bucket, it.Key); err != nil {
			return err
		}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := writeBucket(tx, bucket)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := b.Put([]byte(it.Key), clone(it.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("failed to put %d values in %q: %w", len(items), bucket, err)
	}
	return nil
}

// Create stores value under key only if key is absent; otherwise kv.ErrExists.
func (s *Store) Create(ctx context.Context, bucket, key string, value []byte) error {
	if err := check(ctx, bucket, key); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := writeBucket(tx, bucket)
		if err != nil {
			return err
		}
		if b.Get([]byte(key)) != nil {
			return kv.ErrExists
		}
		return b.Put([]byte(key), clone(value))
	})
	if errors.Is(err, kv.ErrExists) {
		return kv.ErrExists
	}
	if err != nil {
		return fmt.Errorf("failed to create %q/%q: %w", bucket, key, err)
	}
	return nil
}

// CreateMany stores items in one transaction (one fsync) if none of their
// keys is present; otherwise the transaction is rolled back and it returns
// kv.ErrExists.
func (s *Store) CreateMany(ctx context.Context, bucket string, items []kv.Item) error {
	if err := kv.CheckItems(bucket, items); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := writeBucket(tx, bucket)
		if err != nil {
			return err
		}
		for _, it := range items {
			if b.Get([]byte(it.Key)) != nil {
				return kv.ErrExists
			}
		}
		for _, it := range items {
			if err := b.Put([]byte(it.Key), clone(it.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, kv.ErrExists) {
		return kv.ErrExists
	}
	if err != nil {
		return fmt.Errorf("failed to create %d values in %q: %w", len(items), bucket, err)
	}
	return nil
}

// Update replaces the value of key with fn(old) inside one write transaction.
// fn must not call the store. An error from fn is returned unchanged and
// nothing is written.
func (s *Store) Update(ctx context.Context, bucket, key string, fn func(old []byte) ([]byte, error)) error {
	if err := check(ctx, bucket, key); err != nil {
		return err
	}
	var fnErr error
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := writeBucket(tx, bucket)
		if err != nil {
			return err
		}
		var old []byte
		if v := b.Get([]byte(key)); v != nil {
			old = clone(v)
		}
		nv, err := fn(old)
		if err != nil {
			fnErr = err
			return err
		}
		return b.Put([]byte(key), clone(nv))
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("failed to update %q/%q: %w", bucket, key, err)
	}
	return nil
}

// Delete removes key, or returns kv.ErrNotFound.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := check(ctx, bucket, key); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := readBucket(tx, bucket)
		if b == nil || b.Get([]byte(key)) == nil {
			return kv.ErrNotFound
		}
		return b.Delete([]byte(key))
	})
	if errors.Is(err, kv.ErrNotFound) {
		return kv.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("failed to delete %q/%q: %w", bucket, key, err)
	}
	return nil
}

type entry struct {
	key   string
	value []byte
}

// List calls fn for every key in bucket starting with prefix, in ascending
// byte order. It reads in batches and calls fn outside any transaction.
func (s *Store) List(ctx context.Context, bucket, prefix string, fn func(key string, value []byte) error) error {
	if bucket == "" {
		return kv.ErrInvalidName
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var after []byte // last key passed to fn; nil before the first batch
	for {
		batch, err := s.listBatch(bucket, []byte(prefix), after)
		if err != nil {
			return fmt.Errorf("failed to list %q: %w", bucket, err)
		}
		for _, e := range batch {
			if err := fn(e.key, e.value); err != nil {
				return err
			}
		}
		if len(batch) < listBatch {
			return nil
		}
		after = []byte(batch[len(batch)-1].key)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// listBatch copies up to listBatch entries with the prefix, strictly after
// the key after (or from the prefix when after is nil).
func (s *Store) listBatch(bucket string, prefix, after []byte) ([]entry, error) {
	var out []entry
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := readBucket(tx, bucket)
		if b == nil {
			return nil
		}
		seek := prefix
		if after != nil {
			seek = after
		}
		c := b.Cursor()
		k, v := c.Seek(seek)
		if after != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < listBatch; k, v = c.Next() {
			if v != nil { // nil marks a nested bucket, which kv never creates.
				out = append(out, entry{string(k), clone(v)})
			}
		}
		return nil
	})
	return out, err
}

// Ping runs an empty write transaction, proving the file is open and writable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.db.Update(func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("failed to ping data file %s: %w", s.db.Path(), err)
	}
	return nil
}

// Close closes the bbolt file, releasing its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("failed to close data file: %w", err)
	}
	return nil
}
