package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	// Domain is the host or origin the presentation must be bound to: the
	// host of Requests.BaseURL (the default when empty) or its origin.
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
