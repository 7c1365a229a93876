package audit

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	// delay is the commit delay (WithCommitDelay); sleep waits it out.
	delay time.Duration
	sleep func(time.Duration)

	mu     sync.Mutex
	chains map[string]*chainState

	appended, writes atomic.Uint64 // Stats
}

// Stats counts what a Log has stored since it was made.
type Stats struct {
	// Appends is the number of entries stored; Writes, the number of store
	// writes (batches) that stored them. Appends/Writes is how well group
	// commit shares each write (an fsync on bbolt, a round trip on Redis).
	Appends, Writes uint64
}

// Stats returns what l has stored so far.
func (l *Log) Stats() Stats { return Stats{Appends: l.appended.Load(), Writes: l.writes.Load()} }

// chainState is a chain's queue of appends and what this process knows of
// its head. While the queue is not empty one committer goroutine runs for
// the chain; it alone uses known, seq and hash.
type chainState struct {
	name string

	mu      sync.Mutex // guards queue, running and pending.taken/abandoned
	queue   []*pending
	running bool

	known bool
	seq   uint64
	hash  string
	// last is when the committer last finished a batch (monotonic); busy,
	// whether other appends came while it was written; took, when it last
	// took a batch, and gap, the mean time between the appends of that
	// batch's cycle (from the take before to it).
	last time.Time
	busy bool
	took time.Time
	gap  time.Duration
}

// pending is one Append waiting for its batch.
type pending struct {
	ctx  context.Context
	e    Entry // valid and normalized; the committer fills seq, time, prev, hash
	form *form
	size int // a lower bound of the stored size
	// taken: in a batch; abandoned: its Append gave up before that, so
	// it is never written. Both are guarded by chainState.mu.
	taken, abandoned bool

	done     chan struct{} // closed when out and err are set
	finished bool          // done is closed (committer only)
	out      Entry
	err      error
}

func (p *pending) finish(e Entry, err error) {
	if !p.finished {
		p.finished = true
		p.out, p.err = e, err
		close(p.done)
	}
}

// Option configures a Log.
type Option func(*Log)

// WithClock sets the clock that stamps entries and heads and times the
// commit delay.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// DefaultCommitDelay is the commit delay of a Log without WithCommitDelay.
// Under BenchmarkVerifyThroughput's load (32 clients, about 3,000
// decisions/s on 2 cores, bbolt) it doubles the decisions per write from
// about 8 (1 ms, a fixed step) to about 16, for 5 to 10% less CPU per
// verification, while the median latency (about 10 ms, queueing for the
// CPU) does not grow.
const DefaultCommitDelay = 2 * time.Millisecond

// WithCommitDelay sets the commit delay: when several callers append to a
// chain at once (appends arrived while its previous batch was written, less
// than two delays ago), its committer lets the queue fill for up to d
// before taking the next batch, for as long as appends keep arriving, so
// that they share its write — one fsync on bbolt, one round trip on Redis —
// instead of costing one each. An append to an idle chain, or from a lone
// caller appending one entry after another, is written at once. It is group
// commit with PostgreSQL's commit_delay and commit_siblings: under load each
// decision waits up to d longer and the store does several times fewer
// writes. d <= 0 turns it off.
func WithCommitDelay(d time.Duration) Option { return func(l *Log) { l.delay = d } }

