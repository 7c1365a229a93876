package wallet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
)

// maxDisclosureBytes bounds one encoded disclosure entry.
const maxDisclosureBytes = 64 << 10

// Disclosure is one entry of a holder's disclosure log: who received what,
// when, and what came of it.
type Disclosure struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// RequestID is the verifier's request id, if any.
	RequestID string `json:"requestId,omitempty"`
	// Verifier is who received it, as the wallet knows it: the host of the
	// response_uri the presentation was sent to, else the domain it is
	// bound to (the only party that can use it). Entries recorded before
	// ClaimedVerifier existed may hold the name the request claimed.
	Verifier string `json:"verifier,omitempty"`
	// ClaimedVerifier is the name the request gave for its verifier
	// ("verifier"), as claimed by the request and not verified by anyone:
	// any request can claim any name, so show it as such, never as who
	// received the presentation.
	ClaimedVerifier string `json:"claimedVerifier,omitempty"`
	// Audience is the domain or aud the presentation was bound to.
	Audience  string `json:"audience,omitempty"`
	Challenge string `json:"challenge,omitempty"`
	// Format is the presentation format.
	Format      string                `json:"format,omitempty"`
	Credentials []DisclosedCredential `json:"credentials"`
	// Delivered: the presentation was sent; Status is the HTTP status of
	// the answer, Outcome the verifier's decision, if known.
	Delivered bool   `json:"delivered"`
	Status    int    `json:"status,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
}

// DisclosedCredential is a credential of a disclosure and what of it was
// disclosed.
type DisclosedCredential struct {
	// ID is the wallet's id of the credential.
	ID     string   `json:"id"`
	Types  []string `json:"types,omitempty"`
	Issuer string   `json:"issuer,omitempty"`
	Format string   `json:"format,omitempty"`
	// Disclosed lists the claim paths disclosed ("/credentialSubject/name")
	// of a selectively disclosable credential, [] when none was; null (nil)
	// is the whole credential.
	Disclosed []string `json:"disclosed"`
}

// discRecord is a disclosure as sealed: the entry and its sequence number.
type discRecord struct {
	Disclosure
	Seq uint64 `json:"seq"`
}

// RecordDisclosure appends an entry to a holder's disclosure log, giving it
// an ID (a caller may choose one with NewDisclosureID) and the current Time
// when they are empty. The log keeps the newest MaxDisclosures entries:
// once it grows past that by a hundredth, the oldest are deleted.
func (s *Service) RecordDisclosure(ctx context.Context, holderID string, d Disclosure) (Disclosure, error) {
	if d.ID == "" {
		d.ID = NewDisclosureID()
	}
	if d.Time.IsZero() {
		d.Time = s.now()
	}
	if !validID(d.ID, 'd') {
		return Disclosure{}, fmt.Errorf("%w: %w", ErrInvalid, &vc.InvalidError{Fields: []vc.FieldError{{Field: "/id", Detail: "a disclosure id from NewDisclosureID, or empty"}}})
	}
	_, dk, err := s.open(ctx, holderID)
	if err != nil {
		return Disclosure{}, err
	}
	seq, n, err := s.reserveDisclosure(ctx, holderID)
	if err != nil {
		return Disclosure{}, err
	}
	b, err := vc.Marshal(discRecord{Disclosure: d, Seq: seq})
	if err == nil && len(b) > maxDisclosureBytes {
		err = fmt.Errorf("%w: the disclosure entry is %d bytes encoded, the limit is %d", ErrInvalid, len(b), maxDisclosureBytes)
	}
	if err == nil {
		err = s.Store.Create(ctx, bucketDisclosures+holderID, d.ID, dk.seal(kindDisclosure, d.ID, b))
	}
	if err != nil {
		err = errors.Join(err, s.releaseDisclosures(ctx, holderID, 1))
		if errors.Is(err, kv.ErrExists) {
			return Disclosure{}, fmt.Errorf("%w: disclosure %s exists", ErrInvalid, d.ID)
		}
		return Disclosure{}, err
	}
	if limit := s.limit(s.maxDisclosures, MaxDisclosures); n > limit+max(limit/100, 1) {
		// The entry is recorded: a failed prune leaves the count above the
		// limit, so the next entry prunes again (and listings stop at it).
		_ = s.prune(ctx, dk, limit)
	}
	return d, nil
}

// NewDisclosureID returns a fresh disclosure id, for a caller that names
// an entry before recording it.
func NewDisclosureID() string { return newID('d') }

// Disclosures lists a holder's disclosure log, newest first (by Time, then
// by the order of recording), at most MaxDisclosures entries.
func (s *Service) Disclosures(ctx context.Context, holderID string) ([]Disclosure, error) {
	_, dk, err := s.open(ctx, holderID)
	if err != nil {
		return nil, err
	}
	all, err := s.disclosures(ctx, dk)
	if err != nil {
		return nil, err
	}
	all = all[:min(len(all), s.limit(s.maxDisclosures, MaxDisclosures))]
	out := make([]Disclosure, len(all))
	for i := range all {
		out[i] = all[i].Disclosure
	}
	return out, nil
}

// disclosures decrypts every entry of the log, newest first.
func (s *Service) disclosures(ctx context.Context, dk *dataKey) ([]discRecord, error) {
	var all []discRecord
	err := s.Store.List(ctx, bucketDisclosures+dk.holder, "", func(id string, b []byte) error {
		r, err := decodeDisclosure(dk, id, b)
		all = append(all, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b discRecord) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.Seq, a.Seq))
	})
	return all, nil
}

func decodeDisclosure(dk *dataKey, id string, sealed []byte) (discRecord, error) {
	pt, err := dk.open(kindDisclosure, id, sealed)
	if err != nil {
		return discRecord{}, err
	}
	var r discRecord
	if err := json.Unmarshal(pt, &r); err != nil || r.ID != id {
		return discRecord{}, fmt.Errorf("%w: disclosure %s does not decode", ErrCorrupt, id)
	}
	return r, nil
}

// prune deletes the oldest entries beyond limit. Concurrent prunes may
// both delete an entry: only deletions that happened are uncounted.
func (s *Service) prune(ctx context.Context, dk *dataKey, limit int) error {
	all, err := s.disclosures(ctx, dk)
	if err != nil || len(all) <= limit {
		return err
	}
	deleted := 0
	for _, r := range all[limit:] {
		err := s.Store.Delete(ctx, bucketDisclosures+dk.holder, r.ID)
		if err == nil {
			deleted++
		} else if !errors.Is(err, kv.ErrNotFound) {
			return errors.Join(err, s.releaseDisclosures(ctx, dk.holder, deleted))
		}
	}
	return s.releaseDisclosures(ctx, dk.holder, deleted)
}

// UpdateDisclosure changes a logged entry (typically Delivered, Status and
// Outcome once the verifier answered) with fn in a compare-and-swap; fn
// may run more than once. ID and Time cannot change.
func (s *Service) UpdateDisclosure(ctx context.Context, holderID, id string, fn func(*Disclosure) error) (Disclosure, error) {
	_, dk, err := s.open(ctx, holderID)
	if err != nil {
		return Disclosure{}, err
	}
	if !validID(id, 'd') {
		return Disclosure{}, fmt.Errorf("%w: %q", ErrDisclosureNotFound, id)
	}
	var out Disclosure
	err = s.Store.Update(ctx, bucketDisclosures+holderID, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrDisclosureNotFound, id)
		}
		r, err := decodeDisclosure(dk, id, old)
		if err != nil {
			return nil, err
		}
		created := r.Time
		if err := fn(&r.Disclosure); err != nil {
			return nil, err
		}
		r.ID, r.Time = id, created
		b, err := vc.Marshal(r)
		if err != nil {
			return nil, err
		}
		if len(b) > maxDisclosureBytes {
			return nil, fmt.Errorf("%w: the disclosure entry is %d bytes encoded, the limit is %d", ErrInvalid, len(b), maxDisclosureBytes)
		}
		out = r.Disclosure
		return dk.seal(kindDisclosure, id, b), nil
	})
	return out, err
}
