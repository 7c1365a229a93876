package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/status"
)

// secretBytes is the size of a webhook secret (Standard Webhooks: 24 to 64).
const secretBytes = 32

// secretPrefix marks a Standard Webhooks symmetric secret.
const secretPrefix = "whsec_"

// Add watches cred (already verified by the caller) for verifierID and
// returns the watch and its webhook signing secret, which is shown only
// here. The current status bits are read now; a credential already revoked,
// suspended or expired is reported in the watch's State, not as an error.
// Errors: ErrInvalidWebhook, ErrNothingToWatch, ErrTooManyEntries, ErrLimit,
// ErrStatusUnavailable, and vc.ErrMalformed for malformed status entries.
func (s *Service) Add(ctx context.Context, verifierID string, cred vc.Credential, webhook string) (*Watch, string, error) {
	if verifierID == "" {
		return nil, "", errors.New("watch: a verifier id is required")
	}
	if err := s.checkWebhook(webhook); err != nil {
		return nil, "", err
	}
	entries, err := watchedEntries(cred)
	if err != nil {
		return nil, "", err
	}
	until, _ := cred.ValidUntil()
	if len(entries) == 0 && until.IsZero() {
		return nil, "", ErrNothingToWatch
	}
	if err := s.reserve(ctx, verifierID); err != nil {
		return nil, "", err
	}
	w, secret, err := s.add(ctx, verifierID, cred, webhook, entries, until)
	if err != nil {
		if err := s.unreserve(context.WithoutCancel(ctx), verifierID); err != nil {
			s.log.WarnContext(ctx, "watch: failed to give back a watch slot", "verifier", verifierID, "err", err)
		}
		return nil, "", err
	}
	return w, secret, nil
}

// add makes and stores the watch of Add, in a slot Add reserved.
func (s *Service) add(ctx context.Context, verifierID string, cred vc.Credential, webhook string, entries []status.Entry, until time.Time) (*Watch, string, error) {
	now := s.now().UTC()
	r := &record{Watch: Watch{ID: randomID(), Verifier: verifierID, CredentialID: credentialID(cred), Entries: entries,
		Webhook: webhook, Last: map[string]bool{}, Created: now}, Changes: map[string]int{}, ListSeq: map[string]uint64{}, Sent: map[string]bool{}}
	if !until.IsZero() {
		r.ValidUntil = until.UTC()
	}
	if err := s.readInitial(ctx, r); err != nil {
		return nil, "", err
	}
	if !r.ValidUntil.IsZero() && !now.Before(r.ValidUntil) {
		r.Sent[kindExpiring], r.Sent[kindExpired] = true, true // already expired: State says so
	}
	secret, err := s.newSecret(r)
	if err != nil {
		return nil, "", err
	}
	if err := s.store(ctx, r); err != nil && !s.stored(context.WithoutCancel(ctx), r) {
		return nil, "", err
	}
	s.poke()
	w := r.Watch
	w.state(now)
	return &w, secret, nil
}

// watchedEntries returns the revocation and suspension entries of cred.
func watchedEntries(cred vc.Credential) ([]status.Entry, error) {
	all, err := status.Entries(cred)
	if err != nil {
		return nil, err
	}
	var out []status.Entry
	for _, e := range all {
		if (e.Purpose == status.PurposeRevocation || e.Purpose == status.PurposeSuspension) && e.StatusSize() == 1 {
			out = append(out, e)
		}
	}
	if len(out) > MaxEntries {
		return nil, fmt.Errorf("%w: %d, at most %d", ErrTooManyEntries, len(out), MaxEntries)
	}
	return out, nil
}

// credentialID is the credential's id, else the digest of its JSON.
func credentialID(cred vc.Credential) string {
	if id := cred.ID(); id != "" {
		return id
	}
	b, _ := vc.Marshal(map[string]any(cred))
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// readInitial records the current bit of every entry.
func (s *Service) readInitial(ctx context.Context, r *record) error {
	for _, list := range r.lists() {
		lr, err := s.read(ctx, list)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrStatusUnavailable, list, err)
		}
		if lr.ledger {
			r.ListSeq[list] = lr.seq
		}
		for _, e := range r.Entries {
			if e.ListCredential == list {
				r.Last[EntryKey(e)] = bit(lr.bits, e.Index)
			}
		}
	}
	return nil
}

// lists returns the distinct list URLs of the watch's entries.
func (r *record) lists() []string {
	var out []string
	for _, e := range r.Entries {
		if !slices.Contains(out, e.ListCredential) {
			out = append(out, e.ListCredential)
		}
	}
	return out
}

// store writes the indexes, then the record: an interrupted Add leaves only
// index entries without a watch, which are ignored and later deleted.
func (s *Service) store(ctx context.Context, r *record) error {
	created := unixValue(s.now())
	for _, list := range r.lists() {
		h := listHash(list)
		if err := s.kv.Put(ctx, bucketWatchers+h, watchKey(r.Verifier, r.ID), created); err != nil {
			return err
		}
		// After the watcher entry: see gcList.
		if err := s.kv.Put(ctx, bucketLists, h, []byte(list)); err != nil {
			return err
		}
	}
	for _, k := range r.expiryKeys(s.lead) {
		if err := s.kv.Put(ctx, bucketExpiry, k, created); err != nil {
			return err
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.kv.Create(ctx, bucketWatches+esc(r.Verifier), r.ID, b)
}

// stored reports whether r's record is stored: after an error from store,
// the answer to a write that was applied may be what was lost.
func (s *Service) stored(ctx context.Context, r *record) bool {
	_, err := s.kv.Get(ctx, bucketWatches+esc(r.Verifier), r.ID)
	return err == nil
}

// expiryKeys are the expiry index entries of the events not yet sent.
func (r *record) expiryKeys(lead time.Duration) []string {
	if r.ValidUntil.IsZero() {
		return nil
	}
	var out []string
	if !r.Sent[kindExpiring] {
		out = append(out, expiryKey(r.ValidUntil.Add(-lead), kindExpiring, r.Verifier, r.ID))
	}
	if !r.Sent[kindExpired] {
		out = append(out, expiryKey(r.ValidUntil, kindExpired, r.Verifier, r.ID))
	}
	return out
}
