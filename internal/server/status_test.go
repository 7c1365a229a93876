package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare/synth"
)

// startServer starts a server the test stops itself (to restart it).
func startServer(t *testing.T, cfg config.Config) (stop func(), base string) {
	t.Helper()
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			ts.Close()
			s.Close()
		}
	}
	t.Cleanup(stop)
	return stop, ts.URL
}

type verifyOut struct {
	Verified bool   `json:"verified"`
	Decision string `json:"decision"`
	Errors   []struct {
		Code, Check, Message string
	} `json:"errors"`
}

func verifyOverHTTP(t *testing.T, base string, vcJSON json.RawMessage) (int, verifyOut) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"verifiableCredential": vcJSON})
	resp, b := do(t, "POST", base+"/credentials/verify", "", string(body))
	var out verifyOut
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("verify answered %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func (v verifyOut) has(code string) bool {
	for _, e := range v.Errors {
		if e.Code == code {
			return true
		}
	}
	return false
}

func issueLicense(t *testing.T, base string, tn tenantOut, g *synth.Generator, format string) json.RawMessage {
	t.Helper()
	resp, b := do(t, "POST", base+"/issuers/"+tn.Issuer.ID+"/credentials/issue", tn.Token, licenseBody(t, activeLicense(g), format))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue %s: %d %s", format, resp.StatusCode, b)
	}
	var out struct {
		VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	}
	_ = json.Unmarshal(b, &out)
	return out.VerifiableCredential
}

func credentialID(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if id, ok := m["id"].(string); ok && !strings.HasPrefix(id, "data:") {
		return id
	}
	t.Fatalf("credential has no id: %s", raw)
	return ""
}

func changeStatus(t *testing.T, base string, tn tenantOut, body string) (int, []byte) {
	t.Helper()
	resp, b := do(t, "POST", base+"/issuers/"+tn.Issuer.ID+"/credentials/status", tn.Token, body)
	return resp.StatusCode, b
}

