package boltkv_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/kvtest"
)

func open(t *testing.T, path string, opts ...boltkv.Option) *boltkv.Store {
	t.Helper()
	s, err := boltkv.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return open(t, filepath.Join(t.TempDir(), "kv.db"))
	})
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kv.db")
	s := open(t, path)
	if err := s.Put(ctx, "b", "k", []byte{0x00, 0xff}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Put(ctx, "b", "gone", []byte("x")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Delete(ctx, "b", "gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.Get(ctx, "b", "k")
	if err != nil || string(got) != "\x00\xff" {
		t.Fatalf("Get after reopen = %q, %v", got, err)
	}
	if _, err := s.Get(ctx, "b", "gone"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("deleted key after reopen: %v, want ErrNotFound", err)
	}
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	defer open(t, path).Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode&^0o600 != 0 {
		t.Fatalf("data file mode = %v, want at most 0600", mode)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	first := open(t, path)

	start := time.Now()
	_, err := boltkv.Open(path, boltkv.WithTimeout(100*time.Millisecond))
	if !errors.Is(err, boltkv.ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	want := fmt.Sprintf("data file %s is locked by another process (is a server running on this data dir?)", path)
	if err.Error() != want {
		t.Fatalf("second Open error = %q, want %q", err, want)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("second Open waited %v, want about the 100ms timeout", waited)
	}

	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	open(t, path).Close() // the lock is released by Close
}

func TestOpenMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "kv.db")
	_, err := boltkv.Open(path)
	if err == nil || !strings.HasPrefix(err.Error(), "failed to open data file") {
		t.Fatalf("Open in missing dir = %v", err)
	}
}

// TestListBatches walks more keys than one read transaction copies (an
// exact multiple of the batch size), deleting from the callback.
func TestListBatches(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "kv.db"))
	defer s.Close()
	var want []string
	for i := range 512 {
		want = append(want, fmt.Sprintf("p:%04d", i))
	}
	seed(t, s, "b", append(slices.Clone(want), "o", "p", "q:0000"))
	var got []string
	err := s.List(ctx, "b", "p:", func(k string, v []byte) error {
		if string(v) != k {
			return fmt.Errorf("value of %q = %q", k, v)
		}
		got = append(got, k)
		return s.Delete(ctx, "b", k)
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List visited %d keys, want %d in order", len(got), len(want))
	}
	var left []string
	err = s.List(ctx, "b", "", func(k string, _ []byte) error {
		left = append(left, k)
		return nil
	})
	if err != nil || !slices.Equal(left, []string{"o", "p", "q:0000"}) {
		t.Fatalf("keys left = %q, %v", left, err)
	}
}

// seed writes keys (value = key) into a kv bucket in one transaction, relying
// on the documented layout: kv buckets nest under the top-level "kv" bucket.
func seed(t *testing.T, s *boltkv.Store, bucket string, keys []string) {
	t.Helper()
	err := s.DB().Update(func(tx *bbolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists([]byte("kv"))
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(bucket))
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Put([]byte(k), []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// TestSharedFile checks that other packages' top-level buckets in the same
// file do not collide with kv buckets of the same name.
func TestSharedFile(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "kv.db"))
	defer s.Close()
	err := s.DB().Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("ledger"))
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("ledger value"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "ledger", "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("kv Get saw another package's bucket: %v", err)
	}
	if err := s.Put(ctx, "ledger", "k", []byte("kv value")); err != nil {
		t.Fatal(err)
	}
	err = s.DB().View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte("ledger")).Get([]byte("k")); string(v) != "ledger value" {
			return fmt.Errorf("other package's value = %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
