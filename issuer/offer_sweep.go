package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/internal/kv"
)

// Retention of the flow's records (see Sweep).
const (
	// OfferRetention is how long an offer record is kept after it ended
	// (expired, redeemed or burned), for Status.
	OfferRetention = 30 * 24 * time.Hour
	// NonceRetention is how long a used c_nonce's marker is kept past the
	// last moment its c_nonce can be accepted: a margin for a sweeping
	// process whose clock runs ahead of the others.
	NonceRetention = time.Hour
)

// SweepStats counts what Sweep removed.
type SweepStats struct {
	Nonces    int // used c_nonce markers deleted
	Offers    int // offer records deleted
	Templates int // sealed templates erased from expired offers
}

// errKeep makes an update write nothing.
var errKeep = errors.New("issuer: nothing to sweep")

// Sweep deletes what the flow no longer needs, as of now (at most the
// service's clock), and is safe to run in several processes at once:
//
//   - A used c_nonce's marker, once now is past its expiry (use + NonceTTL)
//     plus ProofSkew plus NonceRetention. checkNonce refuses a c_nonce more
//     than NonceTTL after the time embedded in it, and accepted it at the
//     use only if that time was at most ProofSkew ahead, so after expiry +
//     ProofSkew no process whose clock is within NonceRetention of this
//     one accepts it again: it is refused as expired, not replayed. A use
//     that passed checkNonce before the sweep and writes its marker after
//     is refused by useNonce, which checks the age again once it wrote it.
//   - An offer record (with it the code's and access token's hashes and the
//     sealed template: there is no other index) OfferRetention after it
//     ended: after its expiry, its access token's and its redemption,
//     whichever is last. Until then Status reports it as before; after, it
//     is ErrNotFound, and its code and token are refused as unknown. Offer
//     ids come from fresh random references, so none is ever recreated.
//   - The sealed template of an offer that expired unused (offered past its
//     expiry, or token or issuing past its access token's): no request can
//     open it any more. Issued and burned offers have none.
//
// Deleting a key another process deleted first is not an error. On an
// error Sweep stops and returns what it removed so far.
func (o *Offers) Sweep(ctx context.Context, now time.Time) (SweepStats, error) {
	if clock := o.svc.now(); now.After(clock) {
		now = clock
	}
	var st SweepStats
	var err error
	if st.Nonces, err = o.sweepNonces(ctx, now); err != nil {
		return st, err
	}
	st.Offers, st.Templates, err = o.sweepOffers(ctx, now)
	return st, err
}

func (o *Offers) sweepNonces(ctx context.Context, now time.Time) (int, error) {
	var old []string
	err := o.svc.kv.List(ctx, bucketNonces, "", func(key string, v []byte) error {
		var exp time.Time
		if exp.UnmarshalText(v) == nil && exp.Add(ProofSkew+NonceRetention).Before(now) {
			old = append(old, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list used c_nonces: %w", err)
	}
	return o.deleteKeys(ctx, bucketNonces, old)
}

func (o *Offers) sweepOffers(ctx context.Context, now time.Time) (deleted, erased int, err error) {
	var old, lapsed []string
	err = o.svc.kv.List(ctx, bucketOffers, "", func(key string, v []byte) error {
		var rec offerRecord
		switch {
		case json.Unmarshal(v, &rec) != nil: // not ours to judge
		case rec.ended().Add(OfferRetention).Before(now):
			old = append(old, key)
		case rec.Sealed != nil && rec.lapsed(now):
			lapsed = append(lapsed, key)
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("failed to list credential offers: %w", err)
	}
	if deleted, err = o.deleteKeys(ctx, bucketOffers, old); err != nil {
		return deleted, 0, err
	}
	for _, id := range lapsed {
		// Decided again on the current record, which may have moved on.
		err := o.update(ctx, id, func(rec *offerRecord) error {
			if rec.Sealed == nil || !rec.lapsed(now) {
				return errKeep
			}
			rec.Sealed = nil
			return nil
		})
		switch {
		case err == nil:
			erased++
		case !errors.Is(err, errKeep) && !errors.Is(err, ErrNotFound):
			return deleted, erased, fmt.Errorf("failed to erase the template of offer %s: %w", id, err)
		}
	}
	return deleted, erased, nil
}

// ended is when the offer ended, at the latest: no state outlives its
// expiry, its access token's and its redemption.
func (rec *offerRecord) ended() time.Time {
	end := rec.Expires
	for _, t := range []time.Time{rec.TokenExpires, rec.Redeemed} {
		if t.After(end) {
			end = t
		}
	}
	return end
}

// lapsed reports whether no request can use the offer's template now.
func (rec *offerRecord) lapsed(now time.Time) bool {
	switch rec.State {
	case stateOffered:
		return !now.Before(rec.Expires)
	case stateToken, stateIssuing:
		return !now.Before(rec.TokenExpires)
	}
	return false
}

func (o *Offers) deleteKeys(ctx context.Context, bucket string, keys []string) (int, error) {
	n := 0
	for _, key := range keys {
		err := o.svc.kv.Delete(ctx, bucket, key)
		switch {
		case err == nil:
			n++
		case !errors.Is(err, kv.ErrNotFound):
			return n, fmt.Errorf("failed to delete %s/%s: %w", bucket, key, err)
		}
	}
	return n, nil
}
