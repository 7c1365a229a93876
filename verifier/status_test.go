package verifier

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

// fakeFetcher serves list credentials from memory and counts fetches.
type fakeFetcher struct {
	mu    sync.Mutex
	lists map[string][]byte
	down  bool
	n     int
}

func (f *fakeFetcher) Fetch(_ context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if f.down {
		return nil, errors.New("connection refused")
	}
	b, ok := f.lists[url]
	if !ok {
		return nil, errors.New("HTTP 404")
	}
	return b, nil
}

func (f *fakeFetcher) set(url string, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[url] = b
}

func (f *fakeFetcher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// fakeLedger is a LedgerView of status list states.
type fakeLedger struct {
	mu     sync.Mutex
	states map[string]registry.SubjectState
}

func (l *fakeLedger) State(_ context.Context, subject string, _ uint64) (registry.SubjectState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.states[subject], nil
}

func (l *fakeLedger) record(url, issuer, purpose string, list *status.List) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.states[url]
	st.Seq++
	st.StatusList = &registry.StatusListState{Issuer: issuer, Purpose: purpose, Size: list.Len(), ListHash: registry.ListHash(list.Bytes()), Bits: bytes.Clone(list.Bytes())}
	l.states[url] = st
}

type issuerKey struct {
	did    string
	signer vc.Signer
}

