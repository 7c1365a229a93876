package kvtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/credence/credence/internal/kv"
)

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