// New returns the log kept in store, whose exports signer signs.
func New(store kv.Store, signer Signer, opts ...Option) *Log {
	l := &Log{store: store, signer: signer, now: time.Now, delay: DefaultCommitDelay, sleep: time.Sleep,
		chains: map[string]*chainState{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

const bucket = "audit"

// hintEvery is how often Append raises the hint: every write costs (an fsync
// on bbolt, a separate transaction from the batch's), and head, which only
// runs when a process first appends to a chain or loses a race, finds the
// size from a hint up to 1024 entries stale in about 20 reads.
const hintEvery = 1024

// Bounds of one batch: entries, and bytes (from the entries' forms).
const (
	maxBatch      = 256
	maxBatchBytes = 4 << 20
)

// hintTimeout bounds the hint's write, which happens after the batch's
// appends have returned (their contexts may be gone).
const hintTimeout = 10 * time.Second

func entryKey(chain string, seq uint64) string { return fmt.Sprintf("e/%s/%020d", chain, seq) }
func hintKey(chain string) string              { return "h/" + chain }

func (l *Log) state(chain string) *chainState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.chains[chain]
	if st == nil {
		st = &chainState{name: chain}
		l.chains[chain] = st
	}
	return st
}

// Append records e as the next entry of e.Chain, filling Seq, Time, Prev
// and Hash, and returns it once it is stored. It fails with ErrInvalidEntry
// for an entry that does not validate. After an error other than
// ErrInvalidEntry the entry may still have been recorded (a store that
// applied the write but lost the answer, or a context that ended while the
// entry's batch was being written).
//
// Concurrent appends to a chain are written together: they queue, and the
// chain's committer takes everything queued (up to 256 entries), links it
// in order to the head and stores it with one kv.CreateMany, one
// transaction or round trip for the whole batch. Each Append returns when
// its batch is stored, with its entry or the batch's error.
func (l *Log) Append(ctx context.Context, e Entry) (Entry, error) {
	e.Seq, e.Prev, e.Hash = 0, "", ""
	e.normalize()
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	f, err := newForm(e)
	if err != nil {
		return Entry{}, err
	}
	if n := f.minSize(); n > MaxEntryBytes {
		return Entry{}, invalid("entry", fmt.Sprintf("encodes to at least %d bytes, more than %d", n, MaxEntryBytes))
	}
	if err := ctx.Err(); err != nil {
		return Entry{}, err
	}
	p := &pending{ctx: ctx, e: e, form: f, size: f.minSize(), done: make(chan struct{})}
	st := l.state(e.Chain)
	st.mu.Lock()
	st.queue = append(st.queue, p)
	if !st.running {
		st.running = true
		go l.commit(st)
	}
	st.mu.Unlock()
	select {
	case <-p.done:
		return p.out, p.err
	case <-ctx.Done():
	}
	st.mu.Lock()
	if !p.taken {
		p.abandoned = true
	}
	st.mu.Unlock()
	select {
	case <-p.done: // finished meanwhile
		return p.out, p.err
	default:
		return Entry{}, ctx.Err()
	}
}

// commit is the chain's committer: it writes batches until the queue is
// empty.
func (l *Log) commit(st *chainState) {
	for {
		l.gather(st)
		batch := st.take()
		if len(batch) == 0 {
			return
		}
		now := l.now()
		if !st.took.IsZero() {
			st.gap = now.Sub(st.took) / time.Duration(len(batch))
		}
		st.took = now
		st.busy = false // commitBatch sets it once the batch is stored
		l.commitBatch(st, batch)
		st.last = l.now()
	}
}

// gather is the commit delay: while the chain is busy it lets the queue
// fill, in steps, for as long as each step brings new appends, the delay at
// most. A step is twice the mean time between the appends of the last
// cycle, at least an eighth of the delay: under load it outlasts the usual
// gap between two appends, so the wait ends when the load pauses, not at
// the first step that happens to see no arrival. A lone client appending
// one entry after another never waits: its next append arrives after its
// batch is stored, with nothing else queued.
func (l *Log) gather(st *chainState) {
	if l.delay <= 0 || !st.busy || l.now().Sub(st.last) > 2*l.delay {
		return
	}
	n := st.queued()
	for waited := time.Duration(0); n > 0 && n < maxBatch && waited < l.delay; {
		step := min(max(l.delay/8, 2*st.gap, time.Microsecond), l.delay-waited)
		l.sleep(step)
		waited += step
		m := st.queued()
		if m == n {
			return // nothing new: the load has paused
		}
		n = m
	}
}

// queued is the length of the queue.
func (st *chainState) queued() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.queue)
}

// take removes the next batch from the queue, in order, skipping appends
// that gave up. With nothing left it stops the committer (running false).
func (st *chainState) take() []*pending {
	st.mu.Lock()
	defer st.mu.Unlock()
	var batch []*pending
	size, i := 0, 0
	for ; i < len(st.queue) && len(batch) < maxBatch; i++ {
		p := st.queue[i]
		if p.abandoned {
			continue
		}
		if err := p.ctx.Err(); err != nil {
			p.abandoned = true
			p.finish(Entry{}, err)
			continue
		}
		if len(batch) > 0 && size+p.size > maxBatchBytes {
			break
		}
		p.taken = true
		batch = append(batch, p)
		size += p.size
	}
	n := copy(st.queue, st.queue[i:])
	clear(st.queue[n:])
	st.queue = st.queue[:n]
	if len(batch) == 0 {
		st.running = false
	}
	return batch
}

