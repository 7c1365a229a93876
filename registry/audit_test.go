package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/registry/merkle"
	"golang.org/x/mod/sumdb/tlog"
)

// auditLog is a log of two subjects: 0 create A, 1 create B, 2 update A (rotating
// its update key), 3 update B, 4 deactivate A (by A's recovery key).
type auditLog struct {
	log      *Log
	store    *memStore
	a, b     SubjectState
	b1       testKey
	receipts []Receipt
}

func newAuditLog(t *testing.T) *auditLog {
	t.Helper()
	ctx := context.Background()
	log, store := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	f := &auditLog{log: log, store: store, b1: edKey(t, 4)}
	a1, a2, ar, br := edKey(t, 1), edKey(t, 2), edKey(t, 3), edKey(t, 5)
	must := func(op *Op) SubjectState {
		t.Helper()
		r, err := submit(t, log, op)
		if err != nil {
			t.Fatalf("%s seq %d: %v", op.Type, op.Seq, err)
		}
		f.receipts = append(f.receipts, r)
		st, err := log.State(ctx, op.Subject, 0)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	f.a = must(newCreate(t, []testKey{a1}, []testKey{ar}, nil))
	f.b = must(newCreate(t, []testKey{f.b1}, []testKey{br}, nil))
	up := nextOp(t, f.a, DIDUpdate, 5)
	up.Doc, up.UpdateKeys = testDoc(t, f.a.Subject, "v2", a2), mks(a2)
	f.a = must(sign(t, up, a1))
	upB := nextOp(t, f.b, DIDUpdate, 6)
	upB.Doc = testDoc(t, f.b.Subject, "b2", f.b1)
	f.b = must(sign(t, upB, f.b1))
	f.a = must(sign(t, nextOp(t, f.a, DIDDeactivate, 7), ar))
	return f
}

// raw is the leaves function over the store's leaf data as it is now.
func (f *auditLog) raw(i uint64) ([]byte, error) {
	if i >= uint64(len(f.store.leaves)) {
		return nil, ErrNotFound
	}
	return f.store.leaves[i].Data, nil
}

func (f *auditLog) audit() (AuditReport, error) {
	return Audit(context.Background(), f.raw, uint64(len(f.store.leaves)), f.store.cp, f.log.Verifier())
}

// wantLeafError checks err is a *LeafError at index whose message names it and
// wraps want (when not nil).
func wantLeafError(t *testing.T, err error, index uint64, want error) {
	t.Helper()
	var le *LeafError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LeafError at leaf %d", err, index)
	}
	if le.Index != index || !strings.HasPrefix(err.Error(), fmt.Sprintf("leaf %d: ", index)) {
		t.Errorf("got %q (index %d), want leaf %d named", err, le.Index, index)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("got %v, want it to wrap %v", err, want)
	}
}

func TestAuditGenuineLog(t *testing.T) {
	ctx := context.Background()
	f := newAuditLog(t)
	rep, err := f.audit()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := merkle.TreeRoot(&f.store.tree, 5)
	want := AuditReport{Size: 5, Root: base64.StdEncoding.EncodeToString(root[:]), RootHex: hex.EncodeToString(root[:]),
		Subjects: 2, Ops: 5, Deactivated: 1, Origin: "credence.test/log", CheckpointSize: 5,
		CheckpointRoot: base64.StdEncoding.EncodeToString(root[:])}
	if rep.OpsByType[DIDCreate] != 2 || rep.OpsByType[DIDUpdate] != 2 || rep.OpsByType[DIDDeactivate] != 1 || len(rep.OpsByType) != 3 {
		t.Errorf("ops by type = %v", rep.OpsByType)
	}
	rep.OpsByType = nil
	if fmt.Sprint(rep) != fmt.Sprint(want) {
		t.Errorf("report\n%+v\nwant\n%+v", rep, want)
	}

	// Through the store, with its records checked against the data: the same.
	viaStore, err := Audit(ctx, StoreLeaves(ctx, f.store), 5, f.store.cp, f.log.Verifier())
	if err != nil || viaStore.Root != want.Root {
		t.Errorf("StoreLeaves audit: %+v, %v", viaStore, err)
	}

	// An older checkpoint: all five leaves replay, the first three match it.
	rep, err = Audit(ctx, f.raw, 5, []byte(f.receipts[2].Checkpoint), f.log.Verifier())
	if err != nil || rep.Size != 5 || rep.CheckpointSize != 3 || rep.Root != want.Root || rep.CheckpointRoot == want.Root {
		t.Errorf("audit against the size-3 checkpoint: %+v, %v", rep, err)
	}

	// An empty log.
	empty, _ := newTestLog(t, time.Now())
	cp, err := empty.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = Audit(ctx, func(uint64) ([]byte, error) { t.Fatal("leaf read on an empty log"); return nil, nil }, 0, cp, empty.Verifier())
	emptyRoot, _ := merkle.TreeRoot(&merkle.MemoryTree{}, 0)
	if err != nil || rep.Size != 0 || rep.Subjects != 0 || rep.RootHex != hex.EncodeToString(emptyRoot[:]) {
		t.Errorf("empty log: %+v, %v", rep, err)
	}
}

