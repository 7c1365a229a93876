package audit

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// sealJCS is what the committer's fill must equal: the entry's hash and
// stored form computed by canonicalizing the whole entry, twice.
func sealJCS(e Entry) (Entry, []byte, error) {
	h, err := EntryHash(e)
	if err != nil {
		return Entry{}, nil, err
	}
	e.Hash = h
	raw, err := canonical(e)
	return e, raw, err
}

// tricky are strings that look like the members a form cuts at, need
// escaping, or sort differently in UTF-16 and UTF-8.
var tricky = []string{
	"", "a", `,"seq":0`, `,"prev":""`, `,"kind":`, `,"holder":`, `,"hash":"x"`,
	`,"time":"0001-01-01T00:00:00Z"`, `"`, `\`, `\"`, `a"b\c`, "<>&", "é", "\u2028\u2029",
	"😀", "\uffff", "zz\U0010ffff", "did:key:z6Mk", strings.Repeat("x", 512),
}

func pick(r *rand.Rand, ss []string) string { return ss[r.IntN(len(ss))] }

// randomEntry is a valid entry with tricky strings where entries allow them.
func randomEntry(r *rand.Rand) Entry {
	e := Entry{
		Chain:     pick(r, []string{"c", "default", "Hospital-A.b_c", strings.Repeat("z", 128)}),
		Requester: pick(r, []string{Anonymous, "tok_0123456789abcdef"}),
		Request:   pick(r, tricky),
		Kind:      pick(r, []string{KindCredential, KindPresentation}),
		Verified:  r.IntN(2) == 0,
		Decision:  pick(r, []string{"accept", "review", "reject"}),
	}
	if r.IntN(2) == 0 {
		e.Holder = "did:" + pick(r, tricky)
		if !text(e.Holder) {
			e.Holder = "did:x"
		}
	}
	for range r.IntN(4) {
		c := CredentialRef{ID: pick(r, tricky), Issuer: pick(r, tricky), Digest: Digest([]byte{byte(r.IntN(256))})}
		for range r.IntN(3) {
			if t := pick(r, tricky); t != "" {
				c.Types = append(c.Types, t)
			}
		}
		e.Credentials = append(e.Credentials, c)
	}
	for range r.IntN(4) {
		e.Checks = append(e.Checks, Check{Name: pick(r, []string{"proof", "status", "a:b.c-d_e"}), Passed: r.IntN(2) == 0})
	}
	for range r.IntN(3) {
		e.Errors = append(e.Errors, pick(r, []string{"CREDENTIAL_REVOKED", "A", "X_1"}))
	}
	for range r.IntN(3) {
		e.Warnings = append(e.Warnings, pick(r, []string{"EXPIRES_SOON", "B"}))
	}
	return e
}

// randomLink sets the fields the committer fills.
func randomLink(r *rand.Rand, e *Entry) {
	e.Seq = []uint64{1, 9, 10, 1 << 32, maxExactSeq, r.Uint64N(maxExactSeq) + 1}[r.IntN(6)]
	e.Time = time.Unix(r.Int64N(1<<35), []int64{0, 1e6, 1e8, r.Int64N(1e9)}[r.IntN(4)]).UTC()
	e.Prev = ""
	if r.IntN(4) != 0 {
		e.Prev = Digest([]byte(fmt.Sprint(r.Int())))
	}
}

// checkFill checks fill against sealJCS for e, a valid entry, linked as in
// link.
func checkFill(t *testing.T, e, link Entry) {
	t.Helper()
	e.normalize()
	f, err := newForm(e)
	if err != nil {
		t.Fatalf("newForm(%+v): %v", e, err)
	}
	e.Seq, e.Time, e.Prev = link.Seq, link.Time.UTC().Round(0), link.Prev
	want, wantRaw, err := sealJCS(e)
	if err != nil {
		t.Fatal(err)
	}
	got := e
	got.Hash = "ignored"
	raw, err := f.fill(&got)
	if err != nil {
		t.Fatalf("fill(%+v): %v", e, err)
	}
	if got.Hash != want.Hash || !bytes.Equal(raw, wantRaw) {
		t.Fatalf("fill of %+v =\n%s (hash %s), want\n%s (hash %s)", e, raw, got.Hash, wantRaw, want.Hash)
	}
	if len(raw) < f.minSize() {
		t.Fatalf("stored form of %d bytes, under minSize %d", len(raw), f.minSize())
	}
	if _, err := checkStored(e.Chain, e.Seq, raw); err != nil {
		t.Fatalf("the filled form does not read back: %v", err)
	}
}

// TestFormIsJCS: filling a form gives exactly the canonical form and hash
// of the whole entry, for entries of every shape.
func TestFormIsJCS(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		e := randomEntry(r)
		if err := e.validate(); err != nil {
			t.Fatalf("randomEntry made an invalid entry: %v", err)
		}
		var link Entry
		randomLink(r, &link)
		checkFill(t, e, link)
	}
}

func TestFillRefuses(t *testing.T) {
	e := randomEntry(rand.New(rand.NewPCG(3, 4)))
	e.normalize()
	f, err := newForm(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(*Entry)
	}{
		{"seq beyond 2^53", func(e *Entry) { e.Seq = maxExactSeq + 1 }},
		{"prev not a digest", func(e *Entry) { e.Prev = `sha256:"` }},
		{"prev in upper case", func(e *Entry) { e.Prev = strings.ToUpper(Digest(nil)) }},
		{"year 10000", func(e *Entry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		l := e
		l.Seq, l.Time = 1, time.Now().UTC().Round(0)
		c.edit(&l)
		if raw, err := f.fill(&l); err == nil {
			t.Errorf("%s: fill = %s, want an error", c.name, raw)
		}
	}
	l := e
	l.Seq, l.Time = 1, time.Now().UTC().Round(0)
	f.c = append(bytes.Clone(f.c[:len(f.c)-1]), strings.Repeat(" ", MaxEntryBytes)+"}"...)
	if _, err := f.fill(&l); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("fill of an oversized entry = %v, want ErrInvalidEntry", err)
	}
}

// FuzzForm: for any valid entry, the filled form is the canonical form.
func FuzzForm(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, "did:"+s, s, uint64(7), int64(1e9+1))
	}
	f.Fuzz(func(t *testing.T, request, holder, id string, seq uint64, nsec int64) {
		e := randomEntry(rand.New(rand.NewPCG(seq, uint64(nsec))))
		e.Request, e.Holder = request, holder
		e.Credentials = append(e.Credentials, CredentialRef{ID: id, Digest: Digest(nil)})
		if e.validate() != nil {
			return
		}
		link := Entry{Seq: seq%maxExactSeq + 1, Time: time.Unix(0, nsec).UTC(), Prev: Digest([]byte(id))}
		if _, err := link.Time.MarshalJSON(); err != nil {
			return
		}
		checkFill(t, e, link)
	})
}
