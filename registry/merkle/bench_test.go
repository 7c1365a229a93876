package merkle

import (
	"sync"
	"testing"
)

const benchLeaves = 100_000

var benchTree = sync.OnceValue(func() *MemoryTree {
	var mt MemoryTree
	for i := range uint64(benchLeaves) {
		if _, err := mt.Append(leafData(i)); err != nil {
			panic(err)
		}
	}
	return &mt
})

func BenchmarkProveInclusion(b *testing.B) {
	mt := benchTree()
	var i uint64
	for b.Loop() {
		if _, err := ProveInclusion(mt, i%benchLeaves, benchLeaves); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

func BenchmarkVerifyInclusion(b *testing.B) {
	mt := benchTree()
	root, err := TreeRoot(mt, benchLeaves)
	if err != nil {
		b.Fatal(err)
	}
	const n = 64
	proofs := make([]InclusionProof, n)
	data := make([][]byte, n)
	for k := range proofs {
		idx := uint64(k) * (benchLeaves / n)
		if proofs[k], err = ProveInclusion(mt, idx, benchLeaves); err != nil {
			b.Fatal(err)
		}
		data[k] = leafData(idx)
	}
	var k int
	for b.Loop() {
		if err := VerifyInclusion(proofs[k%n], data[k%n], root); err != nil {
			b.Fatal(err)
		}
		k++
	}
}

func BenchmarkProveConsistency(b *testing.B) {
	mt := benchTree()
	var i uint64
	for b.Loop() {
		from := 1 + i%(benchLeaves-1)
		if _, err := ProveConsistency(mt, from, benchLeaves); err != nil {
			b.Fatal(err)
		}
		i += 7919
	}
}

func BenchmarkTreeRoot(b *testing.B) {
	mt := benchTree()
	for b.Loop() {
		if _, err := TreeRoot(mt, benchLeaves); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryTreeAppend(b *testing.B) {
	var mt MemoryTree
	data := []byte("a leaf of moderate length for the benchmark")
	for b.Loop() {
		if _, err := mt.Append(data); err != nil {
			b.Fatal(err)
		}
	}
}
