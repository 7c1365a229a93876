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

// headOf is the head a leaf leaves its subject at.
func headOf(l registry.Leaf) registry.Head { return registry.Head{Seq: l.Seq, Hash: l.Hash} }

// mkLeaf returns seq of subject with some data.
func mkLeaf(subject string, seq uint64) registry.Leaf {
	data := fmt.Appendf(nil, `{"subject":%q,"seq":%d}`, subject, seq)
	return registry.Leaf{Subject: subject, Seq: seq, Hash: fmt.Sprintf("hash-%s-%d", subject, seq), Data: data}
}

// mustAppend appends leaf with want and checks the returned index is the
// previous size.
func mustAppend(t testing.TB, s registry.Store, want registry.Head, leaf registry.Leaf) uint64 {
	t.Helper()
	ctx := t.Context()
	before := size(t, s)
	idx, err := s.Append(ctx, want, leaf)
	if err != nil {
		t.Fatalf("Append(%+v, %s seq %d): %v", want, leaf.Subject, leaf.Seq, err)
	}
	if idx != before {
		t.Fatalf("Append returned index %d, want the previous size %d", idx, before)
	}
	if after := size(t, s); after != before+1 {
		t.Fatalf("Size after Append = %d, want %d", after, before+1)
	}
	return idx
}

// appendChain appends seqs 1..n of subject, starting from the zero head.
func appendChain(t testing.TB, s registry.Store, subject string, n int) []registry.Leaf {
	t.Helper()
	var head registry.Head
	var out []registry.Leaf
	for seq := uint64(1); seq <= uint64(n); seq++ {
		l := mkLeaf(subject, seq)
		l.Index = mustAppend(t, s, head, l)
		head = headOf(l)
		out = append(out, l)
	}
	return out
}

func size(t testing.TB, s registry.Store) uint64 {
	t.Helper()
	n, err := s.Size(t.Context())
	if err != nil {
		t.Fatalf("Size: %v", err)
	}
	return n
}

func wantSize(t testing.TB, s registry.Store, want uint64) {
	t.Helper()
	if got := size(t, s); got != want {
		t.Fatalf("Size = %d, want %d", got, want)
	}
}

func wantHead(t testing.TB, s registry.Store, subject string, want registry.Head) {
	t.Helper()
	got, err := s.Head(t.Context(), subject)
	if err != nil {
		t.Fatalf("Head(%q): %v", subject, err)
	}
	if got != want {
		t.Fatalf("Head(%q) = %+v, want %+v", subject, got, want)
	}
}

func wantHistory(t testing.TB, s registry.Store, subject string, want []uint64) {
	t.Helper()
	got, err := s.History(t.Context(), subject)
	if err != nil {
		t.Fatalf("History(%q): %v", subject, err)
	}
	if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
		t.Fatalf("History(%q) = %v, want %v", subject, got, want)
	}
}

// wantLeaf checks Leaf(want.Index) returns exactly want.
func wantLeaf(t testing.TB, s registry.Store, want registry.Leaf) {
	t.Helper()
	got, err := s.Leaf(t.Context(), want.Index)
	if err != nil {
		t.Fatalf("Leaf(%d): %v", want.Index, err)
	}
	if !sameLeaf(got, want) {
		t.Fatalf("Leaf(%d) = %s, want %s", want.Index, showLeaf(got), showLeaf(want))
	}
}

func sameLeaf(a, b registry.Leaf) bool {
	return a.Index == b.Index && a.Subject == b.Subject && a.Seq == b.Seq && a.Hash == b.Hash && bytes.Equal(a.Data, b.Data)
}

func showLeaf(l registry.Leaf) string {
	return fmt.Sprintf("{Index:%d Subject:%q Seq:%d Hash:%q Data:%q}", l.Index, l.Subject, l.Seq, l.Hash, l.Data)
}

func wantNoLeaf(t testing.TB, s registry.Store, index uint64) {
	t.Helper()
	got, err := s.Leaf(t.Context(), index)
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Leaf(%d) = %s, %v; want ErrNotFound", index, showLeaf(got), err)
	}
}

// storeRoot is the store's tree hash at size n, read through HashReader.
func storeRoot(t testing.TB, s registry.Store, n uint64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(int64(n), registry.HashReader(t.Context(), s))
	if err != nil {
		t.Fatalf("TreeHash(%d) from the store: %v", n, err)
	}
	return h
}

// referenceOf builds the reference tree from the store's leaves 0..n-1.
func referenceOf(t testing.TB, s registry.Store, n uint64) *reference {
	t.Helper()
	ref := newReference()
	for i := range n {
		l, err := s.Leaf(t.Context(), i)
		if err != nil {
			t.Fatalf("Leaf(%d): %v", i, err)
		}
		if l.Index != i {
			t.Fatalf("Leaf(%d).Index = %d", i, l.Index)
		}
		if err := ref.add(l.Data); err != nil {
			t.Fatal(err)
		}
	}
	return ref
}

// wantSameHashes checks every stored hash of a tree of size n equals the
// reference's, and so does the root at every size up to n.
func wantSameHashes(t testing.TB, s registry.Store, ref *reference, n uint64) {
	t.Helper()
	count := tlog.StoredHashCount(int64(n))
	idx := make([]int64, count)
	for i := range idx {
		idx[i] = int64(i)
	}
	got, err := s.ReadHashes(t.Context(), idx)
	if err != nil {
		t.Fatalf("ReadHashes(0..%d): %v", count-1, err)
	}
	want, err := ref.ReadHashes(idx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ReadHashes returned %d hashes, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			level, n := tlog.SplitStoredHashIndex(int64(i))
			t.Fatalf("stored hash %d (level %d, n %d) = %v, want %v", i, level, n, got[i], want[i])
		}
	}
	for k := uint64(0); k <= n; k++ {
		want, err := ref.root(int64(k))
		if err != nil {
			t.Fatal(err)
		}
		if got := storeRoot(t, s, k); got != want {
			t.Fatalf("root at size %d = %x, reference %x", k, got[:], want[:])
		}
	}
}

// CheckTree fails t unless every stored hash of s, and its root at every size,
// equals those of an independent reference tree built from s's leaves
// 0..Size-1 in index order. It returns the root at Size.
func CheckTree(t testing.TB, s registry.Store) tlog.Hash {
	t.Helper()
	n := size(t, s)
	ref := referenceOf(t, s, n)
	wantSameHashes(t, s, ref, n)
	return mustRoot(t, ref, int64(n))
}

func mustRoot(t testing.TB, ref *reference, n int64) tlog.Hash {
	t.Helper()
	h, err := ref.root(n)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
