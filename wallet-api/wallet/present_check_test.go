package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc/healthcare"
)

func TestCheckAudience(t *testing.T) {
	for _, tc := range []struct {
		domain, responseURI string
		ok                  bool
	}{
		{"verify.mercy.example", "https://verify.mercy.example/verifier/requests/r1/response", true},
		{"VERIFY.Mercy.example", "https://verify.mercy.example/r", true},
		{"verify.mercy.example", "https://Verify.Mercy.Example/r", true},
		{"verify.mercy.example:443", "https://verify.mercy.example/r", true},
		{"verify.mercy.example", "https://verify.mercy.example:443/r", true},
		{"verify.mercy.example:8443", "https://verify.mercy.example:8443/r", true},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/verifier/requests/r1/response", true},
		{"localhost:80", "http://localhost/r", true},
		{"[::1]:8443", "https://[::1]:8443/r", true},
		{"https://verify.mercy.example", "https://verify.mercy.example/r", true},
		{"https://verify.mercy.example/", "https://verify.mercy.example/r", true},
		{"HTTPS://verify.mercy.example:443", "https://verify.mercy.example/r", true},
		{"http://verify.mercy.example", "http://verify.mercy.example:80/r", true},
		{"redirect_uri:https://verify.mercy.example/cb", "https://verify.mercy.example/cb", true},

		{"verify.mercy.example", "https://attacker.example/r", false},
		{"verify.mercy.example", "https://verify.mercy.example.attacker.example/r", false},
		{"verify.mercy.example", "https://evil.verify.mercy.example/r", false},
		{"mercy.example", "https://verify.mercy.example/r", false},
		{"verify.mercy.example", "https://verify.mercy.example:8443/r", false},
		{"verify.mercy.example:8443", "https://verify.mercy.example/r", false},
		{"verify.mercy.example:80", "https://verify.mercy.example/r", false},
		{"https://verify.mercy.example", "http://verify.mercy.example/r", false},
		{"http://verify.mercy.example", "https://verify.mercy.example/r", false},
		{"https://verify.mercy.example:8443", "https://verify.mercy.example/r", false},
		{"https://verify.mercy.example/verifier", "https://verify.mercy.example/verifier/r", false},
		{"verify.mercy.example/verifier", "https://verify.mercy.example/verifier/r", false},
		{"verify.mercy.example@attacker.example", "https://attacker.example/r", false},
		{"https://verify.mercy.example@attacker.example", "https://attacker.example/r", false},
		{"verify.mercy.example?x", "https://verify.mercy.example/r", false},
		{"x509_san_dns:verify.mercy.example", "https://verify.mercy.example/r", false},
		{"did:web:verify.mercy.example", "https://verify.mercy.example/r", false},
		{"ftp://verify.mercy.example", "https://verify.mercy.example/r", false},
		{"redirect_uri:https://verify.mercy.example/cb", "https://verify.mercy.example/other", false},
		{"redirect_uri:https://verify.mercy.example", "https://attacker.example/r", false},
	} {
		t.Run(tc.domain+" "+tc.responseURI, func(t *testing.T) {
			u, err := url.Parse(tc.responseURI)
			if err != nil {
				t.Fatal(err)
			}
			err = checkAudience(tc.domain, tc.responseURI, u)
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrRequest) {
				t.Errorf("checkAudience(%q, %q) = %v, want ok %v", tc.domain, tc.responseURI, err, tc.ok)
			}
		})
	}
}

// TestPresentRelay: a request that reuses a real verifier's challenge and
// domain but names another response_uri (and any verifier name it likes)
// is refused: nothing is signed for it, sent or logged.
func TestPresentRelay(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	e.p.AllowHTTP = true // the attacker's server is on http
	doc := e.clinician(t, MethodKey)
	var received atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	defer attacker.Close()
	hospital := inlineRequest("relay", dcql(t, w3cItem("lic", "ldp_vc", healthcare.MedicalLicense)))
	for _, domain := range []string{hospital.Domain, "https://" + hospital.Domain} {
		relay := *hospital
		relay.Domain, relay.Verifier, relay.ResponseURI = domain, "Mercy Front Desk", attacker.URL+"/collect"
		for _, send := range []bool{true, false} {
			out, err := e.p.Present(t.Context(), doc.h.ID, &relay, PresentOptions{Send: send})
			if !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "response_uri") || out != nil {
				t.Errorf("domain %s, send %v: Present = %+v, %v; want ErrRequest naming the response_uri", domain, send, out, err)
			}
		}
	}
	if n := received.Load(); n != 0 {
		t.Errorf("the attacker received %d presentations", n)
	}
	if log, err := e.s.Disclosures(t.Context(), doc.h.ID); err != nil || len(log) != 0 {
		t.Errorf("disclosure log %+v (%v), want empty", log, err)
	}
}

