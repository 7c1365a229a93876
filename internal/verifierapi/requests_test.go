package verifierapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

const (
	testBase    = "https://verify.hospital.example"
	tenantHdr   = "X-Test-Verifier"
	testLicense = `{"query": {"dcql_query": {"credentials": [{"id": "license", "format": "ldp_vc",
	  "meta": {"type_values": [["MedicalLicenseCredential"]]},
	  "claims": [{"path": ["credentialSubject", "license", "jurisdiction"], "values": ["AZ"]}]}]}},
	  "purpose": "Emergency medicine privileges", "ttl": "30m"}`
	testVP = `{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}`
	// testHolder is the clinician a front desk may expect.
	testHolder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
)

type requestsEnv struct {
	engine *gin.Engine
	store  *verifier.Requests
	now    atomic.Pointer[time.Time]
	calls  atomic.Int32 // Check calls
	// records counts Record calls; refused, Refused calls.
	records, refused atomic.Int32
	// check is what the fake Check answers.
	check func(req *verifier.Request, vp json.RawMessage) Answer
}

func newRequestsEnv(t *testing.T) *requestsEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	env := &requestsEnv{}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	env.now.Store(&start)
	env.store = &verifier.Requests{Store: memkv.New(), BaseURL: testBase + "/", Now: func() time.Time { return *env.now.Load() }}
	env.check = func(*verifier.Request, json.RawMessage) Answer {
		return Answer{Bound: true, Status: http.StatusOK, Body: gin.H{"verified": true},
			Outcome: verifier.Outcome{Verified: true, Decision: verifier.Accept}}
	}
	api := &Requests{
		Requests: env.store,
		Check: func(_ context.Context, req *verifier.Request, vp json.RawMessage) Answer {
			env.calls.Add(1)
			return env.check(req, vp)
		},
		Record: func(context.Context, Answer) error { env.records.Add(1); return nil },
		Refused: func(context.Context, *verifier.Request, json.RawMessage, string) error {
			env.refused.Add(1)
			return nil
		},
		Log: slog.New(slog.DiscardHandler),
	}
	e := gin.New()
	e.Use(httpx.RequestIDs())
	tenant := e.Group("", func(c *gin.Context) {
		if id := c.GetHeader(tenantHdr); id != "" {
			c.Set("credence.verifier", id)
		}
	})
	api.Routes(tenant, e.Group(""))
	env.engine = e
	return env
}

func (env *requestsEnv) advance(d time.Duration) {
	t := env.now.Load().Add(d)
	env.now.Store(&t)
}

func (env *requestsEnv) do(method, path, tenant, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tenant != "" {
		req.Header.Set(tenantHdr, tenant)
	}
	w := httptest.NewRecorder()
	env.engine.ServeHTTP(w, req)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d %s: %v", w.Code, w.Body, err)
	}
	return v
}

type createdView struct {
	ID, Verifier, Challenge, Domain, Purpose, Holder, State, URL, QR string
	Expires                                                          time.Time
	Query                                                            map[string]json.RawMessage
	Outcome, LastAttempt                                             *verifier.Outcome
	Attempts                                                         int
}

type problemView struct {
	Type, Title, Code, Instance string
	Status                      int
	Errors                      []httpx.FieldError
}

func (env *requestsEnv) create(t *testing.T, tenant string) createdView {
	t.Helper()
	return env.createWith(t, tenant, testLicense)
}

