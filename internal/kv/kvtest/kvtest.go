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
	"errors"
	"fmt"
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