// TestPresentPlainHTTP: without AllowHTTP the presenter neither fetches a
// request nor sends a presentation over http (a presentation that is only
// returned may name an http response_uri); with it, it does both.
func TestPresentPlainHTTP(t *testing.T) {
	e := newPresentEnv(t, backends[0].open(t))
	doc := e.clinician(t, MethodKey)
	v := newFakeVerifier(t)
	host := strings.TrimPrefix(v.URL, "http://")
	v.requests["/object"] = `{"query":{"dcql_query":{"credentials":[{"id":"lic","format":"ldp_vc","meta":{"type_values":[["MedicalLicenseCredential"]]}}]}},` +
		`"challenge":"c","domain":"` + host + `","response_uri":"` + v.URL + `/response"}`
	v.answers["/response"] = verifierAnswer{200, "application/json", `{"verified":true}`}
	req := parseRequest(t, v.requests["/object"])
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, v.URL+"/object", http.StatusFound) // https to http
	}))
	defer tls.Close()

	ctx := t.Context()
	e.p.AllowHTTP = false
	if r, err := e.p.FetchRequest(ctx, v.URL+"/object"); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "https") {
		t.Errorf("fetching over http: %+v, %v; want ErrRequest asking for https", r, err)
	}
	tp := *e.p
	tp.HTTP = tls.Client()
	if r, err := tp.FetchRequest(ctx, tls.URL+"/object"); !errors.Is(err, ErrDelivery) || !strings.Contains(err.Error(), "not https") {
		t.Errorf("a redirect from https to http: %+v, %v; want ErrDelivery", r, err)
	}
	if out, err := e.p.Present(ctx, doc.h.ID, req, PresentOptions{Send: true}); !errors.Is(err, ErrRequest) || !strings.Contains(err.Error(), "https") || out != nil {
		t.Errorf("sending over http: %+v, %v; want ErrRequest asking for https", out, err)
	}
	v.mu.Lock()
	n := len(v.received)
	v.mu.Unlock()
	if n != 0 {
		t.Fatalf("the verifier received %d presentations over http", n)
	}
	if _, err := e.p.Present(ctx, doc.h.ID, req, PresentOptions{}); err != nil {
		t.Errorf("a presentation returned, not sent: %v", err)
	}

	e.p.AllowHTTP = true
	if _, err := e.p.FetchRequest(ctx, v.URL+"/object"); err != nil {
		t.Errorf("fetching over http with AllowHTTP: %v", err)
	}
	if out, err := e.p.Present(ctx, doc.h.ID, req, PresentOptions{Send: true}); err != nil || !out.Disclosure.Delivered {
		t.Errorf("sending over http with AllowHTTP: %+v, %v", out, err)
	}
}

// countingStore counts the reads of credential records.
type countingStore struct {
	kv.Store
	gets atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, bucket, key string) ([]byte, error) {
	if strings.HasPrefix(bucket, bucketCredentials) {
		s.gets.Add(1)
	}
	return s.Store.Get(ctx, bucket, key)
}

// TestPresentChosenIDs: the ids a holder chooses are read once each, and
// more than MaxChosenCredentials distinct ids are refused before any is.
func TestPresentChosenIDs(t *testing.T) {
	store := &countingStore{Store: backends[0].open(t)}
	e := newPresentEnv(t, store)
	doc := e.clinician(t, MethodKey)
	req := inlineRequest("chosen", dcql(t, w3cItem("lic", "ldp_vc", healthcare.MedicalLicense)))
	many := func(n int, id func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	unknown := many(MaxChosenCredentials, func(int) string { return newID('c') })
	for _, tc := range []struct {
		name  string
		ids   []string
		reads int64
		want  error
		msg   string
	}{
		{"one id 5000 times", many(5000, func(int) string { return doc.license.ID }), 1, nil, ""},
		{"two ids repeated", many(1000, func(i int) string { return []string{doc.dea.ID, doc.license.ID}[i%2] }), 2, nil, ""},
		{"the most ids are read", append([]string{doc.license.ID}, unknown[1:]...), 2, ErrCredentialNotFound, ""},
		{"one id too many", append([]string{doc.license.ID}, unknown...), 0, ErrRequest, fmt.Sprintf("at most %d credentials", MaxChosenCredentials)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := store.gets.Load()
			out, err := e.p.Present(t.Context(), doc.h.ID, req, PresentOptions{Credentials: tc.ids})
			if reads := store.gets.Load() - before; reads != tc.reads {
				t.Errorf("%d credential reads, want %d", reads, tc.reads)
			}
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) || out != nil {
					t.Errorf("Present = %+v, %v; want %v mentioning %q", out, err, tc.want, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Disclosure.Credentials; len(got) != 1 || got[0].ID != doc.license.ID {
				t.Errorf("presented %+v, want the license once", got)
			}
		})
	}
}
