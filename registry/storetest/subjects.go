package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/registry"
)

// lister returns s as a SubjectLister, failing the test when it is not one.
func lister(t *testing.T, s registry.Store) registry.SubjectLister {
	t.Helper()
	sl, ok := s.(registry.SubjectLister)
	if !ok {
		t.Fatal("every registry driver must implement registry.SubjectLister (the trust registry enumerates accreditations)")
	}
	return sl
}

// listSubjects collects what Subjects reports for prefix.
func listSubjects(t *testing.T, sl registry.SubjectLister, prefix string) []string {
	t.Helper()
	var got []string
	if err := sl.Subjects(t.Context(), prefix, func(s string) error {
		got = append(got, s)
		return nil
	}); err != nil {
		t.Fatalf("Subjects(%q): %v", prefix, err)
	}
	return got
}

// subjectsFixture are subjects whose names stress prefix matching: pattern
// characters of globs and ranges, a subject equal to a prefix, neighbours
// one byte off, non-ASCII bytes.
var subjectsFixture = []string{
	"urn:credence:accreditation:a",
	"urn:credence:accreditation:a-1",
	"urn:credence:accreditation:b",
	"urn:credence:accreditation:",
	"urn:credence:accreditatio",
	"urn:credence:accreditation;",
	"did:credence:z",
	"https://example.com/lists/1",
	`p*[x]?\y`,
	`p*[x]?\y/1`,
	"p*",
	"pa",
	"p",
	"p-^",
	"p%_",
	"urn:é",
	"urn:\U0010FFFF",
}

func testSubjects(t *testing.T, s registry.Store) {
	sl := lister(t, s)
	ctx := t.Context()
	if got := listSubjects(t, sl, ""); len(got) != 0 {
		t.Fatalf("Subjects of an empty store = %q", got)
	}
	for i, subject := range subjectsFixture {
		appendChain(t, s, subject, 1+i%2) // some subjects have two leaves
	}
	for _, prefix := range []string{
		"", "urn:credence:accreditation:", "urn:credence:accreditation:a", "urn:credence:accreditatio",
		`p*[x]?\y`, "p*", "p?", "p[", "p", "p-", "p%", `\`, "*", "?", "[a-z]", "zzz", "urn:\U0010FFFF", "urn:é", "urn:",
	} {
		var want []string
		for _, s := range subjectsFixture {
			if strings.HasPrefix(s, prefix) {
				want = append(want, s)
			}
		}
		slices.Sort(want)
		if got := listSubjects(t, sl, prefix); !slices.Equal(got, want) {
			t.Errorf("Subjects(%q) = %q, want %q", prefix, got, want)
		}
	}

	// fn's error stops the walk and is returned.
	stop := errors.New("stop")
	calls := 0
	err := sl.Subjects(ctx, "", func(string) error {
		if calls++; calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("Subjects with fn failing on call 2 = %v after %d calls, want the error after 2", err, calls)
	}

	// fn may read and append to the store.
	done := make(chan error, 1)
	var seen []string
	go func() {
		done <- sl.Subjects(ctx, "urn:credence:accreditation:", func(subject string) error {
			seen = append(seen, subject)
			if _, err := s.Head(ctx, subject); err != nil {
				return err
			}
			if len(seen) == 1 {
				_, err := s.Append(ctx, registry.Head{}, mkLeaf("urn:credence:accreditation:added", 1))
				return err
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Subjects with fn reading and appending: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subjects with fn appending did not return within 10s")
	}
	seen = slices.DeleteFunc(seen, func(s string) bool { return s == "urn:credence:accreditation:added" })
	if want := []string{"urn:credence:accreditation:", "urn:credence:accreditation:a", "urn:credence:accreditation:a-1", "urn:credence:accreditation:b"}; !slices.Equal(seen, want) {
		t.Errorf("Subjects while appending listed %q, want %q (and maybe the added one)", seen, want)
	}
	wantHead(t, s, "urn:credence:accreditation:added", headOf(mkLeaf("urn:credence:accreditation:added", 1)))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := sl.Subjects(cancelled, "", func(string) error { return nil }); err == nil {
		t.Error("Subjects with a cancelled context succeeded")
	}
}

// testSubjectsPaging lists more subjects than a driver reads at once.
func testSubjectsPaging(t *testing.T, s registry.Store) {
	sl := lister(t, s)
	const n, workers = 400, 8
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("many/%04d", i))
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := s.Append(t.Context(), registry.Head{}, mkLeaf(want[i], 1)); err != nil {
					t.Errorf("Append(%s): %v", want[i], err)
					return
				}
			}
		})
	}
	wg.Wait()
	appendChain(t, s, "many", 1)   // the prefix without its slash: not listed
	appendChain(t, s, "many0", 1)  // one byte above "many/": not listed
	appendChain(t, s, "manx/1", 1) // below: not listed
	if got := listSubjects(t, sl, "many/"); !slices.Equal(got, want) {
		t.Fatalf("Subjects(many/) listed %d subjects, want %d in order (first difference at %d)", len(got), n, firstDiff(got, want))
	}
	if got := listSubjects(t, sl, ""); len(got) != n+3 || !slices.IsSorted(got) {
		t.Fatalf("Subjects(\"\") listed %d subjects (sorted: %v), want %d sorted", len(got), slices.IsSorted(got), n+3)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
