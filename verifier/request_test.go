package verifier

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
)

// TestMain is the verifier package's; every test file of the package shares
// it (the request tests use a real Redis).
func TestMain(m *testing.M) { testredis.Main(m) }

// reqClock is a settable clock for request tests.
type reqClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *reqClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *reqClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newTestRequests(store kv.Store) (*Requests, *reqClock) {
	clk := &reqClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	return &Requests{Store: store, Now: clk.Now, BaseURL: "https://verify.hospital.example:8443/base"}, clk
}

func licenseInput() RequestInput {
	return RequestInput{Query: dcql(dcqlLicense), Purpose: "Credentialing for emergency medicine privileges"}
}

const testHolder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"

func TestRequestCreateGet(t *testing.T) {
	ctx := t.Context()
	r, clk := newTestRequests(memkv.New())
	req, err := r.Create(ctx, "mercy-general", licenseInput())
	if err != nil {
		t.Fatal(err)
	}
	if !wellFormedID(req.ID) || !wellFormedID(req.Challenge) || req.ID == req.Challenge {
		t.Errorf("id %q, challenge %q: want distinct 128-bit base64url values", req.ID, req.Challenge)
	}
	if req.Domain != "verify.hospital.example:8443" || req.State != RequestPending || req.Verifier != "mercy-general" {
		t.Errorf("created %+v", req)
	}
	if !req.Expires.Equal(clk.Now().Add(DefaultRequestTTL)) || !req.Created.Equal(clk.Now()) {
		t.Errorf("created %s expires %s", req.Created, req.Expires)
	}
	got, err := r.Get(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	_ = json.Compact(&want, []byte(dcqlLicense))
	if got.Challenge != req.Challenge || got.State != RequestPending || got.Purpose != req.Purpose || string(got.Query.DCQL) != want.String() {
		t.Errorf("Get = %+v, want %+v", got, req)
	}
	clk.Add(DefaultRequestTTL + time.Second)
	if got, _ := r.Get(ctx, req.ID); got.State != RequestExpired {
		t.Errorf("after the TTL state = %s", got.State)
	}
	for _, id := range []string{"", "nope", strings.Repeat("A", 22), "../" + req.ID} {
		if _, err := r.Get(ctx, id); !errors.Is(err, ErrRequestNotFound) {
			t.Errorf("Get(%q) = %v", id, err)
		}
	}
	other, _ := r.Create(ctx, "mercy-general", licenseInput())
	if other.ID == req.ID || other.Challenge == req.Challenge {
		t.Error("two requests share an id or a challenge")
	}
	if got.Holder != "" || got.Attempts != 0 || got.LastAttempt != nil {
		t.Errorf("a new request has holder %q, %d attempts, last %+v", got.Holder, got.Attempts, got.LastAttempt)
	}
	in := licenseInput()
	in.Holder = testHolder
	expecting, err := r.Create(ctx, "mercy-general", in)
	if err != nil || expecting.Holder != testHolder {
		t.Fatalf("Create with a holder = %+v, %v", expecting, err)
	}
	if got, err := r.Get(ctx, expecting.ID); err != nil || got.Holder != testHolder {
		t.Errorf("Get of a request with a holder = %+v, %v", got, err)
	}
}

func TestRequestCreateInvalid(t *testing.T) {
	r, _ := newTestRequests(memkv.New())
	in := func(fn func(*RequestInput)) RequestInput { i := licenseInput(); fn(&i); return i }
	for _, c := range []struct {
		verifier string
		in       RequestInput
		field    string
	}{
		{"Mercy General", licenseInput(), "verifier"},
		{"", licenseInput(), "verifier"},
		{"mercy", in(func(i *RequestInput) { i.Query = Query{} }), "query"},
		{"mercy", in(func(i *RequestInput) { i.Query = dcql(dcqlMultiCredentials) }), "query.dcql_query.credentials[1].format"},
		{"mercy", in(func(i *RequestInput) { i.Query = pexQuery(`{"id": "x", "input_descriptors": []}`) }), "query.presentation_definition.input_descriptors"},
		{"mercy", in(func(i *RequestInput) { i.TTL = 30 * time.Second }), "ttl"},
		{"mercy", in(func(i *RequestInput) { i.TTL = 25 * time.Hour }), "ttl"},
		{"mercy", in(func(i *RequestInput) { i.TTL = -time.Minute }), "ttl"},
		{"mercy", in(func(i *RequestInput) { i.Purpose = strings.Repeat("é", MaxPurposeRunes+1) }), "purpose"},
		{"mercy", in(func(i *RequestInput) { i.Purpose = "line\nbreak" }), "purpose"},
		{"mercy", in(func(i *RequestInput) { i.Purpose = "\xff" }), "purpose"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "https://hospital.example/path" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "ftp://hospital.example" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "https://user@hospital.example" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "hospital.example?x=1" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "-bad-.example" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "hospital.example:99999" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = "::1" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Domain = strings.Repeat("a.", 200) + "example" }), "domain"},
		{"mercy", in(func(i *RequestInput) { i.Holder = "dr-smith" }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = "did:key:" }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = "DID:key:z6Mk" }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = testHolder + "#key-1" }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = "did:web:hospital.example/people" }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = testHolder + " " }), "holder"},
		{"mercy", in(func(i *RequestInput) { i.Holder = "did:web:" + strings.Repeat("a", MaxHolderBytes) }), "holder"},
	} {
		_, err := r.Create(t.Context(), c.verifier, c.in)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Create(%q, %+v) = %v, want an InputError on %s", c.verifier, c.in, err, c.field)
		}
	}
	n := 0
	_ = r.Store.List(t.Context(), bucketRequests, "", func(string, []byte) error { n++; return nil })
	if n != 0 {
		t.Errorf("invalid requests stored %d records", n)
	}
}

