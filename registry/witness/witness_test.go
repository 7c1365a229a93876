package witness

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry/merkle"
)

// TestGrowingLog: the witness cosigns each checkpoint of a growing log, and
// each cosignature verifies with transparency-dev's independent verifier.
func TestGrowingLog(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log")
	w, clk := newWitness(t, nil, l)
	theirs, err := fnote.NewVerifierForCosignatureV1(w.Cosigner().VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	var old uint64
	for i, size := range []uint64{0, 1, 2, 3, 5, 8, 8, 13, 64, 65, 100} {
		l.grow(int(size)-len(l.leaves), "leaf")
		clk.set(t0.Add(time.Duration(i) * time.Minute))
		signed := l.checkpoint(size)
		lines, err := w.AddCheckpoint(ctx, old, l.proof(old, size), signed)
		if err != nil {
			t.Fatalf("size %d from %d: %v", size, old, err)
		}
		n, err := note.Open(cosigned(signed, lines), note.VerifierList(l.verifier, theirs))
		if err != nil {
			t.Fatalf("size %d: cosigned note does not verify: %v", size, err)
		}
		if len(n.Sigs) != 2 || n.Sigs[1].Name != "witness.credence.test/w1" {
			t.Fatalf("size %d: verified signatures %+v, want the log's and the witness's", size, n.Sigs)
		}
		ts, err := fnote.CoSigV1Timestamp(n.Sigs[1])
		if err != nil || !ts.Equal(clk.now()) {
			t.Fatalf("size %d: cosignature time %v (%v), want %v", size, ts, err, clk.now())
		}
		latest, err := w.Latest(ctx, l.origin)
		if err != nil || !bytes.Equal(latest, cosigned(signed, lines)) {
			t.Fatalf("size %d: Latest = %q, %v; want the checkpoint with the cosignature", size, latest, err)
		}
		c, err := VerifyCosigned(latest, l.verifier, []note.Verifier{w.Cosigner().Verifier()}, 1)
		if err != nil || c.Size != size || c.Root != l.cp(size).Root {
			t.Fatalf("size %d: VerifyCosigned = %+v, %v", size, c, err)
		}
		old = size
	}
}

// TestRefusals: every attack and mistake is refused with the status
// tlog-witness gives it, and none changes what the witness cosigned.
func TestRefusals(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(20, "a")
	fork := l.fork(8).grow(12, "b") // same first 8 leaves, then different ones
	other := newTestLog(t, "credence.test/other").grow(3, "o")
	impostor := newTestLog(t, "credence.test/log").grow(20, "a") // same origin, another key
	badSig := corruptLastSignature(t, l.checkpoint(12))
	cosignerOnly := func() []byte {
		cs := newCosigner(t, "witness.credence.test/other")
		line, err := cs.Cosign(l.cp(12).Marshal(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return append(append(l.cp(12).Marshal(), '\n'), line...)
	}()
	tampered := l.proof(10, 12)
	tampered[0][0] ^= 1

	tests := []struct {
		name   string
		old    uint64
		proof  []tlog.Hash
		signed []byte
		want   error
		status int
	}{
		{"rollback to a smaller tree", 10, nil, l.checkpoint(5), ErrMalformed, 400},
		{"rollback claiming the smaller size", 5, nil, l.checkpoint(5), ErrConflict, 409},
		{"fork: same size, other root", 10, nil, fork.checkpoint(10), ErrBadProof, 422},
		{"fork: larger tree with its own proof", 10, fork.proof(10, 15), fork.checkpoint(15), ErrBadProof, 422},
		{"fork: larger tree with the honest proof", 10, l.proof(10, 15), fork.checkpoint(15), ErrBadProof, 422},
		{"wrong old size", 7, l.proof(7, 12), l.checkpoint(12), ErrConflict, 409},
		{"old size 0 when the witness is at 10", 0, nil, l.checkpoint(12), ErrConflict, 409},
		{"tampered proof", 10, tampered, l.checkpoint(12), ErrBadProof, 422},
		{"truncated proof", 10, l.proof(10, 12)[:1], l.checkpoint(12), ErrBadProof, 422},
		{"proof with an extra hash", 10, append(l.proof(10, 12), tlog.Hash{}), l.checkpoint(12), ErrBadProof, 422},
		{"proof from another size", 10, l.proof(9, 12), l.checkpoint(12), ErrBadProof, 422},
		{"same size with a proof", 10, l.proof(9, 10), l.checkpoint(10), ErrBadProof, 422},
		{"unknown origin", 0, nil, other.checkpoint(3), ErrUnknownLog, 404},
		{"signed by another key with the log's name", 10, l.proof(10, 12), impostor.checkpoint(12), ErrBadSignature, 403},
		{"log signature does not verify", 10, l.proof(10, 12), badSig, ErrBadSignature, 403},
		{"only a cosignature, no log signature", 10, l.proof(10, 12), cosignerOnly, ErrBadSignature, 403},
		{"not a signed note", 10, nil, append(l.cp(12).Marshal(), "no signatures"...), ErrMalformed, 400},
		{"no newline at all", 0, nil, []byte("credence.test/log"), ErrMalformed, 400},
		{"too many proof hashes", 10, make([]tlog.Hash, 64), l.checkpoint(12), ErrMalformed, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			w, _ := newWitness(t, nil, l)
			if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(10)); err != nil {
				t.Fatal(err)
			}
			before, _ := w.Latest(ctx, l.origin)
			lines, err := w.AddCheckpoint(ctx, tt.old, tt.proof, tt.signed)
			if !errors.Is(err, tt.want) || lines != nil {
				t.Fatalf("AddCheckpoint = %q, %v; want %v", lines, err, tt.want)
			}
			if got := StatusOf(err); got != tt.status {
				t.Fatalf("StatusOf(%v) = %d, want %d", err, got, tt.status)
			}
			var conflict *ConflictError
			if errors.As(err, &conflict) && conflict.Size != 10 {
				t.Fatalf("conflict size %d, want 10", conflict.Size)
			}
			after, _ := w.Latest(ctx, l.origin)
			if !bytes.Equal(before, after) {
				t.Fatal("a refused checkpoint changed the witness's state")
			}
		})
	}
}

// TestEmptyTree: a checkpoint of size 0 must carry the empty tree's root,
// and every tree extends it without a proof.
func TestEmptyTree(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(2, "a")
	w, _ := newWitness(t, nil, l)
	bad, err := merkle.Sign(merkle.Checkpoint{Origin: l.origin, Size: 0, Root: l.cp(1).Root}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, bad); !errors.Is(err, ErrBadProof) {
		t.Fatalf("size 0 with a non-empty root: %v, want ErrBadProof", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(0)); err != nil {
		t.Fatalf("empty checkpoint: %v", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, l.proof(1, 2), l.checkpoint(2)); !errors.Is(err, ErrBadProof) {
		t.Fatalf("a proof from size 0: %v, want ErrBadProof", err)
	}
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(2)); err != nil {
		t.Fatalf("from the empty tree: %v", err)
	}
}

// TestNeverCosignedConflict: a witness that never cosigned answers a
// non-zero old size with a conflict at size 0.
func TestNeverCosignedConflict(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(4, "a")
	w, _ := newWitness(t, nil, l)
	_, err := w.AddCheckpoint(t.Context(), 2, l.proof(2, 4), l.checkpoint(4))
	var conflict *ConflictError
	if !errors.As(err, &conflict) || conflict.Size != 0 {
		t.Fatalf("err = %v, want a conflict at size 0", err)
	}
	if _, err := w.Latest(t.Context(), l.origin); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Latest = %v, want ErrNotFound", err)
	}
}

// TestTimestampsNeverGoBack: when the clock steps back, the cosignature keeps
// the previous cosignature's time.
func TestTimestampsNeverGoBack(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	w, clk := newWitness(t, nil, l)
	if _, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(2)); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(-time.Hour))
	lines, err := w.AddCheckpoint(ctx, 2, l.proof(2, 3), l.checkpoint(3))
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cosigned(l.checkpoint(3), lines), note.VerifierList(w.Cosigner().Verifier()))
	if err != nil {
		t.Fatal(err)
	}
	if ts, _ := fnote.CoSigV1Timestamp(n.Sigs[0]); !ts.Equal(t0) {
		t.Fatalf("timestamp %v after the clock stepped back, want %v", ts, t0)
	}
	clk.set(time.Unix(0, 0))
	if _, err := w.AddCheckpoint(ctx, 3, nil, l.checkpoint(3)); err == nil || StatusOf(err) != 500 {
		t.Fatalf("a clock at the epoch gave %v, want an internal error", err)
	}
}

