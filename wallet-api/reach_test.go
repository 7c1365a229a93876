package walletapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/gin-gonic/gin"
)

// failures are real errors of reaching a server, by category.
func failures(t *testing.T) map[string]error {
	t.Helper()
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(500 * time.Millisecond)
		}
		http.Redirect(w, r, "http://elsewhere.example/x", http.StatusFound)
	}))
	t.Cleanup(live.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake the client refuses
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := func(timeout time.Duration) *http.Client { // no proxy
		return &http.Client{Transport: &http.Transport{}, Timeout: timeout}
	}
	get := func(c *http.Client, url string) error {
		res, err := c.Get(url)
		if err == nil {
			res.Body.Close()
			t.Fatalf("GET %s answered %d", url, res.StatusCode)
		}
		return err
	}
	return map[string]error{
		did.FailNonPublic: get(did.PublicHTTPClient(time.Second, false), live.URL),
		did.FailRefused:   get(plain(5*time.Second), closed.URL),
		did.FailDNS:       get(plain(5*time.Second), "http://no-such-host.invalid/"),
		did.FailTimeout:   get(plain(100*time.Millisecond), live.URL+"/slow"),
		did.FailTLS:       get(plain(5*time.Second), tlsSrv.URL),
		reachRedirect:     get(did.PublicHTTPClient(time.Second, true), live.URL),
		"HTTP status 404": &wallet.StatusError{Status: http.StatusNotFound},
	}
}

func TestReachCategory(t *testing.T) {
	for want, cause := range failures(t) {
		t.Run(want, func(t *testing.T) {
			for _, err := range []error{
				fmt.Errorf("%w: sending the presentation: %w", wallet.ErrDelivery, cause),
				fmt.Errorf("%w: cannot reach the issuer's token endpoint: %w", wallet.ErrIssuer, cause),
			} {
				if got, ok := reachCategory(err); !ok || got != want {
					t.Errorf("reachCategory(%v) = %q, %v; want %q", err, got, ok, want)
				}
			}
		})
	}
	for _, err := range []error{
		fmt.Errorf("%w: the issuer's token answer is larger than 65536 bytes", wallet.ErrIssuer),
		&wallet.IssuerError{Endpoint: "token", Status: 400, Code: "invalid_grant"},
		errors.New("something else"),
	} {
		if got, ok := reachCategory(err); ok {
			t.Errorf("reachCategory(%v) = %q, want none", err, got)
		}
	}
}

// TestReachProblem: a holder is told why the wallet could not reach a
// verifier or an issuer by a category, never by the dial error and its
// addresses; the detail is logged at Warn.
func TestReachProblem(t *testing.T) {
	gin.SetMode(gin.TestMode)
	nonPublic := failures(t)[did.FailNonPublic]
	for _, tc := range []struct {
		name         string
		err          error
		typ, detail  string
		logged, leak string // in the log, not in the answer; "" nothing logged
	}{
		{"verifier on a private address", fmt.Errorf("%w: sending the presentation: %w", wallet.ErrDelivery, nonPublic),
			"verifier-unreachable", "cannot reach the verifier: non-public address", "non-public address 127.0.0.1", "127.0.0.1"},
		{"request fetched with an error status", fmt.Errorf("%w: fetching the request: %w", wallet.ErrDelivery, &wallet.StatusError{Status: 500}),
			"verifier-unreachable", "cannot reach the verifier: HTTP status 500", "HTTP status 500", ""},
		{"verifier answer cut short", fmt.Errorf("%w: reading the verifier's answer: unexpected EOF", wallet.ErrDelivery),
			"verifier-unreachable", "cannot reach the verifier: connection error", "connection error", ""},
		{"issuer on a private address", fmt.Errorf("%w: cannot reach the issuer's token endpoint: %w", wallet.ErrIssuer, nonPublic),
			"issuer-failed", "cannot reach the credential issuer: non-public address", "non-public address 127.0.0.1", "127.0.0.1"},
		{"issuer refuses", &wallet.IssuerError{Endpoint: "token", Status: 400, Code: "invalid_grant"},
			"issuer-failed", "the issuer's token endpoint answered HTTP 400: invalid_grant", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			a := &API{Log: slog.New(slog.NewJSONHandler(&logged, nil))}
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/wallet/holders/h/presentations", nil)
			a.fail(c, tc.err)
			var p struct{ Type, Detail string }
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusBadGateway {
				t.Fatalf("%d %s (%v)", w.Code, w.Body, err)
			}
			if p.Type != "urn:credence:problem:"+tc.typ || p.Detail != tc.detail {
				t.Errorf("problem %s %q, want %s %q", p.Type, p.Detail, tc.typ, tc.detail)
			}
			if tc.leak != "" && strings.Contains(w.Body.String(), tc.leak) {
				t.Errorf("the answer names %q: %s", tc.leak, w.Body)
			}
			if tc.logged == "" {
				if logged.Len() != 0 {
					t.Errorf("logged %s", logged.String())
				}
				return
			}
			if !strings.Contains(logged.String(), `"level":"WARN"`) || !strings.Contains(logged.String(), tc.logged) {
				t.Errorf("logged %s, want a warning with %q", logged.String(), tc.logged)
			}
		})
	}
}
