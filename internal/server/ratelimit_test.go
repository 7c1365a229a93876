package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestAnonymousRateLimit: verifications without a token are limited per
// client address (429 problem with Retry-After); a verifier's token is not;
// a forged X-Forwarded-For changes nothing unless the peer is a trusted
// proxy; the wallets' answers to requests count whatever they carry.
func TestAnonymousRateLimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.AnonymousRate = 6 // 0.1 a second, bursts of 1
	_, ts := newServer(t, cfg)
	verify := func(token string, hdr ...string) (int, string, http.Header) {
		resp, body := do(t, "POST", ts.URL+"/credentials/verify", token, `{}`, hdr...)
		return resp.StatusCode, string(body), resp.Header
	}
	if code, body, _ := verify(""); code != http.StatusBadRequest {
		t.Fatalf("first anonymous request: %d %s, want 400 (the body)", code, body)
	}
	code, body, h := verify("", "X-Forwarded-For", "198.51.100.7")
	if code != http.StatusTooManyRequests || !strings.Contains(body, "rate-limited") || h.Get("Retry-After") == "" {
		t.Fatalf("second anonymous request: %d %s (Retry-After %q), want 429 rate-limited", code, body, h.Get("Retry-After"))
	}
	if code, body, _ := verify(adminToken); code != http.StatusBadRequest {
		t.Errorf("with a token: %d %s, want 400 (not limited)", code, body)
	}
	if code, _, _ := verify("not-a-token"); code != http.StatusUnauthorized {
		t.Errorf("with an invalid token: %d, want 401", code)
	}
	// The same address's bucket is empty: an answer to a presentation
	// request is limited too, a token or not.
	if resp, body := do(t, "POST", ts.URL+"/verifier/requests/nope/response", "not-a-token", `{}`); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("an answer to a request from a limited address: %d %s, want 429", resp.StatusCode, body)
	}
}

// TestTrustedProxy: behind a trusted proxy, the forwarded address is the
// client.
func TestTrustedProxy(t *testing.T) {
	cfg := testConfig(t)
	cfg.AnonymousRate = 6
	cfg.TrustedProxies = "127.0.0.1,::1"
	_, ts := newServer(t, cfg)
	status := func(client string) int {
		resp, _ := do(t, "POST", ts.URL+"/credentials/verify", "", `{}`, "X-Forwarded-For", client)
		return resp.StatusCode
	}
	if a, b := status("198.51.100.1"), status("198.51.100.2"); a != http.StatusBadRequest || b != http.StatusBadRequest {
		t.Fatalf("two clients behind the proxy: %d, %d; want 400 each", a, b)
	}
	if c := status("198.51.100.1"); c != http.StatusTooManyRequests {
		t.Errorf("the first client again: %d, want 429", c)
	}
}
