package watch

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/credence/credence/internal/kv"
)

// Delivery results (Attempt.Result).
const (
	ResultDelivered = "delivered"
	ResultRetrying  = "retrying"
	ResultFailed    = "failed"
)

// Attempt is one delivery attempt.
type Attempt struct {
	// ID is the webhook-id (the same for every attempt of one event).
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Attempt    int       `json:"attempt"`
	Time       time.Time `json:"time"`
	StatusCode int       `json:"statusCode,omitempty"`
	// Error is why it failed: "HTTP status N" or a Fail constant.
	Error string `json:"error,omitempty"`
	// Result is delivered, retrying (at NextAttempt) or failed.
	Result      string    `json:"result"`
	NextAttempt time.Time `json:"nextAttempt,omitzero"`
}

// Deliveries returns the latest delivery attempts of a watch, newest first
// (at most MaxAttemptLog), or ErrNotFound. An attempt's Error is a category
// (the Fail constants, or "HTTP status N"), never the raw error.
func (s *Service) Deliveries(ctx context.Context, verifierID, id string) ([]Attempt, error) {
	if _, err := s.getRecord(ctx, verifierID, id); err != nil {
		return nil, err
	}
	b, err := s.kv.Get(ctx, bucketAttempts, watchKey(verifierID, id))
	if errors.Is(err, kv.ErrNotFound) {
		return []Attempt{}, nil
	}
	if err != nil {
		return nil, err
	}
	var log []Attempt
	if err := json.Unmarshal(b, &log); err != nil {
		return nil, err
	}
	slices.Reverse(log)
	for i := range log {
		log[i].Error = shown(log[i])
	}
	return log, nil
}

// logAttempt appends to the watch's attempt log (bounded).
func (s *Service) logAttempt(ctx context.Context, d delivery, a Attempt) error {
	return s.kv.Update(ctx, bucketAttempts, watchKey(d.Verifier, d.WatchID), func(old []byte) ([]byte, error) {
		var log []Attempt
		if old != nil {
			if err := json.Unmarshal(old, &log); err != nil {
				log = nil
			}
		}
		log = append(log, a)
		if n := len(log) - MaxAttemptLog; n > 0 {
			log = log[n:]
		}
		return json.Marshal(log)
	})
}

// delay is the wait before the retry after attempt n: the schedule's, with
// jitter, or the receiver's Retry-After when longer.
func (s *Service) delay(n int, after time.Duration) time.Duration {
	d := s.schedule[min(n, len(s.schedule))-1]
	if s.jitter {
		d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
	return max(d, after)
}

// maxRetryAfter bounds a receiver's Retry-After.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads a Retry-After header (seconds or an HTTP date) as a delay
// in [0, maxRetryAfter]; 0 when absent or invalid.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
