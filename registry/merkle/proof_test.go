package merkle

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestMemoryTreeRoots: MemoryTree roots for 0..70 leaves equal tlog.TreeHash over
// an independently built hash store and a direct RFC 6962 transcription, both
// while the tree grows and for every prefix of the final tree.
func TestMemoryTreeRoots(t *testing.T) {
	const n = 70
	leaves := leavesUpTo(n)
	independent := buildSliceReader(t, leaves)
	var mt MemoryTree
	check := func(size uint64) {
		t.Helper()
		got, err := TreeRoot(&mt, size)
		if err != nil {
			t.Fatalf("TreeRoot(%d): %v", size, err)
		}
		want, err := tlog.TreeHash(int64(size), independent)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("size %d: TreeRoot = %v, tlog.TreeHash = %v", size, got, want)
		}
		if naive := naiveRoot(leaves[:size]); got != naive {
			t.Fatalf("size %d: TreeRoot = %v, RFC 6962 reference = %v", size, got, naive)
		}
	}
	check(0)
	for i := range uint64(n) {
		if _, err := mt.Append(leaves[i]); err != nil {
			t.Fatal(err)
		}
		if mt.Size() != i+1 {
			t.Fatalf("Size = %d, want %d", mt.Size(), i+1)
		}
		check(i + 1)
	}
	for size := range uint64(n + 1) {
		check(size)
	}
}

// TestRFC6962Vectors checks roots against the well-known RFC 6962 reference test
// vectors (used by Certificate Transparency implementations).
func TestRFC6962Vectors(t *testing.T) {
	leaves := []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	roots := []string{
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	}
	var mt MemoryTree
	for size, want := range roots {
		if size > 0 {
			d, _ := hex.DecodeString(leaves[size-1])
			if _, err := mt.Append(d); err != nil {
				t.Fatal(err)
			}
		}
		got, err := TreeRoot(&mt, uint64(size))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("size %d: root %x, want %s", size, got, want)
		}
	}
}

func TestInclusionAllPairs(t *testing.T) {
	const n = 40
	mt := buildTree(t, n)
	for size := uint64(1); size <= n; size++ {
		root, err := TreeRoot(mt, size)
		if err != nil {
			t.Fatal(err)
		}
		cp := Checkpoint{Origin: "o", Size: size, Root: root}
		for index := range size {
			p, err := ProveInclusion(mt, index, size)
			if err != nil {
				t.Fatalf("ProveInclusion(%d, %d): %v", index, size, err)
			}
			if p.Index != index || p.Size != size {
				t.Fatalf("proof labelled (%d, %d), want (%d, %d)", p.Index, p.Size, index, size)
			}
			if err := VerifyInclusion(p, leafData(index), root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d): %v", index, size, err)
			}
			if err := VerifyCheckpointInclusion(cp, p, leafData(index)); err != nil {
				t.Fatalf("VerifyCheckpointInclusion(%d, %d): %v", index, size, err)
			}
			var back InclusionProof
			if err := roundTripJSON(p, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, p) {
				t.Fatalf("JSON round trip = %+v, want %+v", back, p)
			}
		}
	}
}

func TestConsistencyAllPairs(t *testing.T) {
	const n = 40
	mt := buildTree(t, n)
	roots := make([]tlog.Hash, n+1)
	for size := range uint64(n + 1) {
		var err error
		if roots[size], err = TreeRoot(mt, size); err != nil {
			t.Fatal(err)
		}
	}
	for from := uint64(1); from <= n; from++ {
		for to := from; to <= n; to++ {
			p, err := ProveConsistency(mt, from, to)
			if err != nil {
				t.Fatalf("ProveConsistency(%d, %d): %v", from, to, err)
			}
			if p.From != from || p.To != to {
				t.Fatalf("proof labelled (%d, %d)", p.From, p.To)
			}
			if from == to && len(p.Hashes) != 0 {
				t.Fatalf("ProveConsistency(%d, %d) has %d hashes, want none", from, to, len(p.Hashes))
			}
			if err := VerifyConsistency(p, roots[from], roots[to]); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d): %v", from, to, err)
			}
			older := Checkpoint{Origin: "o", Size: from, Root: roots[from]}
			newer := Checkpoint{Origin: "o", Size: to, Root: roots[to]}
			if err := VerifyCheckpointConsistency(older, newer, p); err != nil {
				t.Fatalf("VerifyCheckpointConsistency(%d, %d): %v", from, to, err)
			}
			var back ConsistencyProof
			if err := roundTripJSON(p, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, p) {
				t.Fatalf("JSON round trip = %+v, want %+v", back, p)
			}
		}
	}
}

