package verifier

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/credence/credence/internal/kv"
)

// Presentation requests: a verifier tenant asks a holder for credentials
// (a Query), with a single-use challenge the holder's presentation must be
// bound to, and later reads the outcome.
//
// # Storage
//
// Requests live in the kv bucket "vp-requests" under their id; challenges in
// "vp-challenges" (who issued them, for which request, until when). A
// challenge is consumed by creating its key in "vp-challenges-used" with
// kv.Store.Create, which succeeds once across every process sharing the
// store (HSETNX in rediskv, a bbolt transaction in boltkv). Expiry is
// computed on read; Sweep deletes what expired.

const (
	bucketRequests       = "vp-requests"
	bucketChallenges     = "vp-challenges"
	bucketChallengesUsed = "vp-challenges-used"
)

// Limits and defaults of requests.
const (
	DefaultRequestTTL = 10 * time.Minute
	MinRequestTTL     = time.Minute
	MaxRequestTTL     = 24 * time.Hour
	// ChallengeTTL is the lifetime of a challenge from NewChallenge.
	ChallengeTTL    = 10 * time.Minute
	MaxPurposeRunes = 256
	maxDomainBytes  = 253
	randomIDBytes   = 16 // 128 bits
	randomIDChars   = 22 // their unpadded base64url length
)

// States of a request.
const (
	RequestPending   = "pending"
	RequestCompleted = "completed"
	RequestExpired   = "expired"
)

// Errors of requests and challenges; test with errors.Is.
var (
	// ErrInvalidRequest is wrapped by every *InputError.
	ErrInvalidRequest   = errors.New("invalid presentation request")
	ErrRequestNotFound  = errors.New("presentation request not found")
	ErrRequestCompleted = errors.New("presentation request already completed")
	ErrChallengeUnknown = errors.New("unknown challenge")
	ErrChallengeExpired = errors.New("challenge expired")
	// ErrChallengeForeign is a challenge issued to another verifier.
	ErrChallengeForeign = errors.New("challenge issued to another verifier")
	// ErrReplay is a challenge that was already used.
	ErrReplay = errors.New("challenge already used")
)

// InputError is an invalid field of a request; it wraps ErrInvalidRequest.
type InputError struct {
	Field  string // e.g. "query.dcql_query.credentials[0].format"
	Detail string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidRequest, e.Field, e.Detail)
}

func (e *InputError) Unwrap() error { return ErrInvalidRequest }

func inputErr(field, detail string) error { return &InputError{Field: field, Detail: detail} }

// RequestInput is what a verifier asks for.
type RequestInput struct {
	Query Query `json:"query"`
	// Domain is the host or origin the presentation must be bound to;
	// empty means the host of Requests.BaseURL.
	Domain string `json:"domain,omitempty"`
	// TTL is the request's lifetime, in JSON "ttl" as a Go duration string
	// ("10m", "2h"); zero means DefaultRequestTTL.
	TTL time.Duration `json:"-"`
	// Purpose is shown to the holder.
	Purpose string `json:"purpose,omitempty"`
}

type requestInputJSON struct {
	Query   Query     `json:"query"`
	Domain  string    `json:"domain,omitempty"`
	TTL     *Duration `json:"ttl,omitempty"`
	Purpose string    `json:"purpose,omitempty"`
}

// UnmarshalJSON reads a RequestInput strictly: unknown members (here and
// in query) are errors.
func (in *RequestInput) UnmarshalJSON(b []byte) error {
	var j requestInputJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return err
	}
	*in = RequestInput{Query: j.Query, Domain: j.Domain, Purpose: j.Purpose}
	if j.TTL != nil {
		in.TTL = time.Duration(*j.TTL)
	}
	return nil
}

// MarshalJSON writes TTL as "ttl", a Go duration string.
func (in RequestInput) MarshalJSON() ([]byte, error) {
	j := requestInputJSON{Query: in.Query, Domain: in.Domain, Purpose: in.Purpose}
	if in.TTL != 0 {
		d := Duration(in.TTL)
		j.TTL = &d
	}
	return json.Marshal(j)
}

