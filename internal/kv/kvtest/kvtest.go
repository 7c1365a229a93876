// Package kvtest is the conformance suite every kv.Store driver must pass.
//
// A driver's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.Store { return memkv.New() })
//	}
//
// Every subtest opens its own store and may run in parallel with the others,
// so stores returned by open must not share keys (use a fresh file, a unique
// key prefix, ...). Run closes every store it opens.
//
// Beyond the letter of kv.Store's documentation the suite pins down these
// readings of the contract:
//   - a present key whose value is empty reads back as a zero-length value,
//     and Update passes it to fn as a non-nil, zero-length slice (only an
//     absent key gives old == nil);
//   - Update storing a nil value stores an empty value (it never deletes);
//   - List with an empty bucket returns kv.ErrInvalidName; List on a bucket
//     that was never written calls fn zero times and returns nil;
//   - List's prefix is a plain byte prefix: glob characters are literal;
//   - fn passed to List may itself read and write the store.
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
)

// Run runs the conformance suite against the stores returned by open.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGetRoundTrip", testPutGetRoundTrip},
		{"PutOverwrites", testPutOverwrites},
		{"NoAliasing", testNoAliasing},
		{"CreateNew", testCreateNew},
		{"CreateExisting", testCreateExisting},
		{"DeleteMissing", testDeleteMissing},
		{"DeleteThenGet", testDeleteThenGet},
		{"InvalidNames", testInvalidNames},
		{"BucketIsolation", testBucketIsolation},
		{"ListOrder", testListOrder},
		{"ListPrefixIsLiteral", testListPrefixIsLiteral},
		{"ListMissingBucket", testListMissingBucket},
		{"ListCallbackError", testListCallbackError},
		{"ListCallbackMayWrite", testListCallbackMayWrite},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateExisting", testUpdateExisting},
		{"UpdateEmptyValue", testUpdateEmptyValue},
		{"UpdateFnError", testUpdateFnError},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"ConcurrentCreate", testConcurrentCreate},
		{"Ping", testPing},
		{"LargeValues", testLargeValues},
		{"PutMany", testPutMany},
		{"CreateManyNew", testCreateManyNew},
		{"CreateManyExisting", testCreateManyExisting},
		{"CreateManyRepeatedKey", testCreateManyRepeatedKey},
		{"CreateManyInvalid", testCreateManyInvalid},
		{"CreateManyLarge", testCreateManyLarge},
		{"ConcurrentCreateMany", testConcurrentCreateMany},
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

const bucket = "bucket"

// mustPut stores value or fails the test.
func mustPut(t *testing.T, s kv.Store, bucket, key string, value []byte) {
	t.Helper()
	if err := s.Put(t.Context(), bucket, key, value); err != nil {
		t.Fatalf("Put(%q, %q): %v", bucket, key, err)
	}
}

// wantValue fails the test unless key in bucket holds want.
func wantValue(t *testing.T, s kv.Store, bucket, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), bucket, key)
	if err != nil {
		t.Fatalf("Get(%q, %q): %v", bucket, key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q, %q) = %s, want %s", bucket, key, show(got), show(want))
	}
}

// wantMissing fails the test unless key in bucket is absent.
func wantMissing(t *testing.T, s kv.Store, bucket, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), bucket, key)
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q, %q) = %s, %v; want ErrNotFound", bucket, key, show(got), err)
	}
}

// show formats a value for failure messages, eliding large ones.
func show(b []byte) string {
	if b == nil {
		return "nil"
	}
	if len(b) > 64 {
		return fmt.Sprintf("%x... (%d bytes)", b[:32], len(b))
	}
	return fmt.Sprintf("%q", b)
}

type entry struct {
	key   string
	value []byte
}

// list collects List's callbacks.
func list(t *testing.T, s kv.Store, bucket, prefix string) []entry {
	t.Helper()
	var got []entry
	err := s.List(t.Context(), bucket, prefix, func(k string, v []byte) error {
		got = append(got, entry{k, v})
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q, %q): %v", bucket, prefix, err)
	}
	return got
}