func (env *requestsEnv) createWith(t *testing.T, tenant, body string) createdView {
	t.Helper()
	w := env.do("POST", "/verifier/requests", tenant, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	return decode[createdView](t, w)
}

func wantProblem(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) problemView {
	t.Helper()
	if w.Code != status || w.Header().Get("Content-Type") != httpx.MediaProblem {
		t.Fatalf("got %d %s %s, want a %d problem", w.Code, w.Header().Get("Content-Type"), w.Body, status)
	}
	p := decode[problemView](t, w)
	if p.Type != httpx.ProblemBase+typ || p.Status != status {
		t.Fatalf("problem %+v, want type %s", p, typ)
	}
	return p
}

func TestCreateAndGetRequest(t *testing.T) {
	env := newRequestsEnv(t)
	w := env.do("POST", "/verifier/requests", "mercy", testLicense)
	if w.Code != http.StatusCreated {
		t.Fatalf("create = %d %s", w.Code, w.Body)
	}
	r := decode[createdView](t, w)
	object := testBase + "/verifier/requests/" + r.ID + "/object"
	if r.URL != object || r.QR != object || w.Header().Get("Location") != testBase+"/verifier/requests/"+r.ID {
		t.Errorf("url %q qr %q location %q", r.URL, r.QR, w.Header().Get("Location"))
	}
	if r.Verifier != "mercy" || r.State != "pending" || r.Domain != "verify.hospital.example" || r.Challenge == "" ||
		r.Purpose != "Emergency medicine privileges" || !r.Expires.Equal(env.now.Load().Add(30*time.Minute)) || r.Query["dcql_query"] == nil {
		t.Errorf("created %+v", r)
	}
	got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
	if got.ID != r.ID || got.State != "pending" || got.Outcome != nil {
		t.Errorf("GET = %+v", got)
	}
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID, "st-jude", ""), 404, "not-found")
	wantProblem(t, env.do("GET", "/verifier/requests/AAAAAAAAAAAAAAAAAAAAAA", "mercy", ""), 404, "not-found")
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID, "", ""), 403, "forbidden")
}

func TestCreateRequestInvalid(t *testing.T) {
	env := newRequestsEnv(t)
	for _, c := range []struct {
		name, tenant, body string
		status             int
		typ, field         string
	}{
		{"no tenant", "", testLicense, 403, "forbidden", ""},
		{"not JSON", "mercy", `{"query":`, 400, "bad-request", ""},
		{"repeated member", "mercy", `{"query": {}, "query": {}}`, 400, "bad-request", ""},
		{"unknown member", "mercy", `{"query": {}, "nonce": "x"}`, 400, "bad-request", ""},
		{"ttl in seconds", "mercy", `{"query": {}, "ttl": 600}`, 400, "bad-request", ""},
		{"no query", "mercy", `{}`, 400, "invalid-request", "query"},
		{"mdoc", "mercy", `{"query": {"dcql_query": {"credentials": [{"id": "m", "format": "mso_mdoc", "meta": {}}]}}}`,
			400, "invalid-request", "query.dcql_query.credentials[0].format"},
		{"bad JSONPath", "mercy", `{"query": {"presentation_definition": {"id": "p", "input_descriptors": [{"id": "d",
		  "constraints": {"fields": [{"path": ["$..npi"]}]}}]}}}`, 400, "invalid-request", "query.presentation_definition.input_descriptors[0].constraints.fields[0].path[0]"},
		{"ttl", "mercy", strings.Replace(testLicense, `"30m"`, `"48h"`, 1), 400, "invalid-request", "ttl"},
		{"domain", "mercy", strings.Replace(testLicense, `"ttl"`, `"domain": "https://h.example/x", "ttl"`, 1), 400, "invalid-request", "domain"},
		{"holder", "mercy", strings.Replace(testLicense, `"ttl"`, `"holder": "Dr. Ana Smith", "ttl"`, 1), 400, "invalid-request", "holder"},
		{"holder DID URL", "mercy", strings.Replace(testLicense, `"ttl"`, `"holder": "`+testHolder+`#key-1", "ttl"`, 1), 400, "invalid-request", "holder"},
		{"holder not a string", "mercy", strings.Replace(testLicense, `"ttl"`, `"holder": ["`+testHolder+`"], "ttl"`, 1), 400, "bad-request", ""},
		{"too large", "mercy", `{"purpose": "` + strings.Repeat("x", maxCreateBody) + `"}`, 413, "too-large", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := wantProblem(t, env.do("POST", "/verifier/requests", c.tenant, c.body), c.status, c.typ)
			if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
				t.Errorf("errors %+v, want field %s", p.Errors, c.field)
			}
		})
	}
}