// Request is a stored presentation request.
type Request struct {
	ID        string    `json:"id"`
	Verifier  string    `json:"verifier"`
	Query     Query     `json:"query"`
	Challenge string    `json:"challenge"`
	Domain    string    `json:"domain"`
	Purpose   string    `json:"purpose,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// State is RequestPending, RequestCompleted or RequestExpired, computed
	// when the request is read.
	State   string   `json:"state"`
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Outcome is the result of verifying the holder's response.
type Outcome struct {
	Verified  bool            `json:"verified"`
	Decision  string          `json:"decision"`
	Codes     []string        `json:"codes"`
	Completed time.Time       `json:"completed"`
	Result    json.RawMessage `json:"result,omitempty"`
}

// Requests stores presentation requests and challenges.
type Requests struct {
	Store kv.Store
	Now   func() time.Time
	// BaseURL is the public URL of the service; its host is the default
	// domain of a request.
	BaseURL string
}

func (r *Requests) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

type challengeRecord struct {
	Verifier string    `json:"verifier"`
	Request  string    `json:"request,omitempty"`
	Expires  time.Time `json:"expires"`
}

// Create stores a new pending request of verifier verifierID, with a fresh
// challenge. Invalid input is an *InputError.
func (r *Requests) Create(ctx context.Context, verifierID string, in RequestInput) (*Request, error) {
	if !tenantID.MatchString(verifierID) {
		return nil, inputErr("verifier", "not a verifier tenant id")
	}
	if err := in.Query.Validate(); err != nil {
		var ie *InputError
		if errors.As(err, &ie) && ie.Field != "query" {
			ie.Field = "query." + ie.Field
		}
		return nil, err
	}
	req, err := r.newRequest(verifierID, in)
	if err != nil {
		return nil, err
	}
	rec, _ := json.Marshal(challengeRecord{Verifier: verifierID, Request: req.ID, Expires: req.Expires})
	if err := r.Store.Create(ctx, bucketChallenges, req.Challenge, rec); err != nil {
		return nil, fmt.Errorf("failed to store challenge: %w", err)
	}
	b, _ := json.Marshal(req)
	if err := r.Store.Create(ctx, bucketRequests, req.ID, b); err != nil {
		_ = r.Store.Delete(context.WithoutCancel(ctx), bucketChallenges, req.Challenge)
		return nil, fmt.Errorf("failed to store presentation request: %w", err)
	}
	req.State = RequestPending
	return req, nil
}

func (r *Requests) newRequest(verifierID string, in RequestInput) (*Request, error) {
	ttl := in.TTL
	if ttl == 0 {
		ttl = DefaultRequestTTL
	}
	if ttl < MinRequestTTL || ttl > MaxRequestTTL {
		return nil, inputErr("ttl", fmt.Sprintf("must be from %s to %s", MinRequestTTL, MaxRequestTTL))
	}
	if err := checkPurpose(in.Purpose); err != nil {
		return nil, err
	}
	domain, err := r.domain(in.Domain)
	if err != nil {
		return nil, err
	}
	now := r.now()
	return &Request{
		ID: randomID(), Verifier: verifierID, Query: in.Query, Challenge: randomID(),
		Domain: domain, Purpose: in.Purpose, Created: now, Expires: now.Add(ttl),
	}, nil
}

func checkPurpose(p string) error {
	switch {
	case !utf8.ValidString(p):
		return inputErr("purpose", "must be valid UTF-8")
	case utf8.RuneCountInString(p) > MaxPurposeRunes:
		return inputErr("purpose", fmt.Sprintf("must be at most %d characters", MaxPurposeRunes))
	case strings.ContainsFunc(p, unicode.IsControl):
		return inputErr("purpose", "must not contain control characters")
	}
	return nil
}

// domain checks a requested domain (a host[:port] or an http(s) origin)
// and normalises it to lower case, or defaults it to the BaseURL's host.
func (r *Requests) domain(d string) (string, error) {
	if d == "" {
		u, err := url.Parse(r.BaseURL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("verifier: no domain given and BaseURL %q has no host", r.BaseURL)
		}
		return strings.ToLower(u.Host), nil
	}
	if len(d) > maxDomainBytes+len("https://:65535") {
		return "", inputErr("domain", "too long")
	}
	if scheme, rest, ok := strings.Cut(d, "://"); ok {
		if scheme != "https" && scheme != "http" || !validHostPort(rest) {
			return "", inputErr("domain", "must be a host or an http(s) origin such as https://hospital.example")
		}
		return scheme + "://" + strings.ToLower(rest), nil
	}
	if !validHostPort(d) {
		return "", inputErr("domain", "must be a host or an http(s) origin such as https://hospital.example")
	}
	return strings.ToLower(d), nil
}

// validHostPort accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, with an optional port; nothing else (no path, user info, query
// or fragment).
func validHostPort(s string) bool {
	host, bracketed := s, false
	if h, port, err := net.SplitHostPort(s); err == nil {
		if !validPort(port) {
			return false
		}
		host, bracketed = h, strings.HasPrefix(s, "[")
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host, bracketed = s[1:len(s)-1], true
	}
	ip := net.ParseIP(host)
	switch {
	case bracketed:
		return ip != nil && strings.Contains(host, ":")
	case ip != nil:
		return ip.To4() != nil && !strings.Contains(host, ":")
	}
	return validDNSName(host)
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

func validDNSName(h string) bool {
	if h == "" || len(h) > maxDomainBytes {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}

// randomID is 128 random bits, unpadded base64url.
func randomID() string {
	var b [randomIDBytes]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// wellFormedID reports whether s could be a randomID, so malformed ids
// never reach the store.
func wellFormedID(s string) bool {
	if len(s) != randomIDChars {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == randomIDBytes
}

// Get returns the request with its State computed, or ErrRequestNotFound.
func (r *Requests) Get(ctx context.Context, id string) (*Request, error) {
	if !wellFormedID(id) {
		return nil, ErrRequestNotFound
	}
	b, err := r.Store.Get(ctx, bucketRequests, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, ErrRequestNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read presentation request: %w", err)
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("failed to decode presentation request %s: %w", id, err)
	}
	switch {
	case req.Outcome != nil:
		req.State = RequestCompleted
	case r.now().After(req.Expires):
		req.State = RequestExpired
	default:
		req.State = RequestPending
	}
	return &req, nil
}

// Complete records the outcome of a request, once: ErrRequestNotFound,
// ErrRequestCompleted. A zero o.Completed becomes now.
func (r *Requests) Complete(ctx context.Context, id string, o Outcome) error {
	if !wellFormedID(id) {
		return ErrRequestNotFound
	}
	if o.Completed.IsZero() {
		o.Completed = r.now()
	}
	if o.Codes == nil {
		o.Codes = []string{}
	}
	err := r.Store.Update(ctx, bucketRequests, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, ErrRequestNotFound
		}
		var req Request
		if err := json.Unmarshal(old, &req); err != nil {
			return nil, fmt.Errorf("failed to decode presentation request %s: %w", id, err)
		}
		if req.Outcome != nil {
			return nil, ErrRequestCompleted
		}
		req.Outcome = &o
		return json.Marshal(req)
	})
	if err != nil && !errors.Is(err, ErrRequestNotFound) && !errors.Is(err, ErrRequestCompleted) {
		return fmt.Errorf("failed to complete presentation request: %w", err)
	}
	return err
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
