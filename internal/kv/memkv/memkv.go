// Package memkv is an in-memory kv.Store for tests and ephemeral runs.
package memkv

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/credence/credence/internal/kv"
)

// Store is an in-memory kv.Store.
type Store struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
}

var _ kv.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store { return &Store{buckets: map[string]map[string][]byte{}} }

func (s *Store) Get(_ context.Context, bucket, key string) ([]byte, error) {
	if err := kv.CheckNames(bucket, key); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.buckets[bucket][key]
	if !ok {
		return nil, kv.ErrNotFound
	}
	return bytes.Clone(v), nil
}

func (s *Store) Put(_ context.Context, bucket, key string, value []byte) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(bucket, key, value)
	return nil
}

// PutMany stores items under one lock.
func (s *Store) PutMany(_ context.Context, bucket string, items []kv.Item) error {
	for _, it := range items {
		if err := kv.CheckNames(bucket, it.Key); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.put(bucket, it.Key, it.Value)
	}
	return nil
}

func (s *Store) put(bucket, key string, value []byte) {
	b := s.buckets[bucket]
	if b == nil {
		b = map[string][]byte{}
		s.buckets[bucket] = b
	}
	// Never store nil: a present empty value must read back non-nil so that
	// Update can tell it from an absent key (old == nil only when absent).
	b[key] = append([]byte{}, value...)
}

func (s *Store) Create(_ context.Context, bucket, key string, value []byte) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[bucket][key]; ok {
		return kv.ErrExists
	}
	s.put(bucket, key, value)
	return nil
}

// CreateMany stores items under one lock if none of their keys is present.
func (s *Store) CreateMany(_ context.Context, bucket string, items []kv.Item) error {
	if err := kv.CheckItems(bucket, items); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		if _, ok := s.buckets[bucket][it.Key]; ok {
			return kv.ErrExists
		}
	}
	for _, it := range items {
		s.put(bucket, it.Key, it.Value)
	}
	return nil
}

func (s *Store) Update(_ context.Context, bucket, key string, fn func([]byte) ([]byte, error)) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.buckets[bucket][key]
	if ok {
		old = bytes.Clone(old)
	}
	nv, err := fn(old)
	if err != nil {
		return err
	}
	s.put(bucket, key, nv)
	return nil
}

func (s *Store) Delete(_ context.Context, bucket, key string) error {
	if err := kv.CheckNames(bucket, key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[bucket][key]; !ok {
		return kv.ErrNotFound
	}
	delete(s.buckets[bucket], key)
	return nil
}

func (s *Store) List(_ context.Context, bucket, prefix string, fn func(string, []byte) error) error {
	if bucket == "" {
		return kv.ErrInvalidName
	}
	s.mu.RLock()
	b := s.buckets[bucket]
	keys := make([]string, 0, len(b))
	for k := range b {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = bytes.Clone(b[k])
	}
	s.mu.RUnlock()
	for i, k := range keys {
		if err := fn(k, vals[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) Ping(context.Context) error { return nil }
func (s *Store) Close() error               { return nil }