func TestRequestObject(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	w := env.do("GET", "/verifier/requests/"+r.ID+"/object", "", "")
	if w.Code != 200 || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("object = %d %s", w.Code, w.Body)
	}
	var obj map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &obj)
	for k, want := range map[string]any{
		"id": r.ID, "verifier": "mercy", "challenge": r.Challenge, "domain": r.Domain, "purpose": r.Purpose,
		"response_uri": testBase + "/verifier/requests/" + r.ID + "/response",
	} {
		if obj[k] != want {
			t.Errorf("object %s = %v, want %v", k, obj[k], want)
		}
	}
	if _, ok := obj["query"].(map[string]any)["dcql_query"]; !ok || obj["expires"] == nil {
		t.Errorf("object lacks the query or the expiry: %v", obj)
	}
	for _, k := range []string{"outcome", "state", "holder", "attempts", "lastAttempt"} {
		if _, ok := obj[k]; ok {
			t.Errorf("object has %s", k)
		}
	}
	// Whoever scans the QR code does not learn whom the verifier expects.
	expecting := env.createWith(t, "mercy", strings.Replace(testLicense, `"ttl"`, `"holder": "`+testHolder+`", "ttl"`, 1))
	if got := decode[createdView](t, env.do("GET", "/verifier/requests/"+expecting.ID, "mercy", "")); expecting.Holder != testHolder || got.Holder != testHolder {
		t.Errorf("the tenant's views hold %q and %q, want the holder", expecting.Holder, got.Holder)
	}
	if w := env.do("GET", "/verifier/requests/"+expecting.ID+"/object", "", ""); w.Code != 200 || strings.Contains(w.Body.String(), testHolder) {
		t.Errorf("the object of a request expecting a holder: %d %s", w.Code, w.Body)
	}
	wantProblem(t, env.do("GET", "/verifier/requests/nope/object", "", ""), 404, "not-found")
	env.advance(31 * time.Minute)
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID+"/object", "", ""), 410, "request-expired")
}

