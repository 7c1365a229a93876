package boltstore_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
)

// TestLogsShareEvents: two Logs on one embedded store (as the roles of one
// process could be) see each other's appends, in index order, once each,
// also when appends share group commits.
func TestLogsShareEvents(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "registry.db"))
	t.Cleanup(func() { s.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/bolt", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/bolt", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	a, b := registry.NewLog(s, signer, verifier), registry.NewLog(s, signer, verifier)
	ch := b.Subscribe(ctx)

	const n = 16
	var wg sync.WaitGroup
	hashes := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			l := a
			if i%2 == 1 {
				l = b
			}
			rec, err := l.Submit(ctx, didCreate(t, byte(i+1)))
			if err != nil {
				t.Error(err)
				return
			}
			hashes <- rec.Hash
		})
	}
	wg.Wait()
	close(hashes)
	want := map[string]bool{}
	for h := range hashes {
		want[h] = true
	}
	for i := range uint64(n) {
		select {
		case ev := <-ch:
			if ev.Index != i || ev.Type != registry.DIDCreate || ev.Seq != 1 || !want[ev.Hash] {
				t.Fatalf("event %d = %+v", i, ev)
			}
			delete(want, ev.Hash)
		case <-time.After(time.Second):
			t.Fatalf("no event %d within a second", i)
		}
	}
	select {
	case ev := <-ch:
		t.Fatalf("extra event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

// didCreate is a signed did.create whose keys derive from seed.
func didCreate(t *testing.T, seed byte) []byte {
	t.Helper()
	u := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	r := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed + 100}, ed25519.SeedSize))
	umk, _ := did.EncodeMultikey(u.Public())
	rmk, _ := did.EncodeMultikey(r.Public())
	id := registry.MethodPrefix + registry.SCIDPlaceholder
	doc, _ := json.Marshal(map[string]any{
		"@context":           []string{did.ContextDIDv1, did.ContextMultikey},
		"id":                 id,
		"verificationMethod": []map[string]any{{"id": id + "#key-1", "type": did.TypeMultikey, "controller": id, "publicKeyMultibase": umk}},
	})
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: id, Seq: 1,
		Time: time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Format(registry.TimeLayout),
		Doc:  doc, UpdateKeys: []string{umk}, RecoveryKeys: []string{rmk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	if err := registry.AddProof(op, "#"+umk, u.Public(), registry.SignerFunc(u)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(op)
	return b
}