// commitBatch links batch to the chain's head and stores it. Of two writers
// racing for the same seqs, across processes too, CreateMany lets exactly
// one win; the loser finds the new head and links the whole batch again.
// Every append of the batch is finished: with its entry, or an error.
func (l *Log) commitBatch(st *chainState, batch []*pending) {
	ctx, stop := waitersContext(batch)
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			st.known = false
			for _, p := range batch {
				p.finish(Entry{}, fmt.Errorf("failed to append to audit chain %q: panic: %v", st.name, r))
			}
		}
	}()
	fail := func(err error) {
		for _, p := range batch {
			p.finish(Entry{}, err)
		}
	}
	if !st.known {
		h, err := l.head(ctx, st.name, 0)
		if err != nil {
			fail(err)
			return
		}
		st.seq, st.hash, st.known = h.Size, h.Hash, true
	}
	for {
		var items []kv.Item
		items, batch = l.link(st, batch)
		if len(batch) == 0 {
			return
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		var err error
		if len(items) == 1 {
			err = l.store.Create(ctx, bucket, items[0].Key, items[0].Value)
		} else {
			err = l.store.CreateMany(ctx, bucket, items)
		}
		if err == nil {
			l.writes.Add(1)
			l.appended.Add(uint64(len(batch)))
			first, last := st.seq+1, batch[len(batch)-1].out
			st.seq, st.hash = last.Seq, last.Hash
			// Others append at the same time when the batch held more than
			// one or appends arrived while it was written. Looked at before
			// the batch's callers are answered: a lone caller's next append
			// must not count.
			st.busy = len(batch) > 1 || st.queued() > 0
			for _, p := range batch {
				p.finish(p.out, nil)
			}
			if last.Seq/hintEvery != (first-1)/hintEvery {
				hctx, cancel := context.WithTimeout(context.Background(), hintTimeout)
				l.raiseHint(hctx, st.name, last.Seq)
				cancel()
			}
			return
		}
		if !errors.Is(err, kv.ErrExists) {
			st.known = false
			fail(fmt.Errorf("failed to append to audit chain %q: %w", st.name, err))
			return
		}
		// Another process took some of these seqs: move to the chain's
		// current head.
		h, err := l.head(ctx, st.name, st.seq)
		if err != nil {
			st.known = false
			fail(err)
			return
		}
		st.seq, st.hash = h.Size, h.Hash
	}
}

// link numbers the batch's entries from the head on, links and seals them,
// setting each pending's out, and returns their stored forms. An entry that
// cannot be sealed (too large) is finished with its error and left out, so
// it takes no seq: link returns the appends still in the batch.
func (l *Log) link(st *chainState, batch []*pending) ([]kv.Item, []*pending) {
	items := make([]kv.Item, 0, len(batch))
	live := batch[:0]
	seq, prev := st.seq, st.hash
	for _, p := range batch {
		e := p.e
		e.Seq, e.Prev, e.Time = seq+1, prev, l.now().UTC().Round(0)
		raw, err := p.form.fill(&e)
		if err != nil {
			p.finish(Entry{}, err)
			continue
		}
		p.out = e
		items = append(items, kv.Item{Key: entryKey(e.Chain, e.Seq), Value: raw})
		live = append(live, p)
		seq, prev = e.Seq, e.Hash
	}
	return items, live
}

// waitersContext is the context of a batch's store calls: it ends once the
// context of every append in the batch has ended, so one caller giving up
// neither cancels the others' write nor is waited for by it.
func waitersContext(batch []*pending) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, p := range batch {
		pctx := p.ctx
		stops[i] = context.AfterFunc(pctx, func() {
			if left.Add(-1) == 0 {
				cancel(context.Cause(pctx))
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel(nil)
	}
}
