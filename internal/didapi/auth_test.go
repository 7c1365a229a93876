package didapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credence/credence/internal/httpx"
)

func TestAdminAuth(t *testing.T) {
	env := newTestEnv(t, testHost)
	ctx := context.Background()
	issuer, _, err := env.tokens.Issue(ctx, "issuer:x", "", "issuer")
	if err != nil {
		t.Fatal(err)
	}
	const body = `{"method":"key"}`
	tests := []struct {
		name          string
		authorization string
		status        int
		problem       string // problem type name, "" for success
		challenge     string // substring of WWW-Authenticate
	}{
		{"no token", "", http.StatusUnauthorized, "unauthorized", `Bearer realm="credence"`},
		{"basic auth", "Basic YWRtaW46YWRtaW4=", http.StatusUnauthorized, "unauthorized", `Bearer realm="credence"`},
		{"empty bearer", "Bearer ", http.StatusUnauthorized, "unauthorized", `Bearer realm="credence"`},
		{"lower-case scheme", "bearer " + env.admin, http.StatusUnauthorized, "unauthorized", `Bearer realm="credence"`},
		{"wrong token", "Bearer crd_" + strings.Repeat("A", 43), http.StatusUnauthorized, "unauthorized", `error="invalid_token"`},
		{"short token", "Bearer x", http.StatusUnauthorized, "unauthorized", `error="invalid_token"`},
		{"admin token with a suffix", "Bearer " + env.admin + "x", http.StatusUnauthorized, "unauthorized", `error="invalid_token"`},
		{"token without admin scope", "Bearer " + issuer, http.StatusForbidden, "forbidden", `error="insufficient_scope"`},
		{"admin token", "Bearer " + env.admin, http.StatusCreated, "", ""},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				var headers []string
				if tt.authorization != "" {
					headers = []string{"Authorization", tt.authorization}
				}
				reqBody := ""
				if method == http.MethodPost {
					reqBody = body
					headers = append(headers, "Content-Type", "application/json")
				}
				w := serve(t, env.engine, method, "/admin/dids", reqBody, headers...)
				if tt.problem == "" {
					want := tt.status
					if method == http.MethodGet {
						want = http.StatusOK
					}
					if w.Code != want {
						t.Fatalf("status = %d, want %d; body %s", w.Code, want, w.Body)
					}
					return
				}
				p := decodeProblem(t, w, tt.status)
				if p.Type != httpx.ProblemBase+tt.problem {
					t.Errorf("type = %q, want %q", p.Type, httpx.ProblemBase+tt.problem)
				}
				if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) || !strings.HasPrefix(got, "Bearer ") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge with %q", got, tt.challenge)
				}
				if strings.Contains(w.Body.String(), env.admin) || (issuer != "" && strings.Contains(w.Body.String(), issuer)) {
					t.Error("problem body echoes a token")
				}
			})
		}
	}
	// Only the admin POST created anything.
	recs, err := env.hosted.List(ctx)
	if err != nil || len(recs) != 1 {
		t.Errorf("hosted DIDs after the auth table = %+v, %v; want only the admin's", recs, err)
	}
}

func TestPublicRoutesNeedNoToken(t *testing.T) {
	env := newTestEnv(t, testHost)
	if _, err := env.hosted.EnsureServiceDID(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/1.0/identifiers/" + keyEd25519, "/.well-known/did.json"} {
		// An invalid token on a public route is ignored, not rejected.
		w := serve(t, env.engine, http.MethodGet, target, "", "Authorization", "Bearer nope")
		if w.Code != http.StatusOK || w.Header().Get("WWW-Authenticate") != "" {
			t.Errorf("GET %s = %d (WWW-Authenticate %q), want 200 without a challenge", target, w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
}

// chunked hides a body's length so only the MaxBytesReader can stop it.
type chunked struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	env := newTestEnv(t, testHost)
	big := `{"method":"key","label":"` + strings.Repeat("x", 10<<10) + `"}`
	fits := `{"method":"key","label":"` + strings.Repeat("x", 100) + `"}`
	tests := []struct {
		name    string
		body    string
		chunked bool
		status  int
	}{
		{"10 KiB with Content-Length", big, false, http.StatusRequestEntityTooLarge},
		{"10 KiB chunked", big, true, http.StatusRequestEntityTooLarge},
		{"10 KiB of trailing space", `{"method":"key"}` + strings.Repeat(" ", 10<<10), true, http.StatusRequestEntityTooLarge},
		{"under the limit", fits, false, http.StatusCreated},
		{"under the limit, chunked", fits, true, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tt.body)
			if tt.chunked {
				r = chunked{r}
			}
			req := httptest.NewRequest(http.MethodPost, "/admin/dids", r)
			if tt.chunked {
				req.ContentLength = -1
			}
			req.Header.Set("Authorization", "Bearer "+env.admin)
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			env.engine.ServeHTTP(w, req)
			if tt.status != http.StatusRequestEntityTooLarge {
				if w.Code != tt.status {
					t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
				}
				return
			}
			if p := decodeProblem(t, w, tt.status); p.Type != httpx.ProblemBase+"too-large" {
				t.Errorf("type = %q, want too-large", p.Type)
			}
		})
	}
	recs, err := env.hosted.List(context.Background())
	if err != nil || len(recs) != 2 {
		t.Errorf("hosted DIDs = %d, %v; want the 2 that fit", len(recs), err)
	}
}
