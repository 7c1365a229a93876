package audit

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/credence/credence/internal/kv"
)

// Errors of the log; test with errors.Is.
var (
	// ErrInvalidEntry is an entry Append refuses (the message names the field).
	ErrInvalidEntry = errors.New("invalid audit entry")
	// ErrInvalidChain is a chain name ValidChain rejects.
	ErrInvalidChain = errors.New("invalid audit chain name")
	// ErrCorrupt is a stored chain that does not hold together: a missing
	// entry, a wrong hash or a broken link.
	ErrCorrupt = errors.New("audit chain is corrupt")
)

// Signer signs export heads with the service's audit key (Ed25519).
type Signer interface {
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	Public() crypto.PublicKey
}

// Head is the state of a chain: its size and last entry.
type Head struct {
	Chain string `json:"chain"`
	Size  uint64 `json:"size"`
	// Hash is the last entry's hash ("" for an empty chain).
	Hash string `json:"hash"`
	// Time is the last entry's time (absent for an empty chain).
	Time time.Time `json:"time,omitzero"`
}

// Log is the audit log over a kv.Store. It is safe for concurrent use, and
// several processes may append to one shared store.
type Log struct {
	store  kv.Store
	signer Signer
	now    func() time.Time

	mu     sync.Mutex
	chains map[string]*chainState
}

// chainState is what this process knows of a chain's head; mu serializes
// its appends.
type chainState struct {
	mu    sync.Mutex
	known bool
	seq   uint64
	hash  string
}

// Option configures a Log.
type Option func(*Log)

// WithClock sets the clock that stamps entries and heads.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// New returns the log kept in store, whose exports signer signs.
func New(store kv.Store, signer Signer, opts ...Option) *Log {
	l := &Log{store: store, signer: signer, now: time.Now, chains: map[string]*chainState{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

const bucket = "audit"

// hintEvery is how often Append raises the hint: every write costs (an fsync
// on bbolt), and head finds the size from a stale hint in a few reads.
const hintEvery = 16

func entryKey(chain string, seq uint64) string { return fmt.Sprintf("e/%s/%020d", chain, seq) }
func hintKey(chain string) string              { return "h/" + chain }

func (l *Log) state(chain string) *chainState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.chains[chain]
	if st == nil {
		st = &chainState{}
		l.chains[chain] = st
	}
	return st
}

// Append records e as the next entry of e.Chain, filling Seq, Time, Prev
// and Hash, and returns it. It fails with ErrInvalidEntry for an entry that
// does not validate. After an error other than ErrInvalidEntry the entry may
// still have been recorded (a store that applied the write but lost the
// answer).
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	e.Seq, e.Prev, e.Hash = 0, "", ""
	e.normalize()
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	st := l.state(e.Chain)
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.known {
		h, err := l.head(ctx, e.Chain, 0)
		if err != nil {
			return Entry{}, err
		}
		st.seq, st.hash, st.known = h.Size, h.Hash, true
	}
	for {
		if err := ctx.Err(); err != nil {
			return Entry{}, err
		}
		e.Seq, e.Prev, e.Time = st.seq+1, st.hash, l.now().UTC().Round(0)
		raw, err := seal(&e)
		if err != nil {
			return Entry{}, err
		}
		err = l.store.Create(ctx, bucket, entryKey(e.Chain, e.Seq), raw)
		if err == nil {
			st.seq, st.hash = e.Seq, e.Hash
			if e.Seq%hintEvery == 0 {
				l.raiseHint(ctx, e.Chain, e.Seq)
			}
			return e, nil
		}
		if !errors.Is(err, kv.ErrExists) {
			st.known = false
			return Entry{}, fmt.Errorf("failed to append to audit chain %q: %w", e.Chain, err)
		}
		// Another process took this seq: move to the chain's current head.
		h, err := l.head(ctx, e.Chain, st.seq)
		if err != nil {
			st.known = false
			return Entry{}, err
		}
		st.seq, st.hash = h.Size, h.Hash
	}
}

// seal sets e.Hash and returns e's stored form.
func seal(e *Entry) ([]byte, error) {
	h, err := EntryHash(*e)
	if err != nil {
		return nil, fmt.Errorf("failed to hash audit entry: %w", err)
	}
	e.Hash = h
	raw, err := canonical(*e)
	if err != nil {
		return nil, fmt.Errorf("failed to encode audit entry: %w", err)
	}
	if len(raw) > MaxEntryBytes {
		return nil, invalid("entry", fmt.Sprintf("encodes to %d bytes, more than %d", len(raw), MaxEntryBytes))
	}
	return raw, nil
}
