package kvtest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/credence/credence/internal/kv"
)

func testGetMissing(t *testing.T, s kv.Store) {
	wantMissing(t, s, bucket, "missing")
	mustPut(t, s, bucket, "present", []byte("x"))
	wantMissing(t, s, bucket, "missing")
	wantMissing(t, s, bucket, "presen")
	wantMissing(t, s, bucket, "present2")
}

func testPutGetRoundTrip(t *testing.T, s kv.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	values := map[string][]byte{
		"text":   []byte("hello, world"),
		"empty":  {},
		"nil":    nil,
		"zero":   {0x00},
		"ff":     {0xff},
		"binary": {0x00, 0xff, 0x00, '\n', '\r', 0xff, 0x00},
		"all":    all,
		"utf8":   []byte("héllo ✓"),
	}
	for key, v := range values {
		mustPut(t, s, bucket, key, v)
	}
	for key, v := range values {
		wantValue(t, s, bucket, key, v)
	}
}

func testPutOverwrites(t *testing.T, s kv.Store) {
	mustPut(t, s, bucket, "k", []byte("first value, long"))
	mustPut(t, s, bucket, "k", []byte("second"))
	wantValue(t, s, bucket, "k", []byte("second"))
	mustPut(t, s, bucket, "k", nil)
	wantValue(t, s, bucket, "k", nil)
}

