package watch

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv/memkv"
)

func TestFailureCategories(t *testing.T) {
	refusedByDialer := func() error {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, err := did.PublicHTTPClient(time.Second, false).Get(srv.URL)
		return err
	}()
	dial := func(err error) error { return &net.OpError{Op: "dial", Net: "tcp", Err: err} }
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"dns", dial(&net.DNSError{Err: "no such host", Name: "hooks.example", IsNotFound: true}), FailDNS},
		{"non-public address, at dial", refusedByDialer, FailNonPublic},
		{"non-public address, in the URL", fmt.Errorf("%w: must not point to a private or loopback address", ErrInvalidWebhook), FailNonPublic},
		{"deadline", fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded), FailTimeout},
		{"i/o timeout", dial(os.ErrDeadlineExceeded), FailTimeout},
		{"tls", &tls509{x509.UnknownAuthorityError{}}, FailTLS},
		{"tls alert", errors.New("remote error: tls: handshake failure"), FailTLS},
		{"refused", dial(os.NewSyscallError("connect", syscall.ECONNREFUSED)), FailRefused},
		{"reset", dial(os.NewSyscallError("read", syscall.ECONNRESET)), FailConnection},
		{"eof", io.ErrUnexpectedEOF, FailConnection},
		{"invalid URL", fmt.Errorf("%w: must be an https URL", ErrInvalidWebhook), FailInvalidWebhook},
		{"signing", errSigning, FailSigning},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := failure(c.err); got != c.want {
				t.Fatalf("failure(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
}

// tls509 wraps an x509 error as the TLS handshake does.
type tls509 struct{ err error }

func (e *tls509) Error() string { return "handshake: " + e.err.Error() }
func (e *tls509) Unwrap() error { return e.err }

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A failed attempt shows the tenant its category, never the address dialed;
// the details are logged at Warn.
func TestDeliveryErrorsHideAddresses(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	untrusted := httptest.NewUnstartedServer(http.NotFoundHandler())
	untrusted.Config.ErrorLog = stdlog.New(io.Discard, "", 0) // the handshakes it refuses
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(failing.Close)
	stalled := newReceiver(t, http.StatusNoContent)
	stalled.hold = make(chan struct{})
	t.Cleanup(func() { close(stalled.hold) })
	for _, c := range []struct {
		name, webhook, want string
		timeout             time.Duration
	}{
		{"connection refused", closed.URL + "/hook", FailRefused, 5 * time.Second},
		{"untrusted certificate", untrusted.URL + "/hook", FailTLS, 5 * time.Second},
		{"timeout", stalled.url(), FailTimeout, 100 * time.Millisecond},
		{"HTTP status", failing.URL + "/hook", httpStatus(http.StatusBadGateway), 5 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs logBuffer
			s := New(memkv.New(), nil, testOpts(newClock(), WithHTTP(c.timeout, true),
				WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))...)
			d, _ := queueTo(t, s, "hospital-a", c.webhook)
			if err := s.deliverDue(context.Background()); err != nil {
				t.Fatal(err)
			}
			s.sched.wg.Wait()
			log, err := s.Deliveries(context.Background(), "hospital-a", d.WatchID)
			if err != nil || len(log) != 1 {
				t.Fatalf("deliveries %+v, %v", log, err)
			}
			if log[0].Error != c.want || strings.Contains(log[0].Error, "127.0.0.1") {
				t.Fatalf("error %q, want %q", log[0].Error, c.want)
			}
			if c.want != httpStatus(http.StatusBadGateway) && !strings.Contains(logs.String(), "level=WARN") {
				t.Fatalf("no Warn log with the details: %s", logs.String())
			}
		})
	}
}

// Attempts logged before the categories are shown as categories.
func TestOldAttemptErrorsAreShownAsCategories(t *testing.T) {
	s := New(memkv.New(), nil, testOpts(newClock())...)
	d := queueEvent(t, s, "hospital-a", newReceiver(t, http.StatusNoContent))
	old := []Attempt{
		{ID: d.ID, Attempt: 1, Error: "dial tcp 10.0.0.7:443: connect: connection refused", Result: ResultRetrying},
		{ID: d.ID, Attempt: 2, StatusCode: 503, Error: "HTTP 503", Result: ResultRetrying},
		{ID: d.ID, Attempt: 3, StatusCode: 204, Result: ResultDelivered},
	}
	b, _ := json.Marshal(old)
	if err := s.kv.Put(context.Background(), bucketAttempts, watchKey("hospital-a", d.WatchID), b); err != nil {
		t.Fatal(err)
	}
	log, err := s.Deliveries(context.Background(), "hospital-a", d.WatchID)
	if err != nil || len(log) != 3 {
		t.Fatalf("deliveries %+v, %v", log, err)
	}
	for i, want := range []string{"", "HTTP status 503", FailConnection} { // newest first
		if log[i].Error != want {
			t.Errorf("attempt %d: error %q, want %q", log[i].Attempt, log[i].Error, want)
		}
	}
}
