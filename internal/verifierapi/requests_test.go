package verifierapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
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
	ID, Verifier, Challenge, Domain, Purpose, State, URL, QR string
	Expires                                                  time.Time
	Query                                                    map[string]json.RawMessage
	Outcome                                                  *verifier.Outcome
}

type problemView struct {
	Type, Title, Code, Instance string
	Status                      int
	Errors                      []httpx.FieldError
}

func (env *requestsEnv) create(t *testing.T, tenant string) createdView {
	t.Helper()
	w := env.do("POST", "/verifier/requests", tenant, testLicense)
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
	for _, k := range []string{"outcome", "state"} {
		if _, ok := obj[k]; ok {
			t.Errorf("object has %s", k)
		}
	}
	wantProblem(t, env.do("GET", "/verifier/requests/nope/object", "", ""), 404, "not-found")
	env.advance(31 * time.Minute)
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID+"/object", "", ""), 410, "request-expired")
}

func TestRespond(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	var seen *verifier.Request
	var seenVP string
	env.check = func(req *verifier.Request, vp json.RawMessage) Answer {
		seen, seenVP = req, string(vp)
		return Answer{Bound: true, Status: http.StatusUnprocessableEntity, Body: gin.H{"verified": false, "decision": "reject"},
			Outcome: verifier.Outcome{Decision: verifier.Reject, Codes: []string{"NO_LICENSE_IN_PRACTICE_STATE"}, Result: json.RawMessage(`{"verified":false}`)}}
	}
	path := "/verifier/requests/" + r.ID + "/response"
	// Malformed responses are refused before the challenge is consumed.
	for _, body := range []string{`{"verifiablePresentation": ` + testVP, `{"verifiablePresentation": 5}`, `{"vp": {}}`,
		`{"verifiablePresentation": {}, "verifiablePresentation": {}}`, `{"verifiablePresentation": {}, "x": 1}`, `{}`} {
		wantProblem(t, env.do("POST", path, "", body), 400, "bad-request")
	}
	w := env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"decision":"reject"`) {
		t.Fatalf("response = %d %s", w.Code, w.Body)
	}
	if seen == nil || seen.ID != r.ID || seen.Challenge != r.Challenge || seenVP != testVP {
		t.Errorf("Respond saw %+v and %s", seen, seenVP)
	}
	got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", ""))
	if got.State != "completed" || got.Outcome == nil || got.Outcome.Decision != verifier.Reject ||
		got.Outcome.Codes[0] != "NO_LICENSE_IN_PRACTICE_STATE" || string(got.Outcome.Result) != `{"verified":false}` ||
		!got.Outcome.Completed.Equal(*env.now.Load()) {
		t.Errorf("after the response: %+v %+v", got, got.Outcome)
	}
	p := wantProblem(t, env.do("POST", path, "", `{"verifiablePresentation": `+testVP+`}`), 409, "presentation-replayed")
	if p.Code != CodeReplayed || p.Instance != path {
		t.Errorf("replay problem %+v", p)
	}
	wantProblem(t, env.do("GET", "/verifier/requests/"+r.ID+"/object", "", ""), 410, "request-completed")
	if env.calls.Load() != 1 || env.records.Load() != 1 || env.refused.Load() != 1 {
		t.Errorf("Check called %d times, Record %d, Refused %d; want 1, 1, 1", env.calls.Load(), env.records.Load(), env.refused.Load())
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
	if got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", "")); got.State != "pending" || got.Outcome != nil {
		t.Errorf("state after responses that do not answer the request: %s %+v", got.State, got.Outcome)
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
// is answered 500 and completes the request as rejected (the challenge is
// used; the holder asks the verifier for a new request).
func TestRespondRecordFails(t *testing.T) {
	env := newRequestsEnv(t)
	r := env.create(t, "mercy")
	api := &Requests{Requests: env.store, Log: slog.New(slog.DiscardHandler),
		Check:  func(context.Context, *verifier.Request, json.RawMessage) Answer { return env.check(nil, nil) },
		Record: func(context.Context, Answer) error { return errors.New("disk full") }}
	e := gin.New()
	e.Use(httpx.RequestIDs())
	api.Routes(e.Group(""), e.Group(""))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest("POST", "/verifier/requests/"+r.ID+"/response", strings.NewReader(`{"verifiablePresentation": `+testVP+`}`)))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "disk full") {
		t.Errorf("record failure answered %d %s", w.Code, w.Body)
	}
	if got := decode[createdView](t, env.do("GET", "/verifier/requests/"+r.ID, "mercy", "")); got.State != "completed" || got.Outcome.Decision != verifier.Reject {
		t.Errorf("after a failed record: %s %+v", got.State, got.Outcome)
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
