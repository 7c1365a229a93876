package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/verifier/audit"
	"github.com/gowebpki/jcs"
)

func TestAppendExportVerify(t *testing.T) {
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			ctx := t.Context()
			signer := newSigner("audit")
			l := audit.New(d.open(t), signer, audit.WithClock(newClock().now))
			var a, b []audit.Entry
			for i := range 5 { // two chains, interleaved
				a = append(a, mustAppend(t, l, decision("hospital-a", i)))
				if i < 3 {
					b = append(b, mustAppend(t, l, decision("hospital-b", i)))
				}
			}
			checkChain(t, a)
			checkChain(t, b)

			head, err := l.Head(ctx, "hospital-a")
			if err != nil {
				t.Fatal(err)
			}
			want := audit.Head{Chain: "hospital-a", Size: 5, Hash: a[4].Hash, Time: a[4].Time}
			if head != want {
				t.Errorf("Head = %+v, want %+v", head, want)
			}

			var got []audit.Entry
			if err := l.Entries(ctx, "hospital-a", 3, func(e audit.Entry) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || got[0].Seq != 3 || got[2].Hash != a[4].Hash {
				t.Errorf("Entries from 3 = %+v, want seqs 3..5", got)
			}

			rep, err := audit.Verify(bytes.NewReader(export(t, l, "hospital-a")), signer.Public())
			if err != nil {
				t.Fatal(err)
			}
			key, _ := did.EncodeMultikey(signer.Public())
			if rep.Chain != "hospital-a" || rep.Size != 5 || rep.Hash != a[4].Hash || rep.Key != key ||
				!rep.First.Equal(a[0].Time) || !rep.Last.Equal(a[4].Time) || !rep.Signed.After(rep.Last) {
				t.Errorf("Report = %+v, want chain hospital-a, size 5, hash %s, key %s, times of entries 1 and 5", rep, a[4].Hash, key)
			}
		})
	}
}