func TestAuditAlteredLeaf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alter func([]byte) []byte
		want  error
		why   string
	}{
		// Still canonical JSON, but the signed payload changed.
		{"content", func(b []byte) []byte { return bytes.Replace(b, []byte("example.com/v2"), []byte("example.com/v3"), 1) }, ErrBadSignature, ""},
		// The same op, re-encoded: its leaf hash is no longer the op's.
		{"not canonical", func(b []byte) []byte { return append([]byte("{ "), b[1:]...) }, ErrMalformed, "not the op's canonical form"},
		{"garbage", func(b []byte) []byte { b = bytes.Clone(b); b[0] = 'x'; return b }, ErrMalformed, "does not decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAuditLog(t)
			altered := tc.alter(f.store.leaves[2].Data)
			if bytes.Equal(altered, f.store.leaves[2].Data) {
				t.Fatal("nothing altered")
			}
			f.store.leaves[2].Data = altered
			_, err := f.audit()
			wantLeafError(t, err, 2, tc.want)
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
			// The store's own record (hash) no longer matches either.
			ctx := context.Background()
			_, err = Audit(ctx, StoreLeaves(ctx, f.store), 5, f.store.cp, f.log.Verifier())
			wantLeafError(t, err, 2, nil)
			if !strings.Contains(err.Error(), "the record says hash") {
				t.Errorf("StoreLeaves: %v", err)
			}
		})
	}
}

func TestAuditReorderedLeaves(t *testing.T) {
	// A subject's update before its create: the chain breaks at the first one.
	f := newAuditLog(t)
	f.store.leaves[0], f.store.leaves[2] = f.store.leaves[2], f.store.leaves[0]
	_, err := f.audit()
	wantLeafError(t, err, 0, ErrUnknownSubject)

	// A leaf repeated in place of another: a replay.
	f = newAuditLog(t)
	f.store.leaves[3] = f.store.leaves[2]
	_, err = f.audit()
	wantLeafError(t, err, 3, ErrReplay)

	// Two subjects' creates swapped: every chain still replays, but only the root
	// shows the log is not the one that was signed.
	f = newAuditLog(t)
	f.store.leaves[0], f.store.leaves[1] = f.store.leaves[1], f.store.leaves[0]
	_, err = f.audit()
	if !errors.Is(err, ErrRootMismatch) || !strings.Contains(err.Error(), "credence.test/log") {
		t.Errorf("swapped creates: %v, want %v", err, ErrRootMismatch)
	}
}

func TestAuditCheckpointFromAnotherKey(t *testing.T) {
	f := newAuditLog(t)
	other, _ := newTestLog(t, time.Now()) // same origin, another key
	root, _ := merkle.TreeRoot(&f.store.tree, 5)
	forged, err := merkle.Sign(merkle.Checkpoint{Origin: f.log.Origin(), Size: 5, Root: root}, other.signer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Audit(context.Background(), f.raw, 5, forged, f.log.Verifier())
	if !errors.Is(err, merkle.ErrBadCheckpoint) || !strings.HasPrefix(err.Error(), "checkpoint: ") {
		t.Errorf("checkpoint by another key: %v", err)
	}
	// And the genuine checkpoint does not verify under the other key.
	if _, err := f.audit(); err != nil {
		t.Fatal(err)
	}
	if _, err := Audit(context.Background(), f.raw, 5, f.store.cp, other.Verifier()); !errors.Is(err, merkle.ErrBadCheckpoint) {
		t.Errorf("genuine checkpoint, other verifier: %v", err)
	}
}

func TestAuditCheckpointBeyondTheLog(t *testing.T) {
	f := newAuditLog(t)
	// The log lost its last two leaves; the checkpoint still covers five.
	_, err := Audit(context.Background(), f.raw, 3, f.store.cp, f.log.Verifier())
	wantLeafError(t, err, 3, ErrNotFound)
	if !strings.Contains(err.Error(), "covers 5 leaves, but the log has only 3") {
		t.Errorf("error %q", err)
	}
	// A checkpoint signed by the log key for a size the log never reached.
	cp, err := merkle.Sign(merkle.Checkpoint{Origin: f.log.Origin(), Size: 6, Root: tlog.RecordHash([]byte("x"))}, f.log.signer)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Audit(context.Background(), f.raw, 5, cp, f.log.Verifier())
	wantLeafError(t, err, 5, ErrNotFound)
	// The leaves function failing names the leaf too.
	_, err = Audit(context.Background(), func(i uint64) ([]byte, error) {
		if i == 4 {
			return nil, errors.New("disk on fire")
		}
		return f.raw(i)
	}, 5, f.store.cp, f.log.Verifier())
	wantLeafError(t, err, 4, nil)
}

func TestAuditInjectedBadSignature(t *testing.T) {
	ctx := context.Background()
	f := newAuditLog(t)
	// An update of B whose time was changed after it was signed, appended straight
	// to the store (no Submit), with a checkpoint signed over it.
	op := nextOp(t, f.b, DIDUpdate, 8)
	op.Doc = testDoc(t, f.b.Subject, "b3", f.b1)
	sign(t, op, f.b1)
	op.Time = tm(9)
	canonical, err := Canonical(op)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.log.Submit(ctx, canonical); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Submit of the forged op: %v, want %v", err, ErrBadSignature)
	}
	idx, err := f.store.Append(ctx, Head{Seq: f.b.Seq, Hash: f.b.Hash}, Leaf{Subject: op.Subject, Seq: op.Seq, Hash: OpHash(canonical), Data: canonical})
	if err != nil || idx != 5 {
		t.Fatalf("append: %d %v", idx, err)
	}
	if _, err := f.log.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = f.audit()
	wantLeafError(t, err, 5, ErrBadSignature)
	if !strings.Contains(err.Error(), "did.update seq 3 of "+f.b.Subject) {
		t.Errorf("error %q does not name the op", err)
	}
	_, err = Audit(ctx, StoreLeaves(ctx, f.store), 6, f.store.cp, f.log.Verifier())
	wantLeafError(t, err, 5, ErrBadSignature)
}

