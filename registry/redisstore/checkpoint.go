package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

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
