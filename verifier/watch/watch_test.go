package watch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/status"
)

func TestRevocationDeliversOneSignedEvent(t *testing.T) {
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(nil)...)
	cred := credential("urn:uuid:lic-1", time.Time{}, entry(status.PurposeRevocation, w.rev, 94567), entry(status.PurposeSuspension, w.sus, 94567))
	wt := w.add(t, s, "hospital-a", cred)
	if wt.State != StateActive || wt.CredentialID != "urn:uuid:lic-1" || len(wt.Entries) != 2 {
		t.Fatalf("added %+v", wt)
	}
	run(t, s)

	w.is.change(w.rev, []int{94567}, nil)
	got := waitN(t, w.recv, 1)
	ev := got[0].Event
	seq := w.seqOf(t, w.rev)
	if ev.Type != TypeRevoked || ev.Data.WatchID != wt.ID || ev.Data.CredentialID != "urn:uuid:lic-1" ||
		ev.Data.StatusListCredential != w.rev || ev.Data.StatusListIndex != "94567" || ev.Data.StatusPurpose != "revocation" ||
		ev.Data.LedgerSeq != seq || ev.Data.LedgerIndex == nil || ev.Timestamp.IsZero() {
		t.Fatalf("event %s", got[0].Body)
	}
	leaf, err := w.ledger.Leaf(context.Background(), *ev.Data.LedgerIndex)
	if err != nil || leaf.Subject != w.rev || leaf.Seq != seq {
		t.Fatalf("ledgerIndex %d is leaf %+v, %v", *ev.Data.LedgerIndex, leaf, err)
	}
	if bytes.Contains(got[0].Body, []byte("clinician")) {
		t.Fatalf("the payload carries subject data: %s", got[0].Body)
	}

	// Other bits of the same list, and a repeated set, notify nothing.
	w.is.change(w.rev, []int{7}, nil)
	w.is.change(w.rev, []int{94567}, nil)
	waitN(t, w.recv, 1)

	g, err := s.Get(context.Background(), "hospital-a", wt.ID)
	if err != nil || g.State != StateRevoked || !g.Last[EntryKey(wt.Entries[0])] {
		t.Fatalf("after revocation: %+v, %v", g, err)
	}
	log, err := s.Deliveries(context.Background(), "hospital-a", wt.ID)
	if err != nil || len(log) != 1 || log[0].Result != ResultDelivered || log[0].StatusCode != http.StatusNoContent || log[0].ID != got[0].ID {
		t.Fatalf("deliveries %+v, %v", log, err)
	}
}

func (w *world) seqOf(t testing.TB, list string) uint64 {
	t.Helper()
	st, err := w.ledger.StatusList(context.Background(), list)
	if err != nil {
		t.Fatal(err)
	}
	return st.Seq
}

func TestSuspendThenReinstate(t *testing.T) {
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(nil)...)
	wt := w.add(t, s, "hospital-a", credential("", time.Time{}, entry(status.PurposeSuspension, w.sus, 12)))
	if wt.CredentialID[:7] != "sha256:" {
		t.Fatalf("credential id of a credential without id: %q", wt.CredentialID)
	}
	run(t, s)
	w.is.change(w.sus, []int{12}, nil)
	waitN(t, w.recv, 1)
	w.is.change(w.sus, nil, []int{12})
	got := waitN(t, w.recv, 2)
	if got[0].Event.Type != TypeSuspended || got[1].Event.Type != TypeReinstated || got[0].ID == got[1].ID {
		t.Fatalf("events %s then %s", got[0].Body, got[1].Body)
	}
	if g, _ := s.Get(context.Background(), "hospital-a", wt.ID); g.State != StateActive {
		t.Fatalf("state after reinstatement %q", g.State)
	}
}