// TestStatusListsAcrossRestart is the life of two licenses: issued and valid,
// one revoked (CREDENTIAL_REVOKED), the other suspended
// (CREDENTIAL_SUSPENDED), the server restarted, both still rejected, the
// suspension lifted (valid again), in the embedded and the Redis mode.
func TestStatusListsAcrossRestart(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
				master := make([]byte, 32)
				_, _ = rand.Read(master)
				cfg.MasterKey = base64.StdEncoding.EncodeToString(master)
			}
			stop, base := startServer(t, cfg)
			tx := createTenant(t, base, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
			ca := createTenant(t, base, `{"name":"Medical Board of California","jurisdictions":["CA"],"types":["MedicalLicenseCredential"]}`)
			g := synth.New(7, synth.WithKeys())
			a := issueLicense(t, base, tx, g, "di")
			b := issueLicense(t, base, tx, g, "di")
			idA, idB := credentialID(t, a), credentialID(t, b)
			for _, c := range []json.RawMessage{a, b} {
				var m map[string]any
				_ = json.Unmarshal(c, &m)
				entries, _ := m["credentialStatus"].([]any)
				if len(entries) != 2 {
					t.Fatalf("a license gets a revocation and a suspension entry by default: %v", m["credentialStatus"])
				}
			}

			for _, c := range []json.RawMessage{a, b} {
				if code, out := verifyOverHTTP(t, base, c); code != 200 || !out.Verified || out.Decision != "accept" {
					t.Fatalf("fresh license: %d %+v", code, out)
				}
			}

			// Another issuer cannot touch TX's credentials, through its own
			// route or TX's.
			if code, body := changeStatus(t, base, ca, `{"credentialId":"`+idA+`","action":"revoke"}`); code != http.StatusUnprocessableEntity {
				t.Errorf("CA revoking a TX credential on its own route: %d %s", code, body)
			}
			if resp, body := do(t, "POST", base+"/issuers/"+tx.Issuer.ID+"/credentials/status", ca.Token, `{"credentialId":"`+idA+`","action":"revoke"}`); resp.StatusCode != http.StatusForbidden {
				t.Errorf("CA token on TX's route: %d %s", resp.StatusCode, body)
			}
			if code, _ := verifyOverHTTP(t, base, a); code != 200 {
				t.Fatalf("a failed attack changed the status")
			}

			if code, body := changeStatus(t, base, tx, `{"credentialId":"`+idA+`","action":"revoke","reason":"board order 2026-114"}`); code != 200 {
				t.Fatalf("revoke: %d %s", code, body)
			}
			if code, out := verifyOverHTTP(t, base, a); code != http.StatusUnprocessableEntity || out.Verified || !out.has("CREDENTIAL_REVOKED") || out.Decision != "reject" {
				t.Fatalf("revoked license: %d %+v", code, out)
			}
			if code, body := changeStatus(t, base, tx, `{"credentialId":"`+idB+`","credentialStatus":[{"type":"BitstringStatusListCredential","status":"suspended"}],"reason":"pending review"}`); code != 200 {
				t.Fatalf("suspend (VC-API form): %d %s", code, body)
			}
			if code, out := verifyOverHTTP(t, base, b); code != http.StatusUnprocessableEntity || !out.has("CREDENTIAL_SUSPENDED") {
				t.Fatalf("suspended license: %d %+v", code, out)
			}

			stop()
			_, base = startServer(t, cfg)

			if code, out := verifyOverHTTP(t, base, a); code != http.StatusUnprocessableEntity || !out.has("CREDENTIAL_REVOKED") {
				t.Fatalf("revoked license after restart: %d %+v", code, out)
			}
			if code, out := verifyOverHTTP(t, base, b); code != http.StatusUnprocessableEntity || !out.has("CREDENTIAL_SUSPENDED") {
				t.Fatalf("suspended license after restart: %d %+v", code, out)
			}
			if code, body := changeStatus(t, base, tx, `{"credentialId":"`+idB+`","action":"reinstate","reason":"review closed"}`); code != 200 {
				t.Fatalf("reinstate: %d %s", code, body)
			}
			if code, out := verifyOverHTTP(t, base, b); code != 200 || !out.Verified {
				t.Fatalf("reinstated license: %d %+v", code, out)
			}
			if code, out := verifyOverHTTP(t, base, a); code != http.StatusUnprocessableEntity || !out.has("CREDENTIAL_REVOKED") {
				t.Fatalf("reinstating B touched A: %d %+v", code, out)
			}

			// The inventory shows the bits and the events with their reasons.
			resp, body := do(t, "GET", base+"/issuers/"+tx.Issuer.ID+"/credentials/"+idA, tx.Token, "")
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"set":true`) || !strings.Contains(string(body), "board order 2026-114") {
				t.Errorf("inventory record of the revoked credential: %d %s", resp.StatusCode, body)
			}

			// The list is public, cacheable, and has a ledger proof.
			var cred map[string]any
			_ = json.Unmarshal(a, &cred)
			entries := cred["credentialStatus"].([]any)
			listURL := entries[0].(map[string]any)["statusListCredential"].(string)
			path := listURL[strings.Index(listURL, "/status/"):]
			resp, body = do(t, "GET", base+path, "", "")
			if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") ||
				resp.Header.Get("Content-Type") != "application/vc" || !strings.Contains(string(body), "BitstringStatusListCredential") {
				t.Fatalf("GET %s: %d %v %s", path, resp.StatusCode, resp.Header, body)
			}
			// A client that accepts only the less specific JSON types (the W3C Bitstring
			// Status List suite's document loader) gets the same bytes as one of those.
			if resp2, body2 := do(t, "GET", base+path, "", "", "Accept", "application/ld+json, application/json"); resp2.StatusCode != 200 ||
				resp2.Header.Get("Content-Type") != "application/ld+json" || resp2.Header.Get("Vary") != "Accept" || string(body2) != string(body) {
				t.Errorf("GET %s as application/ld+json: %d %v", path, resp2.StatusCode, resp2.Header)
			}
			for _, inm := range []string{resp.Header.Get("ETag"), `"other", W/` + resp.Header.Get("ETag")} {
				if resp2, _ := do(t, "GET", base+path, "", "", "If-None-Match", inm); resp2.StatusCode != http.StatusNotModified {
					t.Errorf("If-None-Match %s: %d", inm, resp2.StatusCode)
				}
			}
			if resp2, _ := do(t, "GET", base+path, "", "", "If-None-Match", `"1-x"`); resp2.StatusCode != 200 {
				t.Errorf("stale If-None-Match: %d", resp2.StatusCode)
			}
			resp, body = do(t, "GET", base+path+"/proof", "", "")
			if resp.StatusCode != 200 || !strings.Contains(string(body), "checkpoint") {
				t.Errorf("proof: %d %s", resp.StatusCode, body)
			}
			if resp, _ := do(t, "GET", base+"/status/"+tx.Issuer.ID+"/nope-1", "", ""); resp.StatusCode != 404 {
				t.Errorf("unknown list: %d", resp.StatusCode)
			}

			// Bad requests lose nothing and name the problem.
			for _, bad := range []struct {
				body string
				code int
			}{
				{`{"credentialId":"` + idB + `","action":"explode"}`, 400},
				{`{"action":"revoke"}`, 400},
				{`{"credentialId":"urn:uuid:00000000-0000-4000-8000-000000000000","action":"revoke"}`, 422},
				{`{"credentialIds":["` + idB + `","urn:uuid:00000000-0000-4000-8000-000000000000"],"action":"revoke"}`, 422},
			} {
				if code, body := changeStatus(t, base, tx, bad.body); code != bad.code {
					t.Errorf("%s: %d %s", bad.body, code, body)
				}
			}
			if code, out := verifyOverHTTP(t, base, b); code != 200 || !out.Verified {
				t.Errorf("a rejected bulk call changed B: %d %+v", code, out)
			}
		})
	}
}