func roundTripJSON(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func wantBadProof(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: verified, want error", what)
	}
	if !errors.Is(err, ErrBadProof) {
		t.Fatalf("%s: error %v does not wrap ErrBadProof", what, err)
	}
}

// TestInclusionCorruption: no single change to a valid inclusion proof, its
// leaf, its root or its checkpoint verifies.
func TestInclusionCorruption(t *testing.T) {
	const n = 40
	mt := buildTree(t, n)
	pairs := [][2]uint64{{0, 1}, {0, 2}, {1, 2}, {2, 3}, {0, 7}, {5, 8}, {6, 7}, {12, 13}, {0, 40}, {17, 40}, {31, 32}, {39, 40}, {32, 33}}
	for _, pair := range pairs {
		index, size := pair[0], pair[1]
		p, err := ProveInclusion(mt, index, size)
		if err != nil {
			t.Fatal(err)
		}
		root, _ := TreeRoot(mt, size)
		cp := Checkpoint{Origin: "o", Size: size, Root: root}
		data := leafData(index)
		verify := func(what string, q InclusionProof, d []byte, r tlog.Hash) {
			t.Helper()
			wantBadProof(t, what, VerifyInclusion(q, d, r))
			wantBadProof(t, what+" (checkpoint)", VerifyCheckpointInclusion(Checkpoint{Origin: "o", Size: q.Size, Root: r}, q, d))
		}
		with := func(hs []tlog.Hash) InclusionProof { return InclusionProof{Index: index, Size: size, Hashes: hs} }

		for i := range p.Hashes {
			for b := range tlog.HashSize * 8 {
				verify("bit flip", with(flipBit(p.Hashes, i, b)), data, root)
			}
			dropped := append(append([]tlog.Hash(nil), p.Hashes[:i]...), p.Hashes[i+1:]...)
			verify("dropped hash", with(dropped), data, root)
			dup := append(append([]tlog.Hash(nil), p.Hashes[:i+1]...), p.Hashes[i:]...)
			verify("duplicated hash", with(dup), data, root)
		}
		verify("extra hash at end", with(append(append([]tlog.Hash(nil), p.Hashes...), root)), data, root)
		verify("extra hash at start", with(append([]tlog.Hash{tlog.RecordHash(data)}, p.Hashes...)), data, root)
		verify("extra zero hash", with(append(append([]tlog.Hash(nil), p.Hashes...), tlog.Hash{})), data, root)
		if len(p.Hashes) > 1 {
			rev := append([]tlog.Hash(nil), p.Hashes...)
			rev[0], rev[len(rev)-1] = rev[len(rev)-1], rev[0]
			verify("reordered hashes", with(rev), data, root)
		}
		for other := range size + 2 {
			if other != index {
				verify("wrong index", InclusionProof{Index: other, Size: size, Hashes: p.Hashes}, data, root)
			}
		}
		verify("index MaxUint64", InclusionProof{Index: math.MaxUint64, Size: size, Hashes: p.Hashes}, data, root)
		// A wrong size is always caught once the size is bound to the root by
		// a checkpoint (see TestInclusionSizeMustBeBound for why the bare root
		// is not enough).
		for other := range size + 4 {
			if other != size {
				q := InclusionProof{Index: index, Size: other, Hashes: p.Hashes}
				wantBadProof(t, "wrong size", VerifyCheckpointInclusion(cp, q, data))
			}
		}
		wantBadProof(t, "size MaxUint64", VerifyCheckpointInclusion(cp, InclusionProof{Index: index, Size: math.MaxUint64, Hashes: p.Hashes}, data))
		wantBadProof(t, "size 0 raw", VerifyInclusion(InclusionProof{Index: index, Size: 0, Hashes: p.Hashes}, data, root))
		wantBadProof(t, "size > MaxInt64 raw", VerifyInclusion(InclusionProof{Index: index, Size: math.MaxInt64 + 1, Hashes: p.Hashes}, data, root))
		for other := range uint64(n) {
			if other != index {
				verify("wrong leaf", p, leafData(other), root)
			}
		}
		verify("empty leaf", p, nil, root)
		verify("leaf with extra byte", p, append(append([]byte(nil), data...), 0), root)
		lh := tlog.RecordHash(data)
		verify("leaf hash instead of data", p, lh[:], root)
		for other := uint64(0); other <= n; other++ {
			if other != size {
				r, _ := TreeRoot(mt, other)
				verify("root of another size", p, data, r)
			}
		}
		verify("zero root", p, data, tlog.Hash{})
		for b := range tlog.HashSize * 8 {
			verify("root bit flip", p, data, flipBit([]tlog.Hash{root}, 0, b)[0])
		}
	}
}

