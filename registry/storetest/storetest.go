// Package storetest is the conformance suite every registry.Store driver must
// pass.
//
// A driver's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) registry.Store { return open(t) })
//	}
//
// Every subtest opens its own store and may run in parallel with the others,
// so stores returned by open must not share data (use a fresh file, a unique
// key prefix, ...). Run closes every store it opens.
//
// The Merkle tree is checked against an independent in-memory reference built
// with tlog.StoredHashes, stored hash for stored hash, and one fixed op sequence
// must give the hard-coded root ExpectedRoot, so that two drivers are compared
// byte for byte.
//
// Beyond the letter of registry.Store's documentation the suite pins down these
// readings of the contract:
//   - Append with an empty subject, or with leaf.Seq <= want.Seq, fails with an
//     error that is not ErrConflict, and writes nothing;
//   - Append with a cancelled context fails and writes nothing;
//   - Leaf returns a copy: Data is equal byte for byte (an empty Data may come
//     back nil or empty), and neither the caller's slice nor the returned one
//     aliases the store;
//   - History of an unknown subject is empty (nil or zero length), never an
//     error;
//   - ReadHashes of a stored-hash index that was never written fails;
//   - SaveCheckpoint refuses a size below the latest saved one or above Size,
//     and replaces the latest checkpoint for an equal size.
//
// Three capabilities beyond registry.Store are required (both drivers have
// them; a store without one fails the suite):
//   - registry.GuardedAppender: a guard's subject must have exactly the
//     guard's head (the zero Head: no ops), else ErrConflict and nothing
//     written;
//   - registry.EventSource: every subscription established before an append
//     gets its event (LeafEvent of the stored leaf, with its index), in index
//     order, once, from concurrent appenders too; a failed append is no event;
//     the channel closes when its context ends;
//   - registry.SubjectLister: every subject with the prefix exactly once, in
//     byte order, whatever bytes the prefix holds (no glob or range
//     semantics), across many subjects (paging); fn's error stops the walk
//     and is returned; fn may read and append to the store; a cancelled
//     context fails.
//
// Persistence (reopening a file, restarting a server) is driver-specific and
// tested by each driver.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// ExpectedRoot is the hex tree hash of the fixed sequence of DeterministicLeaves
// (300 leaves over 7 subjects): every driver must produce exactly this root.
// It was computed with the reference (tlog.StoredHashes, tlog.TreeHash) and
// cross-checked once with an independent RFC 6962 computation (Python hashlib).
const ExpectedRoot = "34c3a5bd8886af134cf989f3dbb93e6ae8b46d4683d5909a039a18bdf98d1033"