func TestAddReportsCurrentStatus(t *testing.T) {
	w := newWorld(t)
	w.is.change(w.rev, []int{5}, nil)
	s := New(w.store, w.ledger, testOpts(nil)...)
	ctx := context.Background()
	revoked := w.add(t, s, "hospital-a", credential("urn:uuid:r", time.Time{}, entry(status.PurposeRevocation, w.rev, 5)))
	active := w.add(t, s, "hospital-a", credential("urn:uuid:a", time.Time{}, entry(status.PurposeRevocation, w.rev, 6)))
	expired := w.add(t, s, "hospital-a", credential("urn:uuid:e", time.Now().Add(-time.Hour)))
	for _, c := range []struct {
		w    *Watch
		want string
	}{{revoked, StateRevoked}, {active, StateActive}, {expired, StateExpired}} {
		if c.w.State != c.want {
			t.Errorf("%s: state %q, want %q", c.w.CredentialID, c.w.State, c.want)
		}
	}
	// What was already so at registration is not notified.
	run(t, s)
	time.Sleep(80 * time.Millisecond)
	if got := w.recv.requests(); len(got) != 0 {
		t.Fatalf("notified at registration: %+v", got)
	}
	list, err := s.List(ctx, "hospital-a")
	if err != nil || len(list) != 3 || list[0].ID != revoked.ID || list[2].ID != expired.ID {
		t.Fatalf("List: %+v, %v", list, err)
	}
}

func TestRetriesUntilDelivered(t *testing.T) {
	w := newWorld(t, 500, 503, 200)
	s := New(w.store, w.ledger, testOpts(nil, WithSchedule([]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, time.Hour}, false))...)
	wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	run(t, s)
	w.is.change(w.rev, []int{1}, nil)
	got := waitN(t, w.recv, 3)
	for _, r := range got {
		if r.ID != got[0].ID || !bytes.Equal(r.Body, got[0].Body) {
			t.Fatalf("retries differ: %q %s vs %q %s", r.ID, r.Body, got[0].ID, got[0].Body)
		}
	}
	log, err := s.Deliveries(context.Background(), "hospital-a", wt.ID)
	if err != nil || len(log) != 3 {
		t.Fatalf("deliveries %+v, %v", log, err)
	}
	want := []struct {
		code   int
		result string
	}{{200, ResultDelivered}, {503, ResultRetrying}, {500, ResultRetrying}} // newest first
	for i, a := range log {
		if a.StatusCode != want[i].code || a.Result != want[i].result || a.Attempt != 3-i {
			t.Errorf("attempt %d: %+v, want %+v", i, a, want[i])
		}
	}
	if !log[1].NextAttempt.After(log[1].Time) || log[2].Error != "HTTP status 500" {
		t.Errorf("retry bookkeeping %+v", log)
	}
	if n := w.queued(t); n != 0 {
		t.Fatalf("%d deliveries still queued", n)
	}
}

func (w *world) queued(t testing.TB) int {
	t.Helper()
	_, keys, err := (&Service{kv: w.store}).keys(context.Background(), bucketQueue, "")
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

func TestGivesUp(t *testing.T) {
	for _, c := range []struct {
		name  string
		codes []int
		tries int
	}{
		{"schedule exhausted", []int{500}, 3},
		{"gone", []int{http.StatusGone}, 1},
		{"redirect is not followed", []int{http.StatusFound}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, c.codes...)
			s := New(w.store, w.ledger, testOpts(nil, WithSchedule([]time.Duration{5 * time.Millisecond, 5 * time.Millisecond}, false))...)
			wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
			run(t, s)
			w.is.change(w.rev, []int{1}, nil)
			waitN(t, w.recv, c.tries)
			log, err := s.Deliveries(context.Background(), "hospital-a", wt.ID)
			if err != nil || len(log) != c.tries || log[0].Result != ResultFailed || log[0].StatusCode != c.codes[0] {
				t.Fatalf("deliveries %+v, %v", log, err)
			}
			if n := w.queued(t); n != 0 {
				t.Fatalf("%d deliveries still queued", n)
			}
		})
	}
}