// TestInclusionSizeMustBeBound documents why VerifyInclusion's root must be
// known to belong to p.Size: the audit path of leaf 2 in a 3-leaf tree is also a
// valid audit path of "leaf 1 in a 2-leaf tree" with the same root. Binding the
// size to a checkpoint rejects the relabelled proof.
func TestInclusionSizeMustBeBound(t *testing.T) {
	mt := buildTree(t, 3)
	root, _ := TreeRoot(mt, 3)
	p, err := ProveInclusion(mt, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	relabelled := InclusionProof{Index: 1, Size: 2, Hashes: p.Hashes}
	if err := VerifyInclusion(relabelled, leafData(2), root); err != nil {
		t.Fatalf("expected the relabelled proof to pass the bare-root check (tree shape coincidence), got %v", err)
	}
	wantBadProof(t, "relabelled proof against checkpoint", VerifyCheckpointInclusion(Checkpoint{Origin: "o", Size: 3, Root: root}, relabelled, leafData(2)))
}

// TestConsistencyCorruption: no single change to a valid consistency proof, its
// roots or its checkpoints verifies.
func TestConsistencyCorruption(t *testing.T) {
	const n = 40
	mt := buildTree(t, n)
	roots := make([]tlog.Hash, n+1)
	for size := range uint64(n + 1) {
		roots[size], _ = TreeRoot(mt, size)
	}
	pairs := [][2]uint64{{1, 1}, {1, 2}, {2, 3}, {3, 7}, {4, 8}, {5, 8}, {7, 8}, {8, 8}, {1, 40}, {6, 13}, {16, 33}, {17, 40}, {31, 32}, {32, 40}, {39, 40}, {40, 40}}
	for _, pair := range pairs {
		from, to := pair[0], pair[1]
		p, err := ProveConsistency(mt, from, to)
		if err != nil {
			t.Fatal(err)
		}
		oldRoot, newRoot := roots[from], roots[to]
		older := Checkpoint{Origin: "o", Size: from, Root: oldRoot}
		newer := Checkpoint{Origin: "o", Size: to, Root: newRoot}
		verify := func(what string, q ConsistencyProof, o, nw tlog.Hash) {
			t.Helper()
			wantBadProof(t, what, VerifyConsistency(q, o, nw))
			wantBadProof(t, what+" (checkpoints)", VerifyCheckpointConsistency(
				Checkpoint{Origin: "o", Size: q.From, Root: o}, Checkpoint{Origin: "o", Size: q.To, Root: nw}, q))
		}
		with := func(hs []tlog.Hash) ConsistencyProof { return ConsistencyProof{From: from, To: to, Hashes: hs} }

		for i := range p.Hashes {
			for b := range tlog.HashSize * 8 {
				verify("bit flip", with(flipBit(p.Hashes, i, b)), oldRoot, newRoot)
			}
			dropped := append(append([]tlog.Hash(nil), p.Hashes[:i]...), p.Hashes[i+1:]...)
			verify("dropped hash", with(dropped), oldRoot, newRoot)
			dup := append(append([]tlog.Hash(nil), p.Hashes[:i+1]...), p.Hashes[i:]...)
			verify("duplicated hash", with(dup), oldRoot, newRoot)
		}
		verify("extra hash at end", with(append(append([]tlog.Hash(nil), p.Hashes...), oldRoot)), oldRoot, newRoot)
		verify("extra hash at start", with(append([]tlog.Hash{newRoot}, p.Hashes...)), oldRoot, newRoot)
		verify("extra zero hash", with(append(append([]tlog.Hash(nil), p.Hashes...), tlog.Hash{})), oldRoot, newRoot)
		if len(p.Hashes) > 1 {
			rev := append([]tlog.Hash(nil), p.Hashes...)
			rev[0], rev[len(rev)-1] = rev[len(rev)-1], rev[0]
			verify("reordered hashes", with(rev), oldRoot, newRoot)
		}
		// Wrong sizes, bound to the checkpoints.
		for other := range to + 3 {
			if other != from {
				wantBadProof(t, "wrong from", VerifyCheckpointConsistency(older, newer, ConsistencyProof{From: other, To: to, Hashes: p.Hashes}))
			}
		}
		for other := range to + 3 {
			if other != to {
				wantBadProof(t, "wrong to", VerifyCheckpointConsistency(older, newer, ConsistencyProof{From: from, To: other, Hashes: p.Hashes}))
			}
		}
		wantBadProof(t, "from 0 raw", VerifyConsistency(ConsistencyProof{From: 0, To: to, Hashes: p.Hashes}, oldRoot, newRoot))
		wantBadProof(t, "from > to raw", VerifyConsistency(ConsistencyProof{From: to + 1, To: to, Hashes: p.Hashes}, oldRoot, newRoot))
		wantBadProof(t, "to > MaxInt64 raw", VerifyConsistency(ConsistencyProof{From: from, To: math.MaxInt64 + 1, Hashes: p.Hashes}, oldRoot, newRoot))
		wantBadProof(t, "different origins", VerifyCheckpointConsistency(older, Checkpoint{Origin: "p", Size: to, Root: newRoot}, p))
		// Wrong roots.
		for other := uint64(1); other <= n; other++ {
			if roots[other] != oldRoot {
				verify("wrong old root", p, roots[other], newRoot)
			}
			if roots[other] != newRoot {
				verify("wrong new root", p, oldRoot, roots[other])
			}
		}
		if from != to {
			verify("roots swapped", p, newRoot, oldRoot)
		}
		verify("zero old root", p, tlog.Hash{}, newRoot)
		verify("zero new root", p, oldRoot, tlog.Hash{})
		for b := range tlog.HashSize * 8 {
			verify("old root bit flip", p, flipBit([]tlog.Hash{oldRoot}, 0, b)[0], newRoot)
			verify("new root bit flip", p, oldRoot, flipBit([]tlog.Hash{newRoot}, 0, b)[0])
		}
	}
	// A tree that does not extend the old one: same size, one leaf changed.
	var fork MemoryTree
	for i := range uint64(n) {
		d := leafData(i)
		if i == 10 {
			d = []byte("forked")
		}
		fork.Append(d)
	}
	forkRoot, _ := TreeRoot(&fork, n)
	p, err := ProveConsistency(&fork, 20, n)
	if err != nil {
		t.Fatal(err)
	}
	wantBadProof(t, "forked history", VerifyConsistency(p, roots[20], forkRoot))
	p, _ = ProveConsistency(mt, 20, n)
	wantBadProof(t, "forked history (honest proof)", VerifyConsistency(p, roots[20], forkRoot))
}

// errMissing is what a store-like reader returns for hashes it does not hold.
var errMissing = errors.New("store: not found")

func TestProveOutOfRange(t *testing.T) {
	mt := buildTree(t, 10)
	plain := tlog.HashReaderFunc(mt.ReadHashes) // no Size method: probed
	zeros := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		s := mt.Size()
		for i, x := range idx {
			if lvl, k := tlog.SplitStoredHashIndex(x); k<<lvl < int64(s) {
				h, err := mt.ReadHashes([]int64{x})
				if err != nil {
					return nil, err
				}
				out[i] = h[0]
			}
		}
		return out, nil // zero hashes for anything not stored
	})
	failing := tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) { return nil, errMissing })

	readers := []struct {
		name string
		r    tlog.HashReader
	}{{"MemoryTree", mt}, {"plain reader", plain}, {"zero-filling reader", zeros}}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			r := rd.r
			incl := [][2]uint64{{0, 0}, {10, 10}, {11, 10}, {0, 11}, {9, 11}, {10, 11}, {0, math.MaxUint64}, {math.MaxUint64, math.MaxUint64}, {0, math.MaxInt64 + 1}}
			for _, c := range incl {
				if p, err := ProveInclusion(r, c[0], c[1]); !errors.Is(err, ErrOutOfRange) {
					t.Errorf("ProveInclusion(%d, %d) = %+v, %v; want ErrOutOfRange", c[0], c[1], p, err)
				}
			}
			cons := [][2]uint64{{0, 0}, {0, 5}, {0, 10}, {6, 5}, {11, 10}, {1, 11}, {10, 11}, {11, 11}, {1, math.MaxUint64}}
			for _, c := range cons {
				if p, err := ProveConsistency(r, c[0], c[1]); !errors.Is(err, ErrOutOfRange) {
					t.Errorf("ProveConsistency(%d, %d) = %+v, %v; want ErrOutOfRange", c[0], c[1], p, err)
				}
			}
			for _, size := range []uint64{11, 16, math.MaxUint64} {
				if h, err := TreeRoot(r, size); !errors.Is(err, ErrOutOfRange) {
					t.Errorf("TreeRoot(%d) = %v, %v; want ErrOutOfRange", size, h, err)
				}
			}
			// In-range requests work through every reader and agree.
			want, _ := ProveInclusion(mt, 3, 10)
			if p, err := ProveInclusion(r, 3, 10); err != nil || !reflect.DeepEqual(p, want) {
				t.Errorf("ProveInclusion(3, 10) = %+v, %v; want %+v", p, err, want)
			}
			wantC, _ := ProveConsistency(mt, 4, 10)
			if p, err := ProveConsistency(r, 4, 10); err != nil || !reflect.DeepEqual(p, wantC) {
				t.Errorf("ProveConsistency(4, 10) = %+v, %v; want %+v", p, err, wantC)
			}
			wantR, _ := TreeRoot(mt, 10)
			if h, err := TreeRoot(r, 10); err != nil || h != wantR {
				t.Errorf("TreeRoot(10) = %v, %v; want %v", h, err, wantR)
			}
		})
	}
	// A reader error is reported as out of range and still wraps the cause.
	_, err := ProveInclusion(failing, 0, 1)
	if !errors.Is(err, ErrOutOfRange) || !errors.Is(err, errMissing) {
		t.Errorf("ProveInclusion(failing reader) = %v, want ErrOutOfRange and the reader's error", err)
	}
	if _, err := TreeRoot(failing, 0); err != nil {
		t.Errorf("TreeRoot(size 0) reads nothing, got %v", err)
	}
	if _, err := mt.ReadHashes([]int64{-1}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("ReadHashes(-1) = %v", err)
	}
	if _, err := mt.ReadHashes([]int64{tlog.StoredHashCount(10)}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("ReadHashes(past end) = %v", err)
	}
}