// TestRequestDomains: a request's domain is the BaseURL's host or origin
// (in any case, with or without the scheme's default port), so that the
// wallet's check of domain against response_uri holds; another host is
// refused.
func TestRequestDomains(t *testing.T) {
	for _, c := range []struct{ base, in, want string }{
		{"https://verify.hospital.example:8443/base", "", "verify.hospital.example:8443"},
		{"https://verify.hospital.example:8443/base", "Verify.Hospital.Example:8443", "verify.hospital.example:8443"},
		{"https://verify.hospital.example:8443/base", "https://verify.hospital.example:8443", "https://verify.hospital.example:8443"},
		{"https://Hospital.Example", "hospital.example", "hospital.example"},
		{"https://hospital.example", "hospital.example:443", "hospital.example:443"},
		{"https://hospital.example:443/x", "https://hospital.example", "https://hospital.example"},
		{"http://localhost:8080", "http://localhost:8080", "http://localhost:8080"},
		{"http://10.0.0.7", "10.0.0.7", "10.0.0.7"},
		{"https://[2001:db8::1]:443", "[2001:db8::1]", "[2001:db8::1]"},
		{"https://xn--hospitl-fya.example", "xn--hospitl-fya.example", "xn--hospitl-fya.example"},
	} {
		r := &Requests{Store: memkv.New(), BaseURL: c.base}
		if got, err := r.domain(c.in); err != nil || got != c.want {
			t.Errorf("base %s: domain(%q) = %q, %v; want %q", c.base, c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ base, in string }{
		{"https://verify.hospital.example:8443/base", "hospital.example"},                    // another host: a relay
		{"https://verify.hospital.example:8443/base", "verify.hospital.example"},             // another port
		{"https://verify.hospital.example:8443/base", "http://verify.hospital.example:8443"}, // another scheme
		{"https://hospital.example", "hospital.example.attacker.example"},
		{"http://localhost:8080", "localhost:8081"},
	} {
		r := &Requests{Store: memkv.New(), BaseURL: c.base}
		var ie *InputError
		if _, err := r.domain(c.in); !errors.As(err, &ie) || ie.Field != "domain" || !strings.Contains(ie.Detail, "this verifier's host") {
			t.Errorf("base %s: domain(%q) = %v, want an InputError naming this verifier's host", c.base, c.in, err)
		}
	}
	for _, base := range []string{"", "verify.hospital.example", "ftp://verify.hospital.example"} {
		noBase := &Requests{Store: memkv.New(), BaseURL: base}
		if _, err := noBase.Create(t.Context(), "mercy", licenseInput()); err == nil || errors.Is(err, ErrInvalidRequest) {
			t.Errorf("BaseURL %q: %v, want a configuration error", base, err)
		}
	}
}

func TestRequestInputJSON(t *testing.T) {
	var in RequestInput
	err := json.Unmarshal([]byte(`{"query": {"dcql_query": {"credentials": []}}, "ttl": "2h30m", "domain": "h.example", "purpose": "p",
	  "holder": "`+testHolder+`"}`), &in)
	if err != nil || in.TTL != 150*time.Minute || in.Domain != "h.example" || in.Purpose != "p" || string(in.Query.DCQL) != `{"credentials": []}` ||
		in.Holder != testHolder {
		t.Fatalf("Unmarshal = %+v, %v", in, err)
	}
	b, _ := json.Marshal(in)
	var back RequestInput
	if err := json.Unmarshal(b, &back); err != nil || back.TTL != in.TTL || back.Holder != in.Holder {
		t.Errorf("round trip %s = %+v, %v", b, back, err)
	}
	for _, bad := range []string{
		`{"query": {}, "ttl": 600}`,
		`{"query": {}, "ttl": "ten minutes"}`,
		`{"query": {"scope": "x"}}`,
		`{"query": {}, "nonce": "x"}`,
	} {
		if err := json.Unmarshal([]byte(bad), &in); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}

func TestRequestComplete(t *testing.T) {
	ctx := t.Context()
	r, clk := newTestRequests(memkv.New())
	req, _ := r.Create(ctx, "mercy", licenseInput())
	clk.Add(time.Minute)
	o := Outcome{Verified: true, Decision: Accept, Result: json.RawMessage(`{"verified":true}`)}
	if err := r.Complete(ctx, req.ID, o); err != nil {
		t.Fatal(err)
	}
	got, _ := r.Get(ctx, req.ID)
	if got.State != RequestCompleted || got.Outcome == nil || !got.Outcome.Completed.Equal(clk.Now()) ||
		got.Outcome.Decision != Accept || got.Outcome.Codes == nil || string(got.Outcome.Result) != `{"verified":true}` {
		t.Errorf("completed request %+v, outcome %+v", got, got.Outcome)
	}
	clk.Add(time.Hour)
	if got, _ := r.Get(ctx, req.ID); got.State != RequestCompleted {
		t.Errorf("a completed request became %s when its TTL passed", got.State)
	}
	if err := r.Complete(ctx, req.ID, Outcome{Decision: Reject}); !errors.Is(err, ErrRequestCompleted) {
		t.Errorf("second Complete = %v", err)
	}
	if got, _ := r.Get(ctx, req.ID); got.Outcome.Decision != Accept {
		t.Error("the second Complete overwrote the outcome")
	}
	if err := r.Complete(ctx, randomID(), o); !errors.Is(err, ErrRequestNotFound) {
		t.Errorf("Complete of an unknown id = %v", err)
	}
}

// TestRequestAttempts: rejected answers are counted on a pending request,
// the last one kept; they survive its completion, and a completed request
// takes no more.
func TestRequestAttempts(t *testing.T) {
	ctx := t.Context()
	r, clk := newTestRequests(memkv.New())
	req, _ := r.Create(ctx, "mercy", licenseInput())
	steps := []struct {
		name    string
		attempt bool // else Complete
		o       Outcome
		err     error
		state   string
		n       int
		last    string // LastAttempt's first code
	}{
		{"first attempt", true, Outcome{Decision: Reject, Codes: []string{CodeSubjectMismatch}}, nil, RequestPending, 1, CodeSubjectMismatch},
		{"second attempt", true, Outcome{Decision: Reject, Codes: []string{CodeQueryUnsatisfied}}, nil, RequestPending, 2, CodeQueryUnsatisfied},
		{"the answer", false, Outcome{Verified: true, Decision: Accept}, nil, RequestCompleted, 2, CodeQueryUnsatisfied},
		{"an attempt after the answer", true, Outcome{Decision: Reject, Codes: []string{CodeRevoked}}, ErrRequestCompleted, RequestCompleted, 2, CodeQueryUnsatisfied},
	}
	for _, s := range steps {
		clk.Add(time.Second)
		apply := r.Complete
		if s.attempt {
			apply = r.AddAttempt
		}
		err := apply(ctx, req.ID, s.o)
		if !errors.Is(err, s.err) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.err)
		}
		got, err := r.Get(ctx, req.ID)
		if err != nil || got.State != s.state || got.Attempts != s.n || got.LastAttempt == nil || got.LastAttempt.Codes[0] != s.last {
			t.Fatalf("%s: %+v (last %+v), %v; want %s with %d attempts, the last %s", s.name, got, got.LastAttempt, err, s.state, s.n, s.last)
		}
		if s.err == nil && s.attempt && !got.LastAttempt.Completed.Equal(clk.Now()) {
			t.Errorf("%s: the attempt's time %s, want now", s.name, got.LastAttempt.Completed)
		}
	}
	if got, _ := r.Get(ctx, req.ID); got.Outcome == nil || got.Outcome.Decision != Accept {
		t.Errorf("an attempt changed the outcome: %+v", got.Outcome)
	}
	if _, _, err := r.UseChallenge(ctx, req.Challenge); err != nil {
		t.Errorf("attempts used the challenge: %v", err)
	}
	for _, id := range []string{randomID(), "nope"} {
		if err := r.AddAttempt(ctx, id, Outcome{Decision: Reject}); !errors.Is(err, ErrRequestNotFound) {
			t.Errorf("AddAttempt(%q) = %v", id, err)
		}
	}
	fresh, _ := r.Create(ctx, "mercy", licenseInput())
	if err := r.AddAttempt(ctx, fresh.ID, Outcome{Decision: Reject}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Get(ctx, fresh.ID); got.LastAttempt.Codes == nil {
		t.Error("an attempt without codes stored null codes")
	}
}

// TestAttemptsRaceCompletion races attempts and completions of one request
// over two stores sharing Redis: exactly one completion wins, every attempt
// either counts (before it) or is ErrRequestCompleted, and nothing counted
// is lost.
func TestAttemptsRaceCompletion(t *testing.T) {
	a, b := twoProcesses(t)
	for round := range 3 {
		req, err := a.Create(t.Context(), "mercy", licenseInput())
		if err != nil {
			t.Fatal(err)
		}
		var counted, late, completed atomic.Int32
		race(40, a, b, func(i int, r *Requests) {
			var err error
			if i%10 == 0 {
				if err = r.Complete(t.Context(), req.ID, Outcome{Verified: true, Decision: Accept}); err == nil {
					completed.Add(1)
				}
			} else if err = r.AddAttempt(t.Context(), req.ID, Outcome{Decision: Reject}); err == nil {
				counted.Add(1)
			}
			switch {
			case errors.Is(err, ErrRequestCompleted):
				late.Add(1)
			case err != nil:
				t.Errorf("round %d: %v", round, err)
			}
		})
		got, err := a.Get(t.Context(), req.ID)
		if err != nil || completed.Load() != 1 || got.State != RequestCompleted || got.Attempts != int(counted.Load()) ||
			counted.Load()+late.Load()+completed.Load() != 40 {
			t.Fatalf("round %d: %d completed, %d attempts counted, %d late; stored %+v, %v", round, completed.Load(), counted.Load(), late.Load(), got, err)
		}
		if (got.LastAttempt != nil) != (got.Attempts > 0) {
			t.Errorf("round %d: %d attempts, last %+v", round, got.Attempts, got.LastAttempt)
		}
	}
}

func TestChallenges(t *testing.T) {
	ctx := t.Context()
	r, clk := newTestRequests(memkv.New())
	ch, exp, err := r.NewChallenge(ctx, "mercy")
	if err != nil || !wellFormedID(ch) || !exp.Equal(clk.Now().Add(ChallengeTTL)) {
		t.Fatalf("NewChallenge = %q, %s, %v", ch, exp, err)
	}
	if _, _, err := r.NewChallenge(ctx, "Not A Tenant"); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("NewChallenge for a bad tenant id = %v", err)
	}
	v, reqID, err := r.UseChallenge(ctx, ch)
	if err != nil || v != "mercy" || reqID != "" {
		t.Errorf("UseChallenge = %q, %q, %v", v, reqID, err)
	}
	if _, _, err := r.UseChallenge(ctx, ch); !errors.Is(err, ErrReplay) {
		t.Errorf("second UseChallenge = %v, want ErrReplay", err)
	}
	for _, bad := range []string{"", randomID(), "not-a-challenge", ch + "A"} {
		if _, _, err := r.UseChallenge(ctx, bad); !errors.Is(err, ErrChallengeUnknown) {
			t.Errorf("UseChallenge(%q) = %v, want ErrChallengeUnknown", bad, err)
		}
	}
	req, _ := r.Create(ctx, "mercy", licenseInput())
	clk.Add(DefaultRequestTTL + time.Nanosecond)
	if _, _, err := r.UseChallenge(ctx, req.Challenge); !errors.Is(err, ErrChallengeExpired) {
		t.Errorf("expired UseChallenge = %v", err)
	}
	if _, err := r.Store.Get(ctx, bucketChallengesUsed, req.Challenge); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("an expired challenge was marked used: %v", err)
	}
	req, _ = r.Create(ctx, "mercy", licenseInput())
	if v, id, err := r.UseChallenge(ctx, req.Challenge); err != nil || v != "mercy" || id != req.ID {
		t.Errorf("request challenge: %q, %q, %v", v, id, err)
	}
}

