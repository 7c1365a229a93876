package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(1, 3, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a", t0); !ok {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	ok, wait := l.Allow("a", t0)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("4th request = %v, wait %v; want refused for at most 1s", ok, wait)
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Fatal("another key was refused: buckets are per key")
	}
	if ok, _ := l.Allow("a", t0.Add(time.Second)); !ok {
		t.Fatal("a token did not come back after 1s")
	}
	if ok, _ := l.Allow("a", t0.Add(time.Second)); ok {
		t.Fatal("two requests allowed on one returned token")
	}
}

// TestLimiterBounded: past maxKeys, refilled buckets are dropped; while all
// are in use new keys share the overflow bucket.
func TestLimiterBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(1, 1, 2)
	l.Allow("a", t0)
	l.Allow("b", t0)
	if ok, _ := l.Allow("c", t0); !ok {
		t.Fatal("the first new key over the bound was refused: the overflow bucket should have a token")
	}
	if ok, _ := l.Allow("d", t0); ok {
		t.Fatal("a second new key over the bound got a token: they share one bucket")
	}
	if n := l.Keys(); n != 2 {
		t.Fatalf("%d keys tracked, want at most 2", n)
	}
	// A second later a and b have refilled: they make room for e.
	if ok, _ := l.Allow("e", t0.Add(time.Second)); !ok {
		t.Fatal("a new key was refused after the old buckets refilled")
	}
	if n := l.Keys(); n != 1 {
		t.Fatalf("%d keys tracked after the sweep, want 1 (e)", n)
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	if err := e.SetTrustedProxies(nil); err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(0.001, 1, 0)
	e.POST("/verify", RateLimit(l, func(c *gin.Context) bool { return c.GetHeader("Authorization") != "" }),
		func(c *gin.Context) { c.Status(http.StatusOK) })
	send := func(remote, forwarded, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/verify", nil)
		r.RemoteAddr = remote
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		return w
	}
	if w := send("192.0.2.1:1000", "", ""); w.Code != http.StatusOK {
		t.Fatalf("first request: %d", w.Code)
	}
	w := send("192.0.2.1:1001", "198.51.100.7", "") // a forged X-Forwarded-For does not change the key
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("second request: %d, want 429", w.Code)
	}
	if ra := w.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	if ct := w.Header().Get("Content-Type"); ct != MediaProblem || !strings.Contains(w.Body.String(), "rate-limited") {
		t.Errorf("answered %s %s, want a rate-limited problem", ct, w.Body)
	}
	if w := send("192.0.2.1:1002", "", "Bearer x"); w.Code != http.StatusOK {
		t.Errorf("an exempt request was limited: %d", w.Code)
	}
	if w := send("192.0.2.2:1000", "", ""); w.Code != http.StatusOK {
		t.Errorf("another address was limited: %d", w.Code)
	}
}
