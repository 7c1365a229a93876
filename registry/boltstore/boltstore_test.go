package boltstore_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/storetest"
)

func open(t testing.TB, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		return open(t, filepath.Join(t.TempDir(), "registry.db"))
	})
}

// TestConformanceSharedFile runs the suite on stores sharing their file with
// boltkv, through New(boltkv.Store.DB()).
func TestConformanceSharedFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		kvs, err := boltkv.Open(filepath.Join(t.TempDir(), "data.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kvs.Close() })
		s, err := boltstore.New(kvs.DB())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// appendAll appends leaves in order, each on its subject's previous head.
func appendAll(t testing.TB, s registry.Store, leaves []registry.Leaf) {
	t.Helper()
	heads := map[string]registry.Head{}
	for _, l := range leaves {
		h, err := s.Head(t.Context(), l.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := heads[l.Subject]; ok && h != heads[l.Subject] {
			t.Fatalf("Head(%q) = %+v, want %+v", l.Subject, h, heads[l.Subject])
		}
		if _, err := s.Append(t.Context(), h, l); err != nil {
			t.Fatalf("Append(%s seq %d): %v", l.Subject, l.Seq, err)
		}
		heads[l.Subject] = registry.Head{Seq: l.Seq, Hash: l.Hash}
	}
}

func rootHex(t testing.TB, s registry.Store, n uint64) string {
	t.Helper()
	h, err := tlog.TreeHash(int64(n), registry.HashReader(t.Context(), s))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h[:])
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	leaves := storetest.DeterministicLeaves(300, 7)
	s := open(t, path)
	appendAll(t, s, leaves)
	signed := []byte("origin\n300\nroot\n\n— sig\n")
	if err := s.SaveCheckpoint(ctx, 300, signed); err != nil {
		t.Fatal(err)
	}
	heads := map[string]registry.Head{}
	hist := map[string][]uint64{}
	for _, l := range leaves {
		heads[l.Subject], _ = s.Head(ctx, l.Subject)
		hist[l.Subject], _ = s.History(ctx, l.Subject)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	defer s.Close()
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("Verify after reopen: %v", err)
	}
	if n, err := s.Size(ctx); err != nil || n != 300 {
		t.Fatalf("Size after reopen = %d, %v", n, err)
	}
	if got := rootHex(t, s, 300); got != storetest.ExpectedRoot {
		t.Fatalf("root after reopen = %s, want %s", got, storetest.ExpectedRoot)
	}
	storetest.CheckTree(t, s)
	for i, want := range leaves {
		got, err := s.Leaf(ctx, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if got.Index != uint64(i) || got.Subject != want.Subject || got.Seq != want.Seq || got.Hash != want.Hash || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("Leaf(%d) after reopen = %+v", i, got)
		}
	}
	for subj, want := range heads {
		if got, _ := s.Head(ctx, subj); got != want {
			t.Fatalf("Head(%q) after reopen = %+v, want %+v", subj, got, want)
		}
		if got, _ := s.History(ctx, subj); !slices.Equal(got, hist[subj]) {
			t.Fatalf("History(%q) after reopen = %v, want %v", subj, got, hist[subj])
		}
	}
	n, got, err := s.Checkpoint(ctx)
	if err != nil || n != 300 || !bytes.Equal(got, signed) {
		t.Fatalf("Checkpoint after reopen = %d, %q, %v", n, got, err)
	}
	// The log goes on where it stopped.
	l := registry.Leaf{Subject: leaves[0].Subject, Seq: heads[leaves[0].Subject].Seq + 1, Hash: "next", Data: []byte("next")}
	if idx, err := s.Append(ctx, heads[l.Subject], l); err != nil || idx != 300 {
		t.Fatalf("Append after reopen = %d, %v", idx, err)
	}
	storetest.CheckTree(t, s)
}

// TestLayout pins the documented bucket layout.
func TestLayout(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "registry.db")
	s := open(t, path)
	l := registry.Leaf{Subject: "did:credence:a", Seq: 1, Hash: "h1", Data: []byte("op\n1")}
	if _, err := s.Append(ctx, registry.Head{}, l); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, 1, []byte("signed")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	be := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	err = db.View(func(tx *bbolt.Tx) error {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			names = append(names, string(name))
			return nil
		})
		want := []string{"registry.hashes", "registry.heads", "registry.history", "registry.leaves", "registry.meta"}
		if !slices.Equal(names, want) {
			t.Errorf("top-level buckets = %v, want %v", names, want)
		}
		rec := tx.Bucket([]byte("registry.leaves")).Get(be(0))
		if want := `{"index":0,"subject":"did:credence:a","seq":1,"hash":"h1"}` + "\nop\n1"; string(rec) != want {
			t.Errorf("leaf record = %q, want %q", rec, want)
		}
		h := tlog.RecordHash(l.Data)
		if got := tx.Bucket([]byte("registry.hashes")).Get(be(0)); !bytes.Equal(got, h[:]) {
			t.Errorf("stored hash 0 = %x, want %x", got, h[:])
		}
		if got := tx.Bucket([]byte("registry.heads")).Get([]byte(l.Subject)); !bytes.Equal(got, append(be(1), "h1"...)) {
			t.Errorf("head = %q", got)
		}
		hk := append(binary.BigEndian.AppendUint32(nil, uint32(len(l.Subject))), l.Subject...)
		hk = append(hk, be(1)...)
		if got := tx.Bucket([]byte("registry.history")).Get(hk); !bytes.Equal(got, be(0)) {
			t.Errorf("history entry = %x", got)
		}
		meta := tx.Bucket([]byte("registry.meta"))
		if got := meta.Get([]byte("size")); !bytes.Equal(got, be(1)) {
			t.Errorf("size = %x", got)
		}
		cp := meta.Get([]byte("checkpoint"))
		if want := append(append(be(1), h[:]...), "signed"...); !bytes.Equal(cp, want) {
			t.Errorf("checkpoint record = %x, want %x", cp, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSharesFileWithBoltkv checks the store and boltkv coexist in one file,
// and that Close leaves a shared database open.
func TestSharesFileWithBoltkv(t *testing.T) {
	ctx := t.Context()
	kvs, err := boltkv.Open(filepath.Join(t.TempDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer kvs.Close()
	s, err := boltstore.New(kvs.DB())
	if err != nil {
		t.Fatal(err)
	}
	if err := kvs.Put(ctx, "registry.leaves", "k", []byte("kv value")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: "s", Seq: 1, Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v, err := kvs.Get(ctx, "registry.leaves", "k"); err != nil || string(v) != "kv value" {
		t.Fatalf("kv Get after store Close = %q, %v", v, err)
	}
	s, err = boltstore.New(kvs.DB())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Size(ctx); err != nil || n != 1 {
		t.Fatalf("Size of a second store on the shared file = %d, %v", n, err)
	}
}

// corrupt changes the file with fn, with no store open.
func corrupt(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestInconsistentTreeIsReadOnly(t *testing.T) {
	be := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	cases := []struct {
		name string
		fn   func(tx *bbolt.Tx) error
	}{
		{"corrupted hash", func(tx *bbolt.Tx) error {
			// The level-3 hash of leaves 0..7, which the root at size 10 reads.
			return tx.Bucket([]byte("registry.hashes")).Put(be(uint64(tlog.StoredHashIndex(3, 0))), make([]byte, 32))
		}},
		{"missing hash", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("registry.hashes")).Delete(be(uint64(tlog.StoredHashIndex(1, 4))))
		}},
		{"shrunk tree", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("registry.meta")).Put([]byte("size"), be(9))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "registry.db")
			s := open(t, path)
			appendAll(t, s, storetest.DeterministicLeaves(10, 3))
			if err := s.SaveCheckpoint(ctx, 10, []byte("cp")); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx); err != nil {
				t.Fatalf("Verify of a sound tree: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			corrupt(t, path, tc.fn)

			s = open(t, path) // opens, read-only
			defer s.Close()
			if err := s.Verify(ctx); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("Verify = %v, want ErrReadOnly", err)
			}
			l := registry.Leaf{Subject: "new", Seq: 1, Data: []byte("x")}
			if _, err := s.Append(ctx, registry.Head{}, l); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("Append on an inconsistent tree = %v, want ErrReadOnly", err)
			}
			if err := s.SaveCheckpoint(ctx, 9, []byte("cp")); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("SaveCheckpoint on an inconsistent tree = %v, want ErrReadOnly", err)
			}
			if _, err := s.Leaf(ctx, 0); err != nil {
				t.Fatalf("Leaf on a read-only store: %v", err)
			}
			if n, _, err := s.Checkpoint(ctx); err != nil || n != 10 {
				t.Fatalf("Checkpoint on a read-only store = %d, %v", n, err)
			}
		})
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	first := open(t, path)
	defer first.Close()
	_, err := boltstore.Open(path, boltstore.WithTimeout(100*time.Millisecond))
	if !errors.Is(err, boltstore.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open = %v, want ErrLocked naming the file", err)
	}
}

func TestDurable(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "registry.db"))
	defer s.Close()
	if !s.Durable() {
		t.Fatal("Durable() = false with fsync on")
	}
}