// keysOf returns the keys of entries.
func keysOf(es []entry) []string {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.key
	}
	return keys
}

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

// listKeys are keys with characters that mean something to glob matchers,
// Redis hash tags and key separators, plus non-UTF-8 bytes.
var listKeys = []string{
	"a", "a:", "a:b", "a:b:c", "a{b}", "a{", "a}", "a*", "a*b", "a?", "a?b",
	"a[", "a[b]", "a[^b]", "a\\", "a\\*", "b", "b*", "ab", "a-b", "a.b",
	"\x00", "\x00\x01", "\xff", "\xfe\xff", "\x7f", "zz", "Z", "é", " ",
}

func putListKeys(t *testing.T, s kv.Store) {
	for _, i := range rand.Perm(len(listKeys)) {
		mustPut(t, s, bucket, listKeys[i], []byte("v:"+listKeys[i]))
	}
}

// wantPrefix returns the sorted keys in listKeys starting with prefix.
func wantPrefix(prefix string) []string {
	var want []string
	for _, k := range listKeys {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	return want
}

func testListOrder(t *testing.T, s kv.Store) {
	putListKeys(t, s)
	mustPut(t, s, "other", "a0", []byte("other bucket"))
	got := list(t, s, bucket, "")
	if keys, want := keysOf(got), wantPrefix(""); !slices.Equal(keys, want) {
		t.Fatalf("List keys =\n%q\nwant (ascending byte order)\n%q", keys, want)
	}
	for _, e := range got {
		if want := "v:" + e.key; string(e.value) != want {
			t.Errorf("List value for %q = %s, want %q", e.key, show(e.value), want)
		}
	}
}

func testListPrefixIsLiteral(t *testing.T, s kv.Store) {
	putListKeys(t, s)
	prefixes := []string{
		"a", "a:", "a:b", "a{", "a{b}", "a*", "a?", "a[", "a[b", "a[^", "a\\",
		"*", "?", "[", "[a]", "{", "\x00", "\xfe", "\xff", "b", "nothing", "a:b:c:d",
	}
	for _, p := range prefixes {
		got := list(t, s, bucket, p)
		if keys, want := keysOf(got), wantPrefix(p); !slices.Equal(keys, want) {
			t.Errorf("List(prefix %q) = %q, want %q", p, keys, want)
		}
	}
}

func testListMissingBucket(t *testing.T, s kv.Store) {
	mustPut(t, s, "other", "k", []byte("v"))
	if got := list(t, s, "never-written", ""); len(got) != 0 {
		t.Fatalf("List(missing bucket) = %q, want nothing", keysOf(got))
	}
	if err := s.Delete(t.Context(), "other", "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := list(t, s, "other", ""); len(got) != 0 {
		t.Fatalf("List(emptied bucket) = %q, want nothing", keysOf(got))
	}
}

func testListCallbackError(t *testing.T, s kv.Store) {
	putListKeys(t, s)
	errStop := errors.New("stop here")
	want := wantPrefix("")[:3]
	var seen []string
	err := s.List(t.Context(), bucket, "", func(k string, _ []byte) error {
		seen = append(seen, k)
		if len(seen) == 3 {
			return fmt.Errorf("wrapped: %w", errStop)
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("List = %v, want the callback's error", err)
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("List visited %q after the error, want exactly %q", seen, want)
	}
}

func testListCallbackMayWrite(t *testing.T, s kv.Store) {
	ctx := t.Context()
	for i := range 10 {
		mustPut(t, s, bucket, fmt.Sprintf("k%02d", i), []byte("v"))
	}
	n := 0
	err := s.List(ctx, bucket, "k", func(k string, _ []byte) error {
		n++
		if err := s.Put(ctx, "copy", k, []byte("copied")); err != nil {
			return err
		}
		return s.Delete(ctx, bucket, k)
	})
	if err != nil {
		t.Fatalf("List with writing callback: %v", err)
	}
	if n != 10 {
		t.Fatalf("List visited %d keys, want 10", n)
	}
	if got := list(t, s, bucket, ""); len(got) != 0 {
		t.Fatalf("keys left after deleting during List: %q", keysOf(got))
	}
	if got := list(t, s, "copy", ""); len(got) != 10 {
		t.Fatalf("copied %d keys, want 10", len(got))
	}
}

func testUpdateMissing(t *testing.T, s kv.Store) {
	calls := 0
	err := s.Update(t.Context(), bucket, "k", func(old []byte) ([]byte, error) {
		calls++
		if old != nil {
			t.Errorf("Update on missing key: old = %s, want nil", show(old))
		}
		return []byte("created"), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls == 0 {
		t.Fatal("Update did not call fn")
	}
	wantValue(t, s, bucket, "k", []byte("created"))
}

func testUpdateExisting(t *testing.T, s kv.Store) {
	ctx := t.Context()
	mustPut(t, s, bucket, "k", []byte{0x00, 'a', 0xff})
	err := s.Update(ctx, bucket, "k", func(old []byte) ([]byte, error) {
		if !bytes.Equal(old, []byte{0x00, 'a', 0xff}) {
			t.Errorf("Update: old = %s", show(old))
		}
		return append(old, 'b'), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte{0x00, 'a', 0xff, 'b'})

	err = s.Update(ctx, bucket, "k", func([]byte) ([]byte, error) { return nil, nil })
	if err != nil {
		t.Fatalf("Update to nil: %v", err)
	}
	wantValue(t, s, bucket, "k", nil) // nil stores an empty value, the key stays.
}

func testUpdateEmptyValue(t *testing.T, s kv.Store) {
	mustPut(t, s, bucket, "k", nil)
	err := s.Update(t.Context(), bucket, "k", func(old []byte) ([]byte, error) {
		if old == nil || len(old) != 0 {
			t.Errorf("Update on present empty value: old = %s, want non-nil empty", show(old))
		}
		return []byte("filled"), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	wantValue(t, s, bucket, "k", []byte("filled"))
}

func testUpdateFnError(t *testing.T, s kv.Store) {
	ctx := t.Context()
	errFn := errors.New("fn refused")
	fail := func([]byte) ([]byte, error) { return []byte("written anyway"), errFn }

	if err := s.Update(ctx, bucket, "missing", fail); !errors.Is(err, errFn) {
		t.Fatalf("Update on missing key = %v, want fn's error", err)
	}
	wantMissing(t, s, bucket, "missing")
	if got := list(t, s, bucket, ""); len(got) != 0 {
		t.Fatalf("failed Update left keys %q", keysOf(got))
	}

	mustPut(t, s, bucket, "k", []byte("keep"))
	if err := s.Update(ctx, bucket, "k", fail); !errors.Is(err, errFn) {
		t.Fatalf("Update on existing key = %v, want fn's error", err)
	}
	wantValue(t, s, bucket, "k", []byte("keep"))
}

const (
	workers    = 16
	increments = 50
)

func testConcurrentUpdate(t *testing.T, s kv.Store) {
	ctx := t.Context()
	incr := func(old []byte) ([]byte, error) {
		n := 0
		if old != nil {
			var err error
			if n, err = strconv.Atoi(string(old)); err != nil {
				return nil, fmt.Errorf("failed to parse counter %q: %w", old, err)
			}
		}
		return strconv.AppendInt(nil, int64(n+1), 10), nil
	}
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range increments {
				if err := s.Update(ctx, bucket, "counter", incr); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	wantValue(t, s, bucket, "counter", []byte(strconv.Itoa(workers*increments)))
}

func testConcurrentCreate(t *testing.T, s kv.Store) {
	ctx := t.Context()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range workers {
		wg.Go(func() {
			err := s.Create(ctx, bucket, "k", []byte(strconv.Itoa(i)))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, kv.ErrExists):
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d concurrent Creates succeeded (%v), want exactly 1", len(winners), winners)
	}
	wantValue(t, s, bucket, "k", []byte(strconv.Itoa(winners[0])))
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