// TestChallengeOfAnotherVerifier: a challenge presented by someone other
// than its verifier is refused and stays usable by its verifier.
func TestChallengeOfAnotherVerifier(t *testing.T) {
	ctx := t.Context()
	r, _ := newTestRequests(memkv.New())
	req, err := r.Create(ctx, "mercy", licenseInput())
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{"st-lukes", ""} {
		if _, err := r.UseChallengeOf(ctx, req.Challenge, other); !errors.Is(err, ErrChallengeForeign) {
			t.Errorf("UseChallengeOf(%q) = %v, want ErrChallengeForeign", other, err)
		}
	}
	if id, err := r.UseChallengeOf(ctx, req.Challenge, "mercy"); err != nil || id != req.ID {
		t.Fatalf("the owner's UseChallengeOf = %q, %v", id, err)
	}
	if _, err := r.UseChallengeOf(ctx, req.Challenge, "mercy"); !errors.Is(err, ErrReplay) {
		t.Errorf("second use = %v, want ErrReplay", err)
	}
}

func TestSweep(t *testing.T) {
	ctx := t.Context()
	r, clk := newTestRequests(memkv.New())
	old, _ := r.Create(ctx, "mercy", RequestInput{Query: dcql(dcqlLicense), TTL: time.Minute})
	if _, _, err := r.UseChallenge(ctx, old.Challenge); err != nil {
		t.Fatal(err)
	}
	live, _ := r.Create(ctx, "mercy", RequestInput{Query: dcql(dcqlLicense), TTL: time.Hour})
	clk.Add(2 * time.Minute)
	n, err := r.Sweep(ctx, clk.Now().Add(time.Hour)) // capped at now
	if err != nil || n != 3 {
		t.Fatalf("Sweep = %d, %v; want the old request, its challenge and its marker", n, err)
	}
	if _, err := r.Get(ctx, old.ID); !errors.Is(err, ErrRequestNotFound) {
		t.Errorf("swept request: %v", err)
	}
	if _, _, err := r.UseChallenge(ctx, old.Challenge); !errors.Is(err, ErrChallengeUnknown) {
		t.Errorf("swept challenge: %v", err)
	}
	if got, err := r.Get(ctx, live.ID); err != nil || got.State != RequestPending {
		t.Errorf("live request after Sweep: %v", err)
	}
}

