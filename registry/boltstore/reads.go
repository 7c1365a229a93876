package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

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