func mustAppend(t testing.TB, l *audit.Log, e audit.Entry) audit.Entry {
	t.Helper()
	got, err := l.Append(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkChain checks seqs from 1, links and hashes of entries as Append
// returned them.
func checkChain(t *testing.T, es []audit.Entry) {
	t.Helper()
	prev := ""
	for i, e := range es {
		h, err := audit.EntryHash(e)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i+1) || e.Prev != prev || e.Hash != h || e.Time.IsZero() {
			t.Fatalf("entry %d = seq %d, prev %q, hash %q (recomputed %q), time %v: want seq %d linked to %q",
				i, e.Seq, e.Prev, e.Hash, h, e.Time, i+1, prev)
		}
		prev = e.Hash
	}
}

func TestEntriesBeyondTheEnd(t *testing.T) {
	l := audit.New(memkv.New(), newSigner("k"))
	appendN(t, l, "c", 3)
	for _, from := range []uint64{4, 5, 100} {
		n := 0
		if err := l.Entries(t.Context(), "c", from, func(audit.Entry) error { n++; return nil }); err != nil || n != 0 {
			t.Errorf("Entries from %d = %d entries, %v; want none", from, n, err)
		}
	}
	stop := errors.New("stop")
	if err := l.Entries(t.Context(), "c", 0, func(audit.Entry) error { return stop }); err != stop {
		t.Errorf("Entries returned %v, want fn's error", err)
	}
}

func TestEmptyChain(t *testing.T) {
	signer := newSigner("k")
	l := audit.New(memkv.New(), signer)
	h, err := l.Head(t.Context(), "nobody")
	if err != nil || h != (audit.Head{Chain: "nobody"}) {
		t.Fatalf("Head of an empty chain = %+v, %v", h, err)
	}
	out := export(t, l, "nobody")
	if n := bytes.Count(out, []byte("\n")); n != 1 {
		t.Fatalf("export of an empty chain has %d lines, want the head only:\n%s", n, out)
	}
	rep, err := audit.Verify(bytes.NewReader(out), signer.Public())
	if err != nil || rep.Chain != "nobody" || rep.Size != 0 || rep.Hash != "" {
		t.Fatalf("Verify = %+v, %v; want an intact empty chain", rep, err)
	}
}

func TestAppendOverwritesChainFields(t *testing.T) {
	l := audit.New(memkv.New(), newSigner("k"))
	e := decision("c", 1)
	e.Seq, e.Prev, e.Hash, e.Time = 42, "sha256:forged", "sha256:forged", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	got := mustAppend(t, l, e)
	if got.Seq != 1 || got.Prev != "" || got.Time.Year() == 1999 {
		t.Errorf("Append kept caller's chain fields: %+v", got)
	}
	checkChain(t, []audit.Entry{got})
}

func TestAppendRejects(t *testing.T) {
	l := audit.New(memkv.New(), newSigner("k"))
	long := strings.Repeat("x", 600)
	cases := []struct {
		name string
		edit func(*audit.Entry)
	}{
		{"no chain", func(e *audit.Entry) { e.Chain = "" }},
		{"chain with slash", func(e *audit.Entry) { e.Chain = "a/b" }},
		{"token secret as requester", func(e *audit.Entry) { e.Requester = "crd_9Xq2mZ8vR4tYwB1nK7pL3sD6fG0hJ5cA" }},
		{"free-text requester", func(e *audit.Entry) { e.Requester = "Dr. Jane Roe" }},
		{"kind", func(e *audit.Entry) { e.Kind = "vc" }},
		{"decision", func(e *audit.Entry) { e.Decision = "maybe" }},
		{"message as error", func(e *audit.Entry) { e.Errors = []string{"license of Jane Roe (NPI 1234567893) revoked"} }},
		{"message as warning", func(e *audit.Entry) { e.Warnings = []string{"expires soon"} }},
		{"holder name", func(e *audit.Entry) { e.Holder = "Jane Roe" }},
		{"bad digest", func(e *audit.Entry) { e.Credentials[0].Digest = "abc" }},
		{"long id", func(e *audit.Entry) { e.Credentials[0].ID = long }},
		{"control character", func(e *audit.Entry) { e.Request = "a\nb" }},
		{"empty type", func(e *audit.Entry) { e.Credentials[0].Types = []string{""} }},
		{"check name", func(e *audit.Entry) { e.Checks = []audit.Check{{Name: "proof valid for Jane"}} }},
		{"too many credentials", func(e *audit.Entry) {
			e.Credentials = make([]audit.CredentialRef, audit.MaxCredentials+1)
			for i := range e.Credentials {
				e.Credentials[i] = audit.CredentialRef{Digest: audit.Digest(nil)}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := decision("c", 1)
			c.edit(&e)
			if _, err := l.Append(t.Context(), e); !errors.Is(err, audit.ErrInvalidEntry) {
				t.Errorf("Append = %v, want ErrInvalidEntry", err)
			}
		})
	}
	if h, _ := l.Head(t.Context(), "c"); h.Size != 0 {
		t.Errorf("rejected entries were recorded: head %+v", h)
	}
	if _, err := l.Head(t.Context(), "a/b"); !errors.Is(err, audit.ErrInvalidChain) {
		t.Errorf("Head of an invalid chain = %v, want ErrInvalidChain", err)
	}
}

// TestStaleHint is a process that crashed between storing an entry and
// raising the hint, or a hint lost altogether: a new process continues the
// chain without a gap or a fork.
func TestStaleHint(t *testing.T) {
	for _, hint := range []string{"2", "39", "40", "", "garbage"} {
		t.Run(fmt.Sprintf("hint %q", hint), func(t *testing.T) {
			ctx := t.Context()
			store := memkv.New()
			es := appendN(t, audit.New(store, newSigner("k")), "c", 40)
			if hint == "" {
				if err := store.Delete(ctx, "audit", "h/c"); err != nil && !errors.Is(err, kv.ErrNotFound) {
					t.Fatal(err)
				}
			} else if err := store.Put(ctx, "audit", "h/c", []byte(hint)); err != nil {
				t.Fatal(err)
			}
			l := audit.New(store, newSigner("k"))
			if h, err := l.Head(ctx, "c"); err != nil || h.Size != 40 || h.Hash != es[39].Hash {
				t.Fatalf("Head = %+v, %v; want size 40", h, err)
			}
			e := mustAppend(t, l, decision("c", 9))
			checkChain(t, append(es, e))
		})
	}
}

func TestHintAheadOfChain(t *testing.T) {
	store := memkv.New()
	appendN(t, audit.New(store, newSigner("k")), "c", 2)
	if err := store.Put(t.Context(), "audit", "h/c", []byte("7")); err != nil {
		t.Fatal(err)
	}
	l := audit.New(store, newSigner("k"))
	if _, err := l.Head(t.Context(), "c"); !errors.Is(err, audit.ErrCorrupt) {
		t.Errorf("Head with a hint past a missing entry = %v, want ErrCorrupt", err)
	}
	if _, err := l.Append(t.Context(), decision("c", 1)); !errors.Is(err, audit.ErrCorrupt) {
		t.Errorf("Append with a hint past a missing entry = %v, want ErrCorrupt", err)
	}
}

// TestCorruptStore edits the store behind the log's back: reads and exports
// refuse the chain, and no head gets signed over it.
func TestCorruptStore(t *testing.T) {
	for _, rehash := range []bool{false, true} {
		t.Run(fmt.Sprintf("rehash=%v", rehash), func(t *testing.T) {
			ctx := t.Context()
			store := memkv.New()
			l := audit.New(store, newSigner("k"))
			es := appendN(t, l, "c", 5)
			e := es[2]
			e.Decision, e.Verified, e.Errors = "reject", false, []string{"CREDENTIAL_REVOKED"}
			if rehash { // changed and re-hashed: the next link breaks
				e.Hash, _ = audit.EntryHash(e)
			}
			raw, _ := json.Marshal(e)
			raw, _ = jcs.Transform(raw)
			if err := store.Put(ctx, "audit", "e/c/00000000000000000003", raw); err != nil {
				t.Fatal(err)
			}
			err := l.Entries(ctx, "c", 1, func(audit.Entry) error { return nil })
			if !errors.Is(err, audit.ErrCorrupt) {
				t.Errorf("Entries = %v, want ErrCorrupt", err)
			}
			var buf bytes.Buffer
			if err := l.Export(ctx, "c", &buf); !errors.Is(err, audit.ErrCorrupt) {
				t.Errorf("Export = %v, want ErrCorrupt", err)
			}
			if bytes.Contains(buf.Bytes(), []byte(`"signature"`)) {
				t.Errorf("Export signed a head over a corrupt chain:\n%s", buf.Bytes())
			}
		})
	}
}

func TestBoltReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.db")
	s, err := boltkv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	es := appendN(t, audit.New(s, newSigner("k")), "c", 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = boltkv.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	signer := newSigner("k")
	l := audit.New(s, signer)
	es = append(es, mustAppend(t, l, decision("c", 3)))
	checkChain(t, es)
	if _, err := audit.Verify(bytes.NewReader(export(t, l, "c")), signer.Public()); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentAppends runs two logs, as two processes would, over one
// store: 2×n concurrent appends make one gapless chain that verifies, the
// logs' batches racing for seqs, in fewer writes than entries.
func TestConcurrentAppends(t *testing.T) {
	cases := []struct {
		name  string
		n     int
		store func(t *testing.T) (kv.Store, kv.Store)
	}{
		{"memkv", 400, func(*testing.T) (kv.Store, kv.Store) { s := memkv.New(); return s, s }},
		{"rediskv", 400, func(t *testing.T) (kv.Store, kv.Store) {
			client, prefix := testredis.Client(t), testredis.Prefix(t)
			return rediskv.New(client, prefix), rediskv.New(client, prefix)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.store(t)
			var s1, s2 kv.Store = &countingStore{Store: a}, &countingStore{Store: b}
			signer := newSigner("k")
			logs := []*audit.Log{audit.New(s1, signer), audit.New(s2, signer)}
			var wg sync.WaitGroup
			seqs := make(chan uint64, 2*c.n)
			for p, l := range logs {
				for i := range c.n {
					wg.Go(func() {
						e, err := l.Append(context.Background(), decision("shared", p*c.n+i))
						if err != nil {
							t.Error(err)
							return
						}
						seqs <- e.Seq
					})
				}
			}
			wg.Wait()
			close(seqs)
			seen := map[uint64]bool{}
			for s := range seqs {
				if seen[s] || s < 1 || s > uint64(2*c.n) {
					t.Fatalf("seq %d given twice or out of 1..%d", s, 2*c.n)
				}
				seen[s] = true
			}
			if len(seen) != 2*c.n {
				t.Fatalf("%d appends succeeded, want %d", len(seen), 2*c.n)
			}
			c1, c2 := s1.(*countingStore), s2.(*countingStore)
			if w := c1.writes.Load() + c2.writes.Load(); w >= int64(2*c.n) {
				t.Errorf("%d appends took %d writes: no batching", 2*c.n, w)
			}
			t.Logf("%d appends in %d writes, %d of them lost races", 2*c.n,
				c1.writes.Load()+c2.writes.Load(), c1.lost.Load()+c2.lost.Load())
			for _, l := range logs {
				rep, err := audit.Verify(bytes.NewReader(export(t, l, "shared")), signer.Public())
				if err != nil || rep.Size != uint64(2*c.n) {
					t.Fatalf("Verify = %+v, %v; want an intact chain of %d", rep, err, 2*c.n)
				}
			}
		})
	}
}

// TestTwoWritersAlternate exercises the lost race deterministically: a log
// whose remembered head is stale must link to the other writer's entries.
func TestTwoWritersAlternate(t *testing.T) {
	store := memkv.New()
	a, b := audit.New(store, newSigner("k")), audit.New(store, newSigner("k"))
	var es []audit.Entry
	for i := range 40 {
		w := a
		if i%3 != 0 {
			w = b
		}
		es = append(es, mustAppend(t, w, decision("c", i)))
	}
	checkChain(t, es)
}

// flakyStore fails the next Create after storing it, like a Redis that
// applied a write but lost the answer.
type flakyStore struct {
	kv.Store
	fail bool
}

func (f *flakyStore) Create(ctx context.Context, bucket, key string, value []byte) error {
	err := f.Store.Create(ctx, bucket, key, value)
	if f.fail && err == nil {
		f.fail = false
		return errors.New("connection reset")
	}
	return err
}

func TestAppendAfterLostAnswer(t *testing.T) {
	store := &flakyStore{Store: memkv.New()}
	l := audit.New(store, newSigner("k"))
	first := mustAppend(t, l, decision("c", 0))
	store.fail = true
	if _, err := l.Append(t.Context(), decision("c", 1)); err == nil || errors.Is(err, audit.ErrInvalidEntry) {
		t.Fatalf("Append with a failing store = %v, want the store's error", err)
	}
	// The entry was stored after all: the next one links to it.
	third := mustAppend(t, l, decision("c", 2))
	var all []audit.Entry
	if err := l.Entries(t.Context(), "c", 1, func(e audit.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	checkChain(t, all)
	if len(all) != 3 || all[0].Hash != first.Hash || third.Seq != 3 {
		t.Errorf("chain after a lost answer: %d entries, third seq %d", len(all), third.Seq)
	}
}

type failingSigner struct{ keySigner }

func (failingSigner) Sign(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("HSM offline")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client went away") }

func TestExportFailures(t *testing.T) {
	store := memkv.New()
	appendN(t, audit.New(store, newSigner("k")), "c", 3)
	if err := audit.New(store, failingSigner{newSigner("k")}).Export(t.Context(), "c", io.Discard); err == nil {
		t.Error("Export with a failing signer succeeded")
	}
	if err := audit.New(store, newSigner("k")).Export(t.Context(), "c", failingWriter{}); err == nil {
		t.Error("Export to a failing writer succeeded")
	}
	if err := audit.New(store, newSigner("k")).Export(t.Context(), "a/b", io.Discard); !errors.Is(err, audit.ErrInvalidChain) {
		t.Errorf("Export of an invalid chain = %v, want ErrInvalidChain", err)
	}
}
