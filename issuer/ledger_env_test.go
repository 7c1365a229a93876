package issuer

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/registrytest"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// ledgerDIDs makes did:credence issuer DIDs on a real ledger, keeping their
// keys (one Ed25519 key: update key and assertion method, as the hosted DIDs
// of the service have), and signs ledger ops as their controller.
type ledgerDIDs struct {
	log  *registry.Log
	mu   sync.Mutex
	keys map[string]ed25519.PrivateKey // DID -> key
}

func (d *ledgerDIDs) CreateIssuerDID(ctx context.Context, _, _ string) (string, error) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, rcv, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := did.EncodeMultikey(priv.Public())
	rmk, _ := did.EncodeMultikey(rcv.Public())
	ph := registry.MethodPrefix + registry.SCIDPlaceholder
	doc := did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: ph,
		VerificationMethod: []did.VerificationMethod{{ID: ph + "#key-1", Type: did.TypeMultikey, Controller: ph, PublicKeyMultibase: mk}},
		AssertionMethod:    []did.Relationship{{Ref: ph + "#key-1"}}, Authentication: []did.Relationship{{Ref: ph + "#key-1"}}}
	docJSON, _ := json.Marshal(doc)
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: ph, Seq: 1,
		Time: time.Now().UTC().Truncate(time.Second).Format(registry.TimeLayout), Doc: docJSON, UpdateKeys: []string{mk}, RecoveryKeys: []string{rmk}}
	if err := registry.NewCreate(op); err != nil {
		return "", err
	}
	if err := registry.AddProof(op, "#"+mk, priv.Public(), signWith(priv)); err != nil {
		return "", err
	}
	raw, _ := json.Marshal(op)
	if _, err := d.log.Submit(ctx, raw); err != nil {
		return "", err
	}
	d.mu.Lock()
	d.keys[op.Subject] = priv
	d.mu.Unlock()
	return op.Subject, nil
}

func signWith(priv ed25519.PrivateKey) registry.SignFunc {
	return func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil }
}

func (d *ledgerDIDs) key(id string) (ed25519.PrivateKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.keys[id]
	if !ok {
		return nil, errors.New("unknown DID " + id)
	}
	return k, nil
}

func (d *ledgerDIDs) AssertionKey(_ context.Context, id string) (string, string, error) {
	if _, err := d.key(id); err != nil {
		return "", "", err
	}
	return id + "#key-1", id, nil
}

func (d *ledgerDIDs) Signer(_ context.Context, keyID string) (crypto.Signer, error) {
	return d.key(keyID)
}

func (d *ledgerDIDs) SignOp(_ context.Context, id string, op *registry.Op) error {
	k, err := d.key(id)
	if err != nil {
		return err
	}
	mk, _ := did.EncodeMultikey(k.Public())
	op.Proofs = nil
	return registry.AddProof(op, "#"+mk, k.Public(), signWith(k))
}

// ledgerEnv is a Service with status lists on a real (bbolt) ledger.
type ledgerEnv struct {
	svc  *Service
	log  *registry.Log
	dids *ledgerDIDs
	eng  *secure.Engine
	keys vc.KeyResolver
	now  time.Time
}

const testBaseURL = "https://credence.test"

func newTestLedger(t testing.TB) *registry.Log {
	t.Helper()
	return registrytest.NewLog(t)
}

func newLedgerEnv(t testing.TB, opts ...Option) *ledgerEnv {
	t.Helper()
	l := newTestLedger(t)
	e := &ledgerEnv{log: l, dids: &ledgerDIDs{log: l, keys: map[string]ed25519.PrivateKey{}}, eng: secure.New(processor), now: time.Now().UTC()}
	e.keys = vc.DIDKeys{Resolver: did.NewResolver(did.WithMethod("credence", registry.DIDMethod{Log: l}, 0))}
	opts = append([]Option{WithStatusLists(l, e.dids, testBaseURL)}, opts...)
	e.svc = New(memkv.New(), e.dids, e.dids, &fakeTokens{}, e.eng, nil, opts...)
	return e
}

func (e *ledgerEnv) tenant(t testing.TB, id, state string) Tenant {
	t.Helper()
	tn, _, err := e.svc.CreateTenant(context.Background(), TenantInput{ID: id, Name: id, Jurisdictions: []string{state}, Types: []string{"MedicalLicenseCredential", AnyType}})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}
