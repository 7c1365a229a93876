package watch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// errUncounted: the verifier has no count yet.
var errUncounted = errors.New("watch: no count yet")

// reserve takes one of the verifier's maxWatches slots, or ErrLimit. The
// caller stores the watch or gives the slot back (unreserve).
func (s *Service) reserve(ctx context.Context, verifier string) error {
	return s.updateCount(ctx, verifier, func(n int) (int, error) {
		if n >= s.maxWatches {
			return 0, fmt.Errorf("%w: at most %d watches", ErrLimit, s.maxWatches)
		}
		return n + 1, nil
	})
}

// unreserve gives a slot back: after a failed Add, or once Remove deleted
// the watch.
func (s *Service) unreserve(ctx context.Context, verifier string) error {
	return s.updateCount(ctx, verifier, func(n int) (int, error) { return max(n-1, 0), nil })
}

// counted makes sure the verifier has a count, before Remove deletes a
// watch (so a first count cannot include a watch whose removal is not
// subtracted).
func (s *Service) counted(ctx context.Context, verifier string) error {
	if _, err := s.kv.Get(ctx, bucketCount, esc(verifier)); err == nil {
		return nil
	}
	return s.updateCount(ctx, verifier, func(n int) (int, error) { return n, nil })
}

// updateCount applies fn to the verifier's count in one compare-and-swap. A
// verifier without a count (none of its watches was added or removed since
// counts are kept) is counted first from its stored watches: every change
// to them makes sure the count exists before, so nothing changes them while
// they are counted, and of concurrent first counts one is kept.
func (s *Service) updateCount(ctx context.Context, verifier string, fn func(int) (int, error)) error {
	stored := -1
	for {
		err := s.kv.Update(ctx, bucketCount, esc(verifier), func(old []byte) ([]byte, error) {
			n := stored
			if old != nil {
				var err error
				if n, err = strconv.Atoi(string(old)); err != nil {
					return nil, fmt.Errorf("failed to read the watch count of %s: %w", verifier, err)
				}
			} else if n < 0 {
				return nil, errUncounted
			}
			n, err := fn(n)
			if err != nil {
				return nil, err
			}
			return []byte(strconv.Itoa(n)), nil
		})
		if !errors.Is(err, errUncounted) {
			return err
		}
		if stored, err = s.countStored(ctx, verifier); err != nil {
			return err
		}
	}
}

// countStored counts the verifier's stored watches.
func (s *Service) countStored(ctx context.Context, verifier string) (int, error) {
	n := 0
	err := s.kv.List(ctx, bucketWatches+esc(verifier), "", func(string, []byte) error {
		n++
		return nil
	})
	return n, err
}
