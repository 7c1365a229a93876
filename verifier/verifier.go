// Package verifier decides whether to rely on credentials. A verification is
// a pipeline of named checks, each with a result and stable reason codes:
// the proof (any format Credence issues, plus VC 1.1 JSON-LD and JWT), the
// validity window, and the status lists (Bitstring Status List, checked
// against the ledger). Errors reject; warnings never change the decision.
package verifier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// Check names.
const (
	CheckProof    = "proof"
	CheckValidity = "validity"
	CheckStatus   = "status"
)

// Reason codes of the proof and validity checks (DOMAIN.md, rules 1 and 4).
const (
	CodeMalformed         = "CREDENTIAL_MALFORMED"
	CodeProofInvalid      = "PROOF_INVALID"
	CodeIssuerNotResolved = "ISSUER_NOT_RESOLVED"
	CodeNotYetValid       = "CREDENTIAL_NOT_YET_VALID"
	CodeExpired           = "CREDENTIAL_EXPIRED"
)

// Decisions.
const (
	Accept = "accept"
	Review = "review"
	Reject = "reject"
)

// Problem is one error or warning of a verification.
type Problem struct {
	Code    string `json:"code"`
	Check   string `json:"check"`
	Message string `json:"message"`
}

// CheckResult is the outcome of one named check.
type CheckResult struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Status holds the status check's per-entry outcomes.
	Status []StatusResult `json:"status,omitempty"`
}

// Result is a verification's outcome (the VC-API verify response, with the
// per-check detail and the decision added).
type Result struct {
	Verified bool          `json:"verified"`
	Decision string        `json:"decision"`
	Checks   []string      `json:"checks"`
	Warnings []Problem     `json:"warnings"`
	Errors   []Problem     `json:"errors"`
	Results  []CheckResult `json:"results"`
	// Format and VerificationMethod describe the proof that verified.
	Format             string        `json:"format,omitempty"`
	VerificationMethod string        `json:"verificationMethod,omitempty"`
	Credential         vc.Credential `json:"-"`
}

// Verifier runs the checks.
type Verifier struct {
	Engine *secure.Engine
	Keys   vc.KeyResolver
	Status *StatusChecker
	// Skew is tolerated on validity times and proof times.
	Skew time.Duration
	Now  func() time.Time
}

// Options of one verification.
type Options struct {
	// Checks limits the checks run (empty: all).
	Checks []string
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (o Options) wants(name string) bool {
	if len(o.Checks) == 0 {
		return true
	}
	for _, c := range o.Checks {
		if c == name {
			return true
		}
	}
	return false
}

// VerifyCredential verifies one credential (a parsed JSON object or a
// compact token; see secure.ParseInput).
func (v *Verifier) VerifyCredential(ctx context.Context, input any, o Options) *Result {
	r := &Result{Checks: []string{}, Warnings: []Problem{}, Errors: []Problem{}, Results: []CheckResult{}}
	now := v.now()
	got, err := v.Engine.VerifyCredential(ctx, input, v.Keys, secure.VerifyOptions{Now: now, Skew: v.Skew})
	r.Checks = append(r.Checks, CheckProof)
	if err != nil {
		code := CodeProofInvalid
		switch {
		case errors.Is(err, vc.ErrMalformed):
			code = CodeMalformed
		case errors.Is(err, vc.ErrKey):
			code = CodeIssuerNotResolved
		}
		r.fail(CheckProof, code, err.Error())
		r.finish()
		return r
	}
	r.pass(CheckProof)
	r.Format, r.VerificationMethod, r.Credential = got.Format, got.VerificationMethod, got.Credential
	if o.wants(CheckValidity) {
		v.validity(r, got.Credential, now)
	}
	if o.wants(CheckStatus) {
		v.status(ctx, r, got.Credential)
	}
	r.finish()
	return r
}

func (v *Verifier) validity(r *Result, c vc.Credential, now time.Time) {
	r.Checks = append(r.Checks, CheckValidity)
	ok := true
	if from, has := c.ValidFrom(); has && now.Add(v.Skew).Before(from) {
		r.fail(CheckValidity, CodeNotYetValid, fmt.Sprintf("valid from %s", from.UTC().Format(time.RFC3339)))
		ok = false
	}
	if until, has := c.ValidUntil(); has && now.Add(-v.Skew).After(until) {
		r.fail(CheckValidity, CodeExpired, fmt.Sprintf("expired at %s", until.UTC().Format(time.RFC3339)))
		ok = false
	}
	if ok {
		r.pass(CheckValidity)
	}
}

func (v *Verifier) status(ctx context.Context, r *Result, c vc.Credential) {
	if _, has := c["credentialStatus"]; !has {
		return
	}
	r.Checks = append(r.Checks, CheckStatus)
	if v.Status == nil {
		r.fail(CheckStatus, CodeStatusUnavailable, "this verifier has no status checker: a credential with status cannot be accepted")
		return
	}
	res, err := v.Status.Check(ctx, c)
	if err != nil {
		r.fail(CheckStatus, CodeMalformed, err.Error())
		return
	}
	if len(res) == 0 {
		r.fail(CheckStatus, CodeStatusUnsupported, "credentialStatus has no entry this verifier can check")
		return
	}
	passed := true
	for _, s := range res {
		switch {
		case s.Code == "":
		case s.Warning:
			r.Warnings = append(r.Warnings, Problem{Code: s.Code, Check: CheckStatus, Message: s.Detail})
		default:
			r.Errors = append(r.Errors, Problem{Code: s.Code, Check: CheckStatus, Message: s.Detail})
			passed = false
		}
	}
	r.Results = append(r.Results, CheckResult{Name: CheckStatus, Passed: passed, Status: res})
}

func (r *Result) pass(name string) {
	r.Results = append(r.Results, CheckResult{Name: name, Passed: true})
}

func (r *Result) fail(name, code, msg string) {
	r.Errors = append(r.Errors, Problem{Code: code, Check: name, Message: msg})
	for i := range r.Results {
		if r.Results[i].Name == name {
			r.Results[i].Passed = false
			return
		}
	}
	r.Results = append(r.Results, CheckResult{Name: name, Passed: false})
}

func (r *Result) finish() {
	r.Verified = len(r.Errors) == 0
	switch {
	case !r.Verified:
		r.Decision = Reject
	default:
		r.Decision = Accept
	}
}

// Has reports whether the result carries an error with code.
func (r *Result) Has(code string) bool {
	for _, p := range r.Errors {
		if p.Code == code {
			return true
		}
	}
	return false
}
