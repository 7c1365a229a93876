// Package rediskv is the Redis kv.Store driver.
//
// # Layout
//
// Each kv bucket is one Redis hash named <prefix>{kv}:<bucket>, whose fields
// are the bucket's keys. Every hash carries the same hash tag {kv} (as long as
// prefix has no '{'), so all buckets of a store live in one slot and the
// layout works unchanged on Redis Cluster. A bucket's hash disappears with its
// last key, so a missing bucket reads as ErrNotFound or an empty list.
//
// # Update
//
// Update is an optimistic compare-and-swap loop: it reads the field, calls fn
// in Go, then writes the result with a Lua script that succeeds only if the
// field still holds the value (or is still absent) that fn saw, and retries
// otherwise. A script rather than WATCH/MULTI/EXEC because WATCH works on
// whole keys: any write to another key of the same bucket (the same hash)
// would abort the transaction, while the script conflicts only on the one
// field. It also needs no dedicated connection. fn runs outside Redis and may
// run several times under contention; after maxUpdateAttempts lost races
// Update gives up with ErrContention.
//
// # CreateMany
//
// CreateMany is one Lua script, atomic as every script is: HEXISTS for each
// field, and only if none exists one HSET of them all (HSETs of at most
// createChunk fields each for more), so a write Redis refuses (OOM) cannot
// leave part of a batch of up to createChunk items behind.
//
// # List
//
// List walks the hash with HSCAN without MATCH (user prefixes are never
// interpreted as glob patterns), filters by prefix and sorts in Go. It is not
// a snapshot: keys written during the walk may or may not be seen. It loads
// all matching entries before calling fn, so fn may use the store.
//
// # Ownership
//
// The store does not own the client: Close closes nothing (the caller that
// created the client closes it).
package rediskv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/credence/credence/internal/kv"
)

// maxUpdateAttempts bounds Update's compare-and-swap retries.
const maxUpdateAttempts = 1000

// scanCount is the COUNT hint for HSCAN.
const scanCount = 1000

// ErrContention is returned by Update when every compare-and-swap attempt
// lost to a concurrent writer.
var ErrContention = errors.New("rediskv: too much contention on key")

// casScript sets field ARGV[1] of KEYS[1] to ARGV[4] only if the field still
// holds ARGV[3] (ARGV[2] == "1") or is still absent (ARGV[2] == "0").
// It returns 1 when it wrote, 0 when the field changed in the meantime.
var casScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
	if cur ~= ARGV[3] then return 0 end
elseif cur then
	return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
`)

// createManyScript sets the field/value pairs in ARGV on KEYS[1] only if
// none of the fields exists. It returns 1 when it wrote, 0 when a field
// exists. ARGV[1] is the number of pairs per HSET.
var createManyScript = redis.NewScript(`
local chunk = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
	if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then return 0 end
