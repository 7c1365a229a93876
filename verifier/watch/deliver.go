package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// maxResponseBytes bounds what is read of a receiver's response.
const maxResponseBytes = 64 << 10

// maxErrorLen bounds Attempt.Error.
const maxErrorLen = 200

// delivery is one queued notification (key: verifier/watch/id).
type delivery struct {
	ID       string          `json:"id"` // the webhook-id
	Verifier string          `json:"verifier"`
	WatchID  string          `json:"watchId"`
	Type     string          `json:"type"`
	Body     json.RawMessage `json:"body"`
	Created  time.Time       `json:"created"`
	Due      time.Time       `json:"due"`
	Lease    time.Time       `json:"lease,omitzero"`
	Attempts int             `json:"attempts,omitempty"`
}

func (d delivery) key() string { return watchKey(d.Verifier, d.WatchID) + "/" + d.ID }

// inflight is the deliveries this process is attempting.
type inflight struct {
	mu   sync.Mutex
	keys map[string]bool
	wg   sync.WaitGroup
}

func (f *inflight) start(key string, limit int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if f.keys[key] || len(f.keys) >= limit {
		return false
	}
	f.keys[key] = true
	f.wg.Add(1)
	return true
}

func (f *inflight) done(key string) {
	f.mu.Lock()
	delete(f.keys, key)
	f.mu.Unlock()
	f.wg.Done()
}

// poke wakes the delivery loop.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// lease is how long a claimed delivery is left to its claimer.
func (s *Service) lease() time.Duration { return 2*s.timeout + 30*time.Second }

// deliverDue starts an attempt for every due, unclaimed delivery while
// workers are free.
func (s *Service) deliverDue(ctx context.Context) error {
	vals, keys, err := s.keys(ctx, bucketQueue, "")
	if err != nil {
		return err
	}
	now := s.now()
	for _, k := range keys {
		var d delivery
		if json.Unmarshal(vals[k], &d) != nil || d.Due.After(now) || d.Lease.After(now) {
			continue
		}
		if !s.inflight.start(k, s.workers) {
			continue
		}
		claimed, ok, err := s.claim(ctx, k, now)
		if err != nil || !ok {
			s.inflight.done(k)
			if err != nil {
				return err
			}
			continue
		}
		go func() {
			defer s.inflight.done(k)
			s.attempt(ctx, k, claimed)
		}()
	}
	return nil
}

// claim leases a due delivery to this process; ok is false when another
// process has it or it is gone.
func (s *Service) claim(ctx context.Context, key string, now time.Time) (delivery, bool, error) {
	var d delivery
	err := s.kv.Update(ctx, bucketQueue, key, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errSkip
		}
		d = delivery{}
		if err := json.Unmarshal(old, &d); err != nil {
			return nil, err
		}
		if d.Due.After(now) || d.Lease.After(now) {
			return nil, errSkip
		}
		d.Lease = now.Add(s.lease())
		return json.Marshal(d)
	})
	if errors.Is(err, errSkip) {
		return d, false, nil
	}
	return d, err == nil, err
}

// attempt sends a claimed delivery once and records the outcome.
func (s *Service) attempt(ctx context.Context, key string, d delivery) {
	r, err := s.getRecord(ctx, d.Verifier, d.WatchID)
	if errors.Is(err, ErrNotFound) {
		_ = s.deleteQuiet(ctx, bucketQueue, key) // the watch was removed
		return
	}
	if err != nil {
		s.release(ctx, key)
		return
	}
	code, after, sendErr := s.send(ctx, r, d)
	if ctx.Err() != nil {
		s.release(ctx, key) // shutting down: not an attempt
		return
	}
	if err := s.settle(ctx, key, d, code, after, sendErr); err != nil {
		s.log.WarnContext(ctx, "watch: failed to record a delivery attempt", "watch", d.WatchID, "delivery", d.ID, "err", err)
	}
}

// release gives a claimed delivery back (also after ctx ended).
func (s *Service) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = s.kv.Update(ctx, bucketQueue, key, func(old []byte) ([]byte, error) {
		var d delivery
		if old == nil || json.Unmarshal(old, &d) != nil {
			return nil, errSkip
		}
		d.Lease = time.Time{}
		return json.Marshal(d)
	})
}

// send POSTs the signed body: the status code, the Retry-After delay, or
// the failure.
func (s *Service) send(ctx context.Context, r *record, d delivery) (int, time.Duration, error) {
	if err := s.checkWebhook(r.Webhook); err != nil {
		return 0, 0, err
	}
	key, err := s.signingKey(r)
	if err != nil {
		s.log.ErrorContext(ctx, "watch: cannot sign a delivery", "watch", d.WatchID, "err", err)
		return 0, 0, errors.New("the delivery could not be signed")
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Webhook, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Credence-Webhooks/1")
	req.Header.Set("webhook-id", d.ID)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", signature(key, d.ID, ts, d.Body))
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may carry a token
		}
		return 0, 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), s.now()), nil
}

// settle records an attempt: delivered on 2xx, failed on 410 or when the
// schedule is exhausted, else rescheduled.
func (s *Service) settle(ctx context.Context, key string, d delivery, code int, after time.Duration, sendErr error) error {
	now := s.now().UTC()
	d.Attempts++
	a := Attempt{ID: d.ID, Type: d.Type, Attempt: d.Attempts, Time: now, StatusCode: code}
	switch {
	case sendErr != nil:
		a.Error = truncate(sendErr.Error())
	case code < 200 || code > 299:
		a.Error = fmt.Sprintf("HTTP %d", code)
	}
	switch {
	case a.Error == "":
		a.Result = ResultDelivered
	case code == http.StatusGone || d.Attempts > len(s.schedule):
		a.Result = ResultFailed
		s.log.WarnContext(ctx, "watch: webhook delivery failed for good", "watch", d.WatchID, "delivery", d.ID, "attempts", d.Attempts)
	default:
		a.Result = ResultRetrying
		a.NextAttempt = now.Add(s.delay(d.Attempts, after))
	}
	if err := s.logAttempt(ctx, d, a); err != nil {
		return err
	}
	if a.Result != ResultRetrying {
		return s.deleteQuiet(ctx, bucketQueue, key)
	}
	err := s.kv.Update(ctx, bucketQueue, key, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, errSkip // removed meanwhile
		}
		d.Due, d.Lease = a.NextAttempt, time.Time{}
		return json.Marshal(d)
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}
