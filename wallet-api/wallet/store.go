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

// Versions of a stored holder record ("v"). A version 1 record (written
// before the wrapped data key was bound to the holder's DID and key, see
// integrity.go) still opens, and is rewritten as version 2 when it does.
const (
	holderVersion1 = 1
	holderVersion  = 2
)

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
	// fewer than are stored), CredentialBytes their sealed size;
	// Disclosures likewise. The Seqs order records written in the same
	// instant.
	Credentials     int    `json:"credentials"`
	CredentialSeq   uint64 `json:"credentialSeq"`
	CredentialBytes int64  `json:"credentialBytes,omitempty"`
	Disclosures     int    `json:"disclosures"`
	DisclosureSeq   uint64 `json:"disclosureSeq"`
	// Deleting marks a holder whose deletion started: it is gone for
	// every operation but DeleteHolder, which finishes it.
	Deleting bool `json:"deleting,omitempty"`
}

func decodeHolder(id string, b []byte) (*holderRecord, error) {
	var r holderRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("failed to decode wallet holder %s: %w", id, err)
	}
	if (r.V != holderVersion && r.V != holderVersion1) || r.ID != id {
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
// wrapped key and the holder's identity are the ones cached). The data key
// opens only if the record's DID, key id and verification method are the
// ones it was wrapped with: a record altered in the store fails with
// ErrCorrupt. A version 1 record is upgraded (see upgrade).
func (s *Service) open(ctx context.Context, id string) (*holderRecord, *dataKey, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	cache := s.dekCache()
	if k := cache.get(id, r.DEK, r.dekAAD()); k != nil {
		return r, k, nil
	}
	if r.MK != s.Master.ID() {
		return nil, nil, fmt.Errorf("wallet holder %s: %w (sealed under master key %s, this is %s)", id, keys.ErrWrongMasterKey, r.MK, s.Master.ID())
	}
	dek, err := s.Master.Open(r.DEK, r.dekAAD())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the data key of holder %s does not open for this holder record "+
			"(its DID, key or verification method was changed, or the key is damaged): %w", ErrCorrupt, id, err)
	}
	defer clear(dek)
	k, err := newDataKey(id, dek)
	if err != nil {
		return nil, nil, err
	}
	if r.V == holderVersion1 {
		up, err := s.upgrade(ctx, r, dek)
		switch {
		case errors.Is(err, errUpgraded): // by a concurrent call: r opened, uncached
			return r, k, nil
		case err != nil:
			return nil, nil, err
		}
		r = up
	}
	cache.put(id, r.DEK, r.dekAAD(), k)
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
