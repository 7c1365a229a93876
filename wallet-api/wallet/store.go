package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
)

// The kv layout (see the package documentation). Keys are holder ids and
// wallet ids only; per-holder buckets keep one holder's listing from reading
// another's records (rediskv lists a whole bucket).
const (
	bucketHolders     = "wallet-holders"      // holder id -> holderRecord (JSON)
	bucketCredentials = "wallet-credentials/" // + holder id: credential id -> sealed credRecord
	bucketDisclosures = "wallet-disclosures/" // + holder id: disclosure id -> sealed discRecord
)

// holderVersion is the "v" of a stored holder record.
const holderVersion = 1

// holderRecord is a holder as stored. Only public metadata is in clear; the
// label is sealed under the data key, the data key under the master key.
type holderRecord struct {
	V                  int       `json:"v"`
	ID                 string    `json:"id"`
	DID                string    `json:"did"`
	VerificationMethod string    `json:"vm"`
	KeyID              string    `json:"keyId"`
	DIDMethod          string    `json:"didMethod"`
	Created            time.Time `json:"created"`
	TokenID            string    `json:"tokenId"`
	// MK is the master key id that wrapped DEK.
	MK string `json:"mk"`
	// DEK is the data key sealed by the master key; nil once shredded.
	DEK []byte `json:"dek,omitempty"`
	// Label is the label sealed by the data key.
	Label []byte `json:"label,omitempty"`
	// Credentials counts the stored credentials and reservations (never
	// fewer than are stored); Disclosures likewise. The Seqs order records
	// written in the same instant.
	Credentials   int    `json:"credentials"`
	CredentialSeq uint64 `json:"credentialSeq"`
	Disclosures   int    `json:"disclosures"`
	DisclosureSeq uint64 `json:"disclosureSeq"`
	// Deleting marks a holder whose deletion started: it is gone for
	// every operation but DeleteHolder, which finishes it.
	Deleting bool `json:"deleting,omitempty"`
}

func decodeHolder(id string, b []byte) (*holderRecord, error) {
	var r holderRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("failed to decode wallet holder %s: %w", id, err)
	}
	if r.V != holderVersion || r.ID != id {
		return nil, fmt.Errorf("%w: holder record %s", ErrCorrupt, id)
	}
	return &r, nil
}

// record reads a live holder record.
func (s *Service) record(ctx context.Context, id string) (*holderRecord, error) {
	if !validID(id, 'h') {
		return nil, fmt.Errorf("%w: %q", ErrHolderNotFound, id)
	}
	b, err := s.Store.Get(ctx, bucketHolders, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrHolderNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	r, err := decodeHolder(id, b)
	if err != nil {
		return nil, err
	}
	if r.Deleting {
		return nil, fmt.Errorf("%w: %s", ErrHolderNotFound, id)
	}
	return r, nil
}

// open reads a live holder and its data key (from the cache when the
// wrapped key is the one cached).
func (s *Service) open(ctx context.Context, id string) (*holderRecord, *dataKey, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cache := s.dekCache()
	if k := cache.get(id, r.DEK); k != nil {
		return r, k, nil
	}
	if r.MK != s.Master.ID() {
		return nil, nil, fmt.Errorf("wallet holder %s: %w (sealed under master key %s, this is %s)", id, keys.ErrWrongMasterKey, r.MK, s.Master.ID())
	}
	dek, err := s.Master.Open(r.DEK, dekAAD(id))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the data key of holder %s: %w", ErrCorrupt, id, err)
	}
	defer clear(dek)
	k, err := newDataKey(id, dek)
	if err != nil {
		return nil, nil, err
	}
	cache.put(id, r.DEK, k)
	return r, k, nil
}

// updateHolder runs fn on the live holder record in a compare-and-swap; fn
// may run more than once.
func (s *Service) updateHolder(ctx context.Context, id string, fn func(*holderRecord) error) error {
	return s.Store.Update(ctx, bucketHolders, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %s", ErrHolderNotFound, id)
		}
		r, err := decodeHolder(id, old)
		if err != nil {
			return nil, err
		}
		if r.Deleting {
			return nil, fmt.Errorf("%w: %s", ErrHolderNotFound, id)
		}
		if err := fn(r); err != nil {
			return nil, err
		}
		return json.Marshal(r)
	})
}

// reserveCredential counts one more credential, or fails with ErrLimit. It
// returns the credential's sequence number.
func (s *Service) reserveCredential(ctx context.Context, id string) (uint64, error) {
	var seq uint64
	limit := s.limit(s.maxCredentials, MaxCredentials)
	err := s.updateHolder(ctx, id, func(r *holderRecord) error {
		if r.Credentials >= limit {
			return fmt.Errorf("%w: a holder keeps at most %d credentials; delete some first", ErrLimit, limit)
		}
		r.Credentials++
		r.CredentialSeq++
		seq = r.CredentialSeq
		return nil
	})
	return seq, err
}

// reserveDisclosure counts one more disclosure and returns its sequence
// number and the count.
func (s *Service) reserveDisclosure(ctx context.Context, id string) (seq uint64, n int, err error) {
	err = s.updateHolder(ctx, id, func(r *holderRecord) error {
		r.Disclosures++
		r.DisclosureSeq++
		seq, n = r.DisclosureSeq, r.Disclosures
		return nil
	})
	return seq, n, err
}

// release uncounts n credentials or disclosures (a failed write or a
// deletion). The holder may be gone: then there is nothing to count.
func (s *Service) release(ctx context.Context, id, kind string, n int) error {
	err := s.updateHolder(context.WithoutCancel(ctx), id, func(r *holderRecord) error {
		if kind == kindCredential {
			r.Credentials = max(r.Credentials-n, 0)
		} else {
			r.Disclosures = max(r.Disclosures-n, 0)
		}
		return nil
	})
	if errors.Is(err, ErrHolderNotFound) {
		return nil
	}
	return err
}

// deleteQuiet deletes a key, ignoring a missing one.
func (s *Service) deleteQuiet(ctx context.Context, bucket, key string) error {
	if err := s.Store.Delete(ctx, bucket, key); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return err
	}
	return nil
}

// keysOf lists the keys of a bucket (collected first: a driver may hold a
// read transaction during List).
func (s *Service) keysOf(ctx context.Context, bucket string) ([]string, error) {
	var out []string
	err := s.Store.List(ctx, bucket, "", func(k string, _ []byte) error {
		out = append(out, k)
		return nil
	})
	return out, err
}
