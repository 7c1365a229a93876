package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxExpiryBatch bounds the expiry events handled per check.
const maxExpiryBatch = 1000

// checkExpiry handles the due entries of the expiry index (ordered by due
// time): each sends its event once, then its entry is deleted.
func (s *Service) checkExpiry(ctx context.Context) error {
	limit := fmt.Sprintf("%012d", max(s.now().Unix(), 0))
	errStop := errors.New("stop")
	vals := map[string][]byte{}
	var due []string
	err := s.kv.List(ctx, bucketExpiry, "", func(k string, v []byte) error {
		if len(k) < 12 || k[:12] > limit {
			return errStop
		}
		vals[k] = v
		if due = append(due, k); len(due) >= maxExpiryBatch {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	for _, k := range due {
		if err := s.expireEntry(ctx, k, vals[k]); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.WarnContext(ctx, "watch: failed to handle an expiry", "err", err)
		}
	}
	return nil
}

// expireEntry handles one expiry index entry: due/kind/verifier/id.
func (s *Service) expireEntry(ctx context.Context, k string, v []byte) error {
	parts := strings.SplitN(k, "/", 3)
	if len(parts) != 3 {
		return s.deleteQuiet(ctx, bucketExpiry, k)
	}
	secs, err := strconv.ParseInt(parts[0], 10, 64)
	verifier, id, ok := splitWatchKey(parts[2])
	if err != nil || !ok || (parts[1] != kindExpiring && parts[1] != kindExpired) {
		return s.deleteQuiet(ctx, bucketExpiry, k)
	}
	done, err := s.expire(ctx, verifier, id, parts[1], time.Unix(secs, 0))
	switch {
	case errors.Is(err, ErrNotFound):
		if s.stale(v) {
			return s.deleteQuiet(ctx, bucketExpiry, k)
		}
		return nil
	case err != nil || !done:
		return err
	}
	return s.deleteQuiet(ctx, bucketExpiry, k)
}

// expire records the expiry event of kind (once; no warning once expired)
// and queues it. done is false while an outbox entry of another process is
// still young: the index entry stays and the next check looks again.
func (s *Service) expire(ctx context.Context, verifier, id, kind string, at time.Time) (done bool, err error) {
	var fresh, leftover []delivery
	young := false
	err = s.updateRecord(ctx, verifier, id, func(r *record) error {
		fresh, leftover = nil, s.leftovers(r)
		young = len(leftover) < len(r.Outbox)
		if r.Sent[kind] {
			return errSkip
		}
		r.Sent[kind] = true
		if kind == kindExpired {
			r.Sent[kindExpiring] = true
		} else if !s.now().Before(r.ValidUntil) {
			return nil // expired already: no warning, the expired event follows
		}
		typ := TypeExpiring
		if kind == kindExpired {
			typ = TypeExpired
		}
		d, err := s.newDelivery(r, typ, eventID(r.ID, kind, 1), at, EventData{ValidUntil: r.ValidUntil})
		if err != nil {
			return err
		}
		r.Outbox = append(r.Outbox, d)
		fresh = []delivery{d}
		return nil
	})
	if err != nil && !errors.Is(err, errSkip) {
		return false, err
	}
	if err := s.flush(ctx, verifier, id, append(fresh, leftover...)); err != nil {
		return false, err
	}
	return len(fresh) > 0 || !young, nil
}