// Run runs the conformance suite against the stores returned by open.
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"Empty", testEmpty},
		{"LeafBeyondSize", testLeafBeyondSize},
		{"FirstAppendNeedsZeroWant", testFirstAppendNeedsZeroWant},
		{"AppendRoundTrip", testAppendRoundTrip},
		{"StaleWant", testStaleWant},
		{"SubjectsIndependent", testSubjectsIndependent},
		{"InvalidLeaf", testInvalidLeaf},
		{"CancelledContext", testCancelledContext},
		{"NoAliasing", testNoAliasing},
		{"ReadHashesMissing", testReadHashesMissing},
		{"HashChain", testHashChain},
		{"DeterministicRootAndProofs", testDeterministicRootAndProofs},
		{"ConcurrentDistinctSubjects", testConcurrentDistinctSubjects},
		{"ConcurrentSameSubject", testConcurrentSameSubject},
		{"Checkpoints", testCheckpoints},
		{"GuardedAppend", testGuardedAppend},
		{"Events", testEvents},
		{"Subjects", testSubjects},
		{"SubjectsPaging", testSubjectsPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// DeterministicLeaves returns the fixed sequence behind ExpectedRoot: n leaves
// round-robin over subjects subjects, leaf i being seq i/subjects+1 of subject
// "did:credence:subject-<i%subjects>" with Data the JSON of {subject, seq, i}.
// Appending them in order, each with the subject's previous head as want,
// gives ExpectedRoot for n = 300, subjects = 7.
func DeterministicLeaves(n, subjects int) []registry.Leaf {
	out := make([]registry.Leaf, n)
	for i := range out {
		subject := fmt.Sprintf("did:credence:subject-%d", i%subjects)
		seq := uint64(i/subjects + 1)
		data, err := json.Marshal(struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"seq"`
			I       int    `json:"i"`
		}{subject, seq, i})
		if err != nil {
			panic(err) // cannot happen
		}
		out[i] = registry.Leaf{
			Subject: subject,
			Seq:     seq,
			Hash:    fmt.Sprintf("op-%d-%s", i, tlog.RecordHash(data)),
			Data:    data,
		}
	}
	return out
}

// --- helpers ---

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

// --- tests ---

func testEmpty(t *testing.T, s registry.Store) {
	ctx := t.Context()
	wantSize(t, s, 0)
	wantNoLeaf(t, s, 0)
	if n, signed, err := s.Checkpoint(ctx); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("Checkpoint on an empty store = %d, %q, %v; want ErrNotFound", n, signed, err)
	}
	wantHead(t, s, "did:credence:unknown", registry.Head{})
	wantHistory(t, s, "did:credence:unknown", nil)
	if got, want := storeRoot(t, s, 0), mustRoot(t, newReference(), 0); got != want {
		t.Fatalf("empty tree hash = %x, want %x", got[:], want[:])
	}
	if hs, err := s.ReadHashes(ctx, nil); err != nil || len(hs) != 0 {
		t.Fatalf("ReadHashes(nil) = %v, %v; want none", hs, err)
	}
}

func testLeafBeyondSize(t *testing.T, s registry.Store) {
	appendChain(t, s, "did:credence:a", 3)
	for _, i := range []uint64{3, 4, 100, 1 << 40, math.MaxUint64} {
		wantNoLeaf(t, s, i)
	}
}

func testFirstAppendNeedsZeroWant(t *testing.T, s registry.Store) {
	ctx := t.Context()
	for _, want := range []registry.Head{{Seq: 1}, {Hash: "x"}, {Seq: 1, Hash: "hash-did:credence:a-1"}} {
		if _, err := s.Append(ctx, want, mkLeaf("did:credence:a", want.Seq+1)); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("first Append with want %+v = %v, want ErrConflict", want, err)
		}
	}
	wantSize(t, s, 0)
	wantNoLeaf(t, s, 0)
	wantHead(t, s, "did:credence:a", registry.Head{})
	wantHistory(t, s, "did:credence:a", nil)
	mustAppend(t, s, registry.Head{}, mkLeaf("did:credence:a", 1))
}

func testAppendRoundTrip(t *testing.T, s registry.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	datas := [][]byte{
		[]byte(`{"v":"credence.op/1"}`),
		all,
		{0x00, '\n', '\r', 0xff, '{', '}', '"'},
		[]byte("héllo ✓\n\n"),
		{},
		bytes.Repeat([]byte("x"), registry.MaxOpBytes),
	}
	subject := "did:credence:round-trip {tag} \n é"
	var head registry.Head
	var want []uint64
	for i, data := range datas {
		l := registry.Leaf{
			Index:   999, // ignored
			Subject: subject,
			Seq:     uint64(i + 1),
			Hash:    fmt.Sprintf("sha256-%d", i),
			Data:    data,
		}
		l.Index = mustAppend(t, s, head, l)
		if l.Index != uint64(i) {
			t.Fatalf("Append #%d returned index %d", i, l.Index)
		}
		want = append(want, l.Index)
		head = headOf(l)
		wantLeaf(t, s, l)
		wantHead(t, s, subject, head)
		wantHistory(t, s, subject, want)
	}
	// Seqs need not be consecutive: the store only compares heads.
	l := registry.Leaf{Subject: subject, Seq: head.Seq + 5, Hash: "", Data: []byte("gap")}
	l.Index = mustAppend(t, s, head, l)
	wantLeaf(t, s, l)
	wantHead(t, s, subject, registry.Head{Seq: head.Seq + 5})
	wantHistory(t, s, subject, append(want, l.Index))
}

func testStaleWant(t *testing.T, s registry.Store) {
	ctx := t.Context()
	const subject = "did:credence:a"
	chain := appendChain(t, s, subject, 3)
	head := headOf(chain[2])
	stale := []registry.Head{
		{},                       // the subject exists
		headOf(chain[0]),         // two behind
		headOf(chain[1]),         // one behind
		{Seq: 3, Hash: "forged"}, // right seq, wrong hash
		{Seq: 4, Hash: head.Hash},
	}
	for _, want := range stale {
		l := mkLeaf(subject, max(want.Seq, head.Seq)+1)
		if _, err := s.Append(ctx, want, l); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("Append with stale want %+v = %v, want ErrConflict", want, err)
		}
		wantSize(t, s, 3)
		wantNoLeaf(t, s, 3)
		wantHead(t, s, subject, head)
		wantHistory(t, s, subject, []uint64{0, 1, 2})
	}
	ref := referenceOf(t, s, 3)
	wantSameHashes(t, s, ref, 3)
	if _, err := s.ReadHashes(ctx, []int64{tlog.StoredHashCount(3)}); err == nil {
		t.Fatal("a rejected Append left a stored hash behind")
	}
	l := mkLeaf(subject, 4)
	l.Index = mustAppend(t, s, head, l)
	wantLeaf(t, s, l)
}

func testSubjectsIndependent(t *testing.T, s registry.Store) {
	subjects := []string{"did:credence:a", "did:credence:b", "did:credence:ab", "did:credence:"}
	heads := map[string]registry.Head{}
	hist := map[string][]uint64{}
	var leaves []registry.Leaf
	for round := range 4 {
		for _, subj := range subjects {
			l := mkLeaf(subj, uint64(round+1))
			l.Index = mustAppend(t, s, heads[subj], l)
			heads[subj] = headOf(l)
			hist[subj] = append(hist[subj], l.Index)
			leaves = append(leaves, l)
		}
	}
	for _, subj := range subjects {
		wantHead(t, s, subj, heads[subj])
		wantHistory(t, s, subj, hist[subj])
	}
	for _, l := range leaves {
		wantLeaf(t, s, l)
	}
	wantHead(t, s, "did:credence:c", registry.Head{})
	wantHistory(t, s, "did:credence:c", nil)
}

func testInvalidLeaf(t *testing.T, s registry.Store) {
	ctx := t.Context()
	chain := appendChain(t, s, "did:credence:a", 2)
	head := headOf(chain[1])
	bad := []struct {
		name string
		want registry.Head
		leaf registry.Leaf
	}{
		{"empty subject", registry.Head{}, mkLeaf("", 1)},
		{"seq 0", registry.Head{}, mkLeaf("did:credence:b", 0)},
		{"seq equal to head", head, mkLeaf("did:credence:a", 2)},
		{"seq below head", head, mkLeaf("did:credence:a", 1)},
	}
	for _, tc := range bad {
		_, err := s.Append(ctx, tc.want, tc.leaf)
		if err == nil || errors.Is(err, registry.ErrConflict) {
			t.Fatalf("Append(%s) = %v, want a non-conflict error", tc.name, err)
		}
	}
	wantSize(t, s, 2)
	wantHead(t, s, "did:credence:a", head)
	wantHead(t, s, "did:credence:b", registry.Head{})
	wantHistory(t, s, "", nil)
}

func testCancelledContext(t *testing.T, s registry.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Append(ctx, registry.Head{}, mkLeaf("did:credence:a", 1)); err == nil {
		t.Fatal("Append with a cancelled context succeeded")
	}
	wantSize(t, s, 0)
	wantHead(t, s, "did:credence:a", registry.Head{})
}

func testNoAliasing(t *testing.T, s registry.Store) {
	ctx := t.Context()
	data := []byte("original data")
	l := registry.Leaf{Subject: "did:credence:a", Seq: 1, Hash: "h", Data: data}
	mustAppend(t, s, registry.Head{}, l)
	copy(data, "XXXXXXXX")
	got, err := s.Leaf(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data) != "original data" {
		t.Fatalf("Leaf(0).Data = %q after the caller changed its slice", got.Data)
	}
	copy(got.Data, "YYYYYYYY")
	again, err := s.Leaf(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Data) != "original data" {
		t.Fatalf("Leaf(0).Data = %q after the caller changed a returned slice", again.Data)
	}
}

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

func testConcurrentDistinctSubjects(t *testing.T, s registry.Store) {
	ctx := t.Context()
	const workers, per = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			subject := fmt.Sprintf("did:credence:worker-%d", w)
			var head registry.Head
			for seq := uint64(1); seq <= per; seq++ {
				l := mkLeaf(subject, seq)
				if _, err := s.Append(ctx, head, l); err != nil {
					errs <- fmt.Errorf("worker %d seq %d: %w", w, seq, err)
					return
				}
				head = headOf(l)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantSize(t, s, workers*per)
	seen := map[string]uint64{}
	for i := range uint64(workers * per) {
		l, err := s.Leaf(ctx, i)
		if err != nil {
			t.Fatalf("Leaf(%d): %v", i, err)
		}
		key := fmt.Sprintf("%s#%d", l.Subject, l.Seq)
		if prev, dup := seen[key]; dup {
			t.Fatalf("%s is at both index %d and %d", key, prev, i)
		}
		seen[key] = i
		if want := mkLeaf(l.Subject, l.Seq); l.Hash != want.Hash || !bytes.Equal(l.Data, want.Data) {
			t.Fatalf("Leaf(%d) = %s, want %s", i, showLeaf(l), showLeaf(want))
		}
	}
	for w := range workers {
		subject := fmt.Sprintf("did:credence:worker-%d", w)
		var want []uint64
		for seq := uint64(1); seq <= per; seq++ {
			idx, ok := seen[fmt.Sprintf("%s#%d", subject, seq)]
			if !ok {
				t.Fatalf("%s seq %d is missing", subject, seq)
			}
			want = append(want, idx)
		}
		wantHistory(t, s, subject, want)
		wantHead(t, s, subject, headOf(mkLeaf(subject, per)))
	}
	ref := referenceOf(t, s, workers*per)
	wantSameHashes(t, s, ref, workers*per)
}

func testConcurrentSameSubject(t *testing.T, s registry.Store) {
	ctx := t.Context()
	const racers = 8
	const subject = "did:credence:contested"
	// A bystander first, so the contested leaf is not leaf 0.
	mustAppend(t, s, registry.Head{}, mkLeaf("did:credence:bystander", 1))
	var wg sync.WaitGroup
	results := make([]error, racers)
	indexes := make([]uint64, racers)
	start := make(chan struct{})
	for r := range racers {
		wg.Go(func() {
			l := mkLeaf(subject, 1)
			l.Hash = fmt.Sprintf("racer-%d", r)
			l.Data = fmt.Appendf(nil, `{"racer":%d}`, r)
			<-start
			indexes[r], results[r] = s.Append(ctx, registry.Head{}, l)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for r, err := range results {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("racers %d and %d both appended seq 1", winner, r)
			}
			winner = r
		case !errors.Is(err, registry.ErrConflict):
			t.Fatalf("racer %d: %v, want nil or ErrConflict", r, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer appended")
	}
	if indexes[winner] != 1 {
		t.Fatalf("winner's index = %d, want 1", indexes[winner])
	}
	wantSize(t, s, 2)
	wantHead(t, s, subject, registry.Head{Seq: 1, Hash: fmt.Sprintf("racer-%d", winner)})
	wantHistory(t, s, subject, []uint64{1})
	l, err := s.Leaf(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if string(l.Data) != fmt.Sprintf(`{"racer":%d}`, winner) {
		t.Fatalf("Leaf(1).Data = %q, want the winner's (%d)", l.Data, winner)
	}
	wantSameHashes(t, s, referenceOf(t, s, 2), 2)
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

func testGuardedAppend(t *testing.T, s registry.Store) {
	ga, ok := s.(registry.GuardedAppender)
	if !ok {
		t.Fatal("every registry driver must implement registry.GuardedAppender (status ops are guarded by their issuer's head)")
	}
	ctx := t.Context()
	const issuer, list, other = "did:credence:issuer", "https://example.com/list", "did:credence:other"
	a1 := mkLeaf(issuer, 1)
	mustAppend(t, s, registry.Head{}, a1)
	guarded := func(want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
		t.Helper()
		return ga.AppendGuarded(ctx, want, guards, leaf)
	}

	// Guards that hold: the guarded subject's head, and an unknown subject's
	// zero head.
	l1 := mkLeaf(list, 1)
	idx, err := guarded(registry.Head{}, []registry.Guard{{Subject: issuer, Head: headOf(a1)}, {Subject: other}}, l1)
	if err != nil || idx != 1 {
		t.Fatalf("AppendGuarded with holding guards = %d, %v", idx, err)
	}
	wantHead(t, s, list, headOf(l1))
	wantHead(t, s, issuer, headOf(a1)) // a guard writes nothing
	wantHistory(t, s, issuer, []uint64{0})

	// The issuer moves on: the old guard no longer holds.
	a2 := mkLeaf(issuer, 2)
	mustAppend(t, s, headOf(a1), a2)
	l2 := mkLeaf(list, 2)
	for name, guards := range map[string][]registry.Guard{
		"stale head":            {{Subject: issuer, Head: headOf(a1)}},
		"zero head, has ops":    {{Subject: issuer}},
		"head of an unknown":    {{Subject: other, Head: headOf(a1)}},
		"one of two is stale":   {{Subject: other}, {Subject: issuer, Head: headOf(a1)}},
		"future head":           {{Subject: issuer, Head: registry.Head{Seq: 3, Hash: "x"}}},
		"right seq, wrong hash": {{Subject: issuer, Head: registry.Head{Seq: 2, Hash: "x"}}},
	} {
		if _, err := guarded(headOf(l1), guards, l2); !errors.Is(err, registry.ErrConflict) {
			t.Fatalf("%s: AppendGuarded = %v, want ErrConflict", name, err)
		}
		wantSize(t, s, 3)
		wantHead(t, s, list, headOf(l1))
	}
	// The subject's own head is still compared.
	if _, err := guarded(registry.Head{}, []registry.Guard{{Subject: issuer, Head: headOf(a2)}}, l2); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("stale want with a holding guard: %v, want ErrConflict", err)
	}
	idx, err = guarded(headOf(l1), []registry.Guard{{Subject: issuer, Head: headOf(a2)}}, l2)
	if err != nil || idx != 3 {
		t.Fatalf("AppendGuarded with the new head = %d, %v", idx, err)
	}
	// No guards: a plain Append.
	l3 := mkLeaf(list, 3)
	if idx, err := guarded(headOf(l2), nil, l3); err != nil || idx != 4 {
		t.Fatalf("AppendGuarded without guards = %d, %v", idx, err)
	}
	wantHistory(t, s, list, []uint64{1, 3, 4})
	CheckTree(t, s)
}

func testEvents(t *testing.T, s registry.Store) {
	src, ok := s.(registry.EventSource)
	if !ok {
		t.Fatal("every registry driver must implement registry.EventSource (verifiers are invalidated by registry events)")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var subs []<-chan registry.Event
	for range 2 {
		ch, err := src.Events(ctx)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		subs = append(subs, ch)
	}

	// Concurrent appenders on four subjects, a failed append among them, and
	// a leaf whose data is an op (its type is in the event).
	const subjects, per = 4, 10
	var wg sync.WaitGroup
	for i := range subjects {
		wg.Go(func() {
			subject := fmt.Sprintf("did:credence:events-%d", i)
			var head registry.Head
			for seq := uint64(1); seq <= per; seq++ {
				l := mkLeaf(subject, seq)
				if _, err := s.Append(ctx, head, l); err != nil {
					t.Errorf("Append(%s seq %d): %v", subject, seq, err)
					return
				}
				head = headOf(l)
			}
		})
	}
	wg.Wait()
	if _, err := s.Append(ctx, registry.Head{}, mkLeaf("did:credence:events-0", 1)); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("conflicting Append: %v", err)
	}
	op := registry.Leaf{Subject: "https://example.com/l", Seq: 1, Hash: "op-hash", Data: []byte(`{"subject":"https://example.com/l","type":"statuslist.create"}`)}
	mustAppend(t, s, registry.Head{}, op)
	const total = subjects*per + 1

	for n, ch := range subs {
		for i := range uint64(total) {
			var ev registry.Event
			select {
			case e, ok := <-ch:
				if !ok {
					t.Fatalf("subscription %d closed after %d events", n, i)
				}
				ev = e
			case <-time.After(5 * time.Second):
				t.Fatalf("subscription %d: no event %d within 5s", n, i)
			}
			stored, err := s.Leaf(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			stored.Index = i
			if want := registry.LeafEvent(stored); ev != want {
				t.Fatalf("subscription %d event %d = %+v, want %+v", n, i, ev, want)
			}
			if i == total-1 && ev.Type != registry.StatusListCreate {
				t.Fatalf("the op leaf's event has type %q", ev.Type)
			}
		}
		select {
		case ev := <-ch:
			t.Fatalf("subscription %d: extra event %+v", n, ev)
		case <-time.After(50 * time.Millisecond):
		}
	}

	// A subscription opened now sees only what is appended from now on.
	late, err := src.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l2 := registry.Leaf{Subject: op.Subject, Seq: 2, Hash: "op-hash-2", Data: []byte(`{"seq":2}`)}
	idx := mustAppend(t, s, headOf(op), l2)
	select {
	case ev := <-late:
		if ev.Index != idx || ev.Subject != l2.Subject || ev.Seq != 2 || ev.Hash != l2.Hash || ev.Reset {
			t.Fatalf("late subscription got %+v, want index %d", ev, idx)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("late subscription: no event within 5s")
	}

	cancel()
	for n, ch := range append(subs, late) {
		deadline := time.After(5 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("subscription %d not closed after its context ended", n)
			}
		}
	}
}