func TestAuditStoreRecordMismatch(t *testing.T) {
	ctx := context.Background()
	for name, alter := range map[string]func(*Leaf){
		"subject": func(l *Leaf) { l.Subject = "did:credence:other" },
		"seq":     func(l *Leaf) { l.Seq = 7 },
		"index":   func(l *Leaf) { l.Index = 9 },
		"hash":    func(l *Leaf) { l.Hash = strings.Repeat("0", 64) },
	} {
		f := newAuditLog(t)
		alter(&f.store.leaves[1])
		_, err := Audit(ctx, StoreLeaves(ctx, f.store), 5, f.store.cp, f.log.Verifier())
		wantLeafError(t, err, 1, nil)
		if !strings.Contains(err.Error(), "the record") {
			t.Errorf("%s: %v", name, err)
		}
		// The data itself is intact.
		if _, err := f.audit(); err != nil {
			t.Errorf("%s: raw audit: %v", name, err)
		}
	}
}

func TestAuditCancelled(t *testing.T) {
	f := newAuditLog(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Audit(ctx, f.raw, 5, f.store.cp, f.log.Verifier()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled audit: %v", err)
	}
}

// TestAuditStatusListOps: the audit checks statuslist ops against their
// issuer's state at their position in the log, as the sequencer did.
func TestAuditStatusListOps(t *testing.T) {
	ctx := context.Background()
	const url = "https://status.example.com/audit"
	w := newLogWorld(t)
	w.must(statusCreate(t, url, w.issuer, MinStatusListBits, []int{1}, w.u))
	w.must(statusUpdate(t, w.state(w.log, url), 2, []int{2}, []int{3}, w.u))
	rep, err := Audit(ctx, StoreLeaves(ctx, w.store), 3, w.store.cp, w.log.Verifier())
	if err != nil || rep.OpsByType[StatusListCreate] != 1 || rep.OpsByType[StatusListUpdate] != 1 || rep.StatusLists != 1 {
		t.Fatalf("audit: %+v, %v", rep, err)
	}

	// A list whose create precedes its issuer's: appended straight to a store
	// in that order, it fails at the list's leaf (the issuer is unknown there),
	// although every op is correctly signed.
	base, mem := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	issuerCreate := newCreate(t, []testKey{w.u}, []testKey{w.r}, nil)
	list := statusCreate(t, url, issuerCreate.Subject, MinStatusListBits, nil, w.u)
	for _, op := range []*Op{list, issuerCreate} {
		c, _ := Canonical(op)
		if _, err := mem.Append(ctx, Head{}, Leaf{Subject: op.Subject, Seq: 1, Hash: OpHash(c), Data: c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := base.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = Audit(ctx, StoreLeaves(ctx, mem), 2, mem.cp, base.Verifier())
	wantLeafError(t, err, 0, ErrUnauthorizedKey)
	if !strings.Contains(err.Error(), "is not on the ledger") {
		t.Errorf("error %q", err)
	}
	// The Log's replay agrees: the issuer exists now, but not at index 0.
	if _, err := base.State(ctx, url, 0); !errors.Is(err, ErrUnauthorizedKey) {
		t.Errorf("replay of a list created before its issuer: %v", err)
	}
	if st, err := base.State(ctx, issuerCreate.Subject, 0); err != nil || st.Seq != 1 {
		t.Errorf("the issuer itself replays: %+v %v", st, err)
	}
}