func TestRestartDeliversPending(t *testing.T) {
	c := newClock()
	w := newWorld(t, 500, 200)
	opts := testOpts(c, WithSchedule([]time.Duration{time.Hour}, false))
	s1 := New(w.store, w.ledger, opts...)
	wt := w.add(t, s1, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	stop1 := run(t, s1)
	w.is.change(w.rev, []int{1}, nil)
	waitN(t, w.recv, 1) // 500: retry in an hour
	stop1()

	s2 := New(w.store, w.ledger, opts...)
	run(t, s2)
	time.Sleep(30 * time.Millisecond)
	if n := len(w.recv.requests()); n != 1 {
		t.Fatalf("retried before its time: %d requests", n)
	}
	c.Add(61 * time.Minute)
	got := waitN(t, w.recv, 2)
	if got[1].ID != got[0].ID || got[1].Event.Type != TypeRevoked {
		t.Fatalf("after restart: %+v", got[1])
	}
	if log, _ := s2.Deliveries(context.Background(), "hospital-a", wt.ID); len(log) != 2 || log[0].Result != ResultDelivered {
		t.Fatalf("deliveries %+v", log)
	}
}

func TestShutdownMidAttemptReleasesDelivery(t *testing.T) {
	c := newClock()
	w := newWorld(t)
	hold := make(chan struct{})
	var seen arrivals
	w.recv.hold = hold
	seen.on(w.recv, "held")
	opts := testOpts(c)
	s1 := New(w.store, w.ledger, opts...)
	w.add(t, s1, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	stop1 := run(t, s1)
	w.is.change(w.rev, []int{1}, nil)
	waitFor(t, "the request to be held", func() bool { return len(seen.get()) == 1 })
	stop1() // the attempt under way is abandoned, not counted
	w.recv.mu.Lock()
	w.recv.hold = nil // the abandoned request stays held until its client is gone
	w.recv.mu.Unlock()

	s2 := New(w.store, w.ledger, opts...)
	run(t, s2) // the clock does not move: the lease was released
	got := waitN(t, w.recv, 1)
	if got[0].Event.Type != TypeRevoked {
		t.Fatalf("got %s", got[0].Body)
	}
}

func TestExpiry(t *testing.T) {
	c := newClock()
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(c)...)
	until := c.Now().Add(90 * 24 * time.Hour)
	wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", until))
	soon := w.add(t, s, "hospital-a", credential("urn:uuid:2", c.Now().Add(40*24*time.Hour), entry(status.PurposeRevocation, w.rev, 3)))
	run(t, s)

	// Registered inside the warning window: warned at once.
	got := waitN(t, w.recv, 1)
	if got[0].Event.Type != TypeExpiring || got[0].Event.Data.WatchID != soon.ID {
		t.Fatalf("got %s", got[0].Body)
	}
	c.Add(29 * 24 * time.Hour) // 61 days left
	waitN(t, w.recv, 1)
	c.Add(24*time.Hour + time.Second) // 60 days left
	got = waitN(t, w.recv, 2)
	ev := got[1].Event
	if ev.Type != TypeExpiring || ev.Data.WatchID != wt.ID || !ev.Data.ValidUntil.Equal(until) || !ev.Timestamp.Equal(until.Add(-DefaultExpiryLead)) {
		t.Fatalf("expiring event %s", got[1].Body)
	}
	c.Add(60 * 24 * time.Hour) // both expired
	got = waitN(t, w.recv, 4)
	types := map[string]string{got[2].Event.Data.WatchID: got[2].Event.Type, got[3].Event.Data.WatchID: got[3].Event.Type}
	if types[wt.ID] != TypeExpired || types[soon.ID] != TypeExpired {
		t.Fatalf("expired events %s %s", got[2].Body, got[3].Body)
	}
	if g, _ := s.Get(context.Background(), "hospital-a", wt.ID); g.State != StateExpired {
		t.Fatalf("state %q", g.State)
	}
	c.Add(365 * 24 * time.Hour)
	waitN(t, w.recv, 4)
}

func TestExpiredWhileDownSkipsTheWarning(t *testing.T) {
	c := newClock()
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(c)...)
	wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", c.Now().Add(90*24*time.Hour)))
	c.Add(91 * 24 * time.Hour)
	run(t, s)
	got := waitN(t, w.recv, 1)
	if got[0].Event.Type != TypeExpired || got[0].Event.Data.WatchID != wt.ID {
		t.Fatalf("got %s", got[0].Body)
	}
}

// resetLedger forwards no ledger event: the test sends them.
type resetLedger struct {
	*registry.Log
	events chan registry.Event
	reads  atomic.Int64
}

func (l *resetLedger) Subscribe(context.Context) <-chan registry.Event { return l.events }

