package watch

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc/status"
)

// Errors of the Service.
var (
	// ErrNotFound: no such watch for this verifier.
	ErrNotFound = errors.New("watch: not found")
	// ErrInvalidWebhook: the webhook URL is not an acceptable https URL.
	ErrInvalidWebhook = errors.New("watch: invalid webhook URL")
	// ErrNothingToWatch: the credential has no revocation or suspension
	// entry and no validUntil.
	ErrNothingToWatch = errors.New("watch: the credential has no status entry and no validUntil to watch")
	// ErrTooManyEntries: more than MaxEntries status entries.
	ErrTooManyEntries = errors.New("watch: too many status entries")
	// ErrLimit: the verifier has as many watches as it may have.
	ErrLimit = errors.New("watch: watch limit reached")
	// ErrStatusUnavailable: a status list could not be read at Add.
	ErrStatusUnavailable = errors.New("watch: status list unavailable")
)

// Bounds.
const (
	// MaxEntries bounds the status entries of one watched credential.
	MaxEntries = 16
	// MaxWebhookBytes bounds a webhook URL.
	MaxWebhookBytes = 2048
	// DefaultMaxWatches bounds the watches of one verifier.
	DefaultMaxWatches = 10000
	// MaxAttemptLog is how many delivery attempts a watch keeps.
	MaxAttemptLog = 100
)

// Defaults of the options.
const (
	DefaultExpiryLead  = 60 * 24 * time.Hour
	DefaultPollEvery   = 5 * time.Minute
	DefaultTick        = time.Second
	DefaultExpiryEvery = time.Minute
	DefaultTimeout     = 15 * time.Second
	DefaultWorkers     = 16
)

// DefaultSchedule is the delay before each retry of a failed delivery
// (about 23 hours in all); jitter of ±20% is added.
var DefaultSchedule = []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour}

// Watch states (Watch.State).
const (
	StateActive    = "active"
	StateSuspended = "suspended"
	StateRevoked   = "revoked"
	StateExpired   = "expired"
)

// Watch is one credential a verifier relies on.
type Watch struct {
	ID       string `json:"id"`
	Verifier string `json:"verifier"`
	// CredentialID is the credential's id, or "sha256:<hex>" of its JSON
	// when it has none.
	CredentialID string `json:"credentialId"`
	// Entries are its revocation and suspension status entries.
	Entries []status.Entry `json:"entries,omitempty"`
	// ValidUntil is zero when the credential has none.
	ValidUntil time.Time `json:"validUntil,omitzero"`
	Webhook    string    `json:"webhook"`
	// Last is the last known bit of each entry, by EntryKey.
	Last    map[string]bool `json:"last,omitempty"`
	Created time.Time       `json:"created"`
	// State is computed when the watch is read: revoked, suspended or
	// expired (in that order) when one holds, else active.
	State string `json:"-"`
}

// EntryKey names an entry in Watch.Last: purpose, list URL and index.
func EntryKey(e status.Entry) string {
	return e.Purpose + "|" + e.ListCredential + "|" + itoa(e.Index)
}

// Ledger is what the Service reads of the ledger (*registry.Log).
type Ledger interface {
	StatusList(ctx context.Context, listURL string) (registry.SubjectState, error)
	Subscribe(ctx context.Context) <-chan registry.Event
}

// ListSource reads the bits of a status list that is not on the ledger
// (fetched and verified by the caller).
type ListSource interface {
	ListBits(ctx context.Context, listURL string) (bits []byte, err error)
}

// Sealer protects webhook secrets at rest (keys.MasterKey satisfies it).
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Service keeps watch-lists and delivers their notifications.
type Service struct {
	kv     kv.Store
	ledger Ledger
	log    *slog.Logger
	now    func() time.Time

	source       ListSource
	pollEvery    time.Duration
	lead         time.Duration
	tick         time.Duration
	expiryEvery  time.Duration
	schedule     []time.Duration
	jitter       bool
	timeout      time.Duration
	allowPrivate bool
	client       *http.Client
	workers      int
	maxWatches   int
	sealer       Sealer
	owner        string // this process, for the poll lease

	wake    chan struct{} // deliveries were queued: scan the queue
	freed   chan struct{} // an attempt ended: start the next
	sched   sched
	breaker breaker
	// polls counts the poll loop's passes (each recheck, or each look at a
	// lease another process holds).
	polls atomic.Int64
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithPolling reads the lists that are not on the ledger through src every
// interval (DefaultPollEvery when <= 0); ledger lists are re-read then too.
func WithPolling(src ListSource, every time.Duration) Option {
	return func(s *Service) {
		s.source = src
		if every > 0 {
			s.pollEvery = every
		}
	}
}

// WithExpiryLead sets how long before validUntil credential.expiring is sent.
func WithExpiryLead(d time.Duration) Option { return func(s *Service) { s.lead = d } }

// WithTick sets how often the delivery queue is scanned and how often expiry
// is checked (tests use milliseconds).
func WithTick(queue, expiry time.Duration) Option {
	return func(s *Service) { s.tick, s.expiryEvery = queue, expiry }
}

// WithSchedule sets the retry delays; jitter false makes them exact (tests).
func WithSchedule(delays []time.Duration, jitter bool) Option {
	return func(s *Service) { s.schedule, s.jitter = delays, jitter }
}

// WithHTTP sets the timeout of one delivery attempt and whether webhooks may
// be plain http and reach private addresses (tests, development).
func WithHTTP(timeout time.Duration, allowPrivate bool) Option {
	return func(s *Service) { s.timeout, s.allowPrivate = timeout, allowPrivate }
}

// WithWorkers bounds the delivery attempts this process makes at a time (at
// most one per verifier tenant and one per webhook host of them).
func WithWorkers(n int) Option { return func(s *Service) { s.workers = n } }

// WithMaxWatches bounds the watches of one verifier.
func WithMaxWatches(n int) Option { return func(s *Service) { s.maxWatches = n } }

// WithSealer seals webhook secrets at rest.
func WithSealer(sl Sealer) Option { return func(s *Service) { s.sealer = sl } }

// New returns a Service over store and ledger (nil: every list is polled).
func New(store kv.Store, ledger Ledger, opts ...Option) *Service {
	s := &Service{kv: store, ledger: ledger, log: slog.New(slog.DiscardHandler), now: time.Now,
		pollEvery: DefaultPollEvery, lead: DefaultExpiryLead, tick: DefaultTick, expiryEvery: DefaultExpiryEvery,
		schedule: DefaultSchedule, jitter: true, timeout: DefaultTimeout, workers: DefaultWorkers,
		maxWatches: DefaultMaxWatches, owner: randomID(), wake: make(chan struct{}, 1), freed: make(chan struct{}, 1)}
	for _, o := range opts {
		o(s)
	}
	s.tick = positive(s.tick, DefaultTick)
	s.expiryEvery = positive(s.expiryEvery, DefaultExpiryEvery)
	s.workers = max(s.workers, 1)
	c := *did.PublicHTTPClient(s.timeout, s.allowPrivate)
	// Standard Webhooks: a redirect is a failure (fix the URL instead).
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.client = &c
	return s
}

func positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// state computes w.State at now.
func (w *Watch) state(now time.Time) {
	w.State = StateActive
	for _, e := range w.Entries {
		if w.Last[EntryKey(e)] {
			if e.Purpose == status.PurposeRevocation {
				w.State = StateRevoked
				return
			}
			w.State = StateSuspended
		}
	}
	if w.State == StateActive && !w.ValidUntil.IsZero() && !now.Before(w.ValidUntil) {
		w.State = StateExpired
	}
}
