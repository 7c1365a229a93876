package merkle

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// leafData is the data of leaf i in the test trees.
func leafData(i uint64) []byte { return fmt.Appendf(nil, "leaf %d", i) }

// buildTree returns a MemoryTree with leaves leafData(0..n-1).
func buildTree(tb testing.TB, n uint64) *MemoryTree {
	tb.Helper()
	var mt MemoryTree
	for i := range n {
		idx, err := mt.Append(leafData(i))
		if err != nil {
			tb.Fatalf("Append(%d): %v", i, err)
		}
		if idx != i {
			tb.Fatalf("Append returned index %d, want %d", idx, i)
		}
	}
	return &mt
}

// naiveRoot is an independent, direct transcription of the RFC 6962 §2.1 Merkle
// Tree Hash, used only to cross-check tlog and MemoryTree.
func naiveRoot(leaves [][]byte) tlog.Hash {
	n := len(leaves)
	if n == 0 {
		return sha256.Sum256(nil)
	}
	if n == 1 {
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < n {
		k *= 2
	}
	l, r := naiveRoot(leaves[:k]), naiveRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// sliceReader is a second, independently built store of tlog.StoredHashes.
type sliceReader []tlog.Hash

func (s sliceReader) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(s)) {
			return nil, fmt.Errorf("index %d not stored", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

func buildSliceReader(tb testing.TB, leaves [][]byte) sliceReader {
	tb.Helper()
	var s sliceReader
	for i, d := range leaves {
		hs, err := tlog.StoredHashes(int64(i), d, s)
		if err != nil {
			tb.Fatal(err)
		}
		s = append(s, hs...)
	}
	return s
}

func leavesUpTo(n uint64) [][]byte {
	out := make([][]byte, n)
	for i := range n {
		out[i] = leafData(i)
	}
	return out
}

// flipBit returns a copy of hs with bit b of hash i flipped.
func flipBit(hs []tlog.Hash, i, b int) []tlog.Hash {
	out := append([]tlog.Hash(nil), hs...)
	out[i][b/8] ^= 1 << (b % 8)
	return out
}