// TestRespond: a bound answer that is rejected is an attempt (422; the
// request counts it and stays pending, its challenge unused); the holder's
// accepted answer then completes the request, once.
func TestRespond(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	var seen *verifier.Request
	var seenVP string
	env.check = func(req *verifier.Request, vp json.RawMessage) Answer {
		seen, seenVP = req, string(vp)
		return rejected("NO_LICENSE_IN_PRACTICE_STATE")
	}
	path := "/verifier/requests/" + r.ID + "/response"
	// Malformed responses are refused before the challenge is consumed.
	for _, body := range []string{`{"verifiablePresentation": ` + testVP, `{"verifiablePresentation": 5}`, `{"vp": {}}`,
		`{"verifiablePresentation": {}, "verifiablePresentation": {}}`, `{"verifiablePresentation": {}, "x": 1}`, `{}`} {
		wantProblem(t, env.do("POST", path, "", body), 400, "bad-request")
	}
	w := env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`)
	if w.Code != http.StatusUnprocessableEntity || strings.TrimSpace(w.Body.String()) != `{"decision":"reject","verified":false}` {
		t.Fatalf("rejected answer = %d %s", w.Code, w.Body)
	}
	if seen == nil || seen.ID != r.ID || seen.Challenge != r.Challenge || seenVP != testVP {
		t.Errorf("Respond saw %+v and %s", seen, seenVP)
	}
	got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
	if got.State != "pending" || got.Outcome != nil || got.Attempts != 1 || got.LastAttempt == nil || got.LastAttempt.Decision != verifier.Reject ||
		got.LastAttempt.Verified || !slices.Equal(got.LastAttempt.Codes, []string{"NO_LICENSE_IN_PRACTICE_STATE"}) ||
		string(got.LastAttempt.Result) != `{"verified":false}` || !got.LastAttempt.Completed.Equal(*env.now.Load()) {
		t.Errorf("after a rejected answer: %+v, last attempt %+v", got, got.LastAttempt)
	}
	if w := env.do("GET", "/verifier/requests/"+r.ID+"/object", "", ""); w.Code != http.StatusOK {
		t.Errorf("the object after a rejected answer: %d %s", w.Code, w.Body)
	}

	env.advance(time.Minute)
	env.check = func(*verifier.Request, json.RawMessage) Answer { return accepted(verifier.Accept) }
	if w := env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`); w.Code != http.StatusOK {
		t.Fatalf("the holder's answer = %d %s", w.Code, w.Body)
	}
	got = decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
	if got.State != "completed" || got.Outcome == nil || got.Outcome.Decision != verifier.Accept || !got.Outcome.Verified ||
		string(got.Outcome.Result) != `{"verified":true}` || !got.Outcome.Completed.Equal(*env.now.Load()) ||
		got.Attempts != 1 || got.LastAttempt == nil || got.LastAttempt.Decision != verifier.Reject {
		t.Errorf("after the holder's answer: %+v, outcome %+v", got, got.Outcome)
	}
	p := wantProblem(t, env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`), 409, "presentation-replayed")
	if p.Code != CodeReplayed || p.Instance != path {
		t.Errorf("replay problem %+v", p)
	}
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID+"/object", "", ""), 410, "request-completed")
	if env.calls.Load() != 2 || env.records.Load() != 2 || env.refused.Load() != 1 {
		t.Errorf("Check called %d times, Record %d, Refused %d; want 2, 2, 1", env.calls.Load(), env.records.Load(), env.refused.Load())
	}
}

// rejected is a bound answer that is rejected with codes.
func rejected(codes ...string) Answer {
	return Answer{Bound: true, Status: http.StatusUnprocessableEntity, Body: gin.H{"verified": false, "decision": verifier.Reject},
		Outcome: verifier.Outcome{Decision: verifier.Reject, Codes: codes, Result: json.RawMessage(`{"verified":false}`)}}
}

// accepted is a bound answer with decision accept or review.
func accepted(decision string) Answer {
	return Answer{Bound: true, Status: http.StatusOK, Body: gin.H{"verified": true, "decision": decision},
		Outcome: verifier.Outcome{Verified: true, Decision: decision, Result: json.RawMessage(`{"verified":true}`)}}
}

// TestRespondDecisions: of bound answers, accept and review complete the
// request and use its challenge; reject leaves both for the holder.
func TestRespondDecisions(t *testing.T) {
	for _, c := range []struct {
		ans      Answer
		status   int
		state    string
		attempts int
		used     bool // the challenge
	}{
		{accepted(verifier.Accept), http.StatusOK, "completed", 0, true},
		{accepted(verifier.Review), http.StatusOK, "completed", 0, true},
		{rejected(verifier.CodeSubjectMismatch), http.StatusUnprocessableEntity, "pending", 1, false},
	} {
		t.Run(c.ans.Outcome.Decision, func(t *testing.T) {
			env := newRequestsEnv(t)
			env.check = func(*verifier.Request, json.RawMessage) Answer { return c.ans }
			r := env.create(t, "mercy")
			if w := env.do("POST", "/verifier/requests/"+r.ID+"/response", "", `{"verifiablePresentation": `+testVP+`}`); w.Code != c.status {
				t.Fatalf("answer = %d %s, want %d", w.Code, w.Body, c.status)
			}
			got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
			if got.State != c.state || got.Attempts != c.attempts || (got.Outcome != nil) != (c.state == "completed") {
				t.Errorf("request %s with %d attempts, outcome %+v; want %s with %d", got.State, got.Attempts, got.Outcome, c.state, c.attempts)
			}
			_, _, err := env.store.UseChallenge(t.Context(), r.Challenge)
			if used := errors.Is(err, verifier.ErrReplay); used != c.used || !used && err != nil {
				t.Errorf("the challenge afterwards: %v, want used %t", err, c.used)
			}
			if env.records.Load() != 1 || env.refused.Load() != 0 {
				t.Errorf("%d recorded, %d refused; want 1, 0", env.records.Load(), env.refused.Load())
			}
		})
	}
}

func TestRespondExpiredAndUnknown(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	env.advance(31 * time.Minute)
	wantProblem(t, env.do("POST", "/verifier/requests/"+r.ID+"/response", "", `{"verifiablePresentation": "eyJ.x.y"}`), 410, "request-expired")
	wantProblem(t, env.do("POST", "/verifier/requests/AAAAAAAAAAAAAAAAAAAAAA/response", "", `{"verifiablePresentation": "eyJ.x.y"}`), 404, "not-found")
	big := `{"verifiablePresentation": "` + strings.Repeat("a", MaxResponseBytes) + `"}`
	wantProblem(t, env.do("POST", "/verifier/requests/"+r.ID+"/response", "", big), 413, "too-large")
	if env.calls.Load() != 0 {
		t.Errorf("Check called %d times", env.calls.Load())
	}
}

// TestRespondUnbound: a response whose proof does not carry the request's
// challenge and domain (malformed, unsigned, or signed for something else,
// as anyone who sees the request's URL can post) is answered and recorded
// but leaves the request pending and its challenge unused, so the holder's
// own answer still completes it.
func TestRespondUnbound(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	path := "/verifier/requests/" + r.ID + "/response"
	env.check = func(*verifier.Request, json.RawMessage) Answer {
		return Answer{Status: 400, Body: httpx.BadRequest("verifiablePresentation: not a presentation")}
	}
	wantProblem(t, env.do("POST", path, "", `{"verifiablePresentation": "x"}`), 400, "bad-request")
	env.check = func(*verifier.Request, json.RawMessage) Answer {
		return Answer{Status: http.StatusUnprocessableEntity, Body: gin.H{"verified": false, "decision": "reject"},
			Decision: &Decision{Tenant: "mercy", Request: r.ID}}
	}
	if w := env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("unbound presentation: %d %s", w.Code, w.Body)
	}
	if got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", "")); got.State != "pending" || got.Outcome != nil ||
		got.Attempts != 0 || got.LastAttempt != nil {
		t.Errorf("state after responses that do not answer the request: %s %+v, %d attempts", got.State, got.Outcome, got.Attempts)
	}
	if env.records.Load() != 2 {
		t.Errorf("%d responses recorded, want 2", env.records.Load())
	}
	env.check = func(*verifier.Request, json.RawMessage) Answer {
		return Answer{Bound: true, Status: http.StatusOK, Body: gin.H{"verified": true, "decision": "accept"},
			Outcome: verifier.Outcome{Verified: true, Decision: verifier.Accept}}
	}
	if w := env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`); w.Code != http.StatusOK {
		t.Fatalf("the holder's answer: %d %s", w.Code, w.Body)
	}
	if got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", "")); got.State != "completed" || got.Outcome.Decision != verifier.Accept {
		t.Errorf("after the holder's answer: %s %+v", got.State, got.Outcome)
	}
}

