package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
)

func testPutMany(t *testing.T, s kv.Store) {
	ctx := context.Background()
	mustPut(t, s, bucket, "b", []byte("old"))
	items := []kv.Item{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "c", Value: []byte{}}}
	if err := s.PutMany(ctx, bucket, items); err != nil {
		t.Fatalf("PutMany: %v", err)
	}
	items[0].Value[0] = 'x' // the store must have copied
	wantValue(t, s, bucket, "a", []byte("1"))
	wantValue(t, s, bucket, "b", []byte("2"))
	wantValue(t, s, bucket, "c", []byte{})
	if err := s.PutMany(ctx, bucket, []kv.Item{{Key: "d", Value: []byte("4")}, {Key: "", Value: nil}}); !errors.Is(err, kv.ErrInvalidName) {
		t.Errorf("PutMany with an empty key: got %v, want ErrInvalidName", err)
	}
	if err := s.PutMany(ctx, bucket, nil); err != nil {
		t.Errorf("PutMany of nothing: %v", err)
	}
}

// items makes n items "<prefix>0000".."<prefix>n-1" with values "<tag>:<key>".
func items(prefix, tag string, n int) []kv.Item {
	out := make([]kv.Item, n)
	for i := range out {
		k := fmt.Sprintf("%s%04d", prefix, i)
		out[i] = kv.Item{Key: k, Value: []byte(tag + ":" + k)}
	}
	return out
}

func testCreateManyNew(t *testing.T, s kv.Store) {
	ctx := t.Context()
	its := []kv.Item{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte{}}, {Key: "c", Value: nil}}
	if err := s.CreateMany(ctx, bucket, its); err != nil {
		t.Fatalf("CreateMany: %v", err)
	}
	its[0].Value[0] = 'x' // the store must have copied
	wantValue(t, s, bucket, "a", []byte("1"))
	wantValue(t, s, bucket, "b", []byte{})
	wantValue(t, s, bucket, "c", []byte{})
	if err := s.CreateMany(ctx, bucket, []kv.Item{{Key: "d", Value: []byte("4")}}); err != nil {
		t.Fatalf("CreateMany of one item: %v", err)
	}
	wantValue(t, s, bucket, "d", []byte("4"))
	if got := keysOf(list(t, s, bucket, "")); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("List after CreateMany = %q", got)
	}
}

func testCreateManyExisting(t *testing.T, s kv.Store) {
	ctx := t.Context()
	mustPut(t, s, bucket, "k0002", []byte("old"))
	mustPut(t, s, bucket, "empty", nil)
	for _, its := range [][]kv.Item{
		items("k", "new", 5),     // the existing key in the middle
		items("k", "new", 3)[2:], // only the existing key
		append(items("x", "new", 3), kv.Item{Key: "empty", Value: []byte("new")}), // last, an empty value
	} {
		if err := s.CreateMany(ctx, bucket, its); !errors.Is(err, kv.ErrExists) {
			t.Fatalf("CreateMany over an existing key = %v, want ErrExists", err)
		}
	}
	wantValue(t, s, bucket, "k0002", []byte("old"))
	wantValue(t, s, bucket, "empty", nil)
	if got := keysOf(list(t, s, bucket, "")); !slices.Equal(got, []string{"empty", "k0002"}) {
		t.Fatalf("a failed CreateMany wrote some of its keys: List = %q", got)
	}
	// The same keys without the existing one go in.
	its := slices.Delete(items("k", "new", 5), 2, 3)
	if err := s.CreateMany(ctx, bucket, its); err != nil {
		t.Fatalf("CreateMany: %v", err)
	}
	wantValue(t, s, bucket, "k0004", []byte("new:k0004"))
	wantValue(t, s, bucket, "k0002", []byte("old"))
}

