package witness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry/merkle"
)

// Source is what a Publisher needs of the log; *registry.Log satisfies it.
// A Source that also has a Size(ctx) (uint64, error) method, as
// *registry.Log does, is asked for its tree's size before a rollback is
// declared, so that a failing store read cannot pass for one.
type Source interface {
	// Checkpoint returns the log's latest signed checkpoint, read fresh from
	// its store (other processes may append).
	Checkpoint(ctx context.Context) ([]byte, error)
	// ProveConsistency proves the tree of size from a prefix of the tree of
	// size to. For a size to beyond the log's tree, its error must wrap
	// merkle.ErrOutOfRange: that is how the Publisher learns that the tree
	// is smaller than a checkpoint the log signed.
	ProveConsistency(ctx context.Context, from, to uint64) (merkle.ConsistencyProof, error)
	// Verifier returns the log's checkpoint key.
	Verifier() note.Verifier
}

// Target is a witness the log publishes to.
type Target struct {
	// URL is the witness's prefix: Add POSTs <URL>/add-checkpoint and Latest
	// GETs <URL>/<hex SHA-256 of the origin>/checkpoint.
	URL string
	// Verifier is the witness's cosignature key (NewVerifier); its name is
	// the target's name.
	Verifier note.Verifier
}

// PublisherOption configures a Publisher.
type PublisherOption func(*Publisher)

// WithHTTPClient sets the client that talks to the witnesses; the default
// has a 10 s timeout.
func WithHTTPClient(c *http.Client) PublisherOption { return func(p *Publisher) { p.client = c } }

// WithPublishLogger sets the logger for failed rounds (Warn) and faults
// (Error). The default discards.
func WithPublishLogger(l *slog.Logger) PublisherOption { return func(p *Publisher) { p.log = l } }

// WithInterval sets how often Run publishes without wake-ups; default 1 min.
func WithInterval(d time.Duration) PublisherOption { return func(p *Publisher) { p.interval = d } }

// WithBackoff sets Run's delay after a round with failures: first, doubling
// after each further failed round up to limit; default 1 s to 1 min.
func WithBackoff(first, limit time.Duration) PublisherOption {
	return func(p *Publisher) { p.backoffMin, p.backoffMax = first, limit }
}

// Publisher keeps a set of witnesses cosigning the log's checkpoints and
// detects, from the checkpoints they hold, a log that rolled back or forked.
// See the package documentation's "Publishing" section. It is safe for
// concurrent use, also by several replicas of the log sharing one kv.Store.
type Publisher struct {
	src     Source
	targets []*target
	wits    []note.Verifier // the targets' verifiers, in order
	quorum  int
	store   kv.Store
	bucket  string

	client                 *http.Client
	log                    *slog.Logger
	interval               time.Duration
	backoffMin, backoffMax time.Duration

	mu sync.Mutex // guards every target's state
}

// target is a Target and what the publisher knows of it.
type target struct {
	Target
	name string
	busy sync.Mutex // serializes this target's exchanges across rounds

	// Guarded by Publisher.mu.
	size        uint64 // the witness's size as far as we know; 0 unknown
	lastSuccess time.Time
	lastError   string
	fault       error // a *faultError
}

// NewPublisher returns a Publisher of src's checkpoints to targets, a round
// being witnessed when at least quorum of them cosign. The cosigned notes are
// kept in bucket of store, which every replica of the log shares. Targets
// need absolute http(s) URLs and verifier keys with distinct URLs, names and
// keys, none the log's own key; 1 <= quorum <= len(targets).
func NewPublisher(src Source, targets []Target, quorum int, store kv.Store, bucket string, opts ...PublisherOption) (*Publisher, error) {
	if src == nil || src.Verifier() == nil || store == nil || bucket == "" {
		return nil, errors.New("witness: NewPublisher needs a Source with a verifier, a kv.Store and a bucket")
	}
	if len(targets) == 0 || quorum < 1 || quorum > len(targets) {
		return nil, fmt.Errorf("witness: quorum %d of %d targets (need 1 <= quorum <= targets)", quorum, len(targets))
	}
	p := &Publisher{src: src, quorum: quorum, store: store, bucket: bucket,
		client: &http.Client{Timeout: 10 * time.Second}, log: slog.New(slog.DiscardHandler),
		interval: time.Minute, backoffMin: time.Second, backoffMax: time.Minute}
	if err := p.addTargets(targets); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(p)
	}
	switch {
	case p.client == nil || p.log == nil:
		return nil, errors.New("witness: nil HTTP client or logger")
	case p.interval <= 0 || p.backoffMin <= 0 || p.backoffMax < p.backoffMin:
		return nil, fmt.Errorf("witness: need a positive interval and 0 < backoff min <= max (got %v, %v, %v)", p.interval, p.backoffMin, p.backoffMax)
	}
	return p, nil
}

func (p *Publisher) addTargets(targets []Target) error {
	logKey := p.src.Verifier()
	urls, names := map[string]bool{}, map[string]bool{}
	for i, t := range targets {
		if _, err := parseWitnessURL(t.URL); err != nil {
			return fmt.Errorf("witness: target %d: %w", i, err)
		}
		if t.Verifier == nil {
			return fmt.Errorf("witness: target %d (%s) has no verifier", i, t.URL)
		}
		name, u := t.Verifier.Name(), strings.TrimRight(t.URL, "/")
		switch {
		case name == logKey.Name() && t.Verifier.KeyHash() == logKey.KeyHash():
			return fmt.Errorf("witness: target %s has the log's own key", name)
		case names[name]:
			return fmt.Errorf("witness: two targets named %s", name)
		case urls[u]:
			return fmt.Errorf("witness: two targets at %s", u)
		}
		names[name], urls[u] = true, true
		p.targets = append(p.targets, &target{Target: t, name: name})
		p.wits = append(p.wits, t.Verifier)
	}
	return nil
}

// Quorum is the number of cosignatures that make a checkpoint witnessed.
func (p *Publisher) Quorum() int { return p.quorum }

// Fault returns nil, or while a target holds proof that the log is
// inconsistent, the first such target's fault (wrapping ErrRollback or
// ErrFork). A target's fault clears when it cosigns a checkpoint of the log
// again, for example after the operator restored the log's store. Fault
// knows this process's rounds only; Gate also reads the faults rounds store.
func (p *Publisher) Fault() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.targets {
		if t.fault != nil {
			return t.fault
		}
	}
	return nil
}

// TargetStatus is what a Publisher knows of one target.
type TargetStatus struct {
	Name, URL string
	// Size is the size the witness last cosigned, as far as this publisher
	// knows (0: unknown).
	Size uint64
	// LastSuccess is the time of its last cosignature (zero before the
	// first).
	LastSuccess time.Time
	// LastError is why its last round failed ("" after a success).
	LastError string
	// Fault is non-nil while this target proves the log inconsistent.
	Fault error
}

// Status reports each target, in the order NewPublisher was given them.
func (p *Publisher) Status() []TargetStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]TargetStatus, len(p.targets))
	for i, t := range p.targets {
		out[i] = TargetStatus{Name: t.name, URL: t.URL, Size: t.size, LastSuccess: t.lastSuccess,
			LastError: t.lastError, Fault: t.fault}
	}
	return out
}
