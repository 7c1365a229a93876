package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc/status"
)

// Expiry kinds (record.Sent, expiry index).
const (
	kindExpiring = "expiring"
	kindExpired  = "expired"
)

// outboxGrace is how old an outbox entry must be before a process other than
// the one that recorded it moves it to the queue (crash recovery).
const outboxGrace = time.Minute

// errSkip ends a compare-and-swap without writing.
var errSkip = errors.New("nothing to write")

// listRead is a status list as read once.
type listRead struct {
	url    string
	bits   []byte
	ledger bool
	seq    uint64  // ledger seq
	index  *uint64 // log index of seq, when an event said it
	at     time.Time
}

func bit(bits []byte, i int) bool { return registry.StatusBit(bits, i) }

// read reads a list from the ledger, else from the ListSource.
func (s *Service) read(ctx context.Context, list string) (listRead, error) {
	if lr, err := s.readLedger(ctx, list); !errors.Is(err, registry.ErrNotFound) {
		return lr, err
	}
	if s.source == nil {
		return listRead{}, errors.New("the list is not on the ledger and no list source is configured")
	}
	bits, err := s.source.ListBits(ctx, list)
	if err != nil {
		return listRead{}, err
	}
	return listRead{url: list, bits: bits, at: s.now()}, nil
}

// readLedger reads a list from the ledger: registry.ErrNotFound when it is
// not there (or there is no ledger).
func (s *Service) readLedger(ctx context.Context, list string) (listRead, error) {
	if s.ledger == nil {
		return listRead{}, registry.ErrNotFound
	}
	st, err := s.ledger.StatusList(ctx, list)
	if err != nil {
		return listRead{}, err
	}
	at, err := time.Parse(registry.TimeLayout, st.Time)
	if err != nil {
		at = s.now()
	}
	return listRead{url: list, bits: st.StatusList.Bits, ledger: true, seq: st.Seq, at: at}, nil
}

// checkList reads a list (only when it has watchers) and applies it to each
// of them; it returns how many watchers the list has.
func (s *Service) checkList(ctx context.Context, list string, read func(context.Context) (listRead, error)) (int, error) {
	h := listHash(list)
	vals, keys, err := s.keys(ctx, bucketWatchers+h, "")
	if err != nil || len(keys) == 0 {
		return 0, err
	}
	lr, err := read(ctx)
	if err != nil {
		return len(keys), err
	}
	for _, k := range keys {
		verifier, id, ok := splitWatchKey(k)
		if !ok {
			continue
		}
		err := s.observe(ctx, verifier, id, lr)
		switch {
		case errors.Is(err, ErrNotFound):
			if s.stale(vals[k]) {
				err = s.deleteQuiet(ctx, bucketWatchers+h, k)
			} else {
				err = nil
			}
		}
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "watch: failed to apply a status list", "watch", id, "err", err)
		}
	}
	return len(keys), nil
}

func splitWatchKey(k string) (verifier, id string, ok bool) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return "", "", false
	}
	v, err := url.PathUnescape(k[:i])
	return v, k[i+1:], err == nil && validID(k[i+1:])
}

// observe applies a list read to one watch: each changed entry bit becomes
// an outbox entry in the same compare-and-swap, then the outbox goes to the
// queue. A ledger read older than the last applied one is ignored.
func (s *Service) observe(ctx context.Context, verifier, id string, lr listRead) error {
	var fresh, leftover []delivery
	err := s.updateRecord(ctx, verifier, id, func(r *record) error {
		fresh, leftover = nil, s.leftovers(r)
		if lr.ledger && r.ListSeq[lr.url] > lr.seq {
			return errSkip
		}
		for _, e := range r.Entries {
			k := EntryKey(e)
			if e.ListCredential != lr.url || bit(lr.bits, e.Index) == r.Last[k] {
				continue
			}
			set := !r.Last[k]
			r.Last[k] = set
			r.Changes[k]++
			d, err := s.newDelivery(r, changeType(e.Purpose, set), eventID(r.ID, k, r.Changes[k]), lr.at, changeData(e, lr))
			if err != nil {
				return err
			}
			r.Outbox = append(r.Outbox, d)
			fresh = append(fresh, d)
		}
		if len(fresh) == 0 {
			return errSkip
		}
		if lr.ledger {
			r.ListSeq[lr.url] = lr.seq
		}
		return nil
	})
	if err != nil && !errors.Is(err, errSkip) {
		return err
	}
	return s.flush(ctx, verifier, id, append(fresh, leftover...))
}

func changeType(purpose string, set bool) string {
	switch {
	case !set:
		return TypeReinstated
	case purpose == status.PurposeRevocation:
		return TypeRevoked
	}
	return TypeSuspended
}

func changeData(e status.Entry, lr listRead) EventData {
	return EventData{StatusPurpose: e.Purpose, StatusListCredential: e.ListCredential,
		StatusListIndex: strconv.Itoa(e.Index), LedgerSeq: lr.seq, LedgerIndex: lr.index}
}

// eventID is the webhook-id of the n-th event of kind (an entry key or an
// expiry kind) of a watch: the same in every process and after a restart.
func eventID(watchID, kind string, n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "credence/watch/event/v1\x00%s\x00%s\x00%d", watchID, kind, n))
	return "msg_" + hex.EncodeToString(sum[:16])
}

// leftovers are outbox entries another process recorded but did not queue.
func (s *Service) leftovers(r *record) []delivery {
	var out []delivery
	for _, d := range r.Outbox {
		if s.now().Sub(d.Created) > outboxGrace {
			out = append(out, d)
		}
	}
	return out
}

// newDelivery makes the delivery of an event of r, due now.
func (s *Service) newDelivery(r *record, typ, id string, at time.Time, data EventData) (delivery, error) {
	data.WatchID, data.CredentialID = r.ID, r.CredentialID
	body, err := json.Marshal(Event{Type: typ, Timestamp: at.UTC(), Data: data})
	if err != nil {
		return delivery{}, err
	}
	now := s.now().UTC()
	return delivery{ID: id, Verifier: r.Verifier, WatchID: r.ID, Type: typ, Body: body, Created: now, Due: now,
		Host: hostOf(r.Webhook)}, nil
}

// flush moves outbox entries to the delivery queue (an entry already there
// stays as it is), then removes them from the outbox.
func (s *Service) flush(ctx context.Context, verifier, id string, ds []delivery) error {
	if len(ds) == 0 {
		return nil
	}
	for _, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := s.kv.Create(ctx, bucketQueue, d.key(), b); err != nil && !errors.Is(err, kv.ErrExists) {
			return err
		}
	}
	s.poke()
	err := s.updateRecord(ctx, verifier, id, func(r *record) error {
		n := len(r.Outbox)
		r.Outbox = slices.DeleteFunc(r.Outbox, func(o delivery) bool {
			return slices.ContainsFunc(ds, func(d delivery) bool { return d.ID == o.ID })
		})
		if len(r.Outbox) == n {
			return errSkip
		}
		return nil
	})
	if errors.Is(err, errSkip) || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
