// Package kv is the small key/value seam for service state that is not the ledger:
// key material (encrypted), API tokens (hashed), hosted DID documents, settings.
//
// # Drivers
//
// Drivers live in subpackages (memkv for tests, boltkv for the embedded default,
// rediskv for the Redis mode) and all pass the shared suite in kvtest.
//
// # Errors
//
// Every driver returns ErrNotFound for a missing key and ErrExists when Create
// or CreateMany finds a key already present; callers test with errors.Is.
package kv

import (
	"context"
	"errors"
)

var (
	// ErrNotFound is returned when a key does not exist.
	ErrNotFound = errors.New("kv: not found")
	// ErrExists is returned by Create and CreateMany when a key already exists.
	ErrExists = errors.New("kv: already exists")
)

// Store is a namespaced key/value store. Buckets and keys are non-empty strings;
// values are opaque bytes. Implementations are safe for concurrent use.
type Store interface {
	// Get returns the value for key in bucket, or ErrNotFound.
	Get(ctx context.Context, bucket, key string) ([]byte, error)
	// Put stores value under key, replacing any existing value.
	Put(ctx context.Context, bucket, key string, value []byte) error
	// PutMany stores several values in one bucket in one write (one
	// transaction or round trip): all of them or, on error, possibly none.
	PutMany(ctx context.Context, bucket string, items []Item) error
	// Create stores value under key only if key is absent; otherwise ErrExists.
	Create(ctx context.Context, bucket, key string, value []byte) error
	// CreateMany stores several values in one bucket in one write (one
	// transaction or round trip) only if none of their keys is present: all
	// of them, or none and ErrExists when a key exists (or is given twice).
	// It is atomic: of concurrent calls whose keys overlap, at most one
	// succeeds. On another error none of the values is stored, unless the
	// store applied the write and the answer was lost.
	CreateMany(ctx context.Context, bucket string, items []Item) error
	// Update atomically replaces the value of key with fn(old). old is nil when the
	// key is absent. If fn returns an error, nothing is written and the error is
	// returned unchanged. fn may be called more than once under contention.
	Update(ctx context.Context, bucket, key string, fn func(old []byte) ([]byte, error)) error
	// Delete removes key, or returns ErrNotFound.
	Delete(ctx context.Context, bucket, key string) error
	// List calls fn for every key in bucket starting with prefix, in ascending
	// byte order of keys. An error from fn stops the walk and is returned.
	List(ctx context.Context, bucket, prefix string, fn func(key string, value []byte) error) error
	// Ping reports whether the store is reachable and writable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Item is one key and value of PutMany and CreateMany.
type Item struct {
	Key   string
	Value []byte
}

// ErrInvalidName is returned for an empty bucket or key.
var ErrInvalidName = errors.New("kv: bucket and key must be non-empty")

// CheckNames validates a bucket and key; drivers call it first.
func CheckNames(bucket, key string) error {
	if bucket == "" || key == "" {
		return ErrInvalidName
	}
	return nil
}

// CheckItems validates the bucket and keys of a CreateMany (drivers call it
// first): ErrInvalidName for an empty bucket or key, ErrExists for a key given
// twice (its second Create would fail).
func CheckItems(bucket string, items []Item) error {
	if err := CheckNames(bucket, "-"); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(items))
	for _, it := range items {
		if err := CheckNames(bucket, it.Key); err != nil {
			return err
		}
		if _, ok := seen[it.Key]; ok {
			return ErrExists
		}
		seen[it.Key] = struct{}{}
	}
	return nil
}
