package didapi

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

// credEnv is a DID API whose Hosted records did:credence DIDs on a real ledger
// (registry.Log over a bbolt store in a temp dir), resolved through
// registry.DIDMethod as internal/server wires it.
type credEnv struct {
	*testEnv
	ledger *registry.Log
}

func newCredEnv(t *testing.T) *credEnv {
	t.Helper()
	env := newTestEnv(t, testHost)
	bs, err := boltstore.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/registry", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/registry", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	ledger := registry.NewLog(bs, signer, verifier)
	env.hosted = NewHosted(env.store, env.keys, testHost, WithLedger(ledger))
	resolver := did.NewResolver(did.WithMethod("web", LocalWeb{Hosted: env.hosted, Remote: env.remote}, 0),
		did.WithMethod("credence", registry.DIDMethod{Log: ledger}, 0))
	env.engine = newTestEngine(t, resolver, env.hosted, env.tokens, env.log)
	return &credEnv{testEnv: env, ledger: ledger}
}

// credCreated is the 201 body of a did:credence create.
type credCreated struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	KeyIDs      []string         `json:"keyIds"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

// ledgerAnswer is the 200 body of rotate, update and deactivate.
type ledgerAnswer struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

func strictDecode[T any](t *testing.T, w *httptest.ResponseRecorder, status int) T {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	var v T
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return v
}

func (e *credEnv) create(t *testing.T, keyType string) credCreated {
	t.Helper()
	c := strictDecode[credCreated](t, e.adminPost(t, "/admin/dids", `{"method":"credence","keyType":"`+keyType+`","label":"board"}`), http.StatusCreated)
	if !strings.HasPrefix(c.DID, registry.MethodPrefix) || c.DIDDocument == nil || c.DIDDocument.ID != c.DID {
		t.Fatalf("created %+v", c)
	}
	if err := c.DIDDocument.Validate(); err != nil {
		t.Errorf("created document: %v", err)
	}
	if c.VersionID != "1" || c.Receipt.Seq != 1 || c.Receipt.Subject != c.DID || c.Receipt.Checkpoint == "" {
		t.Errorf("version %q, receipt %+v", c.VersionID, c.Receipt)
	}
	return c
}

func (e *credEnv) op(t *testing.T, id, action, body string) *httptest.ResponseRecorder {
	t.Helper()
	return e.adminPost(t, "/admin/dids/"+id+"/"+action, body)
}

func (e *credEnv) state(t *testing.T, id string) registry.SubjectState {
	t.Helper()
	st, err := e.ledger.State(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// multikey is the Multikey of a managed key.
func (e *credEnv) multikey(t *testing.T, id string) string {
	t.Helper()
	k, err := e.keys.Key(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := did.EncodeMultikey(k.Public)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func (e *credEnv) record(t *testing.T, id string) Record {
	t.Helper()
	b, err := e.store.Get(context.Background(), bucketDIDs, id)
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// checkOnlyKey checks the document's one verification method is fragment #key-n
// with Multikey mk, used for assertion, authentication and capability invocation.
func checkOnlyKey(t *testing.T, doc *did.Document, n int, mk string) {
	t.Helper()
	want := fmt.Sprintf("%s#key-%d", doc.ID, n)
	if len(doc.VerificationMethod) != 1 {
		t.Fatalf("verificationMethod = %+v, want one", doc.VerificationMethod)
	}
	vm := doc.VerificationMethod[0]
	if vm.ID != want || vm.Type != did.TypeMultikey || vm.Controller != doc.ID || vm.PublicKeyMultibase != mk {
		t.Errorf("verification method %+v, want %s Multikey %s", vm, want, mk)
	}
	for _, rel := range []string{"assertionMethod", "authentication", "capabilityInvocation"} {
		if !doc.Authorizes(rel, want) {
			t.Errorf("%s does not list %s", rel, want)
		}
	}
}

// resolve resolves id through the HTTP binding.
func (e *credEnv) resolve(t *testing.T, id string, status int) resultBody {
	t.Helper()
	w := e.get(t, "/1.0/identifiers/"+id, "")
	if w.Code != status {
		t.Fatalf("resolve %s: %d, want %d; %s", id, w.Code, status, w.Body)
	}
	res, _ := decodeResult(t, w)
	return res
}

func TestCredenceLifecycle(t *testing.T) {
	for _, keyType := range []string{"Ed25519", "P-256"} {
		t.Run(keyType, func(t *testing.T) { credenceLifecycle(t, keyType) })
	}
}

func credenceLifecycle(t *testing.T, keyType string) {
	env := newCredEnv(t)
	ctx := context.Background()
	c := env.create(t, keyType)
	id := c.DID

	// Three keys in the key manager: update (as asked), recovery (Ed25519), next.
	if len(c.KeyIDs) != 3 {
		t.Fatalf("keyIds = %v, want update, recovery, next", c.KeyIDs)
	}
	wantAlg, _ := keys.ParseAlgorithm(keyType)
	for i, alg := range []keys.Algorithm{wantAlg, keys.Ed25519, wantAlg} {
		if k, err := env.keys.Key(ctx, c.KeyIDs[i]); err != nil || k.Alg != alg {
			t.Errorf("key %d = %+v, %v; want %s", i, k, err, alg)
		}
	}
	upd, rcv, next := env.multikey(t, c.KeyIDs[0]), env.multikey(t, c.KeyIDs[1]), env.multikey(t, c.KeyIDs[2])
	checkOnlyKey(t, c.DIDDocument, 1, upd)
	if b, _ := json.Marshal(c.DIDDocument); strings.Contains(string(b), rcv) || strings.Contains(string(b), next) {
		t.Errorf("the document exposes the recovery or next key: %s", b)
	}
	st := env.state(t, id)
	if !slices.Equal(st.UpdateKeys, []string{upd}) || !slices.Equal(st.RecoveryKeys, []string{rcv}) ||
		!slices.Equal(st.NextKeyHashes, []string{registry.KeyHash(next)}) {
		t.Errorf("ledger state %+v, want update %s, recovery %s, commitment to %s", st, upd, rcv, next)
	}
	if rec := env.record(t, id); rec.Method != "credence" || !slices.Equal(rec.KeyIDs, c.KeyIDs) || rec.Label != "board" {
		t.Errorf("record %+v", rec)
	}

	// Resolution: registry.DIDMethod directly and through the HTTP binding.
	d, _ := did.Parse(id)
	res, err := registry.DIDMethod{Log: env.ledger}.Resolve(ctx, d, did.Options{})
	if err != nil || !jsonEqual(t, res.Document, c.DIDDocument) || res.DocumentMetadata.VersionID != "1" {
		t.Fatalf("DIDMethod.Resolve = %+v, %v", res, err)
	}
	if got := env.resolve(t, id, http.StatusOK); !jsonEqual(t, got.Document, c.DIDDocument) {
		t.Errorf("HTTP resolution %+v", got.Document)
	}

	// Rotate: the committed next key becomes the update key and #key-2; a new
	// next key is committed; the op is signed by the old update key.
	r := strictDecode[ledgerAnswer](t, env.op(t, id, "rotate", ""), http.StatusOK)
	if r.DID != id || r.VersionID != "2" || r.Receipt.Seq != 2 || r.Receipt.Index != c.Receipt.Index+1 {
		t.Errorf("rotate answer %+v", r)
	}
	checkOnlyKey(t, r.DIDDocument, 2, next)
	st = env.state(t, id)
	rec := env.record(t, id)
	if !slices.Equal(st.UpdateKeys, []string{next}) || len(rec.KeyIDs) != 3 || rec.KeyIDs[0] != c.KeyIDs[2] || rec.KeyIDs[1] != c.KeyIDs[1] ||
		!slices.Equal(st.NextKeyHashes, []string{registry.KeyHash(env.multikey(t, rec.KeyIDs[2]))}) || len(rec.Pending) != 0 {
		t.Errorf("after rotate: state %+v, record %+v", st, rec)
	}
	if k, _ := env.keys.Key(ctx, rec.KeyIDs[2]); k.Alg != wantAlg {
		t.Errorf("new next key is %s, want %s", k.Alg, wantAlg)
	}
	res2 := env.resolve(t, id, http.StatusOK)
	if res2.DocumentMetadata.VersionID != "2" || !jsonEqual(t, res2.Document, r.DIDDocument) {
		t.Errorf("resolved after rotate: %+v", res2)
	}
	if v1 := env.resolve(t, id+"?versionId=1", http.StatusOK); !jsonEqual(t, v1.Document, c.DIDDocument) {
		t.Errorf("version 1 is no longer the created document: %+v", v1.Document)
	}

	// The rotated-out update key (still in the key manager) can no longer sign.
	stale := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: id, Seq: st.Seq + 1, Prev: st.Hash,
		Time: st.Time, Doc: st.Doc, UpdateKeys: []string{next}}
	old := credKey{id: c.KeyIDs[0], mk: upd}
	old.pub, _ = did.DecodeMultikey(upd)
	if err := env.hosted.sign(ctx, stale, old); err != nil {
		t.Fatal(err)
	}
	if _, err := env.hosted.submit(ctx, stale); !errors.Is(err, registry.ErrUnauthorizedKey) {
		t.Errorf("update signed by the rotated-out key: %v, want ErrUnauthorizedKey", err)
	}

	// Update services: the document keeps its key; the ledger's update key moves
	// on (pre-rotation makes every did.update a rotation).
	u := strictDecode[ledgerAnswer](t, env.op(t, id, "update",
		`{"services":[{"id":"#hub","type":"CredentialRegistry","serviceEndpoint":"https://hub.example/x?y=1"},`+
			`{"id":"`+id+`#site","type":"LinkedDomains","serviceEndpoint":"https://example.org/"}]}`), http.StatusOK)
	if u.VersionID != "3" {
		t.Errorf("update version %s", u.VersionID)
	}
	checkOnlyKey(t, u.DIDDocument, 2, next)
	if len(u.DIDDocument.Service) != 2 || u.DIDDocument.Service[0].ID != id+"#hub" || u.DIDDocument.Service[1].ID != id+"#site" ||
		string(u.DIDDocument.Service[0].ServiceEndpoint) != `"https://hub.example/x?y=1"` || u.DIDDocument.Service[0].Type[0] != "CredentialRegistry" {
		t.Errorf("services %+v", u.DIDDocument.Service)
	}
	st3 := env.state(t, id)
	if slices.Equal(st3.UpdateKeys, st.UpdateKeys) || st3.UpdateKeys[0] != env.multikey(t, rec.KeyIDs[2]) {
		t.Errorf("update did not move the ledger's update key: %v → %v", st.UpdateKeys, st3.UpdateKeys)
	}
	if got := env.resolve(t, id, http.StatusOK); !jsonEqual(t, got.Document, u.DIDDocument) {
		t.Errorf("resolved after update %+v", got.Document)
	}
	// Rotating after an update moves the document to the current update key.
	r4 := strictDecode[ledgerAnswer](t, env.op(t, id, "rotate", "{}"), http.StatusOK)
	checkOnlyKey(t, r4.DIDDocument, 3, env.multikey(t, env.record(t, id).KeyIDs[0]))
	if len(r4.DIDDocument.Service) != 2 {
		t.Errorf("rotate dropped the services: %+v", r4.DIDDocument)
	}
	// An empty list removes every service.
	if u := strictDecode[ledgerAnswer](t, env.op(t, id, "update", `{"services":[]}`), http.StatusOK); len(u.DIDDocument.Service) != 0 {
		t.Errorf("services after clearing: %+v", u.DIDDocument.Service)
	}

	// Deactivate, signed by the recovery key.
	before := env.state(t, id)
	var lastDoc did.Document
	_ = json.Unmarshal(before.Doc, &lastDoc)
	dz := strictDecode[ledgerAnswer](t, env.op(t, id, "deactivate", ""), http.StatusOK)
	if dz.VersionID != "6" || !jsonEqual(t, dz.DIDDocument, &lastDoc) {
		t.Errorf("deactivate answer %+v", dz)
	}
	history, _ := env.ledger.History(ctx, id)
	if last := history[len(history)-1].Op; last.Type != registry.DIDDeactivate || len(last.Proofs) != 1 || last.Proofs[0].KID != "#"+rcv {
		t.Errorf("deactivate op %+v, want one proof by the recovery key", last)
	}
	gone := env.resolve(t, id, http.StatusGone)
	if !gone.DocumentMetadata.Deactivated || gone.DocumentMetadata.VersionID != "6" {
		t.Errorf("resolution after deactivation: %+v", gone.DocumentMetadata)
	}
	if res, err := (registry.DIDMethod{Log: env.ledger}).Resolve(ctx, d, did.Options{}); err != nil || !res.DocumentMetadata.Deactivated {
		t.Errorf("DIDMethod after deactivation: %+v, %v", res, err)
	}

	// Nothing more is accepted.
	for _, action := range []string{"rotate", "update", "deactivate"} {
		body := ""
		if action == "update" {
			body = `{"services":[]}`
		}
		p := decodeProblem(t, env.op(t, id, action, body), http.StatusUnprocessableEntity)
		if p.Type != httpx.ProblemBase+"registry:deactivated" {
			t.Errorf("%s after deactivation: %+v", action, p)
		}
	}
	late := &registry.Op{V: registry.OpVersion, Type: registry.DIDDeactivate, Subject: id, Seq: before.Seq + 2, Prev: env.state(t, id).Hash, Time: before.Time}
	rk := credKey{id: c.KeyIDs[1], mk: rcv}
	rk.pub, _ = did.DecodeMultikey(rcv)
	if err := env.hosted.sign(ctx, late, rk); err != nil {
		t.Fatal(err)
	}
	if _, err := env.hosted.submit(ctx, late); !errors.Is(err, registry.ErrDeactivated) {
		t.Errorf("op after deactivation: %v", err)
	}
	if got := env.state(t, id); got.Seq != 6 {
		t.Errorf("seq after rejected ops = %d", got.Seq)
	}
}

func TestCredenceUpdateValidation(t *testing.T) {
	env := newCredEnv(t)
	id := env.create(t, "Ed25519").DID
	svc := func(id, typ, ep string) string {
		return fmt.Sprintf(`{"services":[{"id":%q,"type":%q,"serviceEndpoint":%q}]}`, id, typ, ep)
	}
	tests := []struct {
		name, body, field string
		status            int
	}{
		{"no services member", `{}`, "services", 422},
		{"services null", `{"services":null}`, "services", 422},
		{"id without #", svc("hub", "X", "https://a.example"), "services[0].id", 422},
		{"empty fragment", svc("#", "X", "https://a.example"), "services[0].id", 422},
		{"id of another DID", svc("did:example:1#hub", "X", "https://a.example"), "services[0].id", 422},
		{"id with space", svc("#a b", "X", "https://a.example"), "services[0].id", 422},
		{"reserved key id", svc("#key-9", "X", "https://a.example"), "services[0].id", 422},
		{"empty type", svc("#hub", "", "https://a.example"), "services[0].type", 422},
		{"http endpoint", svc("#hub", "X", "http://a.example"), "services[0].serviceEndpoint", 422},
		{"relative endpoint", svc("#hub", "X", "/x"), "services[0].serviceEndpoint", 422},
		{"endpoint with credentials", svc("#hub", "X", "https://u:p@a.example"), "services[0].serviceEndpoint", 422},
		{"endpoint with space", svc("#hub", "X", "https://a.example/a b"), "services[0].serviceEndpoint", 422},
		{"long endpoint", svc("#hub", "X", "https://a.example/"+strings.Repeat("a", 2000)), "services[0].serviceEndpoint", 422},
		{"duplicate id", `{"services":[{"id":"#a","type":"X","serviceEndpoint":"https://a.example"},{"id":"#a","type":"Y","serviceEndpoint":"https://b.example"}]}`, "services[1].id", 422},
		{"endpoint not a string", `{"services":[{"id":"#a","type":"X","serviceEndpoint":{"uri":"https://a.example"}}]}`, "", 400},
		{"unknown member", `{"services":[],"keys":[]}`, "", 400},
		{"not JSON", `{`, "", 400},
		{"trailing data", `{"services":[]} {}`, "", 400},
		{"empty body", ``, "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodeProblem(t, env.op(t, id, "update", tt.body), tt.status)
			if tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field) {
				t.Errorf("errors = %+v, want field %s", p.Errors, tt.field)
			}
		})
	}
	for _, body := range []string{`{"x":1}`, `[]`, `{} {}`} {
		for _, action := range []string{"rotate", "deactivate"} {
			decodeProblem(t, env.op(t, id, action, body), http.StatusBadRequest)
		}
	}
	if st := env.state(t, id); st.Seq != 1 {
		t.Errorf("rejected requests reached the ledger: seq %d", st.Seq)
	}
	if rec := env.record(t, id); len(rec.Pending) != 0 {
		t.Errorf("rejected requests left pending keys: %+v", rec)
	}
}

func TestCredenceNotHostedAndAuth(t *testing.T) {
	env := newCredEnv(t)
	id := env.create(t, "Ed25519").DID
	keyDID := strictDecode[credCreated](t, env.adminPost(t, "/admin/dids", `{"method":"key"}`), http.StatusCreated).DID
	// A did:credence on the ledger but not made by this service.
	other, otherRec := testKeyPair(t), testKeyPair(t)
	foreign := foreignCreate(t, other, otherRec)
	if _, err := env.ledger.Submit(context.Background(), foreign.raw); err != nil {
		t.Fatal(err)
	}
	unknown := registry.MethodPrefix + "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
	for _, action := range []string{"rotate", "update", "deactivate"} {
		body := ""
		if action == "update" {
			body = `{"services":[]}`
		}
		for _, target := range []string{unknown, foreign.subject, strings.ReplaceAll(unknown, ":", "%3A")} {
			decodeProblem(t, env.op(t, target, action, body), http.StatusNotFound)
		}
		for _, target := range []string{keyDID, testWebDID, "not-a-did"} {
			p := decodeProblem(t, env.op(t, target, action, body), http.StatusUnprocessableEntity)
			if len(p.Errors) != 1 || p.Errors[0].Field != "did" {
				t.Errorf("%s %s: %+v", action, target, p)
			}
		}
		issuer, _, err := env.tokens.Issue(context.Background(), "issuer:x", "", "issuer")
		if err != nil {
			t.Fatal(err)
		}
		w := serve(t, env.engine, http.MethodPost, "/admin/dids/"+id+"/"+action, body)
		decodeProblem(t, w, http.StatusUnauthorized)
		w = serve(t, env.engine, http.MethodPost, "/admin/dids/"+id+"/"+action, body, "Authorization", "Bearer "+issuer)
		decodeProblem(t, w, http.StatusForbidden)
	}
	if st := env.state(t, id); st.Seq != 1 {
		t.Errorf("unauthorized requests reached the ledger: seq %d", st.Seq)
	}
	// GET /admin/dids lists the did:credence DID with its three keys.
	w := serve(t, env.engine, http.MethodGet, "/admin/dids", "", "Authorization", "Bearer "+env.admin)
	var list struct{ DIDs []Record }
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.DIDs, func(r Record) bool { return r.DID == id && r.Method == "credence" && len(r.KeyIDs) == 3 }) {
		t.Errorf("list %s", w.Body)
	}
}

func TestCredenceWithoutLedger(t *testing.T) {
	env := newTestEnv(t, testHost)
	p := decodeProblem(t, env.adminPost(t, "/admin/dids", `{"method":"credence"}`), http.StatusServiceUnavailable)
	if p.Type != httpx.ProblemBase+"ledger-unavailable" {
		t.Errorf("problem %+v", p)
	}
	if _, _, err := env.hosted.Create(context.Background(), "credence", keys.Ed25519, nil, ""); !errors.Is(err, ErrNoLedger) {
		t.Errorf("Create without a ledger: %v", err)
	}
	decodeProblem(t, env.adminPost(t, "/admin/dids", `{"method":"credence","path":"a/b"}`), http.StatusUnprocessableEntity)
}

// TestCredenceRecordCatchesUp: an op that reached the ledger without its record
// being updated (a crash in between) does not lose control of the DID: the next
// key is found among the pending keys by the ledger's commitment.
func TestCredenceRecordCatchesUp(t *testing.T) {
	env := newCredEnv(t)
	ctx := context.Background()
	id := env.create(t, "Ed25519").DID
	before, _ := env.store.Get(ctx, bucketDIDs, id)
	strictDecode[ledgerAnswer](t, env.op(t, id, "rotate", ""), http.StatusOK)
	after := env.record(t, id)

	// The crash: the record is as it was, but the fresh key was noted as pending.
	var stale Record
	_ = json.Unmarshal(before, &stale)
	stale.Pending = []string{after.KeyIDs[2]}
	b, _ := json.Marshal(stale)
	if err := env.store.Put(ctx, bucketDIDs, id, b); err != nil {
		t.Fatal(err)
	}
	r := strictDecode[ledgerAnswer](t, env.op(t, id, "rotate", ""), http.StatusOK)
	checkOnlyKey(t, r.DIDDocument, 3, env.multikey(t, after.KeyIDs[2]))
	if rec := env.record(t, id); rec.KeyIDs[0] != after.KeyIDs[2] || len(rec.Pending) != 0 {
		t.Errorf("record after catching up: %+v", rec)
	}

	// Without the pending key nothing matches the commitment: a clear 409, and
	// the ledger is untouched.
	if err := env.store.Put(ctx, bucketDIDs, id, before); err != nil {
		t.Fatal(err)
	}
	p := decodeProblem(t, env.op(t, id, "rotate", ""), http.StatusConflict)
	if !strings.Contains(p.Detail, "commitment") {
		t.Errorf("problem %+v", p)
	}
	// Deactivation needs only the recovery key, which the ledger names.
	strictDecode[ledgerAnswer](t, env.op(t, id, "deactivate", ""), http.StatusOK)
}

// TestCredenceTimeNeverGoesBack: a clock behind the last op's time does not get
// ops rejected as non-monotonic.
func TestCredenceTimeNeverGoesBack(t *testing.T) {
	env := newCredEnv(t)
	id := env.create(t, "Ed25519").DID
	created := env.state(t, id).Time
	env.hosted.now = func() time.Time { return time.Now().Add(-time.Hour) }
	strictDecode[ledgerAnswer](t, env.op(t, id, "rotate", ""), http.StatusOK)
	if st := env.state(t, id); st.Time != created {
		t.Errorf("op time %s, want the previous op's %s", st.Time, created)
	}
	if ts := env.state(t, id).Time; !strings.HasSuffix(ts, "Z") || len(ts) != len(registry.TimeLayout) {
		t.Errorf("time %q", ts)
	}
}

// TestCredenceConcurrentOps: concurrent admin ops on one DID all land, in order.
func TestCredenceConcurrentOps(t *testing.T) {
	env := newCredEnv(t)
	id := env.create(t, "P-256").DID
	var wg sync.WaitGroup
	codes := make(chan int, 6)
	for i := range 6 {
		wg.Go(func() {
			action, body := "rotate", ""
			if i%2 == 1 {
				action, body = "update", fmt.Sprintf(`{"services":[{"id":"#s%d","type":"X","serviceEndpoint":"https://a.example/%d"}]}`, i, i)
			}
			codes <- env.op(t, id, action, body).Code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("concurrent op: %d", code)
		}
	}
	if st := env.state(t, id); st.Seq != 7 {
		t.Errorf("seq = %d, want 7", st.Seq)
	}
}

// foreignOp is a did:credence create made outside the service.
type foreignOp struct {
	subject string
	raw     []byte
}

type testPair struct {
	priv ed25519.PrivateKey
	mk   string
}

func testKeyPair(t *testing.T) testPair {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	mk, err := did.EncodeMultikey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return testPair{priv, mk}
}

func foreignCreate(t *testing.T, upd, rcv testPair) foreignOp {
	t.Helper()
	ph := registry.MethodPrefix + registry.SCIDPlaceholder
	doc := &did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: ph}
	setKey(doc, verificationMethod(ph, 1, upd.mk))
	b, _ := json.Marshal(doc)
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: ph, Seq: 1,
		Time: time.Now().UTC().Truncate(time.Second).Format(registry.TimeLayout), Doc: b, UpdateKeys: []string{upd.mk}, RecoveryKeys: []string{rcv.mk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	if err := registry.AddProof(op, "#"+upd.mk, upd.priv.Public(), registry.SignerFunc(upd.priv)); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(op)
	return foreignOp{op.Subject, raw}
}
