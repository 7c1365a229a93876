package watch

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/registrytest"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/status"
)

func TestMain(m *testing.M) { testredis.Main(m) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// issuer is a did:credence DID on a real ledger that controls status lists.
type issuer struct {
	t    testing.TB
	log  *registry.Log
	did  string
	key  ed25519.PrivateKey
	bits map[string][]byte // list URL -> current bits
}

func newLedger(t testing.TB) *registry.Log {
	t.Helper()
	return registrytest.NewLog(t)
}

func opTime() string { return time.Now().UTC().Format(registry.TimeLayout) }

func newIssuer(t testing.TB, l *registry.Log) *issuer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, rcv, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := did.EncodeMultikey(priv.Public())
	rmk, _ := did.EncodeMultikey(rcv.Public())
	ph := registry.MethodPrefix + registry.SCIDPlaceholder
	doc := did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: ph,
		VerificationMethod: []did.VerificationMethod{{ID: ph + "#key-1", Type: did.TypeMultikey, Controller: ph, PublicKeyMultibase: mk}},
		AssertionMethod:    []did.Relationship{{Ref: ph + "#key-1"}}}
	docJSON, _ := json.Marshal(doc)
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: ph, Seq: 1, Time: opTime(),
		Doc: docJSON, UpdateKeys: []string{mk}, RecoveryKeys: []string{rmk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	is := &issuer{t: t, log: l, key: priv, bits: map[string][]byte{}}
	is.submit(op)
	is.did = op.Subject
	return is
}

func (is *issuer) submit(op *registry.Op) {
	is.t.Helper()
	mk, _ := did.EncodeMultikey(is.key.Public())
	op.Proofs = nil
	if err := registry.AddProof(op, "#"+mk, is.key.Public(), func(m []byte) ([]byte, error) { return ed25519.Sign(is.key, m), nil }); err != nil {
		is.t.Fatal(err)
	}
	raw, _ := json.Marshal(op)
	if _, err := is.log.Submit(context.Background(), raw); err != nil {
		is.t.Fatalf("%s %s: %v", op.Type, op.Subject, err)
	}
}

// list creates a status list of purpose on the ledger.
func (is *issuer) list(url, purpose string) {
	is.t.Helper()
	bits := make([]byte, registry.MinStatusListBits/8)
	is.submit(registry.NewStatusListOp(registry.StatusListCreate, url, 1, "", opTime(), registry.StatusListChange{
		Issuer: is.did, Purpose: purpose, Size: registry.MinStatusListBits, ListHash: registry.ListHash(bits)}))
	is.bits[url] = bits
}

// change sets and clears bits of a list on the ledger.
func (is *issuer) change(url string, set, clear []int) {
	is.t.Helper()
	st, err := is.log.StatusList(context.Background(), url)
	if err != nil {
		is.t.Fatal(err)
	}
	bits := is.bits[url]
	for _, i := range set {
		bits[i/8] |= 0x80 >> (i % 8)
	}
	for _, i := range clear {
		bits[i/8] &^= 0x80 >> (i % 8)
	}
	is.submit(registry.NewStatusListOp(registry.StatusListUpdate, url, st.Seq+1, st.Hash, opTime(), registry.StatusListChange{
		Purpose: st.StatusList.Purpose, Size: st.StatusList.Size, Set: set, Clear: clear, ListHash: registry.ListHash(bits)}))
}

// credential is a license credential with status entries (purpose, list,
// index) and an optional validUntil.
func credential(id string, until time.Time, entries ...status.Entry) vc.Credential {
	c := vc.Credential{
		"@context":          []any{vc.ContextV2},
		"type":              []any{vc.TypeCredential, "MedicalLicenseCredential"},
		"issuer":            "did:credence:z123",
		"credentialSubject": map[string]any{"id": "did:example:clinician"},
	}
	if id != "" {
		c["id"] = id
	}
	if !until.IsZero() {
		c["validUntil"] = until.UTC().Format(time.RFC3339)
	}
	var st []any
	for _, e := range entries {
		st = append(st, e.Object())
	}
	if len(st) > 0 {
		c["credentialStatus"] = st
	}
	return c
}

func entry(purpose, list string, index int) status.Entry {
	return status.Entry{Purpose: purpose, ListCredential: list, Index: index}
}

