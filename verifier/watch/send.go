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
	"time"
)

// maxResponseBytes bounds what is read of a receiver's response.
const maxResponseBytes = 64 << 10

// send POSTs the signed body: the status code, the Retry-After delay, or
// the failure.
func (s *Service) send(ctx context.Context, r *record, d delivery) (int, time.Duration, error) {
	if err := s.checkWebhook(r.Webhook); err != nil {
		return 0, 0, err
	}
	key, err := s.signingKey(r)
	if err != nil {
		s.log.ErrorContext(ctx, "watch: cannot sign a delivery", "watch", d.WatchID, "err", err)
		return 0, 0, errSigning
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.Webhook, bytes.NewReader(d.Body))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrInvalidWebhook, err)
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
// schedule is exhausted, else rescheduled. A failure is recorded as its
// category (failure) and logged here with its details.
func (s *Service) settle(ctx context.Context, key string, d delivery, code int, after time.Duration, sendErr error) error {
	now := s.now().UTC()
	d.Attempts++
	a := Attempt{ID: d.ID, Type: d.Type, Attempt: d.Attempts, Time: now, StatusCode: code}
	switch {
	case sendErr != nil:
		a.Error = failure(sendErr)
		s.log.WarnContext(ctx, "watch: webhook delivery attempt failed", "watch", d.WatchID, "delivery", d.ID,
			"attempt", d.Attempts, "category", a.Error, "err", sendErr)
	case code < 200 || code > 299:
		a.Error = httpStatus(code)
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
