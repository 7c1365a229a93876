package witness

import (
	"context"
	"errors"
	"fmt"

	"github.com/credence/credence/internal/kv"
)

// Store keeps, for each log origin, the latest checkpoint the witness
// cosigned: the signed note with the log's signatures that the witness
// verified and the witness's cosignature, as served to monitors.
//
// The witness's safety rests on Update being atomic: it is the check of the
// old size and the write of the new checkpoint in one step (tlog-witness
// requires both to be atomic, or two requests could roll the state back).
// A Store must persist a write before Update returns. Implementations are
// safe for concurrent use.
type Store interface {
	// Latest returns the latest cosigned checkpoint of origin, or an error
	// wrapping ErrNotFound if there is none.
	Latest(ctx context.Context, origin string) ([]byte, error)
	// Update atomically replaces the checkpoint of origin with fn(old),
	// where old is nil if there is none. If fn returns an error, nothing is
	// written and Update returns that error unchanged. fn may be called more
	// than once under contention; only the value of the call whose write
	// succeeded is stored.
	Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error
}

// DefaultBucket is the kv bucket of KVStore when none is given.
const DefaultBucket = "witness"

// KVStore is a Store on a kv.Store (memkv, boltkv or rediskv): one key per
// origin, named after the origin, in one bucket. kv.Store.Update is the
// compare-and-swap.
type KVStore struct {
	kv     kv.Store
	bucket string
}

var _ Store = (*KVStore)(nil)

// NewKVStore returns a Store keeping checkpoints in bucket of s
// (DefaultBucket if bucket is empty). The kv.Store must persist writes before
// acknowledging them (boltkv does; with rediskv, configure Redis AOF with
// appendfsync always for the same guarantee).
func NewKVStore(s kv.Store, bucket string) *KVStore {
	if bucket == "" {
		bucket = DefaultBucket
	}
	return &KVStore{kv: s, bucket: bucket}
}

// Latest returns the stored checkpoint of origin, or an error wrapping
// ErrNotFound (and kv.ErrNotFound).
func (s *KVStore) Latest(ctx context.Context, origin string) ([]byte, error) {
	v, err := s.kv.Get(ctx, s.bucket, origin)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w for %q: %w", ErrNotFound, origin, err)
	}
	if err != nil {
		return nil, fmt.Errorf("witness: reading the checkpoint of %q: %w", origin, err)
	}
	return v, nil
}

// Update is kv.Store.Update on origin's key. A stored empty value would mean
// a corrupt store; it reaches fn as a non-nil empty slice, which the witness
// rejects.
func (s *KVStore) Update(ctx context.Context, origin string, fn func(old []byte) ([]byte, error)) error {
	return s.kv.Update(ctx, s.bucket, origin, fn)
}