// benchmarkAppend appends b.N leaves, from parallelism*GOMAXPROCS goroutines
// each on its own subjects (or serially when parallelism is 0).
func benchmarkAppend(b *testing.B, parallelism int) {
	s := open(b, filepath.Join(b.TempDir(), "registry.db"))
	defer s.Close()
	ctx := b.Context()
	data := bytes.Repeat([]byte("x"), 1024)
	var worker atomic.Int64
	appendFrom := func(next func() bool) {
		subject := fmt.Sprintf("did:credence:bench-%d", worker.Add(1))
		var head registry.Head
		for seq := uint64(1); next(); seq++ {
			l := registry.Leaf{Subject: subject, Seq: seq, Hash: fmt.Sprint(seq), Data: data}
			if _, err := s.Append(ctx, head, l); err != nil {
				b.Error(err)
				return
			}
			head = registry.Head{Seq: l.Seq, Hash: l.Hash}
		}
	}
	b.ResetTimer()
	if parallelism == 0 {
		i := 0
		appendFrom(func() bool { i++; return i <= b.N })
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) { appendFrom(pb.Next) })
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	if n, err := s.Size(ctx); err != nil || n != uint64(b.N) {
		b.Fatalf("Size = %d, %v; want %d", n, err, b.N)
	}
}

// BenchmarkAppendParallel measures group commit: 16 goroutines per CPU
// appending 1 KiB leaves, each on its own subject.
func BenchmarkAppendParallel(b *testing.B) { benchmarkAppend(b, 16) }

// BenchmarkAppendSerial is one appender: one commit and fsync per leaf.
func BenchmarkAppendSerial(b *testing.B) { benchmarkAppend(b, 0) }
