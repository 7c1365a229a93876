package witness

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry/merkle"
)

// testLog is a log in memory signing C2SP checkpoints with a note key named
// after its origin.
type testLog struct {
	t        testing.TB
	origin   string
	signer   note.Signer
	verifier note.Verifier
	tree     *merkle.MemoryTree
	leaves   [][]byte
}

func newTestLog(t testing.TB, origin string) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{t: t, origin: origin, signer: signer, verifier: verifier, tree: &merkle.MemoryTree{}}
}

// grow appends n leaves whose data starts with tag.
func (l *testLog) grow(n int, tag string) *testLog {
	l.t.Helper()
	for range n {
		data := fmt.Appendf(nil, "%s-%d", tag, len(l.leaves))
		if _, err := l.tree.Append(data); err != nil {
			l.t.Fatal(err)
		}
		l.leaves = append(l.leaves, data)
	}
	return l
}

// fork returns a log with the same origin and key whose tree holds this
// log's first k leaves.
func (l *testLog) fork(k int) *testLog {
	f := &testLog{t: l.t, origin: l.origin, signer: l.signer, verifier: l.verifier, tree: &merkle.MemoryTree{}}
	for _, d := range l.leaves[:k] {
		if _, err := f.tree.Append(d); err != nil {
			l.t.Fatal(err)
		}
		f.leaves = append(f.leaves, d)
	}
	return f
}

func (l *testLog) cp(size uint64) merkle.Checkpoint {
	l.t.Helper()
	root, err := merkle.TreeRoot(l.tree, size)
	if err != nil {
		l.t.Fatal(err)
	}
	return merkle.Checkpoint{Origin: l.origin, Size: size, Root: root}
}

// checkpoint signs the checkpoint of the first size leaves.
func (l *testLog) checkpoint(size uint64) []byte {
	l.t.Helper()
	signed, err := merkle.Sign(l.cp(size), l.signer)
	if err != nil {
		l.t.Fatal(err)
	}
	return signed
}

// proof is the consistency proof from size from to size to (none from 0).
func (l *testLog) proof(from, to uint64) []tlog.Hash {
	l.t.Helper()
	if from == 0 {
		return nil
	}
	p, err := merkle.ProveConsistency(l.tree, from, to)
	if err != nil {
		l.t.Fatal(err)
	}
	return p.Hashes
}

func (l *testLog) config() Log { return Log{Origin: l.origin, Keys: []note.Verifier{l.verifier}} }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Unix(1767225600, 0)

func newCosigner(t testing.TB, name string) *Cosigner {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCosigner(name, priv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newWitness returns a witness on a fresh memkv (or store) following logs,
// with a settable clock.
func newWitness(t testing.TB, store Store, logs ...*testLog) (*Witness, *clock) {
	t.Helper()
	if store == nil {
		store = NewKVStore(memkv.New(), "")
	}
	clk := &clock{t: t0}
	var cfg []Log
	for _, l := range logs {
		cfg = append(cfg, l.config())
	}
	w, err := New(newCosigner(t, "witness.credence.test/w1"), store, cfg, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	return w, clk
}

// cosigned returns signed with lines appended.
func cosigned(signed, lines []byte) []byte { return append(append([]byte(nil), signed...), lines...) }

// corruptLastSignature flips a bit of the signature (not the key ID) of the
// last signature line of a signed note.
func corruptLastSignature(t testing.TB, signed []byte) []byte {
	t.Helper()
	body := strings.TrimSuffix(string(signed), "\n")
	i := strings.LastIndex(body, " ")
	sig, err := base64.StdEncoding.DecodeString(body[i+1:])
	if err != nil || len(sig) < 6 {
		t.Fatalf("not a signature line: %q", body[i+1:])
	}
	sig[len(sig)-1] ^= 1
	return []byte(body[:i+1] + base64.StdEncoding.EncodeToString(sig) + "\n")
}
