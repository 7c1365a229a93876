package registry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listingStore is memStore with Subjects.
type listingStore struct{ *memStore }

func (s listingStore) Subjects(ctx context.Context, prefix string, fn func(string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	var subjects []string
	for subject := range s.heads {
		if strings.HasPrefix(subject, prefix) {
			subjects = append(subjects, subject)
		}
	}
	s.mu.Unlock()
	slices.Sort(subjects)
	for _, subject := range subjects {
		if err := fn(subject); err != nil {
			return err
		}
	}
	return nil
}

// eventStore is a listingStore that reports its appends (an EventSource), so
// every Log on it sees every append, and a test can publish a Reset.
type eventStore struct {
	listingStore
	mu  sync.Mutex // append-then-publish, in index order
	bus *EventBus
}

func newEventStore() *eventStore {
	return &eventStore{listingStore: listingStore{newMemStore()}, bus: NewEventBus(0)}
}

func (s *eventStore) Append(ctx context.Context, want Head, leaf Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

func (s *eventStore) AppendGuarded(ctx context.Context, want Head, guards []Guard, leaf Leaf) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.memStore.AppendGuarded(ctx, want, guards, leaf)
	if err == nil {
		leaf.Index = idx
		s.bus.Publish(LeafEvent(leaf))
	}
	return idx, err
}

func (s *eventStore) Events(ctx context.Context) (<-chan Event, error) {
	return s.bus.Subscribe(ctx), nil
}

// flakyStore fails head reads while fail is set.
type flakyStore struct {
	*eventStore
	fail atomic.Bool
}

func (s *flakyStore) Head(ctx context.Context, subject string) (Head, error) {
	if s.fail.Load() {
		return Head{}, errors.New("store unavailable")
	}
	return s.eventStore.Head(ctx, subject)
}

// trustWorld is a Log on an eventStore governed by one steward.
type trustWorld struct {
	t       *testing.T
	store   *eventStore
	log     *Log
	steward testKey
}

func newTrustWorld(t *testing.T) *trustWorld {
	t.Helper()
	base, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	w := &trustWorld{t: t, store: newEventStore(), steward: edKey(t, 60)}
	w.log = newLogOn(base, w.store, WithStewards(w.steward.mk))
	return w
}

// index starts a TrustIndex over log, closed with the test.
func (w *trustWorld) index(log *Log, logger *slog.Logger) *TrustIndex {
	w.t.Helper()
	x, err := NewTrustIndex(w.t.Context(), log, logger)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(x.Close)
	return x
}

func (w *trustWorld) submit(op *Op) (Receipt, error) {
	w.t.Helper()
	return w.log.Submit(context.Background(), mustJSON(w.t, op))
}

// accredit submits a trust.accredit of id (a create or an amendment) at
// tm(minutes).
func (w *trustWorld) accredit(id string, a *Accreditation, minutes int) Receipt {
	w.t.Helper()
	st, err := w.log.State(context.Background(), AccreditationSubject(id), 0)
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := w.submit(accreditOp(w.t, id, st, minutes, a, w.steward))
	if err != nil {
		w.t.Fatalf("accredit %s: %v", id, err)
	}
	return r
}

func (w *trustWorld) withdraw(id string, minutes int) Receipt {
	w.t.Helper()
	st, err := w.log.State(context.Background(), AccreditationSubject(id), 0)
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := w.submit(withdrawOp(w.t, st, minutes, &Accreditation{Reason: "withdrawn by the consortium"}, w.steward))
	if err != nil {
		w.t.Fatalf("withdraw %s: %v", id, err)
	}
	return r
}

func waitFor(t *testing.T, x *TrustIndex, index uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := x.WaitFor(ctx, index); err != nil {
		t.Fatalf("WaitFor(%d): %v", index, err)
	}
}

// at is tm(i) as a time.
func at(i int) time.Time {
	t, _ := time.Parse(TimeLayout, tm(i))
	return t
}

func TestTrustIndexLoadsAndFollows(t *testing.T) {
	w := newTrustWorld(t)
	w.accredit("ca-mbc", grantOf(caBoard, "CA"), 1)
	w.accredit("old", grantOf(txBoard, "TX"), 1)
	w.withdraw("old", 2)

	x := w.index(w.log, nil)
	ids := func() []string {
		var out []string
		for _, a := range x.List() {
			out = append(out, a.ID)
		}
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"ca-mbc", "old"}) {
		t.Fatalf("loaded %q", got)
	}
	if a, ok := x.Get("old"); !ok || a.Withdrawn != tm(2) || a.Issuer != txBoard {
		t.Fatalf("Get(old) = %+v, %v", a, ok)
	}
	if _, ok := x.Get("nope"); ok {
		t.Fatal("Get of an unknown id succeeded")
	}

	// Appends after the start: a create, an amendment, a withdrawal.
	waitFor(t, x, w.accredit("b-dea", &Accreditation{Issuer: "did:web:dea.gov", Types: []string{"DEARegistrationCredential"}, ValidFrom: tm(0)}, 3).Index)
	if got := ids(); !slices.Equal(got, []string{"b-dea", "ca-mbc", "old"}) {
		t.Fatalf("after a create: %q", got)
	}
	amended := grantOf(caBoard, "CA", "NV")
	amended.ValidUntil = tm(500)
	waitFor(t, x, w.accredit("ca-mbc", amended, 4).Index)
	want := AccreditationState{ID: "ca-mbc", Issuer: caBoard, Types: amended.Types, Jurisdictions: []string{"CA", "NV"}, ValidFrom: tm(0), ValidUntil: tm(500)}
	if a, _ := x.Get("ca-mbc"); !reflect.DeepEqual(a, want) {
		t.Fatalf("after the amendment: %+v", a)
	}
	waitFor(t, x, w.withdraw("ca-mbc", 5).Index)
	if a, _ := x.Get("ca-mbc"); a.Withdrawn != tm(5) || a.Reason == "" {
		t.Fatalf("after the withdrawal: %+v", a)
	}

	// Another op family moves the index along too.
	did := newCreate(t, []testKey{edKey(t, 1)}, []testKey{edKey(t, 2)}, nil)
	r, err := w.submit(did)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, x, r.Index)

	// What the index hands out is a copy.
	a, _ := x.Get("b-dea")
	a.Types[0] = "Changed"
	if b, _ := x.Get("b-dea"); b.Types[0] != "DEARegistrationCredential" {
		t.Fatal("Get hands out the index's own slices")
	}
}

