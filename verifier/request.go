package verifier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
)

// Presentation requests: a verifier tenant asks a holder for credentials
// (a Query), with a single-use challenge the holder's presentation must be
// bound to, and later reads the outcome.
//
// # Answers and attempts
//
// Whoever sees a request (its QR code, its URL) can sign a presentation
// with a key of their own for its challenge and domain, so a bound
// presentation alone does not prove it comes from the holder the verifier
// wants. So only an accepted or reviewed answer consumes the challenge
// (UseChallenge) and completes the request (Complete); a rejected one is an
// attempt (AddAttempt): the request counts it and keeps the last one's
// outcome, for the verifier to see, and stays pending for its holder. A request may
// also name the DID of the holder it expects (Holder): a presentation
// signed by another DID is then not an answer at all.
//
// # Storage
//
// Requests live in the kv bucket "vp-requests" under their id; challenges in
// "vp-challenges" (who issued them, for which request, until when). A
// challenge is consumed by creating its key in "vp-challenges-used" with
// kv.Store.Create, which succeeds once across every process sharing the
// store (HSETNX in rediskv, a bbolt transaction in boltkv). Complete and
// AddAttempt change a request with kv.Store.Update (compare-and-swap), and
// neither changes one that has an outcome. Expiry is computed on read;
// Sweep deletes what expired.

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
	// MaxHolderBytes bounds a request's expected holder DID.
	MaxHolderBytes = did.MaxLength
	maxDomainBytes = 253
	randomIDBytes  = 16 // 128 bits
	randomIDChars  = 22 // their unpadded base64url length
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
	// Holder, when set, is the DID of the holder the verifier expects (at
	// most MaxHolderBytes): a presentation signed by another DID does not
	// answer the request. It is not shown to the holder.
	Holder string `json:"holder,omitempty"`
}

type requestInputJSON struct {
	Query   Query     `json:"query"`
	Domain  string    `json:"domain,omitempty"`
	TTL     *Duration `json:"ttl,omitempty"`
	Purpose string    `json:"purpose,omitempty"`
	Holder  string    `json:"holder,omitempty"`
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
	*in = RequestInput{Query: j.Query, Domain: j.Domain, Purpose: j.Purpose, Holder: j.Holder}
	if j.TTL != nil {
		in.TTL = time.Duration(*j.TTL)
	}
	return nil
}

// MarshalJSON writes TTL as "ttl", a Go duration string.
func (in RequestInput) MarshalJSON() ([]byte, error) {
	j := requestInputJSON{Query: in.Query, Domain: in.Domain, Purpose: in.Purpose, Holder: in.Holder}
	if in.TTL != 0 {
		d := Duration(in.TTL)
		j.TTL = &d
	}
	return json.Marshal(j)
}

// Request is a stored presentation request.
type Request struct {
	ID        string `json:"id"`
	Verifier  string `json:"verifier"`
	Query     Query  `json:"query"`
	Challenge string `json:"challenge"`
	Domain    string `json:"domain"`
	Purpose   string `json:"purpose,omitempty"`
	// Holder is the DID of the holder the verifier expects ("": anyone).
	Holder  string    `json:"holder,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// State is RequestPending, RequestCompleted or RequestExpired, computed
	// when the request is read.
	State   string   `json:"state"`
	Outcome *Outcome `json:"outcome,omitempty"`
	// Attempts counts the rejected answers (AddAttempt); LastAttempt is the
	// outcome of the latest. They stay when the request completes.
	Attempts    int      `json:"attempts,omitempty"`
	LastAttempt *Outcome `json:"lastAttempt,omitempty"`
}

// Outcome is the result of verifying the holder's response (or, as
// LastAttempt, a rejected attempt: Completed is when it was verified).
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
	if err := checkHolder(in.Holder); err != nil {
		return nil, err
	}
	domain, err := r.domain(in.Domain)
	if err != nil {
		return nil, err
	}
	now := r.now()
	return &Request{
		ID: randomID(), Verifier: verifierID, Query: in.Query, Challenge: randomID(),
		Domain: domain, Purpose: in.Purpose, Holder: in.Holder, Created: now, Expires: now.Add(ttl),
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
	o = r.stamp(o)
	err := r.update(ctx, id, func(req *Request) { req.Outcome = &o })
	if err != nil && !errors.Is(err, ErrRequestNotFound) && !errors.Is(err, ErrRequestCompleted) {
		return fmt.Errorf("failed to complete presentation request: %w", err)
	}
	return err
}

// AddAttempt records a rejected answer to a pending request: it counts it
// and keeps o as the request's LastAttempt (replacing the previous one),
// and the request stays pending. A completed request is never changed:
// ErrRequestCompleted (the attempt came after the answer), and
// ErrRequestNotFound. A zero o.Completed becomes now.
func (r *Requests) AddAttempt(ctx context.Context, id string, o Outcome) error {
	o = r.stamp(o)
	err := r.update(ctx, id, func(req *Request) { req.Attempts++; req.LastAttempt = &o })
	if err != nil && !errors.Is(err, ErrRequestNotFound) && !errors.Is(err, ErrRequestCompleted) {
		return fmt.Errorf("failed to record an attempt at presentation request: %w", err)
	}
	return err
}

// stamp sets a zero o.Completed to now, and nil codes to none.
func (r *Requests) stamp(o Outcome) Outcome {
	if o.Completed.IsZero() {
		o.Completed = r.now()
	}
	if o.Codes == nil {
		o.Codes = []string{}
	}
	return o
}

// update changes the stored pending request id with fn, in one
// compare-and-swap (fn may run more than once): ErrRequestNotFound, and
// ErrRequestCompleted when the request has an outcome.
func (r *Requests) update(ctx context.Context, id string, fn func(*Request)) error {
	if !wellFormedID(id) {
		return ErrRequestNotFound
	}
	return r.Store.Update(ctx, bucketRequests, id, func(old []byte) ([]byte, error) {
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
		fn(&req)
		return json.Marshal(req)
	})
}