end
for i = 2, #ARGV, 2 * chunk do
	redis.call('HSET', KEYS[1], unpack(ARGV, i, math.min(i + 2 * chunk - 1, #ARGV)))
end
return 1
`)

// createChunk bounds the fields of one HSET in createManyScript (unpack's
// limit on the Lua stack is a few thousand values).
const createChunk = 1000

// Store is a kv.Store on Redis hashes.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var _ kv.Store = (*Store)(nil)

// New returns a store keeping its hashes under prefix in client. The caller
// keeps ownership of client.
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// hashKey is the Redis key of bucket's hash.
func (s *Store) hashKey(bucket string) string {
	return s.prefix + "{kv}:" + bucket
}

// Get returns the value for key in bucket, or kv.ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if err := kv.CheckNames(bucket, key); err != nil {
		return nil, err
	}
	v, err := s.client.HGet(ctx, s.hashKey(bucket), key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, kv.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get %q/%q: %w", bucket, key, err)
	}
	return nonNil(v), nil
}

// nonNil keeps a present empty value distinguishable from an absent key.
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// Put stores value under key, replacing any existing value.
func (s *Store) Put(ctx context.Context, bucket, key string, value []byte) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	if err := s.client.HSet(ctx, s.hashKey(bucket), key, value).Err(); err != nil {
		return fmt.Errorf("failed to put %q/%q: %w", bucket, key, err)
	}
	return nil
}

// PutMany stores items with one HSET.
func (s *Store) PutMany(ctx context.Context, bucket string, items []kv.Item) error {
	if len(items) == 0 {
		return kv.CheckNames(bucket, "-")
	}
	args := make([]any, 0, 2*len(items))
	for _, it := range items {
		if err := kv.CheckNames(bucket, it.Key); err != nil {
			return err
		}
		args = append(args, it.Key, it.Value)
	}
	if err := s.client.HSet(ctx, s.hashKey(bucket), args...).Err(); err != nil {
		return fmt.Errorf("failed to put %d values in %q: %w", len(items), bucket, err)
	}
	return nil
}

// Create stores value under key only if key is absent (HSETNX); otherwise
// kv.ErrExists.
func (s *Store) Create(ctx context.Context, bucket, key string, value []byte) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	ok, err := s.client.HSetNX(ctx, s.hashKey(bucket), key, value).Result()
	if err != nil {
		return fmt.Errorf("failed to create %q/%q: %w", bucket, key, err)
	}
	if !ok {
		return kv.ErrExists
	}
	return nil
}

// CreateMany stores items with one script if none of their keys exists;
// otherwise kv.ErrExists and nothing is written.
func (s *Store) CreateMany(ctx context.Context, bucket string, items []kv.Item) error {
	if err := kv.CheckItems(bucket, items); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(items))
	args = append(args, createChunk)
	for _, it := range items {
		args = append(args, it.Key, it.Value)
	}
	n, err := createManyScript.Run(ctx, s.client, []string{s.hashKey(bucket)}, args...).Int()
	if err != nil {
		return fmt.Errorf("failed to create %d values in %q: %w", len(items), bucket, err)
	}
	if n == 0 {
		return kv.ErrExists
	}
	return nil
}

// Update replaces the value of key with fn(old) by compare-and-swap, calling
// fn again whenever another writer changed the key in between. An error from
// fn is returned unchanged and nothing is written.
func (s *Store) Update(ctx context.Context, bucket, key string, fn func(old []byte) ([]byte, error)) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	for range maxUpdateAttempts {
		done, err := s.tryUpdate(ctx, bucket, key, fn)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("failed to update %q/%q after %d attempts: %w", bucket, key, maxUpdateAttempts, ErrContention)
}

// tryUpdate makes one compare-and-swap attempt; done is false when the key
// changed after it was read.
func (s *Store) tryUpdate(ctx context.Context, bucket, key string, fn func([]byte) ([]byte, error)) (done bool, err error) {
	old, err := s.Get(ctx, bucket, key)
	present := err == nil
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return false, fmt.Errorf("failed to update: %w", err)
	}
	expect := string(old) // copied before fn can modify old
	nv, err := fn(old)
	if err != nil {
		return false, err
	}
	flag := "0"
	if present {
		flag = "1"
	}
	n, err := casScript.Run(ctx, s.client, []string{s.hashKey(bucket)}, key, flag, expect, nv).Int()
	if err != nil {
		return false, fmt.Errorf("failed to update %q/%q: %w", bucket, key, err)
	}
	return n == 1, nil
}

// Delete removes key, or returns kv.ErrNotFound.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	n, err := s.client.HDel(ctx, s.hashKey(bucket), key).Result()
	if err != nil {
		return fmt.Errorf("failed to delete %q/%q: %w", bucket, key, err)
	}
	if n == 0 {
		return kv.ErrNotFound
	}
	return nil
}

// List calls fn for every key in bucket starting with prefix, in ascending
// byte order.
func (s *Store) List(ctx context.Context, bucket, prefix string, fn func(key string, value []byte) error) error {
	if bucket == "" {
		return kv.ErrInvalidName
	}
	entries, err := s.scan(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("failed to list %q: %w", bucket, err)
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k, []byte(entries[k])); err != nil {
			return err
		}
	}
	return nil
}

// scan returns the fields of bucket's hash starting with prefix, read with
// HSCAN (no MATCH); the map drops the duplicates HSCAN may return.
func (s *Store) scan(ctx context.Context, bucket, prefix string) (map[string]string, error) {
	entries := map[string]string{}
	var cursor uint64
	for {
		kvs, next, err := s.client.HScan(ctx, s.hashKey(bucket), cursor, "", scanCount).Result()
		if err != nil {
			return nil, err
		}
		for i := 0; i+1 < len(kvs); i += 2 {
			if strings.HasPrefix(kvs[i], prefix) {
				entries[kvs[i]] = kvs[i+1]
			}
		}
		if cursor = next; cursor == 0 {
			return entries, nil
		}
	}
}

// Ping checks that Redis answers PING.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("failed to ping Redis: %w", err)
	}
	return nil
}

// Close closes nothing: the client belongs to the caller of New.
func (s *Store) Close() error { return nil }