// TestStoredStateKeepsOnlyVerifiedSignatures: the state served to monitors
// holds the log's verified signature and the cosignature, not other lines.
func TestStoredStateKeepsOnlyVerifiedSignatures(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	w, _ := newWitness(t, nil, l)
	other := newCosigner(t, "witness.credence.test/other")
	line, err := other.Cosign(l.cp(3).Marshal(), 5)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := w.AddCheckpoint(ctx, 0, nil, cosigned(l.checkpoint(3), line))
	if err != nil {
		t.Fatal(err)
	}
	latest, _ := w.Latest(ctx, l.origin)
	if want := cosigned(l.checkpoint(3), lines); !bytes.Equal(latest, want) {
		t.Fatalf("stored %q, want %q", latest, want)
	}
	if strings.Contains(string(latest), "witness.credence.test/other") {
		t.Fatal("an unverified cosignature was stored")
	}
}

// TestCorruptStore: a stored value that does not parse is an internal error,
// never a cosignature.
func TestCorruptStore(t *testing.T) {
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	st := &fakeStore{value: []byte("garbage\n\n— x y\n")}
	w, _ := newWitness(t, st, l)
	_, err := w.AddCheckpoint(context.Background(), 0, nil, l.checkpoint(3))
	if err == nil || StatusOf(err) != 500 {
		t.Fatalf("err = %v, want an internal error", err)
	}
}

