package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/verifier/watch"
)

// demoWebhook is the hospital's webhook receiver in the demo: it accepts
// Standard Webhooks deliveries whose signature verifies with the watch's
// secret and hands their events to wait.
type demoWebhook struct {
	url    string
	srv    *http.Server
	mu     sync.Mutex
	secret []byte
	events chan demoEvent
	// refused counts deliveries whose signature did not verify.
	refused int
}

// demoEvent is a delivered event, with its webhook-id and arrival time.
type demoEvent struct {
	watch.Event
	ID string
	At time.Time
}

// listenWebhook starts the receiver on addr; url (default: http:// and the
// address it listens on) is what the server is told to post to.
func listenWebhook(addr, url string) (*demoWebhook, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: %w", err)
	}
	h := &demoWebhook{url: url, events: make(chan demoEvent, 16)}
	if h.url == "" {
		h.url = "http://" + ln.Addr().String() + "/credence/webhook"
	}
	h.srv = &http.Server{Handler: http.HandlerFunc(h.receive), ReadHeaderTimeout: 5 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

func (h *demoWebhook) close() { h.srv.Close() }

// setSecret sets the watch's signing secret ("whsec_" and base64).
func (h *demoWebhook) setSecret(s string) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if err != nil || !strings.HasPrefix(s, "whsec_") {
		return errors.New("the watch's webhook secret is not a Standard Webhooks secret (whsec_...)")
	}
	h.mu.Lock()
	h.secret = key
	h.mu.Unlock()
	return nil
}

func (h *demoWebhook) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	at := time.Now()
	var ev demoEvent
	if err != nil || r.Method != http.MethodPost || !h.verify(r.Header, body, at) || json.Unmarshal(body, &ev.Event) != nil {
		h.mu.Lock()
		h.refused++
		h.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	ev.ID, ev.At = r.Header.Get("webhook-id"), at
	select {
	case h.events <- ev:
	default: // more than the demo waits for
	}
	w.WriteHeader(http.StatusNoContent)
}

// verify checks the Standard Webhooks v1 signature (HMAC-SHA256 of
// "id.timestamp.body") and that the timestamp is within five minutes.
func (h *demoWebhook) verify(hdr http.Header, body []byte, now time.Time) bool {
	h.mu.Lock()
	key := h.secret
	h.mu.Unlock()
	ts, err := strconv.ParseInt(hdr.Get("webhook-timestamp"), 10, 64)
	if key == nil || err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(hdr.Get("webhook-id") + "." + hdr.Get("webhook-timestamp") + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Fields(hdr.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// wait returns the first event of type typ about credential id; other
// events are skipped.
func (h *demoWebhook) wait(ctx context.Context, typ, id string, d time.Duration) (demoEvent, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-h.events:
			if ev.Type == typ && ev.Data.CredentialID == id {
				return ev, nil
			}
		case <-timer.C:
			h.mu.Lock()
			refused := h.refused
			h.mu.Unlock()
			return demoEvent{}, fmt.Errorf("no %s webhook for %s within %s (%d deliveries refused for a bad signature)", typ, id, d, refused)
		case <-ctx.Done():
			return demoEvent{}, ctx.Err()
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