func (l *resetLedger) StatusList(ctx context.Context, url string) (registry.SubjectState, error) {
	l.reads.Add(1)
	return l.Log.StatusList(ctx, url)
}

func TestResetRereadsWithoutSpuriousEvents(t *testing.T) {
	w := newWorld(t)
	l := &resetLedger{Log: w.ledger, events: make(chan registry.Event)}
	s := New(w.store, l, testOpts(nil)...)
	w.add(t, s, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)))
	w.add(t, s, "hospital-a", credential("urn:uuid:2", time.Time{}, entry(status.PurposeSuspension, w.sus, 1)))
	reads := l.reads.Load()
	run(t, s)
	waitFor(t, "the first poll", func() bool { return l.reads.Load() >= reads+2 })

	w.is.change(w.rev, []int{1}, nil) // its event is lost
	time.Sleep(50 * time.Millisecond)
	if n := len(w.recv.requests()); n != 0 {
		t.Fatalf("%d requests without an event", n)
	}
	l.events <- registry.Event{Reset: true}
	got := waitN(t, w.recv, 1)
	if got[0].Event.Type != TypeRevoked || got[0].Event.Data.LedgerIndex != nil {
		t.Fatalf("after Reset: %s", got[0].Body)
	}
	before := l.reads.Load()
	l.events <- registry.Event{Reset: true}
	l.events <- registry.Event{Reset: true}
	waitFor(t, "the lists to be read again", func() bool { return l.reads.Load() >= before+4 })
	waitN(t, w.recv, 1)
}

func TestPolledList(t *testing.T) {
	src := &fakeLists{bits: map[string][]byte{"https://other.example/lists/1": make([]byte, 16384)}}
	recv := newReceiver(t, 200)
	s := New(memkv.New(), nil, testOpts(nil, WithPolling(src, 10*time.Millisecond))...)
	ctx := context.Background()
	wt, secret, err := s.Add(ctx, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, "https://other.example/lists/1", 9)), recv.url())
	if err != nil {
		t.Fatal(err)
	}
	recv.secret(secret)
	run(t, s)
	src.set("https://other.example/lists/1", 9)
	got := waitN(t, recv, 1)
	if got[0].Event.Type != TypeRevoked || got[0].Event.Data.WatchID != wt.ID || got[0].Event.Data.LedgerSeq != 0 {
		t.Fatalf("got %s", got[0].Body)
	}
}

type fakeLists struct {
	mu   sync.Mutex
	bits map[string][]byte
}

func (f *fakeLists) set(url string, i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := bytes.Clone(f.bits[url])
	b[i/8] |= 0x80 >> (i % 8)
	f.bits[url] = b
}

func (f *fakeLists) ListBits(_ context.Context, url string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.bits[url]
	if !ok {
		return nil, errors.New("no such list")
	}
	return b, nil
}

func TestIsolationAndRemove(t *testing.T) {
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(nil)...)
	ctx := context.Background()
	wt := w.add(t, s, "hospital-a", credential("urn:uuid:1", time.Now().Add(time.Hour), entry(status.PurposeRevocation, w.rev, 1)))
	if _, err := s.Get(ctx, "hospital-b", wt.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("B gets A's watch: %v", err)
	}
	if _, err := s.Deliveries(ctx, "hospital-b", wt.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("B reads A's deliveries: %v", err)
	}
	if err := s.Remove(ctx, "hospital-b", wt.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("B removes A's watch: %v", err)
	}
	if l, err := s.List(ctx, "hospital-b"); err != nil || len(l) != 0 {
		t.Errorf("B lists %+v, %v", l, err)
	}
	if _, err := s.Get(ctx, "hospital-a", "../"+wt.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("odd id: %v", err)
	}
	if err := s.Remove(ctx, "hospital-a", wt.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "hospital-a", wt.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove: %v", err)
	}
	run(t, s)
	w.is.change(w.rev, []int{1}, nil)
	time.Sleep(80 * time.Millisecond)
	if got := w.recv.requests(); len(got) != 0 {
		t.Fatalf("a removed watch notified: %+v", got)
	}
	for _, b := range []string{bucketWatchers + listHash(w.rev), bucketExpiry, bucketQueue} {
		if _, keys, _ := s.keys(ctx, b, ""); len(keys) != 0 {
			t.Errorf("%s keeps %v", b, keys)
		}
	}
}