func newIssuerKey(t *testing.T) issuerKey {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	d, err := did.KeyDID(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return issuerKey{did: d.String(), signer: vc.Signer{Key: priv, VerificationMethod: d.String() + "#" + d.ID}}
}

type statusEnv struct {
	t       *testing.T
	eng     *secure.Engine
	fetch   *fakeFetcher
	ledger  *fakeLedger
	checker *StatusChecker
	now     time.Time
	iss     issuerKey
}

const listURL = "https://board.example/status/tmb/revocation-1"

func newStatusEnv(t *testing.T) *statusEnv {
	e := &statusEnv{t: t, eng: secure.New(ld.New()), fetch: &fakeFetcher{lists: map[string][]byte{}},
		ledger: &fakeLedger{states: map[string]registry.SubjectState{}}, now: time.Now().UTC(), iss: newIssuerKey(t)}
	keys := vc.DIDKeys{Resolver: did.NewResolver()}
	e.checker = &StatusChecker{Fetch: e.fetch, Ledger: e.ledger, MaxAge: time.Minute, Now: func() time.Time { return e.now },
		Verify: EngineListVerifier(e.eng, keys, secure.VerifyOptions{})}
	return e
}

// publish signs a list as issuer k, serves it at url and (when onLedger)
// records it on the ledger.
func (e *statusEnv) publish(k issuerKey, url, purpose string, list *status.List, onLedger bool) {
	e.t.Helper()
	c, err := status.NewListCredential(url, k.did, purpose, list, e.now.Add(-time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	e.serve(k, url, c)
	if onLedger {
		e.ledger.record(url, k.did, purpose, list)
	}
}

func (e *statusEnv) serve(k issuerKey, url string, c vc.Credential) {
	e.t.Helper()
	signed, err := e.eng.Issue(context.Background(), c, k.signer, secure.IssueOptions{Format: secure.DataIntegrity, Now: e.now.Add(-time.Hour)})
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := vc.Marshal(signed)
	e.fetch.set(url, b)
}

func credentialWith(issuer string, entries ...status.Entry) vc.Credential {
	var objs []any
	for _, en := range entries {
		objs = append(objs, en.Object())
	}
	return vc.Credential{"@context": []any{vc.ContextV2}, "type": []any{"VerifiableCredential"}, "issuer": issuer,
		"credentialSubject": map[string]any{"id": "did:example:1"}, "credentialStatus": objs}
}

func entry(url, purpose string, i int) status.Entry {
	return status.Entry{ID: url + "#" + strconv.Itoa(i), Purpose: purpose, Index: i, ListCredential: url}
}

func newList(t *testing.T, set ...int) *status.List {
	l, err := status.New(status.MinBits)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range set {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func (e *statusEnv) check(c vc.Credential) []StatusResult {
	e.t.Helper()
	res, err := e.checker.Check(context.Background(), c)
	if err != nil {
		e.t.Fatalf("Check: %v", err)
	}
	return res
}

func codes(res []StatusResult) string {
	var s []string
	for _, r := range res {
		s = append(s, r.Code)
	}
	return strings.Join(s, ",")
}

func TestStatusRevokedSuspendedClear(t *testing.T) {
	e := newStatusEnv(t)
	sus := "https://board.example/status/tmb/suspension-1"
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t, 5, 131071), true)
	e.publish(e.iss, sus, status.PurposeSuspension, newList(t, 7), true)
	for _, tc := range []struct {
		entries []status.Entry
		want    string
	}{
		{[]status.Entry{entry(listURL, "revocation", 4), entry(sus, "suspension", 4)}, ","},
		{[]status.Entry{entry(listURL, "revocation", 5)}, CodeRevoked},
		{[]status.Entry{entry(listURL, "revocation", 131071)}, CodeRevoked},
		{[]status.Entry{entry(listURL, "revocation", 6), entry(sus, "suspension", 7)}, "," + CodeSuspended},
	} {
		if got := codes(e.check(credentialWith(e.iss.did, tc.entries...))); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.entries, got, tc.want)
		}
	}
}

func TestStatusAttacks(t *testing.T) {
	e := newStatusEnv(t)
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t), true)

	// An index past the end of the list.
	if got := codes(e.check(credentialWith(e.iss.did, entry(listURL, "revocation", status.MinBits)))); got != CodeStatusInvalid {
		t.Errorf("out-of-range index: %s", got)
	}
	// A purpose the list does not have.
	if got := codes(e.check(credentialWith(e.iss.did, entry(listURL, "suspension", 3)))); got != CodeStatusInvalid {
		t.Errorf("purpose mismatch: %s", got)
	}
	// A list signed by someone else than the credential's issuer.
	mallory := newIssuerKey(t)
	evil := "https://evil.example/status/1"
	e.publish(mallory, evil, status.PurposeRevocation, newList(t), false)
	if got := codes(e.check(credentialWith(e.iss.did, entry(evil, "revocation", 3)))); got != CodeStatusInvalid {
		t.Errorf("list by another issuer: %s", got)
	}
	// A list shorter than 131,072 entries.
	short := "https://board.example/status/tmb/short"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(make([]byte, 1024))
	_ = w.Close()
	c, _ := status.NewListCredential(short, e.iss.did, "revocation", newList(t), e.now.Add(-time.Hour))
	c["credentialSubject"].(map[string]any)["encodedList"] = "u" + base64.RawURLEncoding.EncodeToString(gz.Bytes())
	e.serve(e.iss, short, c)
	if res := e.check(credentialWith(e.iss.did, entry(short, "revocation", 3))); codes(res) != CodeStatusInvalid || !strings.Contains(res[0].Detail, "131072") && !strings.Contains(strings.ToLower(res[0].Detail), "short") {
		t.Errorf("short list: %+v", res)
	}
	// A list whose hash does not match the ledger: the issuer serves a list
	// with bit 9 clear, the ledger says bit 9 is set.
	tampered := "https://board.example/status/tmb/revocation-2"
	e.publish(e.iss, tampered, status.PurposeRevocation, newList(t), false)
	e.ledger.record(tampered, e.iss.did, "revocation", newList(t, 9))
	if res := e.check(credentialWith(e.iss.did, entry(tampered, "revocation", 9))); codes(res) != CodeStatusInvalid || !strings.Contains(res[0].Detail, "does not match the ledger") {
		t.Errorf("hash mismatch: %+v", res)
	}
	// The ledger knows the list as someone else's.
	stolen := "https://board.example/status/tmb/revocation-3"
	e.publish(e.iss, stolen, status.PurposeRevocation, newList(t), false)
	e.ledger.record(stolen, mallory.did, "revocation", newList(t))
	if got := codes(e.check(credentialWith(e.iss.did, entry(stolen, "revocation", 1)))); got != CodeStatusInvalid {
		t.Errorf("ledger owner differs: %s", got)
	}
	// Unreachable list: never valid.
	if res := e.check(credentialWith(e.iss.did, entry("https://board.example/status/tmb/missing", "revocation", 1))); codes(res) != CodeStatusUnavailable {
		t.Errorf("unfetchable list: %+v", res)
	}
	// A list not on the ledger passes with a warning, or fails when the
	// policy requires the ledger.
	foreign := "https://other.example/status/1"
	e.publish(e.iss, foreign, status.PurposeRevocation, newList(t), false)
	if res := e.check(credentialWith(e.iss.did, entry(foreign, "revocation", 1))); codes(res) != CodeNotOnLedger || !res[0].Warning {
		t.Errorf("list off the ledger: %+v", res)
	}
	// A did:credence issuer's list must be on the ledger.
	if got := codes(e.check(credentialWith("did:credence:QmTcZT5DTAFVBhnUzXgkrYS5cRdhB4CgdPMJJANrsMAMD2", entry(foreign, "revocation", 1)))); got != CodeStatusInvalid {
		t.Errorf("did:credence list off the ledger: %s", got)
	}
	// A status type the checker does not implement fails; it is never clear.
	c = credentialWith(e.iss.did, entry(listURL, "revocation", 1))
	c["credentialStatus"] = append(c["credentialStatus"].([]any), map[string]any{"id": "https://x.example/1#3", "type": "StatusList2021Entry",
		"statusPurpose": "revocation", "statusListIndex": "3", "statusListCredential": "https://x.example/1"})
	if got := codes(e.check(c)); got != CodeStatusUnsupported+"," {
		t.Errorf("unsupported status type: %q", got)
	}
	// Too many entries: malformed, nothing fetched.
	var many []status.Entry
	for i := range MaxStatusEntries + 1 {
		many = append(many, entry("https://x.example/"+strconv.Itoa(i), "revocation", 1))
	}
	n := e.fetch.count()
	if _, err := e.checker.Check(context.Background(), credentialWith(e.iss.did, many...)); !errors.Is(err, vc.ErrMalformed) || e.fetch.count() != n {
		t.Errorf("%d entries: %v", len(many), err)
	}
	e.checker.RequireLedger = true
	e.checker.Reset()
	if got := codes(e.check(credentialWith(e.iss.did, entry(foreign, "revocation", 1)))); got != CodeStatusInvalid {
		t.Errorf("list off the ledger with RequireLedger: %s", got)
	}
}

