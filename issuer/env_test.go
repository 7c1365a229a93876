package issuer

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
)

// fakeDIDs makes did:key issuer DIDs whose keys it keeps, so that
// verification resolves them offline.
type fakeDIDs struct {
	mu   sync.Mutex
	keys map[string]ed25519.PrivateKey // DID -> key
	fail error
}

func (f *fakeDIDs) CreateIssuerDID(_ context.Context, alg, _ string) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	d, err := did.KeyDID(priv.Public())
	if err != nil {
		return "", err
	}
	id := d.String()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[id] = priv
	return id, nil
}

func (f *fakeDIDs) AssertionKey(_ context.Context, id string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.keys[id]; !ok {
		return "", "", errors.New("unknown DID")
	}
	d := did.MustParse(id)
	return id + "#" + d.ID, id, nil
}

func (f *fakeDIDs) Signer(_ context.Context, keyID string) (crypto.Signer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[keyID], nil
}

type fakeTokens struct{ scopes []string }

func (t *fakeTokens) IssueToken(_ context.Context, _, _ string, scopes ...string) (string, error) {
	t.scopes = append(t.scopes, scopes...)
	return "crd_secret", nil
}

type resolverKeys struct{ r *did.Resolver }

func (h resolverKeys) HolderKey(ctx context.Context, id string) (crypto.PublicKey, error) {
	res, err := h.r.Resolve(ctx, id, did.Options{})
	if err != nil {
		return nil, err
	}
	m, ok := res.Document.Method(res.Document.Authentication[0].ID())
	if !ok {
		return nil, errors.New("no key")
	}
	return m.PublicKey()
}

type env struct {
	svc      *Service
	dids     *fakeDIDs
	tokens   *fakeTokens
	eng      *secure.Engine
	resolver *did.Resolver
	now      time.Time
}

var processor = ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context))

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{dids: &fakeDIDs{keys: map[string]ed25519.PrivateKey{}}, tokens: &fakeTokens{},
		eng: secure.New(processor), resolver: did.NewResolver(), now: time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)}
	e.svc = New(memkv.New(), e.dids, e.dids, e.tokens, e.eng, resolverKeys{e.resolver}, WithClock(func() time.Time { return e.now }))
	return e
}

func (e *env) tenant(t testing.TB, in TenantInput) Tenant {
	t.Helper()
	tn, _, err := e.svc.CreateTenant(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	return tn
}

func (e *env) verify(t testing.TB, secured any) *secure.Verified {
	t.Helper()
	v, err := e.eng.VerifyCredential(context.Background(), secured, vc.DIDKeys{Resolver: e.resolver}, secure.VerifyOptions{Now: e.now})
	if err != nil {
		t.Fatalf("issued credential does not verify: %v", err)
	}
	return v
}

// example reads a sample credential's subject and validFrom from testdata.
func example(t testing.TB, file string) (map[string]any, time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	from, err := time.Parse(time.RFC3339, c["validFrom"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return c["credentialSubject"].(map[string]any), from
}

// credential is an unsecured credential of typ about subject.
func credential(typ string, subject map[string]any) map[string]any {
	return map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"type":              []any{vc.TypeCredential, typ},
		"credentialSubject": subject,
	}
}
