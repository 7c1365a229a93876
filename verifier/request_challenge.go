package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/internal/kv"
)

type challengeRecord struct {
	Verifier string    `json:"verifier"`
	Request  string    `json:"request,omitempty"`
	Expires  time.Time `json:"expires"`
}

// NewChallenge issues a challenge for verifier verifierID (VC-API
// POST /challenges), valid for ChallengeTTL.
func (r *Requests) NewChallenge(ctx context.Context, verifierID string) (string, time.Time, error) {
	if !tenantID.MatchString(verifierID) {
		return "", time.Time{}, inputErr("verifier", "not a verifier tenant id")
	}
	ch, expires := randomID(), r.now().Add(ChallengeTTL)
	rec, _ := json.Marshal(challengeRecord{Verifier: verifierID, Expires: expires})
	if err := r.Store.Create(ctx, bucketChallenges, ch, rec); err != nil {
		return "", time.Time{}, fmt.Errorf("failed to store challenge: %w", err)
	}
	return ch, expires, nil
}

// UseChallenge consumes a challenge exactly once, across every process
// sharing the store, and returns who issued it and for which request (""
// for a NewChallenge challenge). Errors: ErrChallengeUnknown,
// ErrChallengeExpired, ErrReplay.
func (r *Requests) UseChallenge(ctx context.Context, challenge string) (verifierID, requestID string, err error) {
	return r.useChallenge(ctx, challenge, nil)
}

// UseChallengeOf is UseChallenge for the verifier owner ("" for a request
// without a tenant): a challenge of another verifier is ErrChallengeForeign
// and stays unused, so nobody can burn a challenge they were not given.
func (r *Requests) UseChallengeOf(ctx context.Context, challenge, owner string) (requestID string, err error) {
	_, requestID, err = r.useChallenge(ctx, challenge, &owner)
	return requestID, err
}

func (r *Requests) useChallenge(ctx context.Context, challenge string, owner *string) (verifierID, requestID string, err error) {
	if !wellFormedID(challenge) {
		return "", "", ErrChallengeUnknown
	}
	b, err := r.Store.Get(ctx, bucketChallenges, challenge)
	if errors.Is(err, kv.ErrNotFound) {
		return "", "", ErrChallengeUnknown
	}
	if err != nil {
		return "", "", fmt.Errorf("failed to read challenge: %w", err)
	}
	var rec challengeRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return "", "", fmt.Errorf("failed to decode challenge: %w", err)
	}
	if r.now().After(rec.Expires) {
		return "", "", ErrChallengeExpired
	}
	if owner != nil && rec.Verifier != *owner {
		return "", "", ErrChallengeForeign
	}
	used, _ := json.Marshal(r.now())
	err = r.Store.Create(ctx, bucketChallengesUsed, challenge, used)
	if errors.Is(err, kv.ErrExists) {
		return "", "", ErrReplay
	}
	if err != nil {
		return "", "", fmt.Errorf("failed to consume challenge: %w", err)
	}
	// Checked again after the marker is written: Sweep may have removed an
	// expired challenge and its marker between the read and the write.
	if r.now().After(rec.Expires) {
		return "", "", ErrChallengeExpired
	}
	return rec.Verifier, rec.Request, nil
}

// Sweep deletes the challenges (with their used markers) and requests that
// expired before before (at most now), and returns how many records it
// deleted. Completed requests are deleted too: keep before well behind now
// for as long as tenants may read outcomes.
func (r *Requests) Sweep(ctx context.Context, before time.Time) (int, error) {
	if now := r.now(); before.After(now) {
		before = now
	}
	var expired []string
	err := r.Store.List(ctx, bucketChallenges, "", func(key string, v []byte) error {
		var rec challengeRecord
		if json.Unmarshal(v, &rec) == nil && rec.Expires.Before(before) {
			expired = append(expired, key)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list challenges: %w", err)
	}
	n := 0
	for _, ch := range expired {
		// The challenge first: once it is gone no one can reach the marker.
		if err := deleteIfPresent(ctx, r.Store, bucketChallenges, ch, &n); err != nil {
			return n, err
		}
		if err := deleteIfPresent(ctx, r.Store, bucketChallengesUsed, ch, &n); err != nil {
			return n, err
		}
	}
	var old []string
	err = r.Store.List(ctx, bucketRequests, "", func(key string, v []byte) error {
		var req Request
		if json.Unmarshal(v, &req) == nil && req.Expires.Before(before) {
			old = append(old, key)
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("failed to list presentation requests: %w", err)
	}
	for _, id := range old {
		if err := deleteIfPresent(ctx, r.Store, bucketRequests, id, &n); err != nil {
			return n, err
		}
	}
	return n, nil
}

func deleteIfPresent(ctx context.Context, s kv.Store, bucket, key string, n *int) error {
	err := s.Delete(ctx, bucket, key)
	switch {
	case err == nil:
		*n++
	case !errors.Is(err, kv.ErrNotFound):
		return fmt.Errorf("failed to delete %s/%s: %w", bucket, key, err)
	}
	return nil
}
