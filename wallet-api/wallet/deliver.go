package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// StatusError is an HTTP status a verifier answered that the wallet cannot
// use (an ErrDelivery).
type StatusError struct{ Status int }

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d", e.Status) }

// FetchRequest reads a presentation request from a URI: https, or http
// with AllowHTTP (ErrRequest), also for every redirect (ErrDelivery).
func (p *Presenter) FetchRequest(ctx context.Context, uri string) (*Request, error) {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: request uri must be an http(s) URL", ErrRequest)
	}
	if !p.schemeAllowed(u) {
		return nil, fmt.Errorf("%w: request uri must be https: requests are not fetched over plain http", ErrRequest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	req.Header.Set("Accept", "application/json")
	client := *p.HTTP
	next := client.CheckRedirect
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if !p.schemeAllowed(r.URL) {
			return fmt.Errorf("redirect to %s: not https", r.URL.Scheme)
		}
		if next != nil {
			return next(r, via)
		}
		if len(via) >= 10 { // as net/http's default
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching the request: %w", ErrDelivery, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, MaxRequestBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: reading the request: %w", ErrDelivery, err)
	case res.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: the verifier says the request is closed (completed or expired)", ErrRequest)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: fetching the request: %w", ErrDelivery, &StatusError{res.StatusCode})
	case len(body) > MaxRequestBytes:
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrRequest, MaxRequestBytes)
	}
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	return &r, nil
}

// schemeAllowed admits https, and http with AllowHTTP.
func (p *Presenter) schemeAllowed(u *url.URL) bool {
	return u.Scheme == "https" || u.Scheme == "http" && p.AllowHTTP
}

// send posts {"verifiablePresentation": vp} to the response URI (checked
// by checkRequest).
func (p *Presenter) send(ctx context.Context, uri string, vp any) (*Response, error) {
	body, err := json.Marshal(map[string]any{"verifiablePresentation": vp})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDelivery, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	// A presentation goes to the response URI the request named and nowhere
	// else: a redirect is answered as it is, not followed.
	client := *p.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: sending the presentation: %w", ErrDelivery, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes))
	if err != nil {
		return &Response{Status: res.StatusCode}, fmt.Errorf("%w: reading the verifier's answer: %w", ErrDelivery, err)
	}
	r := &Response{Status: res.StatusCode}
	if json.Valid(b) {
		r.Body = b
	}
	return r, nil
}

// outcomeOf reads the verifier's decision from its answer: "decision" of a
// Credence result, else verified true/false, else the problem type.
func outcomeOf(body []byte) string {
	var r struct {
		Decision string `json:"decision"`
		Verified *bool  `json:"verified"`
		Code     string `json:"code"`
		Type     string `json:"type"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	switch {
	case r.Decision != "":
		return r.Decision
	case r.Verified != nil && *r.Verified:
		return "verified"
	case r.Verified != nil:
		return "not verified"
	case r.Code != "":
		return r.Code
	}
	return r.Type
}