func TestAddRejects(t *testing.T) {
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(nil, WithMaxWatches(2))...)
	strict := New(memkv.New(), w.ledger)
	ctx := context.Background()
	ok := credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1))
	many := make([]status.Entry, MaxEntries+1)
	for i := range many {
		many[i] = entry(status.PurposeRevocation, w.rev, i)
	}
	for _, c := range []struct {
		name    string
		s       *Service
		cred    vc.Credential
		webhook string
		want    error
	}{
		{"http", strict, ok, "http://hooks.example.com/x", ErrInvalidWebhook},
		{"loopback", strict, ok, "https://127.0.0.1/x", ErrInvalidWebhook},
		{"private", strict, ok, "https://10.1.2.3/x", ErrInvalidWebhook},
		{"localhost", strict, ok, "https://api.localhost/x", ErrInvalidWebhook},
		{"user info", strict, ok, "https://u:p@hooks.example.com/x", ErrInvalidWebhook},
		{"fragment", strict, ok, "https://hooks.example.com/x#y", ErrInvalidWebhook},
		{"relative", strict, ok, "/x", ErrInvalidWebhook},
		{"nothing to watch", s, credential("urn:uuid:2", time.Time{}), w.recv.url(), ErrNothingToWatch},
		{"too many entries", s, credential("urn:uuid:3", time.Time{}, many...), w.recv.url(), ErrTooManyEntries},
		{"list unknown", s, credential("urn:uuid:4", time.Time{}, entry(status.PurposeRevocation, "https://nowhere.example/l", 1)), w.recv.url(), ErrStatusUnavailable},
		{"malformed status", s, vc.Credential{"credentialStatus": map[string]any{"type": status.TypeEntry}}, w.recv.url(), vc.ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := c.s.Add(ctx, "hospital-a", c.cred, c.webhook); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if _, _, err := strict.Add(ctx, "hospital-a", ok, "https://hooks.example.com/credence?x=1"); err != nil {
		t.Fatalf("a public https webhook: %v", err)
	}
	for i := range 2 {
		if _, _, err := s.Add(ctx, "hospital-a", ok, w.recv.url()); err != nil {
			t.Fatalf("watch %d: %v", i, err)
		}
	}
	if _, _, err := s.Add(ctx, "hospital-a", ok, w.recv.url()); !errors.Is(err, ErrLimit) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := s.Add(ctx, "hospital-b", ok, w.recv.url()); err != nil {
		t.Fatalf("the limit is per verifier: %v", err)
	}
}

func TestSealedSecret(t *testing.T) {
	mk, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	s := New(w.store, w.ledger, testOpts(nil, WithSealer(mk))...)
	ctx := context.Background()
	wt, secret, err := s.Add(ctx, "hospital-a", credential("urn:uuid:1", time.Time{}, entry(status.PurposeRevocation, w.rev, 1)), w.recv.url())
	if err != nil {
		t.Fatal(err)
	}
	w.recv.secret(secret)
	raw, err := w.store.Get(ctx, bucketWatches+"hospital-a", wt.ID)
	if err != nil || bytes.Contains(raw, []byte(secret[len("whsec_"):])) {
		t.Fatalf("the stored watch keeps the secret in clear (%v)", err)
	}
	run(t, s)
	w.is.change(w.rev, []int{1}, nil)
	waitN(t, w.recv, 1)
}

func TestSignatureVector(t *testing.T) {
	// The Standard Webhooks reference vector.
	r := &record{Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	key, err := New(memkv.New(), nil).signingKey(r)
	if err != nil {
		t.Fatal(err)
	}
	got := signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", strconv.Itoa(1614265330), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}

func TestEventIDsAreDeterministic(t *testing.T) {
	a, b := eventID("w1", "revocation|u|1", 1), eventID("w1", "revocation|u|1", 2)
	if a != eventID("w1", "revocation|u|1", 1) || a == b || a == eventID("w2", "revocation|u|1", 1) {
		t.Fatalf("ids %s %s", a, b)
	}
	if len(a) != 36 || a[:4] != "msg_" {
		t.Fatalf("id %q", a)
	}
}
