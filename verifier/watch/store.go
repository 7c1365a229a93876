package watch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/credence/credence/internal/kv"
)

// The kv layout. Each index has its own bucket, so a listing reads only what
// it needs (rediskv lists a whole bucket).
const (
	bucketWatches  = "watch/"         // + verifier: id -> record
	bucketWatchers = "watch-list/"    // + list hash: verifier/id -> created (unix)
	bucketLists    = "watch-lists"    // list hash -> list URL
	bucketExpiry   = "watch-expiry"   // due/kind/verifier/id -> created (unix)
	bucketQueue    = "watch-queue"    // verifier/id/event id -> delivery
	bucketAttempts = "watch-attempts" // verifier/id -> []Attempt
	bucketLease    = "watch-lease"    // "poll" -> lease
	bucketCount    = "watch-count"    // verifier -> its watches, decimal (doc.go, Limits)
)

// orphanGrace is how old an index entry without its watch must be before it
// is deleted (an Add writes its indexes before the record).
const orphanGrace = 10 * time.Minute

// record is a watch as stored: the Watch plus what the Service keeps to
// detect changes exactly once and to sign.
type record struct {
	Watch
	// Secret is the whsec_ secret, sealed (base64) when Sealed.
	Secret string `json:"secret"`
	Sealed bool   `json:"sealed,omitempty"`
	// Changes counts the changes seen per entry (EntryKey): the n-th change
	// has a deterministic event id.
	Changes map[string]int `json:"changes,omitempty"`
	// ListSeq is the ledger seq of each list when last read: older reads are
	// ignored.
	ListSeq map[string]uint64 `json:"listSeq,omitempty"`
	// Sent marks the expiry events already recorded ("expiring", "expired").
	Sent map[string]bool `json:"sent,omitempty"`
	// Outbox holds recorded notifications not yet moved to the queue.
	Outbox []delivery `json:"outbox,omitempty"`
}

func esc(verifier string) string { return url.PathEscape(verifier) }

func watchKey(verifier, id string) string { return esc(verifier) + "/" + id }

func listHash(listURL string) string {
	sum := sha256.Sum256([]byte(listURL))
	return hex.EncodeToString(sum[:16])
}

func expiryKey(due time.Time, kind, verifier, id string) string {
	u := min(max(due.Unix(), 0), 999999999999)
	return fmt.Sprintf("%012d/%s/%s", u, kind, watchKey(verifier, id))
}

// randomID is 16 random bytes in hex: watch ids and process ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validID reports whether id can be a watch id (so no odd key is built).
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func (s *Service) getRecord(ctx context.Context, verifier, id string) (*record, error) {
	if verifier == "" || !validID(id) {
		return nil, ErrNotFound
	}
	b, err := s.kv.Get(ctx, bucketWatches+esc(verifier), id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeRecord(id, b)
}

// decodeRecord decodes a stored watch, with its maps allocated.
func decodeRecord(id string, b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("failed to decode watch %s: %w", id, err)
	}
	if r.Last == nil {
		r.Last = map[string]bool{}
	}
	if r.Changes == nil {
		r.Changes = map[string]int{}
	}
	if r.ListSeq == nil {
		r.ListSeq = map[string]uint64{}
	}
	if r.Sent == nil {
		r.Sent = map[string]bool{}
	}
	return &r, nil
}

// updateRecord runs fn on the current record in a compare-and-swap; fn may
// run more than once. ErrNotFound when the watch is gone.
func (s *Service) updateRecord(ctx context.Context, verifier, id string, fn func(*record) error) error {
	return s.kv.Update(ctx, bucketWatches+esc(verifier), id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrNotFound
		}
		r, err := decodeRecord(id, old)
		if err != nil {
			return nil, err
		}
		if err := fn(r); err != nil {
			return nil, err
		}
		return json.Marshal(r)
	})
}

// unixValue is the value of an index entry: when it was written.
func unixValue(t time.Time) []byte { return []byte(strconv.FormatInt(t.Unix(), 10)) }

// stale reports whether an index entry written at v is older than the grace.
func (s *Service) stale(v []byte) bool {
	n, err := strconv.ParseInt(string(v), 10, 64)
	return err != nil || s.now().Sub(time.Unix(n, 0)) > orphanGrace
}

// deleteQuiet deletes a key, ignoring a missing one.
func (s *Service) deleteQuiet(ctx context.Context, bucket, key string) error {
	if err := s.kv.Delete(ctx, bucket, key); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	return nil
}

// keys lists the keys of bucket with prefix (collected first: a driver may
// hold a read transaction during List).
func (s *Service) keys(ctx context.Context, bucket, prefix string) (map[string][]byte, []string, error) {
	vals := map[string][]byte{}
	var order []string
	err := s.kv.List(ctx, bucket, prefix, func(k string, v []byte) error {
		vals[k] = v
		order = append(order, k)
		return nil
	})
	return vals, order, err
}