func TestProofJSON(t *testing.T) {
	mt := buildTree(t, 5)
	p, _ := ProveInclusion(mt, 4, 5)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"index":4,"size":5,"hashes":["` + p.Hashes[0].String() + `"]}`
	if string(b) != want {
		t.Fatalf("Marshal = %s, want %s", b, want)
	}
	single, _ := ProveInclusion(buildTree(t, 1), 0, 1)
	if b, _ := json.Marshal(single); string(b) != `{"index":0,"size":1,"hashes":[]}` {
		t.Fatalf("empty inclusion proof = %s", b)
	}
	same, _ := ProveConsistency(mt, 5, 5)
	if b, _ := json.Marshal(same); string(b) != `{"from":5,"to":5,"hashes":[]}` {
		t.Fatalf("empty consistency proof = %s", b)
	}
	if b, _ := json.Marshal(InclusionProof{}); string(b) != `{"index":0,"size":0,"hashes":[]}` {
		t.Fatalf("zero proof = %s", b)
	}
	c, _ := ProveConsistency(mt, 3, 5)
	b, _ = json.Marshal(c)
	if !strings.HasPrefix(string(b), `{"from":3,"to":5,"hashes":["`) {
		t.Fatalf("consistency JSON = %s", b)
	}

	good := p.Hashes[0].String()
	bad := []string{
		`{"index":4,"size":5,"hashes":["` + strings.TrimSuffix(good, "=") + `"]}`,        // unpadded
		`{"index":4,"size":5,"hashes":["` + good[:42] + "\\r" + good[42:] + `"]}`,        // CR skipped by decoder
		`{"index":4,"size":5,"hashes":["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="]}`, // non-canonical bits
		`{"index":4,"size":5,"hashes":["AAAA"]}`,                                         // 3 bytes
		`{"index":4,"size":5,"hashes":[12]}`,                                             // not a string
		`{"index":-1,"size":5,"hashes":[]}`,                                              // negative
		`{"index":4,"size":5,"hashes":"` + good + `"}`,                                   // not a list
	}
	for _, s := range bad {
		var q InclusionProof
		if err := json.Unmarshal([]byte(s), &q); err == nil {
			t.Errorf("Unmarshal(%s) succeeded: %+v", s, q)
		}
		var cq ConsistencyProof
		if err := json.Unmarshal([]byte(strings.NewReplacer(`"index"`, `"from"`, `"size"`, `"to"`).Replace(s)), &cq); err == nil {
			t.Errorf("Unmarshal consistency (%s) succeeded: %+v", s, cq)
		}
	}
	var q InclusionProof
	if err := json.Unmarshal([]byte(`{"index":0,"size":1,"hashes":null}`), &q); err != nil || len(q.Hashes) != 0 {
		t.Fatalf("null hashes: %+v, %v", q, err)
	}
}

// TestMemoryTreeConcurrent appends and proves from many goroutines (run with
// -race); every leaf ends up provable at the index Append returned.
func TestMemoryTreeConcurrent(t *testing.T) {
	var mt MemoryTree
	const workers, per = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	at := map[uint64][]byte{}
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				d := []byte{byte(w), byte(i)}
				idx, err := mt.Append(d)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				at[idx] = d
				mu.Unlock()
				size := mt.Size()
				if _, err := ProveInclusion(&mt, idx, size); err != nil {
					t.Error(err)
				}
				if _, err := TreeRoot(&mt, size); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if mt.Size() != workers*per || len(at) != workers*per {
		t.Fatalf("size %d, %d distinct indexes", mt.Size(), len(at))
	}
	leaves := make([][]byte, mt.Size())
	for i, d := range at {
		leaves[i] = d
	}
	root, _ := TreeRoot(&mt, mt.Size())
	if root != naiveRoot(leaves) {
		t.Fatal("root does not match the leaves at their returned indexes")
	}
}