type fakeStore struct{ value []byte }

func (s *fakeStore) Latest(context.Context, string) ([]byte, error) { return s.value, nil }
func (s *fakeStore) Update(_ context.Context, _ string, fn func([]byte) ([]byte, error)) error {
	v, err := fn(s.value)
	if err == nil {
		s.value = v
	}
	return err
}

func TestNewRejectsBadConfig(t *testing.T) {
	l := newTestLog(t, "credence.test/log")
	c := newCosigner(t, "w")
	st := NewKVStore(nil, "")
	for name, logs := range map[string][]Log{
		"empty origin":     {{Origin: "", Keys: []note.Verifier{l.verifier}}},
		"newline origin":   {{Origin: "a\nb", Keys: []note.Verifier{l.verifier}}},
		"no keys":          {{Origin: "o"}},
		"nil key":          {{Origin: "o", Keys: []note.Verifier{nil}}},
		"duplicate key":    {{Origin: "o", Keys: []note.Verifier{l.verifier, l.verifier}}},
		"duplicate origin": {l.config(), l.config()},
		"own key as log":   {{Origin: "o", Keys: []note.Verifier{c.Verifier()}}},
	} {
		if _, err := New(c, st, logs); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// TestReplayWritesNothing: the checkpoint cosigned last, submitted again
// within the same second (anyone can replay the public latest checkpoint),
// gets the same cosignature without a store write; a second later it is
// cosigned anew.
func TestReplayWritesNothing(t *testing.T) {
	ctx := t.Context()
	l := newTestLog(t, "credence.test/log").grow(3, "a")
	st := &countingStore{Store: NewKVStore(memkv.New(), "")}
	w, clk := newWitness(t, st, l)
	first, err := w.AddCheckpoint(ctx, 0, nil, l.checkpoint(3))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := w.AddCheckpoint(ctx, 3, nil, l.checkpoint(3))
		if err != nil || !bytes.Equal(again, first) {
			t.Fatalf("replay = %q, %v; want the same cosignature %q", again, err, first)
		}
	}
	if st.writes != 1 {
		t.Fatalf("%d store writes for one checkpoint and its replays, want 1", st.writes)
	}
	clk.set(t0.Add(time.Second))
	later, err := w.AddCheckpoint(ctx, 3, nil, l.checkpoint(3))
	if err != nil || bytes.Equal(later, first) || st.writes != 2 {
		t.Fatalf("a second later: %q, %v, %d writes; want a new cosignature, written", later, err, st.writes)
	}
	if _, err := note.Open(cosigned(l.checkpoint(3), later), note.VerifierList(w.Cosigner().Verifier())); err != nil {
		t.Fatal(err)
	}
}

// countingStore counts the updates that write.
type countingStore struct {
	Store
	writes int
}

func (s *countingStore) Update(ctx context.Context, origin string, fn func([]byte) ([]byte, error)) error {
	return s.Store.Update(ctx, origin, func(old []byte) ([]byte, error) {
		v, err := fn(old)
		if err == nil {
			s.writes++
		}
		return v, err
	})
}
