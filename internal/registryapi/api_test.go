package registryapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
)

func TestProblemListHash(t *testing.T) {
	p, ok := Problem(&registry.RuleError{Rule: registry.ErrListHash, Reason: "the list hashes to x"})
	if !ok || p.Status != http.StatusUnprocessableEntity || p.Type != httpx.ProblemBase+"registry:list-hash" || p.Detail != "the list hashes to x" {
		t.Fatalf("problem %+v, %v", p, ok)
	}
}

// testAPI serves a Log on an embedded store, with one issuer DID whose update
// key is u.
type testAPI struct {
	h      http.Handler
	log    *registry.Log
	u      ed25519.PrivateKey
	umk    string
	issuer string
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := merkle.NewSigner("credence.test/api", pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := merkle.VerifierKey("credence.test/api", pub)
	verifier, err := merkle.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	a := &API{Log: registry.NewLog(s, signer, verifier), VerifierKey: vkey}
	a.Routes(r, r)
	x := &testAPI{h: r, log: a.Log, u: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))}
	x.umk, _ = did.EncodeMultikey(x.u.Public())
	rk := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, 32))
	rmk, _ := did.EncodeMultikey(rk.Public())
	id := registry.MethodPrefix + registry.SCIDPlaceholder
	doc, _ := json.Marshal(map[string]any{"@context": []string{did.ContextDIDv1}, "id": id})
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: id, Seq: 1, Time: opTime(0), Doc: doc,
		UpdateKeys: []string{x.umk}, RecoveryKeys: []string{rmk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	x.issuer = op.Subject
	if w := x.post(x.sign(t, op)); w.Code != http.StatusCreated {
		t.Fatalf("did.create: %d %s", w.Code, w.Body)
	}
	return x
}

func opTime(minutes int) string {
	return time.Now().UTC().Add(-time.Hour + time.Duration(minutes)*time.Minute).Truncate(time.Second).Format(registry.TimeLayout)
}

func (x *testAPI) sign(t *testing.T, op *registry.Op) []byte {
	t.Helper()
	if err := registry.AddProof(op, "#"+x.umk, x.u.Public(), registry.SignerFunc(x.u)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(op)
	return b
}

func (x *testAPI) post(body []byte) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	x.h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, SubmitRoute, bytes.NewReader(body)))
	return w
}

func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, name string) {
	t.Helper()
	var p httpx.Problem
	if w.Code != status || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Type != httpx.ProblemBase+"registry:"+name {
		t.Fatalf("got %d %s, want %d registry:%s", w.Code, w.Body, status, name)
	}
}

// TestSubmitStatusListOps: the largest status list update (MaxStatusChanges
// indexes) goes through the HTTP submit; a wrong listHash is 422 list-hash;
// a body over MaxSubmitBytes is 413.
func TestSubmitStatusListOps(t *testing.T) {
	x := newTestAPI(t)
	const url = "https://status.example.com/api/rev-1"
	size := registry.MaxStatusListBits
	bits := make([]byte, size/8)
	create := registry.NewStatusListOp(registry.StatusListCreate, url, 1, "", opTime(1), registry.StatusListChange{
		Issuer: x.issuer, Purpose: registry.PurposeSuspension, Size: size, ListHash: registry.ListHash(bits)})
	if w := x.post(x.sign(t, create)); w.Code != http.StatusCreated {
		t.Fatalf("statuslist.create: %d %s", w.Code, w.Body)
	}
	st, err := x.log.StatusList(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	set := make([]int, registry.MaxStatusChanges)
	for i := range set {
		set[i] = size - 1 - (len(set)-1-i)*509
		bits[set[i]/8] |= 0x80 >> (set[i] % 8)
	}
	change := registry.StatusListChange{Purpose: registry.PurposeSuspension, Size: size, Set: set, ListHash: strings.Repeat("0", 64)}
	bad := registry.NewStatusListOp(registry.StatusListUpdate, url, 2, st.Hash, opTime(2), change)
	wantProblem(t, x.post(x.sign(t, bad)), http.StatusUnprocessableEntity, "list-hash")

	change.ListHash = registry.ListHash(bits)
	body := x.sign(t, registry.NewStatusListOp(registry.StatusListUpdate, url, 2, st.Hash, opTime(2), change))
	if len(body) < 100<<10 {
		t.Fatalf("the largest update is only %d bytes", len(body))
	}
	if w := x.post(body); w.Code != http.StatusCreated {
		t.Fatalf("largest statuslist.update (%d bytes): %d %s", len(body), w.Code, w.Body)
	}

	huge := append(bytes.Repeat([]byte(" "), int(MaxSubmitBytes)+1-len(body)), body...)
	wantProblem(t, x.post(huge), http.StatusRequestEntityTooLarge, "too-large")
}
