package witness

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry/merkle"
)

// Log is a log the witness follows.
type Log struct {
	// Origin is the checkpoint origin line identifying the log.
	Origin string
	// Keys verify the log's checkpoint signatures (see merkle.NewVerifier);
	// a checkpoint needs a valid signature by at least one of them. More
	// than one lets a log rotate its key.
	Keys []note.Verifier
}

// Option configures a Witness.
type Option func(*Witness)

// WithClock replaces the clock that timestamps cosignatures (tests).
func WithClock(now func() time.Time) Option { return func(w *Witness) { w.now = now } }

// WithLogger sets the logger for refused checkpoints that may be evidence of
// log misbehaviour and for internal failures. The default discards.
func WithLogger(l *slog.Logger) Option { return func(w *Witness) { w.log = l } }

// Witness cosigns checkpoints of the logs it follows, each only if it is
// consistent with the latest one it cosigned for that log. It is safe for
// concurrent use, also by several processes sharing one Store.
type Witness struct {
	cosigner *Cosigner
	store    Store
	logs     map[string]Log
	byHash   map[string]string // hex SHA-256 of an origin -> origin
	now      func() time.Time
	log      *slog.Logger
}

// New returns a witness cosigning with c the checkpoints of logs, remembering
// its state in store. Origins must be distinct, non-empty single lines, and
// each log needs at least one key.
func New(c *Cosigner, store Store, logs []Log, opts ...Option) (*Witness, error) {
	if c == nil || store == nil {
		return nil, errors.New("witness: New needs a Cosigner and a Store")
	}
	w := &Witness{cosigner: c, store: store, logs: map[string]Log{}, byHash: map[string]string{},
		now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, l := range logs {
		if err := w.addLog(l); err != nil {
			return nil, err
		}
	}
	for _, o := range opts {
		o(w)
	}
	return w, nil
}

func (w *Witness) addLog(l Log) error {
	if l.Origin == "" || strings.Contains(l.Origin, "\n") {
		return fmt.Errorf("witness: invalid log origin %q", l.Origin)
	}
	if _, dup := w.logs[l.Origin]; dup {
		return fmt.Errorf("witness: log %q configured twice", l.Origin)
	}
	if len(l.Keys) == 0 {
		return fmt.Errorf("witness: log %q has no keys", l.Origin)
	}
	seen := map[string]bool{}
	for _, k := range l.Keys {
		if k == nil {
			return fmt.Errorf("witness: log %q has a nil key", l.Origin)
		}
		id := fmt.Sprintf("%s+%08x", k.Name(), k.KeyHash())
		if seen[id] || k.Name() == w.cosigner.Name() && k.KeyHash() == w.cosigner.KeyHash() {
			return fmt.Errorf("witness: log %q: key %s listed twice or is the witness's own", l.Origin, id)
		}
		seen[id] = true
	}
	w.logs[l.Origin] = Log{Origin: l.Origin, Keys: append([]note.Verifier(nil), l.Keys...)}
	h := sha256.Sum256([]byte(l.Origin))
	w.byHash[hex.EncodeToString(h[:])] = l.Origin
	return nil
}

// Cosigner returns the witness's cosigning key.
func (w *Witness) Cosigner() *Cosigner { return w.cosigner }

// AddCheckpoint is tlog-witness's add-checkpoint: it verifies the signed
// checkpoint against the keys of its log, checks that oldSize is the size of
// the latest checkpoint it cosigned for that log (0 if none) and that proof
// proves the new checkpoint consistent with it, then records the checkpoint
// and returns its cosignature as note signature lines. The check and the
// record are one Store.Update, so the witness never cosigns a checkpoint
// smaller than, or inconsistent with, one it cosigned before. See the package
// documentation for the errors.
func (w *Witness) AddCheckpoint(ctx context.Context, oldSize uint64, proof []tlog.Hash, signed []byte) ([]byte, error) {
	if len(proof) > MaxProofHashes {
		return nil, fmt.Errorf("%w: more than %d consistency proof hashes", ErrMalformed, MaxProofHashes)
	}
	c, text, logSigs, err := w.open(signed)
	if err != nil {
		return nil, err
	}
	if oldSize > c.Size {
		return nil, fmt.Errorf("%w: old size %d is larger than the checkpoint size %d", ErrMalformed, oldSize, c.Size)
	}
	var lines []byte
	err = w.store.Update(ctx, c.Origin, func(old []byte) ([]byte, error) {
		lines = nil
		prev, err := parseStored(old, c.Origin)
		if err != nil {
			return nil, err
		}
		if prev.Size != oldSize {
			return nil, &ConflictError{Size: prev.Size}
		}
		if err := checkConsistent(prev, c, proof); err != nil {
			w.log.WarnContext(ctx, "witness: refused a checkpoint inconsistent with the cosigned one",
				"origin", c.Origin, "cosigned_size", prev.Size, "size", c.Size, "error", err,
				"checkpoint", string(text)+"\n"+string(logSigs))
			return nil, err
		}
		prevTS := w.cosigner.timestamp(old)
		ts, err := w.timestamp(prevTS)
		if err != nil {
			return nil, err
		}
		if same := w.cosigner.line(old); same != nil && ts == prevTS && bytes.HasPrefix(old, append(text, '\n')) {
			// The checkpoint cosigned last, again within the same second:
			// the cosignature would be the same bytes (Ed25519 is
			// deterministic), so answer it without a signature or a write.
			// Replays of the public latest checkpoint cost nothing durable.
			lines = same
			return nil, errCosigned
		}
		line, err := w.cosigner.Cosign(text, ts)
		if err != nil {
			return nil, err
		}
		lines = line
		return slices.Concat(text, []byte("\n"), logSigs, line), nil
	})
	if errors.Is(err, errCosigned) {
		err = nil
	}
	if err != nil {
		if StatusOf(err) == http.StatusInternalServerError {
			w.log.ErrorContext(ctx, "witness: add-checkpoint failed", "origin", c.Origin, "error", err)
		}
		return nil, err
	}
	return lines, nil
}

// errCosigned ends AddCheckpoint's store update without a write: the
// checkpoint's cosignature is the stored one.
var errCosigned = errors.New("witness: already cosigned")

// Latest returns the latest checkpoint the witness cosigned for origin, with
// the log's signatures it verified and its cosignature: ErrUnknownLog for an
// origin it does not follow, ErrNotFound if it never cosigned one.
func (w *Witness) Latest(ctx context.Context, origin string) ([]byte, error) {
	if _, ok := w.logs[origin]; !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownLog, origin)
	}
	return w.store.Latest(ctx, origin)
}

