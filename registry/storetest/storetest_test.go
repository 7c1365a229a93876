package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// TestSuiteOnMemoryStore runs the suite on a minimal in-memory store, so the
// suite itself is checked without any driver.
func TestSuiteOnMemoryStore(t *testing.T) {
	Run(t, func(t *testing.T) registry.Store { return newMemStore() })
}

// TestExpectedRoot pins ExpectedRoot to the reference tree of the fixed
// sequence.
func TestExpectedRoot(t *testing.T) {
	ref := newReference()
	for _, l := range DeterministicLeaves(300, 7) {
		if err := ref.add(l.Data); err != nil {
			t.Fatal(err)
		}
	}
	root := mustRoot(t, ref, 300)
	if got := fmt.Sprintf("%x", root[:]); got != ExpectedRoot {
		t.Fatalf("reference root of the fixed sequence = %s, ExpectedRoot = %s", got, ExpectedRoot)
	}
}

// TestReferenceMatchesDefinition cross-checks the reference's roots with the
// recursive Merkle tree hash definition of RFC 6962 section 2.1, built from
// tlog's leaf and node hash functions.
func TestReferenceMatchesDefinition(t *testing.T) {
	var datas [][]byte
	ref := newReference()
	if got, want := mustRoot(t, ref, 0), mth(nil); got != want {
		t.Fatalf("empty root = %v, want %v", got, want)
	}
	for i := range 40 {
		d := fmt.Appendf(nil, "leaf %d", i)
		datas = append(datas, d)
		if err := ref.add(d); err != nil {
			t.Fatal(err)
		}
		if got, want := mustRoot(t, ref, int64(i+1)), mth(datas); got != want {
			t.Fatalf("root at %d = %v, definition %v", i+1, got, want)
		}
	}
}

// mth is RFC 6962's MTH(D[n]) over tlog.RecordHash and tlog.NodeHash.
func mth(d [][]byte) tlog.Hash {
	switch len(d) {
	case 0:
		h, _ := tlog.TreeHash(0, nil)
		return h
	case 1:
		return tlog.RecordHash(d[0])
	}
	k := 1 << (bits.Len(uint(len(d)-1)) - 1) // largest power of two < n
	return tlog.NodeHash(mth(d[:k]), mth(d[k:]))
}

// memStore is the simplest store that follows the contract.
type memStore struct {
	mu         sync.Mutex
	leaves     []registry.Leaf
	ref        *reference
	heads      map[string]registry.Head
	history    map[string][]uint64
	cpSize     uint64
	cpSigned   []byte
	checkpoint bool
	events     *registry.EventBus
}

func newMemStore() *memStore {
	return &memStore{ref: newReference(), heads: map[string]registry.Head{}, history: map[string][]uint64{}, events: registry.NewEventBus(0)}
}

func (m *memStore) Subjects(ctx context.Context, prefix string, fn func(string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	var subjects []string
	for s := range m.heads {
		if strings.HasPrefix(s, prefix) {
			subjects = append(subjects, s)
		}
	}
	m.mu.Unlock()
	slices.Sort(subjects)
	for _, s := range subjects {
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Events(ctx context.Context) (<-chan registry.Event, error) {
	return m.events.Subscribe(ctx), nil
}

func (m *memStore) Append(ctx context.Context, want registry.Head, leaf registry.Leaf) (uint64, error) {
	return m.AppendGuarded(ctx, want, nil, leaf)
}

func (m *memStore) AppendGuarded(ctx context.Context, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if leaf.Subject == "" || leaf.Seq <= want.Seq {
		return 0, errors.New("memstore: invalid leaf")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.heads[leaf.Subject] != want {
		return 0, registry.ErrConflict
	}
	for _, g := range guards {
		if m.heads[g.Subject] != g.Head {
			return 0, registry.ErrConflict
		}
	}
	leaf.Index = uint64(len(m.leaves))
	leaf.Data = bytes.Clone(leaf.Data)
	if err := m.ref.add(leaf.Data); err != nil {
		return 0, err
	}
	m.leaves = append(m.leaves, leaf)
	m.heads[leaf.Subject] = registry.Head{Seq: leaf.Seq, Hash: leaf.Hash}
	m.history[leaf.Subject] = append(m.history[leaf.Subject], leaf.Index)
	m.events.Publish(registry.LeafEvent(leaf)) // under mu: in index order
	return leaf.Index, nil
}

func (m *memStore) Leaf(_ context.Context, index uint64) (registry.Leaf, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if index >= uint64(len(m.leaves)) {
		return registry.Leaf{}, registry.ErrNotFound
	}
	l := m.leaves[index]
	l.Data = bytes.Clone(l.Data)
	return l, nil
}

func (m *memStore) Size(context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.leaves)), nil
}

func (m *memStore) Head(_ context.Context, subject string) (registry.Head, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.heads[subject], nil
}

func (m *memStore) History(_ context.Context, subject string) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint64(nil), m.history[subject]...), nil
}

func (m *memStore) ReadHashes(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ref.ReadHashes(indexes)
}

func (m *memStore) SaveCheckpoint(_ context.Context, size uint64, signed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if size > uint64(len(m.leaves)) || (m.checkpoint && size < m.cpSize) {
		return errors.New("memstore: bad checkpoint size")
	}
	m.cpSize, m.cpSigned, m.checkpoint = size, bytes.Clone(signed), true
	return nil
}

func (m *memStore) Checkpoint(context.Context) (uint64, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.checkpoint {
		return 0, nil, registry.ErrNotFound
	}
	return m.cpSize, bytes.Clone(m.cpSigned), nil
}

func (m *memStore) Close() error { return nil }
