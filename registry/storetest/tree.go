package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

func testReadHashesMissing(t *testing.T, s registry.Store) {
	ctx := t.Context()
	if _, err := s.ReadHashes(ctx, []int64{0}); err == nil {
		t.Fatal("ReadHashes(0) on an empty store succeeded")
	}
	appendChain(t, s, "did:credence:a", 4)
	n := tlog.StoredHashCount(4)
	if _, err := s.ReadHashes(ctx, []int64{0, n - 1}); err != nil {
		t.Fatalf("ReadHashes of stored hashes: %v", err)
	}
	for _, idx := range []int64{n, n + 1, 1 << 40} {
		if _, err := s.ReadHashes(ctx, []int64{0, idx}); err == nil {
			t.Fatalf("ReadHashes(%d) beyond the %d stored hashes succeeded", idx, n)
		}
	}
}

func testHashChain(t *testing.T, s registry.Store) {
	subjects := []string{"did:credence:x", "did:credence:y", "statuslist:1", "trust:root"}
	heads := map[string]registry.Head{}
	ref := newReference()
	const n = 70
	for i := range n {
		subj := subjects[(i*i+i/3)%len(subjects)]
		l := mkLeaf(subj, heads[subj].Seq+1)
		l.Data = fmt.Appendf(l.Data, " leaf %d", i)
		mustAppend(t, s, heads[subj], l)
		heads[subj] = headOf(l)
		if err := ref.add(l.Data); err != nil {
			t.Fatal(err)
		}
		want, err := ref.root(int64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := storeRoot(t, s, uint64(i+1)); got != want {
			t.Fatalf("root after %d appends = %x, reference %x", i+1, got[:], want[:])
		}
	}
	wantSameHashes(t, s, ref, n)
	// The leaf hashes are RFC 6962 record hashes of the data.
	for i := range uint64(n) {
		l, err := s.Leaf(t.Context(), i)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := s.ReadHashes(t.Context(), []int64{tlog.StoredHashIndex(0, int64(i))})
		if err != nil {
			t.Fatal(err)
		}
		if hs[0] != tlog.RecordHash(l.Data) {
			t.Fatalf("stored leaf hash %d is not RecordHash(Leaf(%d).Data)", i, i)
		}
	}
}

func testDeterministicRootAndProofs(t *testing.T, s registry.Store) {
	ctx := t.Context()
	leaves := DeterministicLeaves(300, 7)
	heads := map[string]registry.Head{}
	ref := newReference()
	for i, l := range leaves {
		idx, err := s.Append(ctx, heads[l.Subject], l)
		if err != nil {
			t.Fatalf("Append #%d: %v", i, err)
		}
		if idx != uint64(i) {
			t.Fatalf("Append #%d returned index %d", i, idx)
		}
		heads[l.Subject] = headOf(l)
		if err := ref.add(l.Data); err != nil {
			t.Fatal(err)
		}
	}
	wantSize(t, s, 300)
	if refRoot := mustRoot(t, ref, 300); fmt.Sprintf("%x", refRoot[:]) != ExpectedRoot {
		t.Fatalf("reference root = %x, want ExpectedRoot %s (the fixed sequence changed?)", refRoot[:], ExpectedRoot)
	}
	if got := storeRoot(t, s, 300); fmt.Sprintf("%x", got[:]) != ExpectedRoot {
		t.Fatalf("store root = %x, want %s", got[:], ExpectedRoot)
	}
	wantSameHashes(t, s, ref, 300)

	r := registry.HashReader(ctx, s)
	pairs := [][2]int64{{0, 1}, {0, 300}, {1, 2}, {6, 7}, {7, 8}, {63, 64}, {64, 65}, {100, 257}, {255, 256}, {256, 300}, {298, 299}, {299, 300}, {17, 123}}
	for _, p := range pairs {
		index, treeSize := p[0], p[1]
		got, err := tlog.ProveRecord(treeSize, index, r)
		if err != nil {
			t.Fatalf("ProveRecord(%d, %d) from the store: %v", treeSize, index, err)
		}
		want, err := tlog.ProveRecord(treeSize, index, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ProveRecord(%d, %d) differs from the reference", treeSize, index)
		}
		root, err := ref.root(treeSize)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(got, treeSize, root, index, tlog.RecordHash(leaves[index].Data)); err != nil {
			t.Fatalf("CheckRecord(%d, %d): %v", treeSize, index, err)
		}
		if index == 0 {
			continue
		}
		// index doubles as an older tree size for consistency proofs.
		gotTree, err := tlog.ProveTree(treeSize, index, r)
		if err != nil {
			t.Fatalf("ProveTree(%d, %d) from the store: %v", treeSize, index, err)
		}
		wantTree, err := tlog.ProveTree(treeSize, index, ref)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(gotTree, wantTree) {
			t.Fatalf("ProveTree(%d, %d) differs from the reference", treeSize, index)
		}
		old, err := ref.root(index)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(gotTree, treeSize, root, index, old); err != nil {
			t.Fatalf("CheckTree(%d, %d): %v", treeSize, index, err)
		}
	}
}

func testCheckpoints(t *testing.T, s registry.Store) {
	ctx := t.Context()
	if _, _, err := s.Checkpoint(ctx); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Checkpoint before any = %v, want ErrNotFound", err)
	}
	want := func(size uint64, signed []byte) {
		t.Helper()
		n, got, err := s.Checkpoint(ctx)
		if err != nil {
			t.Fatalf("Checkpoint: %v", err)
		}
		if n != size || !bytes.Equal(got, signed) {
			t.Fatalf("Checkpoint = %d, %q; want %d, %q", n, got, size, signed)
		}
	}
	save := func(size uint64, signed []byte) {
		t.Helper()
		if err := s.SaveCheckpoint(ctx, size, signed); err != nil {
			t.Fatalf("SaveCheckpoint(%d): %v", size, err)
		}
	}
	if err := s.SaveCheckpoint(ctx, 1, []byte("beyond")); err == nil {
		t.Fatal("SaveCheckpoint beyond Size succeeded")
	}
	save(0, []byte("origin\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n— sig\n"))
	appendChain(t, s, "did:credence:a", 5)
	save(2, []byte("cp 2"))
	want(2, []byte("cp 2"))
	signed := []byte("origin\n5\nroot\n\n\x00\xff binary — sig\n")
	save(5, signed)
	copy(signed, "XXXX") // the store keeps its own copy
	want(5, []byte("origin\n5\nroot\n\n\x00\xff binary — sig\n"))
	for _, n := range []uint64{4, 2, 0} {
		if err := s.SaveCheckpoint(ctx, n, []byte("older")); err == nil {
			t.Fatalf("SaveCheckpoint(%d) after 5 succeeded: checkpoints must never go backwards", n)
		}
	}
	want(5, []byte("origin\n5\nroot\n\n\x00\xff binary — sig\n"))
	if err := s.SaveCheckpoint(ctx, 6, []byte("beyond")); err == nil {
		t.Fatal("SaveCheckpoint(6) beyond Size 5 succeeded")
	}
	save(5, []byte("cp 5 again")) // same size: replaces (e.g. re-signed)
	want(5, []byte("cp 5 again"))
	appendChain(t, s, "did:credence:b", 1)
	save(6, []byte("cp 6"))
	want(6, []byte("cp 6"))
}