func TestTrustIndexAccredited(t *testing.T) {
	w := newTrustWorld(t)
	ca := grantOf(caBoard, "CA")
	ca.ValidUntil = tm(100)
	w.accredit("ca", ca, 1)
	w.accredit("dea", &Accreditation{Issuer: "did:web:dea.gov", Types: []string{"DEARegistrationCredential"}, ValidFrom: tm(0)}, 1)
	w.withdraw("dea", 50)
	tx := grantOf(txBoard, "TX")
	tx.ValidUntil = tm(10)
	w.accredit("tx", tx, 1)
	tx = &Accreditation{Issuer: txBoard, Types: []string{"MedicalLicenseCredential", "BoardCertificationCredential"}, Jurisdictions: []string{"TX", "OK"}, ValidFrom: tm(0), ValidUntil: tm(200)}
	last := w.accredit("tx", tx, 2)
	x := w.index(w.log, nil)
	waitFor(t, x, last.Index)

	const ml, dea = "MedicalLicenseCredential", "DEARegistrationCredential"
	tests := []struct {
		name               string
		issuer, typ, juris string
		at                 int
		want               bool
	}{
		{"in its state", caBoard, ml, "CA", 5, true},
		{"any state", caBoard, ml, "", 5, true},
		{"another state", caBoard, ml, "TX", 5, false},
		{"another type", caBoard, dea, "CA", 5, false},
		{"before validFrom", caBoard, ml, "CA", -1, false},
		{"at validFrom", caBoard, ml, "CA", 0, true},
		{"at validUntil", caBoard, ml, "CA", 100, true},
		{"after validUntil", caBoard, ml, "CA", 101, false},
		{"national, any state", "did:web:dea.gov", dea, "NY", 10, true},
		{"national, no state", "did:web:dea.gov", dea, "", 10, true},
		{"national, before the withdrawal", "did:web:dea.gov", dea, "NY", 49, true},
		{"national, at the withdrawal", "did:web:dea.gov", dea, "NY", 50, false},
		{"national, after the withdrawal", "did:web:dea.gov", dea, "NY", 51, false},
		{"amended: a new state", txBoard, ml, "OK", 150, true},
		{"amended: a new type", txBoard, "BoardCertificationCredential", "TX", 5, true},
		{"amended: the longer window", txBoard, ml, "TX", 200, true},
		{"amended: past the window", txBoard, ml, "TX", 201, false},
		{"unknown issuer", "did:web:nobody", ml, "CA", 5, false},
		{"type name case", caBoard, "medicallicensecredential", "CA", 5, false},
	}
	for _, tc := range tests {
		if got := x.Accredited(tc.issuer, tc.typ, tc.juris, at(tc.at)); got != tc.want {
			t.Errorf("%s: Accredited(%s, %s, %q, tm(%d)) = %v, want %v", tc.name, tc.issuer, tc.typ, tc.juris, tc.at, got, tc.want)
		}
	}
	// Time zones do not matter.
	if !x.Accredited(caBoard, ml, "CA", at(5).In(time.FixedZone("PST", -8*3600))) {
		t.Error("Accredited depends on the time's location")
	}
}

