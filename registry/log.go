package registry

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// DefaultSkew is how far in the future an op's time may be, against the
// sequencer's clock.
const DefaultSkew = 5 * time.Minute

// Log is the registry service over a Store: it validates submitted ops with the
// rules, appends them with compare-and-append, signs a checkpoint after every
// append, answers state, history and proof queries, and reports appends to
// subscribers (Subscribe).
//
// It keeps a bounded cache of subjects' replayed chains, so that an op on a
// subject with a long history (a status list with thousands of updates) costs
// one head read instead of a replay: the cache is checked against the store's
// head of the subject before every use, and ops another process appended
// meanwhile are applied on top of it (a full replay when anything does not
// fit).
type Log struct {
	store    Store
	signer   note.Signer
	verifier note.Verifier
	origin   string
	now      func() time.Time
	skew     time.Duration
	mu       sync.Mutex // serializes checkpoint signing so sizes never go backwards

	cacheEntries int
	cacheBytes   int64
	cache        *stateCache
	eventBuffer  int
	events       *eventHub
	docs         docCache // decoded latest DID documents (DIDMethod.Current)

	// stewards may sign new trust ops; retired stewards only validate the
	// trust ops already on the ledger (replays).
	stewards, retired []string

	// gate, when set, is asked before every append; an error refuses it.
	gate func(context.Context) error
	// cosigs, when set, gives proof bundles their witnesses' cosignatures.
	cosigs Cosignatures
}

// LogOption configures a Log.
type LogOption func(*Log)

// WithClock replaces the sequencer's clock (tests).
func WithClock(now func() time.Time) LogOption { return func(l *Log) { l.now = now } }

// WithSkew sets the tolerated future skew of op times.
func WithSkew(d time.Duration) LogOption { return func(l *Log) { l.skew = d } }

// WithStateCache bounds the cache of subjects' states: at most entries subjects
// and about maxBytes of memory (status list bitstrings dominate). entries <= 0
// turns the cache off. The default is DefaultStateCacheEntries and
// DefaultStateCacheBytes.
func WithStateCache(entries int, maxBytes int64) LogOption {
	return func(l *Log) { l.cacheEntries, l.cacheBytes = entries, maxBytes }
}

// WithEventBuffer sets how many events Subscribe queues for a subscriber before
// it replaces them with a Reset (DefaultEventBuffer by default).
func WithEventBuffer(n int) LogOption { return func(l *Log) { l.eventBuffer = n } }

// WithStewards sets the registry's governance: the steward Multikeys that may
// sign trust ops (see trust.go). Without stewards every trust op is rejected.
// The keys are not checked here: configuration runs CheckStewards.
func WithStewards(keys ...string) LogOption {
	return func(l *Log) { l.stewards = slices.Clone(keys) }
}

// WithRetiredStewards names former steward keys: they sign no new trust op,
// but the trust ops they signed while they were stewards keep validating when
// the Log replays them. Retire a steward key this way instead of dropping it,
// or the accreditations it signed no longer load.
func WithRetiredStewards(keys ...string) LogOption {
	return func(l *Log) { l.retired = slices.Clone(keys) }
}

// WithWriteGate makes every append ask gate first: while gate returns an
// error, Submit refuses ops with an error wrapping ErrReadOnly and that
// error's text, and nothing is appended (reads keep working). The server uses
// it to stop writing when a witness proves the log rolled back or forked.
func WithWriteGate(gate func(context.Context) error) LogOption { return func(l *Log) { l.gate = gate } }

// Cosignatures is what a Log needs of the witnesses of its checkpoints
// (witness.Publisher) to put their cosignatures in proof bundles.
type Cosignatures interface {
	// Attach returns signed with the cosignatures collected for it.
	Attach(ctx context.Context, signed []byte) ([]byte, error)
	// Witnessed returns the latest checkpoint a quorum of witnesses cosigned.
	Witnessed(ctx context.Context) ([]byte, error)
}

// WithCosignatures makes Bundle prove ops against the latest checkpoint a
// quorum of witnesses cosigned, cosignatures included, when that checkpoint
// covers them, and otherwise against the latest checkpoint with the
// cosignatures collected for it so far. A failure of c leaves the bundle on
// the log's own signature (it stays valid; a verifier that requires
// cosignatures refuses it).
func WithCosignatures(c Cosignatures) LogOption { return func(l *Log) { l.cosigs = c } }

// NewLog returns the registry service. signer signs checkpoints; its name is the
// log's origin and verifier is its public counterpart.
func NewLog(store Store, signer note.Signer, verifier note.Verifier, opts ...LogOption) *Log {
	l := &Log{store: store, signer: signer, verifier: verifier, origin: signer.Name(), now: time.Now, skew: DefaultSkew,
		cacheEntries: DefaultStateCacheEntries, cacheBytes: DefaultStateCacheBytes}
	for _, o := range opts {
		o(l)
	}
	l.cache = newStateCache(l.cacheEntries, l.cacheBytes)
	l.events = newEventHub(store, l.eventBuffer)
	return l
}

// Governance is the registry's steward keys.
type Governance struct {
	// Stewards may sign trust ops.
	Stewards []string `json:"stewards"`
	// Retired stewards signed trust ops on the ledger but may sign no more.
	Retired []string `json:"retiredStewards"`
}

// Governance returns the steward keys the Log was configured with.
func (l *Log) Governance() Governance {
	return Governance{Stewards: nonNil(l.stewards), Retired: nonNil(l.retired)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// replayStewards are the keys that validate trust ops already on the ledger.
func (l *Log) replayStewards() []string {
	if len(l.retired) == 0 {
		return l.stewards
	}
	return append(slices.Clone(l.stewards), l.retired...)
}

// Origin is the log's checkpoint origin (its key name).
func (l *Log) Origin() string { return l.origin }

// Verifier is the checkpoint verifier clients use.
func (l *Log) Verifier() note.Verifier { return l.verifier }
