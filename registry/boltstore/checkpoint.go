package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// writable returns the read-only error, if any.
func (s *Store) writable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readOnly
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
