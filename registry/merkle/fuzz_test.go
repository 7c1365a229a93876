package merkle

import (
	"bytes"
	"errors"
	"slices"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// FuzzParseCheckpoint: whatever parses re-encodes to exactly the input bytes,
// and everything else is rejected with ErrBadCheckpoint.
func FuzzParseCheckpoint(f *testing.F) {
	const root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
	for _, s := range []string{
		"example.com/behind-the-sofa\n20852163\n" + root + "\n",
		"go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
		"o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nTimestamp: 1\next\n",
		"o\n18446744073709551615\n" + root + "\n",
		"o\n05\n" + root + "\n",
		"o\n+5\n" + root + "\n",
		"o\n5\n" + root[:43] + "\n",
		"o\n5\n" + root + "\n\n",
		"o\n5\n" + root,
		"o\r\n5\r\n" + root + "\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := ParseCheckpoint(in)
		if err != nil {
			if !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
			return
		}
		if out := c.Marshal(); !bytes.Equal(out, in) {
			t.Fatalf("ParseCheckpoint(%q) then Marshal = %q", in, out)
		}
		if err := c.validate(); err != nil {
			t.Fatalf("parsed checkpoint does not validate: %v", err)
		}
	})
}

const fuzzTreeSize = 13

type fuzzTree struct {
	tree   *MemoryTree
	cp     Checkpoint
	proofs []InclusionProof
}

var fuzzFixture = sync.OnceValue(func() fuzzTree {
	var mt MemoryTree
	for i := range uint64(fuzzTreeSize) {
		if _, err := mt.Append(leafData(i)); err != nil {
			panic(err)
		}
	}
	root, err := TreeRoot(&mt, fuzzTreeSize)
	if err != nil {
		panic(err)
	}
	ft := fuzzTree{tree: &mt, cp: Checkpoint{Origin: "o", Size: fuzzTreeSize, Root: root}}
	for i := range uint64(fuzzTreeSize) {
		p, err := ProveInclusion(&mt, i, fuzzTreeSize)
		if err != nil {
			panic(err)
		}
		ft.proofs = append(ft.proofs, p)
	}
	return ft
})

func hashesBytes(hs []tlog.Hash) []byte {
	var b []byte
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// FuzzVerifyInclusion: arbitrary (index, size, proof bytes, leaf) never verify
// against the fixed 13-leaf checkpoint unless they are exactly a real leaf and
// its real proof.
func FuzzVerifyInclusion(f *testing.F) {
	ft := fuzzFixture()
	for i, p := range ft.proofs {
		hb := hashesBytes(p.Hashes)
		f.Add(uint64(i), uint64(fuzzTreeSize), hb, leafData(uint64(i)))
		f.Add(uint64(i), uint64(fuzzTreeSize), hb, leafData(uint64(i+1)))
		f.Add(uint64(i+1), uint64(fuzzTreeSize), hb, leafData(uint64(i)))
		f.Add(uint64(i), uint64(fuzzTreeSize-1), hb, leafData(uint64(i)))
		if len(hb) > 0 {
			flipped := slices.Clone(hb)
			flipped[len(flipped)/2] ^= 0x10
			f.Add(uint64(i), uint64(fuzzTreeSize), flipped, leafData(uint64(i)))
			f.Add(uint64(i), uint64(fuzzTreeSize), hb[32:], leafData(uint64(i)))
		}
	}
	f.Add(uint64(0), uint64(0), []byte{}, []byte{})
	f.Add(^uint64(0), ^uint64(0), make([]byte, 64), []byte("x"))

	f.Fuzz(func(t *testing.T, index, size uint64, proof, leaf []byte) {
		if len(proof) > 64*tlog.HashSize {
			return
		}
		hs := make([]tlog.Hash, len(proof)/tlog.HashSize)
		for i := range hs {
			copy(hs[i][:], proof[i*tlog.HashSize:])
		}
		genuine := func(idx uint64) bool {
			return idx < fuzzTreeSize && bytes.Equal(leaf, leafData(idx)) && slices.Equal(hs, ft.proofs[idx].Hashes)
		}

		p := InclusionProof{Index: index, Size: size, Hashes: hs}
		err := VerifyCheckpointInclusion(ft.cp, p, leaf)
		if err == nil && (size != fuzzTreeSize || !genuine(index)) {
			t.Fatalf("forged proof verified: index %d size %d leaf %q hashes %x", index, size, leaf, proof)
		}
		if err != nil && !errors.Is(err, ErrBadProof) {
			t.Fatalf("error %v does not wrap ErrBadProof", err)
		}

		// The bare-root check with the size taken from the checkpoint.
		p.Size = fuzzTreeSize
		err = VerifyInclusion(p, leaf, ft.cp.Root)
		if err == nil && !genuine(index) {
			t.Fatalf("forged proof verified against the root: index %d leaf %q hashes %x", index, leaf, proof)
		}
		if err != nil && genuine(index) {
			t.Fatalf("real proof for leaf %d rejected: %v", index, err)
		}

		// Use the fuzzer's bytes as extra noise on a real proof too.
		if len(hs) > 0 && index < fuzzTreeSize {
			real := ft.proofs[index]
			q := InclusionProof{Index: index, Size: fuzzTreeSize, Hashes: slices.Clone(real.Hashes)}
			j := int(proof[len(proof)-1]) % (len(q.Hashes) + 1)
			if j < len(q.Hashes) && q.Hashes[j] != hs[0] {
				q.Hashes[j] = hs[0]
				if VerifyInclusion(q, leafData(index), ft.cp.Root) == nil {
					t.Fatalf("real proof with hash %d replaced verified", j)
				}
			}
		}
	})
}
