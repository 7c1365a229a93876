package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// Leaf returns the leaf at index, or registry.ErrNotFound.
func (s *Store) Leaf(ctx context.Context, index uint64) (registry.Leaf, error) {
	rec, err := s.client.HGet(ctx, s.leavesKey(), dec(index)).Bytes()
	if errors.Is(err, redis.Nil) {
		return registry.Leaf{}, fmt.Errorf("%w: leaf %d", registry.ErrNotFound, index)
	}
	if err != nil {
		return registry.Leaf{}, fmt.Errorf("failed to read leaf %d: %w", index, err)
	}
	l, err := registry.DecodeLeaf(rec)
	if err != nil {
		return registry.Leaf{}, fmt.Errorf("failed to read leaf %d: %w", index, err)
	}
	return l, nil
}

// Size returns the number of leaves.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	n, err := s.client.Get(ctx, s.sizeKey()).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read tree size: %w", err)
	}
	return n, nil
}

// Head returns the subject's head (zero Head for an unknown subject).
func (s *Store) Head(ctx context.Context, subject string) (registry.Head, error) {
	v, err := s.client.HGet(ctx, s.headsKey(), subject).Result()
	if errors.Is(err, redis.Nil) {
		return registry.Head{}, nil
	}
	if err == nil {
		var h registry.Head
		if h, err = decodeHead(v); err == nil {
			return h, nil
		}
	}
	return registry.Head{}, fmt.Errorf("failed to read head of %q: %w", subject, err)
}

// History returns the indexes of the subject's leaves in seq order.
func (s *Store) History(ctx context.Context, subject string) ([]uint64, error) {
	vs, err := s.client.LRange(ctx, s.historyKey(subject), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("failed to read history of %q: %w", subject, err)
	}
	out := make([]uint64, len(vs))
	for i, v := range vs {
		if out[i], err = strconv.ParseUint(v, 10, 64); err != nil {
			return nil, fmt.Errorf("corrupt history entry of %q: %q", subject, v)
		}
	}
	return out, nil
}

// scanCount is the COUNT hint of Subjects' HSCAN.
const scanCount = 1000

// Subjects calls fn for every subject whose name starts with prefix, in byte
// order, stopping at fn's first error. It scans the heads hash (HSCAN with
// MATCH on the glob-escaped prefix), collecting the matching subjects before
// it sorts them and calls fn: a walk holds every matching name in memory.
func (s *Store) Subjects(ctx context.Context, prefix string, fn func(subject string) error) error {
	pattern := globEscape(prefix) + "*"
	var subjects []string
	for cursor := uint64(0); ; {
		kv, next, err := s.client.HScan(ctx, s.headsKey(), cursor, pattern, scanCount).Result()
		if err != nil {
			return fmt.Errorf("failed to list subjects: %w", err)
		}
		for i := 0; i+1 < len(kv); i += 2 { // field, value pairs
			if strings.HasPrefix(kv[i], prefix) {
				subjects = append(subjects, kv[i])
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(subjects)
	subjects = slices.Compact(subjects) // a rehash may return a field twice
	for _, subject := range subjects {
		if err := fn(subject); err != nil {
			return err
		}
	}
	return nil
}

// globEscape escapes the characters Redis's glob-style MATCH patterns give a
// meaning to, so that s matches only itself.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\*?[]^-`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// hmgetChunk bounds the fields of one HMGET.
const hmgetChunk = 1000

// ReadHashes returns stored tree hashes by stored-hash index; an index that was
// never written is an error wrapping registry.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for start := 0; start < len(indexes); start += hmgetChunk {
		chunk := indexes[start:min(start+hmgetChunk, len(indexes))]
		fields := make([]string, len(chunk))
		for i, idx := range chunk {
			if idx < 0 {
				return nil, fmt.Errorf("invalid stored hash index %d", idx)
			}
			fields[i] = strconv.FormatInt(idx, 10)
		}
		vs, err := s.client.HMGet(ctx, s.hashesKey(), fields...).Result()
		if err != nil {
			return nil, fmt.Errorf("failed to read tree hashes: %w", err)
		}
		for i, v := range vs {
			str, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%w: stored hash %d", registry.ErrNotFound, chunk[i])
			}
			if len(str) != tlog.HashSize {
				return nil, fmt.Errorf("corrupt stored hash %d", chunk[i])
			}
			copy(out[start+i][:], str)
		}
	}
	return out, nil
}
