package watch

import (
	"context"
	"errors"
	"slices"

	"github.com/credence/credence/internal/kv"
)

// List returns the verifier's watches, oldest first.
func (s *Service) List(ctx context.Context, verifierID string) ([]Watch, error) {
	if verifierID == "" {
		return nil, nil
	}
	var out []Watch
	err := s.kv.List(ctx, bucketWatches+esc(verifierID), "", func(id string, v []byte) error {
		r, err := decodeRecord(id, v)
		if err != nil {
			return err
		}
		out = append(out, r.Watch)
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range out {
		out[i].state(now)
	}
	slices.SortFunc(out, func(a, b Watch) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Get returns one of the verifier's watches, or ErrNotFound.
func (s *Service) Get(ctx context.Context, verifierID, id string) (*Watch, error) {
	r, err := s.getRecord(ctx, verifierID, id)
	if err != nil {
		return nil, err
	}
	w := r.Watch
	w.state(s.now())
	return &w, nil
}

// Remove stops watching: its indexes, pending deliveries and attempt log go,
// then the watch (so an interrupted Remove can be repeated), and its slot
// is given back by the Remove that deleted it. ErrNotFound when the verifier
// has no such watch.
func (s *Service) Remove(ctx context.Context, verifierID, id string) error {
	r, err := s.getRecord(ctx, verifierID, id)
	if err != nil {
		return err
	}
	if err := s.counted(ctx, verifierID); err != nil {
		return err
	}
	key := watchKey(verifierID, id)
	for _, list := range r.lists() {
		if err := s.deleteQuiet(ctx, bucketWatchers+listHash(list), key); err != nil {
			return err
		}
	}
	for _, k := range r.expiryKeys(s.lead) {
		if err := s.deleteQuiet(ctx, bucketExpiry, k); err != nil {
			return err
		}
	}
	_, queued, err := s.keys(ctx, bucketQueue, key+"/")
	if err != nil {
		return err
	}
	for _, k := range queued {
		if err := s.deleteQuiet(ctx, bucketQueue, k); err != nil {
			return err
		}
	}
	if err := s.deleteQuiet(ctx, bucketAttempts, key); err != nil {
		return err
	}
	err = s.kv.Delete(ctx, bucketWatches+esc(verifierID), id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil // a concurrent Remove deleted it
	}
	if err != nil {
		return err
	}
	return s.unreserve(context.WithoutCancel(ctx), verifierID)
}