func testNoAliasing(t *testing.T, s kv.Store) {
	ctx := t.Context()
	v := []byte("original")
	mustPut(t, s, bucket, "put", v)
	copy(v, "XXXXXXXX")
	wantValue(t, s, bucket, "put", []byte("original"))

	c := []byte("created")
	if err := s.Create(ctx, bucket, "create", c); err != nil {
		t.Fatalf("Create: %v", err)
	}
	copy(c, "XXXXXXX")
	wantValue(t, s, bucket, "create", []byte("created"))

	got, err := s.Get(ctx, bucket, "put")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(got, "YYYYYYYY")
	wantValue(t, s, bucket, "put", []byte("original"))

	err = s.List(ctx, bucket, "", func(_ string, v []byte) error {
		copy(v, "ZZZZZZZ")
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	wantValue(t, s, bucket, "put", []byte("original"))
	wantValue(t, s, bucket, "create", []byte("created"))
	testNoAliasingUpdate(t, s)
}

// testNoAliasingUpdate checks that fn's old and returned slices are not
// retained by the store.
func testNoAliasingUpdate(t *testing.T, s kv.Store) {
	ctx := t.Context()
	errBoom := errors.New("boom")
	err := s.Update(ctx, bucket, "put", func(old []byte) ([]byte, error) {
		copy(old, "UUUUUUUU")
		return nil, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update = %v, want %v", err, errBoom)
	}
	wantValue(t, s, bucket, "put", []byte("original"))

	var returned []byte
	err = s.Update(ctx, bucket, "put", func(old []byte) ([]byte, error) {
		returned = []byte("updated")
		return returned, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	copy(returned, "VVVVVVV")
	wantValue(t, s, bucket, "put", []byte("updated"))
}

func testCreateNew(t *testing.T, s kv.Store) {
	if err := s.Create(t.Context(), bucket, "k", []byte("v")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte("v"))
	if err := s.Create(t.Context(), bucket, "empty", nil); err != nil {
		t.Fatalf("Create(empty): %v", err)
	}
	wantValue(t, s, bucket, "empty", nil)
}

func testCreateExisting(t *testing.T, s kv.Store) {
	ctx := t.Context()
	mustPut(t, s, bucket, "k", []byte("old"))
	if err := s.Create(ctx, bucket, "k", []byte("new")); !errors.Is(err, kv.ErrExists) {
		t.Fatalf("Create on existing key = %v, want ErrExists", err)
	}
	wantValue(t, s, bucket, "k", []byte("old"))

	mustPut(t, s, bucket, "empty", nil)
	if err := s.Create(ctx, bucket, "empty", []byte("new")); !errors.Is(err, kv.ErrExists) {
		t.Fatalf("Create on existing empty value = %v, want ErrExists", err)
	}
	wantValue(t, s, bucket, "empty", nil)
}

func testDeleteMissing(t *testing.T, s kv.Store) {
	ctx := t.Context()
	if err := s.Delete(ctx, "never-written", "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Delete in missing bucket = %v, want ErrNotFound", err)
	}
	mustPut(t, s, bucket, "other", []byte("v"))
	if err := s.Delete(ctx, bucket, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Delete missing key = %v, want ErrNotFound", err)
	}
	wantValue(t, s, bucket, "other", []byte("v"))
}

func testDeleteThenGet(t *testing.T, s kv.Store) {
	ctx := t.Context()
	mustPut(t, s, bucket, "k", []byte("v"))
	mustPut(t, s, bucket, "keep", []byte("v"))
	if err := s.Delete(ctx, bucket, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, bucket, "k")
	wantValue(t, s, bucket, "keep", []byte("v"))
	if err := s.Delete(ctx, bucket, "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	if got := keysOf(list(t, s, bucket, "")); !slices.Equal(got, []string{"keep"}) {
		t.Fatalf("List after Delete = %q, want [keep]", got)
	}
	if err := s.Create(ctx, bucket, "k", []byte("again")); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte("again"))
}

func testInvalidNames(t *testing.T, s kv.Store) {
	ctx := t.Context()
	fnCalled := false
	update := func([]byte) ([]byte, error) { fnCalled = true; return []byte("v"), nil }
	for _, n := range []struct{ bucket, key string }{{"", "k"}, {"b", ""}, {"", ""}} {
		ops := map[string]error{
			"Get":    second(s.Get(ctx, n.bucket, n.key)),
			"Put":    s.Put(ctx, n.bucket, n.key, []byte("v")),
			"Create": s.Create(ctx, n.bucket, n.key, []byte("v")),
			"Update": s.Update(ctx, n.bucket, n.key, update),
			"Delete": s.Delete(ctx, n.bucket, n.key),
		}
		for op, err := range ops {
			if !errors.Is(err, kv.ErrInvalidName) {
				t.Errorf("%s(%q, %q) = %v, want ErrInvalidName", op, n.bucket, n.key, err)
			}
		}
	}
	if fnCalled {
		t.Error("Update called fn for an invalid name")
	}
	err := s.List(ctx, "", "", func(string, []byte) error { return nil })
	if !errors.Is(err, kv.ErrInvalidName) {
		t.Errorf(`List("", "") = %v, want ErrInvalidName`, err)
	}
}

// second returns the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }

func testBucketIsolation(t *testing.T, s kv.Store) {
	ctx := t.Context()
	buckets := []string{"a", "ab", "a:b", "b", "{kv}", "a*"}
	for _, b := range buckets {
		mustPut(t, s, b, "k", []byte("in "+b))
	}
	for _, b := range buckets {
		wantValue(t, s, b, "k", []byte("in "+b))
		if got := keysOf(list(t, s, b, "")); !slices.Equal(got, []string{"k"}) {
			t.Errorf("List(%q) = %q, want [k]", b, got)
		}
	}
	if err := s.Delete(ctx, "a", "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "a", "k")
	wantValue(t, s, "ab", "k", []byte("in ab"))
	if err := s.Create(ctx, "ab", "only-ab", nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantMissing(t, s, "a", "only-ab")
	wantMissing(t, s, "b", "only-ab")
}

func testPing(t *testing.T, s kv.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testLargeValues(t *testing.T, s kv.Store) {
	ctx := t.Context()
	const mib = 1 << 20
	big := make([]byte, mib)
	for i := range big {
		big[i] = byte(rand.IntN(256))
	}
	mustPut(t, s, bucket, "put", big)
	wantValue(t, s, bucket, "put", big)
	if err := s.Create(ctx, bucket, "create", big); err != nil {
		t.Fatalf("Create: %v", err)
	}
	wantValue(t, s, bucket, "create", big)

	flipped := bytes.Clone(big)
	flipped[mib-1] ^= 0xff
	err := s.Update(ctx, bucket, "put", func(old []byte) ([]byte, error) {
		if !bytes.Equal(old, big) {
			return nil, errors.New("old is not the stored 1 MiB value")
		}
		return flipped, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, bucket, "put", flipped)
	for _, e := range list(t, s, bucket, "") {
		if len(e.value) != mib {
			t.Errorf("List value for %q has %d bytes, want %d", e.key, len(e.value), mib)
		}
	}
}