// received is one verified webhook request.
type received struct {
	ID, Timestamp string
	Event         Event
	Body          []byte
}

// receiver is a webhook endpoint that checks Standard Webhooks signatures
// itself (independently of the package's signing) and answers with the
// next of its status codes (the last one repeats).
type receiver struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	secrets []string
	codes   []int
	got     []received
	bad     []string
	hold    chan struct{} // when set, requests wait on it (or their end)
	arrive  func()        // when set, called as a request arrives
}

func newReceiver(t testing.TB, codes ...int) *receiver {
	r := &receiver{t: t, codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks/credence?token=abc" }

func (r *receiver) secret(s string) {
	r.mu.Lock()
	r.secrets = append(r.secrets, s)
	r.mu.Unlock()
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hold, arrive := r.hold, r.arrive
	r.mu.Unlock()
	if arrive != nil {
		arrive()
	}
	if hold != nil {
		select {
		case <-hold:
		case <-req.Context().Done():
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ts, sig := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature")
	if !r.valid(id, ts, sig, body) || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.bad = append(r.bad, id)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.bad = append(r.bad, id)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, received{ID: id, Timestamp: ts, Event: ev, Body: body})
	code := r.codes[min(len(r.got), len(r.codes))-1]
	w.WriteHeader(code)
}

// valid checks a signature per the Standard Webhooks specification.
func (r *receiver) valid(id, ts, sig string, body []byte) bool {
	if id == "" || strings.Contains(id, ".") {
		return false
	}
	if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
		return false
	}
	for _, secret := range r.secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			continue
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		for _, s := range strings.Fields(sig) {
			if hmac.Equal([]byte(s), []byte(want)) {
				return true
			}
		}
	}
	return false
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		r.t.Errorf("requests with a bad signature or body: %v", r.bad)
	}
	return append([]received(nil), r.got...)
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitN waits until the receiver got n requests, then checks that no more
// arrive for a few ticks.
func waitN(t testing.TB, r *receiver, n int) []received {
	t.Helper()
	waitFor(t, strconv.Itoa(n)+" webhook requests", func() bool { return len(r.requests()) >= n })
	time.Sleep(60 * time.Millisecond)
	got := r.requests()
	if len(got) != n {
		t.Fatalf("got %d webhook requests, want %d: %+v", len(got), n, got)
	}
	return got
}

// testOpts are fast ticks, exact retries, private webhooks allowed.
func testOpts(c *clock, extra ...Option) []Option {
	opts := []Option{WithTick(5*time.Millisecond, 5*time.Millisecond), WithHTTP(2*time.Second, true),
		WithSchedule([]time.Duration{time.Minute, time.Minute}, false), WithPolling(nil, time.Hour)}
	if c != nil {
		opts = append(opts, WithClock(c.Now))
	}
	return append(opts, extra...)
}

// run runs s until the test ends (or the returned stop is called).
func run(t testing.TB, s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	// Let the first poll pass end first: it reads every watched list, and a
	// change it finds has no ledger index (an event's would), so a change
	// made during it would race with its event.
	for deadline := time.Now().Add(5 * time.Second); s.polls.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the watch service's first poll did not end")
		}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// world is a ledger with one issuer, a revocation and a suspension list, a
// kv store and a receiver.
type world struct {
	ledger *registry.Log
	is     *issuer
	store  kv.Store
	recv   *receiver
	rev    string
	sus    string
}

const (
	revList = "https://status.example.com/board/rev-1"
	susList = "https://status.example.com/board/sus-1"
)

func newWorld(t testing.TB, codes ...int) *world {
	t.Helper()
	if len(codes) == 0 {
		codes = []int{http.StatusNoContent}
	}
	l := newLedger(t)
	is := newIssuer(t, l)
	is.list(revList, registry.PurposeRevocation)
	is.list(susList, registry.PurposeSuspension)
	return &world{ledger: l, is: is, store: memkv.New(), recv: newReceiver(t, codes...), rev: revList, sus: susList}
}

// add watches a credential for verifier and registers its secret with the
// receiver.
func (w *world) add(t testing.TB, s *Service, verifier string, cred vc.Credential) *Watch {
	t.Helper()
	wt, secret, err := s.Add(context.Background(), verifier, cred, w.recv.url())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q lacks whsec_", secret)
	}
	w.recv.secret(secret)
	return wt
}
