package merkle

import (
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// MemoryTree is an append-only RFC 6962 tree held in memory: the stored hashes
// of tlog.StoredHashes, indexed by tlog.StoredHashIndex. It implements
// tlog.HashReader and is safe for concurrent use; the zero value is an empty
// tree. It is the reference the tests and the store conformance suite compare
// drivers against.
type MemoryTree struct {
	mu     sync.RWMutex
	size   uint64
	hashes []tlog.Hash
}

// Append adds a leaf with the given data (leaf hash tlog.RecordHash(data)) and
// returns its index.
func (t *MemoryTree) Append(data []byte) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	index := t.size
	hs, err := tlog.StoredHashes(int64(index), data, tlog.HashReaderFunc(t.read))
	if err != nil {
		return 0, fmt.Errorf("merkle: appending leaf %d: %w", index, err)
	}
	t.hashes = append(t.hashes, hs...)
	t.size++
	return index, nil
}

// Size returns the number of leaves.
func (t *MemoryTree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

// ReadHashes returns the stored hashes at the given stored-hash indexes; an index
// that is not stored yet gives an error wrapping ErrOutOfRange.
func (t *MemoryTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.read(indexes)
}

func (t *MemoryTree) read(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("%w: stored hash %d not present (%d stored)", ErrOutOfRange, x, len(t.hashes))
		}
		out[i] = t.hashes[x]
	}
	return out, nil
}