// TestRespondRecordFails: a bound answer whose decision cannot be recorded
// is answered 500. An accepted one completes the request as rejected (the
// challenge is used; the holder asks the verifier for a new request); a
// rejected one is still counted as an attempt.
func TestRespondRecordFails(t *testing.T) {
	for _, c := range []struct {
		ans      Answer
		state    string
		attempts int
	}{
		{accepted(verifier.Accept), "completed", 0},
		{rejected(verifier.CodeSubjectMismatch), "pending", 1},
	} {
		t.Run(c.ans.Outcome.Decision, func(t *testing.T) {
			env := newRequestsEnv(t)
			r := env.create(t, "mercy")
			api := &Requests{Requests: env.store, Log: slog.New(slog.DiscardHandler),
				Check:  func(context.Context, *verifier.Request, json.RawMessage) Answer { return c.ans },
				Record: func(context.Context, Answer) error { return errors.New("disk full") }}
			e := gin.New()
			e.Use(httpx.RequestIDs())
			api.Routes(e.Group(""), e.Group(""))
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest("POST", "/verifier/requests/"+r.ID+"/response", strings.NewReader(`{"verifiablePresentation": `+testVP+`}`)))
			if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "disk full") {
				t.Errorf("record failure answered %d %s", w.Code, w.Body)
			}
			got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
			if got.State != c.state || got.Attempts != c.attempts || got.Outcome != nil && got.Outcome.Decision != verifier.Reject {
				t.Errorf("after a failed record: %s %+v, %d attempts", got.State, got.Outcome, got.Attempts)
			}
		})
	}
}

