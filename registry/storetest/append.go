package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

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
