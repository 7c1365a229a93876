package witness

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/registrytest"
)

// createDID appends one did.create op to the ledger.
func createDID(t *testing.T, l *registry.Log) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, rcv, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := did.EncodeMultikey(priv.Public())
	rmk, _ := did.EncodeMultikey(rcv.Public())
	ph := registry.MethodPrefix + registry.SCIDPlaceholder
	doc, _ := json.Marshal(did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: ph,
		VerificationMethod: []did.VerificationMethod{{ID: ph + "#key-1", Type: did.TypeMultikey, Controller: ph, PublicKeyMultibase: mk}},
		AssertionMethod:    []did.Relationship{{Ref: ph + "#key-1"}}})
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: ph, Seq: 1,
		Time: time.Now().UTC().Format(registry.TimeLayout), Doc: doc, UpdateKeys: []string{mk}, RecoveryKeys: []string{rmk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	if err := registry.AddProof(op, "#"+mk, priv.Public(), func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil }); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(op)
	if _, err := l.Submit(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
}

// consistency is the log side's proof from the witness's size: none from 0.
func consistency(ctx context.Context, l *registry.Log, from, to uint64) ([]tlog.Hash, error) {
	if from == 0 {
		return nil, nil
	}
	p, err := l.ProveConsistency(ctx, from, to)
	return p.Hashes, err
}

// TestRegistryLog runs the log side as the lead will wire it: the registry
// signs checkpoints, pushes each to a witness over HTTP with a consistency
// proof from the witness's size, and serves checkpoints a verifier accepts
// with a quorum of one.
func TestRegistryLog(t *testing.T) {
	ctx := t.Context()
	ledger := registrytest.NewLog(t)
	cos := newCosigner(t, "witness.credence.test/w1")
	w, err := New(cos, NewKVStore(memkv.New(), ""), []Log{{Origin: ledger.Origin(), Keys: []note.Verifier{ledger.Verifier()}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()

	var witnessSize uint64 // what the log believes; starts unknown (0)
	push := func() []byte {
		signed, err := ledger.SignCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		size, _ := ledger.Size(ctx)
		for range 2 {
			p, err := consistency(ctx, ledger, witnessSize, size)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := Add(ctx, srv.Client(), srv.URL, witnessSize, p, signed)
			var conflict *ConflictError
			if errors.As(err, &conflict) {
				witnessSize = conflict.Size
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			witnessSize = size
			full, err := AppendCosignatures(signed, lines, cos.Verifier())
			if err != nil {
				t.Fatal(err)
			}
			return full
		}
		t.Fatal("no cosignature after a retry")
		return nil
	}
	for _, n := range []int{0, 3, 1, 4} {
		for range n {
			createDID(t, ledger)
		}
		full := push()
		c, err := VerifyCosigned(full, ledger.Verifier(), []note.Verifier{cos.Verifier()}, 1)
		if size, _ := ledger.Size(ctx); err != nil || c.Size != size {
			t.Fatalf("VerifyCosigned = %+v, %v; want size %d", c, err, size)
		}
	}
	// A log replica that lost its state (believes the witness is at 0) is
	// told the witness's size and catches up.
	witnessSize = 0
	createDID(t, ledger)
	push()
}