// TestUseChallengeOnceAcrossProcesses races 50 goroutines, spread over two
// stores with their own Redis clients (two processes sharing Redis), to
// consume one challenge: exactly one wins, the others see ErrReplay.
func TestUseChallengeOnceAcrossProcesses(t *testing.T) {
	a, b := twoProcesses(t)
	for round := range 3 {
		req, err := a.Create(t.Context(), "mercy", licenseInput())
		if err != nil {
			t.Fatal(err)
		}
		var wins, replays atomic.Int32
		race(50, a, b, func(_ int, r *Requests) {
			_, id, err := r.UseChallenge(t.Context(), req.Challenge)
			switch {
			case err == nil && id == req.ID:
				wins.Add(1)
			case errors.Is(err, ErrReplay):
				replays.Add(1)
			default:
				t.Errorf("UseChallenge: %q, %v", id, err)
			}
		})
		if wins.Load() != 1 || replays.Load() != 49 {
			t.Fatalf("round %d: %d wins and %d replays, want 1 and 49", round, wins.Load(), replays.Load())
		}
	}
}

// twoProcesses is two Requests on one Redis prefix, each with its own
// client: two processes sharing Redis.
func twoProcesses(t *testing.T) (a, b *Requests) {
	prefix := testredis.Prefix(t)
	a, _ = newTestRequests(rediskv.New(testredis.Client(t), prefix))
	return a, &Requests{Store: rediskv.New(testredis.Client(t), prefix), Now: a.Now, BaseURL: a.BaseURL}
}

// race runs fn(i, r) for i in [0, n) at once, r alternating between a and b,
// and waits for all of them.
func race(n int, a, b *Requests, fn func(i int, r *Requests)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			<-start
			fn(i, r)
		})
	}
	close(start)
	wg.Wait()
}

func TestRequestsOnRedis(t *testing.T) {
	ctx := t.Context()
	r, _ := newTestRequests(rediskv.New(testredis.Client(t), testredis.Prefix(t)))
	req, err := r.Create(ctx, "mercy", licenseInput())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Complete(ctx, req.ID, Outcome{Decision: Review, Codes: []string{"LICENSE_RESTRICTED"}}); err != nil {
		t.Fatal(err)
	}
	got, err := r.Get(ctx, req.ID)
	if err != nil || got.State != RequestCompleted || got.Outcome.Codes[0] != "LICENSE_RESTRICTED" {
		t.Errorf("Get = %+v, %v", got, err)
	}
}