// TestTrustIndexReset: an append the index never heard of is picked up on a
// Reset event.
func TestTrustIndexReset(t *testing.T) {
	w := newTrustWorld(t)
	x := w.index(w.log, nil)
	// A Log on the same data that reports to nobody (no EventSource).
	quiet := newLogOn(w.log, listingStore{w.store.memStore}, WithStewards(w.steward.mk))
	r, err := quiet.Submit(context.Background(), mustJSON(t, accreditOp(t, "silent", SubjectState{}, 1, grantOf(caBoard, "CA"), w.steward)))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if _, ok := x.Get("silent"); ok {
		t.Fatal("the index saw an append without an event")
	}
	w.store.bus.Publish(Event{Reset: true})
	waitFor(t, x, r.Index)
	if a, ok := x.Get("silent"); !ok || a.Issuer != caBoard {
		t.Fatalf("after a Reset: %+v, %v", a, ok)
	}
}

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTrustIndexRecovers: a failed read makes the index reload until it
// succeeds; WaitFor waits for it.
func TestTrustIndexRecovers(t *testing.T) {
	w := newTrustWorld(t)
	flaky := &flakyStore{eventStore: w.store}
	var logs syncBuffer
	x := w.index(newLogOn(w.log, flaky, WithStewards(w.steward.mk)), slog.New(slog.NewTextHandler(&logs, nil)))
	flaky.fail.Store(true)
	r := w.accredit("late", grantOf(caBoard, "CA"), 1)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := x.WaitFor(ctx, r.Index); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor while the store fails = %v, want a timeout", err)
	}
	flaky.fail.Store(false)
	waitFor(t, x, r.Index)
	if _, ok := x.Get("late"); !ok {
		t.Fatal("the index did not recover the accreditation")
	}
	if out := logs.String(); !strings.Contains(out, "trust index: failed to follow the ledger") || !strings.Contains(out, "store unavailable") {
		t.Fatalf("log output = %q", out)
	}
}

func TestTrustIndexWaitForAndClose(t *testing.T) {
	w := newTrustWorld(t)
	w.accredit("a", grantOf(caBoard, "CA"), 1)
	x := w.index(w.log, nil)
	waitFor(t, x, 0)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := x.WaitFor(ctx, 1000); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor of a future index = %v", err)
	}
	x.Close()
	if err := x.WaitFor(t.Context(), 1000); !errors.Is(err, ErrIndexClosed) {
		t.Fatalf("WaitFor after Close = %v", err)
	}
	if !x.Accredited(caBoard, "MedicalLicenseCredential", "CA", at(1)) {
		t.Fatal("a closed index stopped answering")
	}
}

func TestTrustIndexNeedsSubjectLister(t *testing.T) {
	log, _ := newTestLog(t, time.Now())
	if _, err := NewTrustIndex(t.Context(), log, nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("NewTrustIndex on a store without Subjects = %v", err)
	}
}

func TestTrustIndexConcurrentReaders(t *testing.T) {
	w := newTrustWorld(t)
	w.accredit("ca", grantOf(caBoard, "CA"), 0)
	x := w.index(w.log, nil)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !x.Accredited(caBoard, "MedicalLicenseCredential", "CA", at(1)) {
					t.Error("the accreditation disappeared while amended")
					return
				}
				_ = x.List()
			}
		})
	}
	var last Receipt
	for i := range 10 {
		last = w.accredit("ca", grantOf(caBoard, "CA", []string{"TX", "NY", "NV", "OR", "WA", "AZ", "UT", "ID", "MT", "WY"}[i]), i+1)
	}
	waitFor(t, x, last.Index)
	cancel()
	wg.Wait()
	if a, _ := x.Get("ca"); !slices.Equal(a.Jurisdictions, []string{"CA", "WY"}) {
		t.Fatalf("final grant %+v", a)
	}
}