// TestRespondConcurrently sends 50 responses at once: each is checked, one
// answers the request, the others are refused as replays.
func TestRespondConcurrently(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	var ok, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			w := env.do("POST", "/verifier/requests/"+r.ID+"/response", "", `{"verifiablePresentation": `+testVP+`}`)
			switch w.Code {
			case 200:
				ok.Add(1)
			case 409:
				replayed.Add(1)
			default:
				t.Errorf("response %d %s", w.Code, w.Body)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || replayed.Load() != 49 || env.records.Load() != 1 || env.refused.Load() != 49 {
		t.Errorf("%d verified, %d replayed, %d recorded, %d refused; want 1, 49, 1, 49", ok.Load(), replayed.Load(), env.records.Load(), env.refused.Load())
	}
}

// TestRespondConcurrentlyWithAttempts sends 50 bound answers at once, 5
// of them accepted and the others rejected: exactly one completes the
// request; every rejected one answered 422 is counted as an attempt, and
// every other answer is refused as a replay. The stored request agrees.
func TestRespondConcurrentlyWithAttempts(t *testing.T) {
	env := newRequestsEnv(t)
	env.check = func(_ *verifier.Request, vp json.RawMessage) Answer {
		if strings.Contains(string(vp), "accept") {
			return accepted(verifier.Accept)
		}
		return rejected(verifier.CodeSubjectMismatch)
	}
	r := env.create(t, "mercy")
	var ok, attempts, replayed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		vp := `"reject.x.y"`
		if i%10 == 0 {
			vp = `"accept.x.y"`
		}
		wg.Go(func() {
			<-start
			w := env.do("POST", "/verifier/requests/"+r.ID+"/response", "", `{"verifiablePresentation": `+vp+`}`)
			switch {
			case w.Code == 200 && vp == `"accept.x.y"`:
				ok.Add(1)
			case w.Code == 422 && vp == `"reject.x.y"`:
				attempts.Add(1)
			case w.Code == 409:
				replayed.Add(1)
			default:
				t.Errorf("%s answered %d %s", vp, w.Code, w.Body)
			}
		})
	}
	close(start)
	wg.Wait()
	got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
	if ok.Load() != 1 || ok.Load()+attempts.Load()+replayed.Load() != 50 {
		t.Errorf("%d accepted, %d attempts, %d replayed; want 1 accepted of 50", ok.Load(), attempts.Load(), replayed.Load())
	}
	if got.State != "completed" || got.Outcome == nil || got.Outcome.Decision != verifier.Accept || got.Attempts != int(attempts.Load()) ||
		(got.LastAttempt != nil) != (got.Attempts > 0) {
		t.Errorf("stored %s, outcome %+v, %d attempts (last %+v); %d answered as attempts", got.State, got.Outcome, got.Attempts, got.LastAttempt, attempts.Load())
	}
	if env.records.Load() != 1+attempts.Load() || env.refused.Load() != replayed.Load() {
		t.Errorf("%d recorded, %d refused; want %d, %d", env.records.Load(), env.refused.Load(), 1+attempts.Load(), replayed.Load())
	}
}

func TestChallengesRoute(t *testing.T) {
	env := newRequestsEnv(t)
	for _, body := range []string{"", "{}", " {} "} {
		w := env.do("POST", "/challenges", "mercy", body)
		if w.Code != http.StatusCreated {
			t.Fatalf("POST /challenges %q = %d %s", body, w.Code, w.Body)
		}
		ch := decode[map[string]string](t, w)["challenge"]
		if v, id, err := env.store.UseChallenge(t.Context(), ch); err != nil || v != "mercy" || id != "" {
			t.Errorf("UseChallenge(%q) = %q, %q, %v", ch, v, id, err)
		}
	}
	wantProblem(t, env.do("POST", "/challenges", "mercy", `{"x": 1}`), 400, "bad-request")
	wantProblem(t, env.do("POST", "/challenges", "mercy", `[]`), 400, "bad-request")
	wantProblem(t, env.do("POST", "/challenges", "", ""), 403, "forbidden")
	wantProblem(t, env.do("POST", "/challenges", "mercy", strings.Repeat(" ", 2*maxChallengeReq)), 413, "too-large")
}

// newCheckEnv serves requests of verifyEnv's Texas hospital (tenant
// hosp-tx) whose answers its real verifier checks (API.Check), with the
// audit log in env.decisions.
func newCheckEnv(t *testing.T) (*verifyEnv, *gin.Engine) {
	t.Helper()
	env := newVerifyEnv(t)
	requests := &verifier.Requests{Store: memkv.New(), BaseURL: testBase + "/", Now: func() time.Time { return verifyNow }}
	api := env.hospitalAPI(t, requests)
	e := gin.New()
	e.Use(httpx.RequestIDs())
	tenant := e.Group("", func(c *gin.Context) { c.Set(tenantKey, c.GetHeader(tenantHdr)) })
	(&Requests{Requests: requests, Check: api.Check, Record: api.RecordAnswer, Refused: api.Refused, Log: api.Log}).Routes(tenant, e.Group(""))
	return env, e
}