func testCreateManyRepeatedKey(t *testing.T, s kv.Store) {
	its := append(items("k", "v", 3), kv.Item{Key: "k0001", Value: []byte("again")})
	if err := s.CreateMany(t.Context(), bucket, its); !errors.Is(err, kv.ErrExists) {
		t.Fatalf("CreateMany with a key given twice = %v, want ErrExists", err)
	}
	if got := list(t, s, bucket, ""); len(got) != 0 {
		t.Fatalf("CreateMany with a key given twice wrote %q", keysOf(got))
	}
}

func testCreateManyInvalid(t *testing.T, s kv.Store) {
	ctx := t.Context()
	if err := s.CreateMany(ctx, bucket, nil); err != nil {
		t.Errorf("CreateMany of nothing: %v", err)
	}
	if err := s.CreateMany(ctx, "", nil); !errors.Is(err, kv.ErrInvalidName) {
		t.Errorf("CreateMany of nothing in bucket \"\" = %v, want ErrInvalidName", err)
	}
	if err := s.CreateMany(ctx, "", items("k", "v", 2)); !errors.Is(err, kv.ErrInvalidName) {
		t.Errorf("CreateMany in bucket \"\" = %v, want ErrInvalidName", err)
	}
	its := append(items("k", "v", 2), kv.Item{Key: "", Value: []byte("v")})
	if err := s.CreateMany(ctx, bucket, its); !errors.Is(err, kv.ErrInvalidName) {
		t.Errorf("CreateMany with an empty key = %v, want ErrInvalidName", err)
	}
	if got := list(t, s, bucket, ""); len(got) != 0 {
		t.Fatalf("an invalid CreateMany wrote %q", keysOf(got))
	}
}

// testCreateManyLarge creates more items than one Redis command takes, and
// fails a batch as large on its very last key.
func testCreateManyLarge(t *testing.T, s kv.Store) {
	ctx := t.Context()
	const n = 2500
	mustPut(t, s, bucket, fmt.Sprintf("b%04d", n-1), []byte("old"))
	if err := s.CreateMany(ctx, bucket, items("b", "new", n)); !errors.Is(err, kv.ErrExists) {
		t.Fatalf("CreateMany of %d items, the last existing = %v, want ErrExists", n, err)
	}
	if got := list(t, s, bucket, "b"); len(got) != 1 {
		t.Fatalf("a failed CreateMany of %d items wrote %d of them", n, len(got)-1)
	}
	its := items("a", "new", n)
	if err := s.CreateMany(ctx, bucket, its); err != nil {
		t.Fatalf("CreateMany of %d items: %v", n, err)
	}
	got := list(t, s, bucket, "a")
	if len(got) != n {
		t.Fatalf("CreateMany of %d items stored %d", n, len(got))
	}
	for i, e := range got {
		if e.key != its[i].Key || !bytes.Equal(e.value, its[i].Value) {
			t.Fatalf("item %d = %q: %s, want %q: %q", i, e.key, show(e.value), its[i].Key, its[i].Value)
		}
	}
}

// testConcurrentCreateMany races writers over overlapping batches: exactly
// one batch of those sharing a key goes in, whole, and never a mix.
func testConcurrentCreateMany(t *testing.T, s kv.Store) {
	ctx := t.Context()
	const keys = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range workers {
		wg.Go(func() {
			// Half the workers write k0000..k0007, half k0004..k0011: every
			// batch overlaps every other.
			its := items("k", strconv.Itoa(i), keys+keys/2)[(i%2)*keys/2:][:keys]
			err := s.CreateMany(ctx, bucket, its)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, kv.ErrExists):
				t.Errorf("CreateMany: %v", err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d overlapping CreateManys succeeded (%v), want exactly 1", len(winners), winners)
	}
	w := winners[0]
	got := list(t, s, bucket, "")
	if len(got) != keys {
		t.Fatalf("%d keys stored, want the winner's %d", len(got), keys)
	}
	for _, e := range got {
		if want := strconv.Itoa(w) + ":" + e.key; string(e.value) != want {
			t.Fatalf("%q = %s, want %q: batches mixed", e.key, show(e.value), want)
		}
	}
}
