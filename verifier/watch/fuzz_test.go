package watch

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCheckWebhook: an accepted webhook URL is a printable https URL with
// a public-looking host, no user info and no fragment.
func FuzzCheckWebhook(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/credence?x=1", "http://hooks.example.com/", "https://127.0.0.1/",
		"https://[::1]:8443/x", "https://u@h/", "https://h/#f", "https://api.localhost./", "https:///x", "https:h", "//h/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkWebhook(raw, false) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || strings.Contains(raw, "#") ||
			len(raw) > MaxWebhookBytes || privateHost(u.Hostname()) {
			t.Fatalf("accepted %q (%+v, %v)", raw, u, err)
		}
		if checkWebhook(u.String(), false) != nil && u.String() == raw {
			t.Fatalf("%q is not stable", raw)
		}
	})
}

// FuzzRetryAfter: a receiver's Retry-After is bounded.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-5", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}
