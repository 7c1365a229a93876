package storetest

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// reference is an independent in-memory Merkle log: the stored hashes of every
// leaf added, computed with tlog.StoredHashes over a map. Drivers are checked
// against it hash for hash.
type reference struct {
	n      int64
	hashes map[int64]tlog.Hash
}

func newReference() *reference {
	return &reference{hashes: map[int64]tlog.Hash{}}
}

// add appends the leaf with data as leaf r.n.
func (r *reference) add(data []byte) error {
	hs, err := tlog.StoredHashes(r.n, data, r)
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, r.n)
	for i, h := range hs {
		r.hashes[base+int64(i)] = h
	}
	r.n++
	return nil
}

// ReadHashes implements tlog.HashReader.
func (r *reference) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := r.hashes[idx]
		if !ok {
			return nil, fmt.Errorf("reference: no stored hash %d", idx)
		}
		out[i] = h
	}
	return out, nil
}

// root is the tree hash at size n.
func (r *reference) root(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, r) }