// open verifies signed against its log's keys and returns the checkpoint, its
// body, and the log's verified signature lines.
func (w *Witness) open(signed []byte) (merkle.Checkpoint, []byte, []byte, error) {
	origin, _, ok := bytes.Cut(signed, []byte("\n"))
	if !ok {
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: the checkpoint is not a signed note", ErrMalformed)
	}
	l, ok := w.logs[string(origin)]
	if !ok {
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: origin %.100q", ErrUnknownLog, origin)
	}
	n, err := note.Open(signed, note.VerifierList(l.Keys...))
	var unverified *note.UnverifiedNoteError
	var invalid *note.InvalidSignatureError
	switch {
	case errors.As(err, &unverified):
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: no signature by a key of %q", ErrBadSignature, l.Origin)
	case errors.As(err, &invalid):
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	case err != nil:
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: checkpoint: %w", ErrMalformed, err)
	}
	c, err := merkle.ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return merkle.Checkpoint{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var sigs []byte
	for _, s := range n.Sigs {
		sigs = append(sigs, "— "+s.Name+" "+s.Base64+"\n"...)
	}
	return c, []byte(n.Text), sigs, nil
}

// timestamp returns the time for a new cosignature: now, but never before
// the previous cosignature's time prev, so that "as of this time, this is the
// largest tree" statements stay ordered even if the clock steps back.
func (w *Witness) timestamp(prev uint64) (uint64, error) {
	now := w.now().Unix()
	if now < 1 {
		return 0, fmt.Errorf("witness: clock reads %d, before 1970", now)
	}
	return max(uint64(now), prev), nil
}

// emptyRoot is the RFC 6962 root of the empty tree, SHA-256 of "".
var emptyRoot = tlog.Hash(sha256.Sum256(nil))

// parseStored returns the checkpoint of a stored note, or the empty tree for
// none. A stored value that does not parse is an internal error (corrupt
// store), never a client error.
func parseStored(stored []byte, origin string) (merkle.Checkpoint, error) {
	if stored == nil {
		return merkle.Checkpoint{Origin: origin, Size: 0, Root: emptyRoot}, nil
	}
	i := bytes.LastIndex(stored, []byte("\n\n"))
	if i < 0 {
		return merkle.Checkpoint{}, fmt.Errorf("witness: stored checkpoint of %q is not a signed note", origin)
	}
	c, err := merkle.ParseCheckpoint(stored[:i+1])
	if err != nil || c.Origin != origin {
		return merkle.Checkpoint{}, fmt.Errorf("witness: stored checkpoint of %q is corrupt (%v)", origin, err)
	}
	return c, nil
}

// checkConsistent applies tlog-witness's consistency rules to the cosigned
// checkpoint prev and the new checkpoint c, given prev.Size <= c.Size.
// Errors wrap ErrBadProof.
func checkConsistent(prev, c merkle.Checkpoint, proof []tlog.Hash) error {
	switch {
	case c.Size == 0 && c.Root != emptyRoot:
		return fmt.Errorf("%w: a checkpoint of size 0 must have the empty tree's root", ErrBadProof)
	case prev.Size == 0 && len(proof) != 0:
		return fmt.Errorf("%w: a consistency proof from size 0 must be empty", ErrBadProof)
	case prev.Size == 0:
		return nil
	}
	p := merkle.ConsistencyProof{From: prev.Size, To: c.Size, Hashes: proof}
	if err := merkle.VerifyCheckpointConsistency(prev, c, p); err != nil {
		return fmt.Errorf("%w: %w", ErrBadProof, err)
	}
	return nil
}