func TestLogTrustGovernance(t *testing.T) {
	ctx := context.Background()
	old, current := edKey(t, 60), edKey(t, 61)
	base, mem := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	store := listingStore{mem}

	// Without governance, no trust op.
	if _, err := submit(t, base, accreditOp(t, "a", SubjectState{}, 1, grantOf(caBoard, "CA"), old)); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("trust op without stewards: %v", err)
	}
	if g := base.Governance(); len(g.Stewards) != 0 || len(g.Retired) != 0 || g.Stewards == nil {
		t.Fatalf("Governance() without stewards = %#v", g)
	}

	first := newLogOn(base, store, WithStewards(old.mk))
	r1, err := submit(t, first, accreditOp(t, "a", SubjectState{}, 1, grantOf(caBoard, "CA"), old))
	if err != nil {
		t.Fatal(err)
	}

	// The old key retires: what it signed still loads; it signs nothing new.
	rotated := newLogOn(base, store, WithStewards(current.mk), WithRetiredStewards(old.mk))
	if g := rotated.Governance(); !slices.Equal(g.Stewards, []string{current.mk}) || !slices.Equal(g.Retired, []string{old.mk}) {
		t.Fatalf("Governance() = %+v", g)
	}
	st, err := rotated.State(ctx, AccreditationSubject("a"), 0)
	if err != nil || st.Accreditation == nil {
		t.Fatalf("state of an accreditation signed by a retired steward: %+v, %v", st, err)
	}
	if _, err := submit(t, rotated, withdrawOp(t, st, 2, nil, old)); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("op signed by a retired steward: %v", err)
	}
	r2, err := submit(t, rotated, withdrawOp(t, st, 2, nil, current))
	if err != nil {
		t.Fatal(err)
	}

	// Dropping the old key instead breaks the replay of what it signed.
	dropped := newLogOn(base, store, WithStewards(current.mk))
	if _, err := dropped.State(ctx, AccreditationSubject("a"), 0); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("replay without the retired steward: %v", err)
	}

	// Audit needs every steward that signed.
	cp, err := rotated.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := store.Size(ctx)
	if size != r2.Index+1 || r1.Index != 0 {
		t.Fatalf("log size %d, receipts %d %d", size, r1.Index, r2.Index)
	}
	rep, err := Audit(ctx, StoreLeaves(ctx, store), size, cp, rotated.Verifier(), AuditStewards(current.mk, old.mk))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accreditations != 1 || rep.Withdrawn != 1 || rep.Deactivated != 0 || rep.OpsByType[TrustAccredit] != 1 || rep.OpsByType[TrustWithdraw] != 1 {
		t.Fatalf("audit report %+v", rep)
	}
	_, err = Audit(ctx, StoreLeaves(ctx, store), size, cp, rotated.Verifier(), AuditStewards(current.mk))
	var le *LeafError
	if !errors.As(err, &le) || le.Index != r1.Index || !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("audit without the retired steward: %v", err)
	}
	if _, err := Audit(ctx, StoreLeaves(ctx, store), size, cp, rotated.Verifier()); !errors.Is(err, ErrUnauthorizedKey) {
		t.Fatalf("audit without governance: %v", err)
	}
}

func TestLogSubjects(t *testing.T) {
	w := newTrustWorld(t)
	w.accredit("b", grantOf(caBoard, "CA"), 1)
	w.accredit("a", grantOf(caBoard, "CA"), 1)
	if _, err := w.submit(newCreate(t, []testKey{edKey(t, 1)}, []testKey{edKey(t, 2)}, nil)); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := w.log.Subjects(t.Context(), AccreditationPrefix, func(s string) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{AccreditationSubject("a"), AccreditationSubject("b")}; !slices.Equal(got, want) {
		t.Fatalf("Subjects = %q", got)
	}
	if n, err := w.log.Size(t.Context()); err != nil || n != 3 {
		t.Fatalf("Size = %d, %v", n, err)
	}
}