// licenseOf is an active TX license of p, issued by env's board.
func licenseOf(t *testing.T, env *verifyEnv, p *synth.Provider) any {
	t.Helper()
	s := p.LicenseSubject("TX")
	s["id"] = p.DID
	lic := s["license"].(map[string]any)
	lic["status"], lic["expirationDate"] = "active", "2027-12-31"
	cred := map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{vc.TypeCredential, healthcare.MedicalLicense},
		"issuer": controller(env.board), "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": s}
	out, err := env.eng.Issue(t.Context(), cred, env.board, secure.IssueOptions{Format: secure.JWT, Now: verifyNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRespondExpectedHolder: a request naming the holder it expects is
// answered only by that holder. A presentation signed by someone else, who
// holds a license of their own that the hospital would accept, is
// answered 422, recorded with PRESENTATION_HOLDER_UNEXPECTED, and is not
// an attempt: the request stays pending with its challenge unused, and
// the expected holder's answer completes it. Without a holder, the same
// presentation completes the request.
func TestRespondExpectedHolder(t *testing.T) {
	env, engine := newCheckEnv(t)
	g := synth.New(11, synth.WithNow(verifyNow), synth.WithKeys())
	g.Provider() // env.doc
	other := g.Provider()
	if other.DID == env.doc.DID {
		t.Fatal("the other provider is the clinician")
	}
	do := func(method, path, tenant, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set(tenantHdr, tenant)
		w := httptest.NewRecorder()
		engine.ServeHTTP(w, req)
		return w
	}
	ask := func(holder string) createdView {
		b, _ := json.Marshal(map[string]any{"holder": holder, "query": map[string]any{"dcql_query": map[string]any{"credentials": []any{
			map[string]any{"id": "license", "format": "jwt_vc_json", "meta": map[string]any{"type_values": []any{[]any{healthcare.MedicalLicense}}}}}}}})
		w := do("POST", "/verifier/requests", "hosp-tx", string(b))
		if w.Code != http.StatusCreated {
			t.Fatalf("create = %d %s", w.Code, w.Body)
		}
		return decode[createdView](t, w)
	}
	answer := func(r createdView, p *synth.Provider) *httptest.ResponseRecorder {
		s := vc.Signer{Key: p.Key, VerificationMethod: p.DID + "#" + strings.TrimPrefix(p.DID, "did:key:")}
		vp, err := env.eng.Present(t.Context(), p.DID, []any{licenseOf(t, env, p)}, s,
			secure.PresentOptions{Format: secure.JWT, Now: verifyNow, Challenge: r.Challenge, Domain: r.Domain})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"verifiablePresentation": vp})
		return do("POST", "/verifier/requests/"+r.ID+"/response", "", string(b))
	}
	for _, c := range []struct {
		name     string
		holder   string
		signer   *synth.Provider
		status   int
		state    string
		unexpect bool // recorded with PRESENTATION_HOLDER_UNEXPECTED
	}{
		{"any holder", "", other, http.StatusOK, "completed", false},
		{"the expected holder", env.doc.DID, env.doc, http.StatusOK, "completed", false},
		{"another holder", env.doc.DID, other, http.StatusUnprocessableEntity, "pending", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := ask(c.holder)
			before := env.recorded()
			w := answer(r, c.signer)
			if w.Code != c.status {
				t.Fatalf("answer = %d %s, want %d", w.Code, w.Body, c.status)
			}
			if c.unexpect && strings.TrimSpace(w.Body.String()) != `{"decision":"reject","verified":false}` {
				t.Errorf("answer %s", w.Body)
			}
			got := decode[createdView](t, do("GET", "/verifier/requests/"+r.ID, "hosp-tx", ""))
			if got.State != c.state || got.Attempts != 0 || got.LastAttempt != nil || got.Holder != c.holder {
				t.Errorf("request %s, %d attempts (last %+v), holder %q", got.State, got.Attempts, got.LastAttempt, got.Holder)
			}
			env.mu.Lock()
			last := env.decisions[len(env.decisions)-1]
			env.mu.Unlock()
			if env.recorded() != before+1 || last.Result.Has(verifier.CodeHolderUnexpected) != c.unexpect || last.Holder != c.signer.DID ||
				c.unexpect && (last.Result.Verified || last.Result.Decision != verifier.Reject) {
				t.Errorf("%d recorded, the last %+v (holder %s)", env.recorded()-before, last.Result, last.Holder)
			}
			if !c.unexpect {
				return
			}
			// The challenge is unused: the expected holder answers.
			if w := answer(r, env.doc); w.Code != http.StatusOK {
				t.Fatalf("the expected holder's answer = %d %s", w.Code, w.Body)
			}
			if got := decode[createdView](t, do("GET", "/verifier/requests/"+r.ID, "hosp-tx", "")); got.State != "completed" || got.Outcome.Decision != verifier.Accept {
				t.Errorf("after the expected holder's answer: %s %+v", got.State, got.Outcome)
			}
		})
	}
}