// TestStatusFreshness: a cached list is used within the bound, refetched
// after it; a stale list that cannot be refetched fails the check; an event
// invalidates at once.
func TestStatusFreshness(t *testing.T) {
	e := newStatusEnv(t)
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t), true)
	cred := credentialWith(e.iss.did, entry(listURL, "revocation", 3))
	if got := codes(e.check(cred)); got != "" {
		t.Fatalf("fresh: %s", got)
	}
	n := e.fetch.count()
	e.check(cred)
	if e.fetch.count() != n {
		t.Errorf("a fresh cached list was fetched again")
	}
	// Revoked on the ledger and the served list, but no event reached the
	// checker: within the bound the cache answers, past it the list is fetched.
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t, 3), true)
	e.now = e.now.Add(30 * time.Second)
	if got := codes(e.check(cred)); got != "" {
		t.Errorf("within the bound: %s", got)
	}
	e.now = e.now.Add(31 * time.Second)
	if got := codes(e.check(cred)); got != CodeRevoked {
		t.Errorf("past the bound: %s", got)
	}
	// Past the bound with the list unreachable: the check fails, not passes.
	e.now = e.now.Add(2 * time.Minute)
	e.fetch.mu.Lock()
	e.fetch.down = true
	e.fetch.mu.Unlock()
	if got := codes(e.check(cred)); got != CodeStatusUnavailable {
		t.Errorf("stale and unreachable: %s", got)
	}
	e.fetch.mu.Lock()
	e.fetch.down = false
	e.fetch.mu.Unlock()

	// Events: a status list op drops the list at once.
	cred2 := credentialWith(e.iss.did, entry(listURL, "revocation", 4))
	if got := codes(e.check(cred2)); got != "" {
		t.Fatalf("before: %s", got)
	}
	events := make(chan registry.Event)
	done := make(chan struct{})
	go func() { e.checker.Watch(events); close(done) }()
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t, 3, 4), true)
	events <- registry.Event{Subject: listURL, Type: registry.StatusListUpdate, Seq: 3}
	events <- registry.Event{Subject: "did:credence:x", Type: registry.DIDUpdate} // a barrier: the first was handled
	if got := codes(e.check(cred2)); got != CodeRevoked {
		t.Errorf("after an event: %s", got)
	}
	// A Reset event drops everything.
	e.publish(e.iss, listURL, status.PurposeRevocation, newList(t), true)
	events <- registry.Event{Reset: true}
	events <- registry.Event{Subject: "did:credence:x", Type: registry.DIDUpdate}
	if got := codes(e.check(cred2)); got != "" {
		t.Errorf("after a reset: %s", got)
	}
	close(events)
	<-done
}
