// Package verifier decides whether to rely on credentials. A verification is
// a pipeline of named checks, each with a result and stable reason codes:
// the proof (any format Credence issues, plus VC 1.1 JSON-LD and JWT), the
// validity window, the status lists (Bitstring Status List, checked against
// the ledger), the subject's schema, and — under a verifier tenant's policy —
// the issuer's accreditation (the ledger's trust registry), holder binding
// and the hospital's rules of DOMAIN.md. Presentations add their own proof
// (challenge, domain) and what the presentation request asked. Errors
// reject, review findings ask a committee, warnings never change the
// decision.
package verifier

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/sdjwt"
	"github.com/credence/credence/vc/secure"
)

// Check names.
const (
	CheckProof    = "proof"    // the credential's (or presentation's) securing mechanism
	CheckValidity = "validity" // validFrom ≤ now ≤ validUntil (rule 4)
	CheckStatus   = "status"   // status lists (rule 3)
	CheckSchema   = "schema"   // the healthcare subject schemas
	CheckIssuer   = "issuer"   // accreditation for type and jurisdiction (rules 1, 2)
	CheckHolder   = "holder"   // the holder is every credential's subject (rule 5)
	CheckRules    = "rules"    // the hospital's rules 6–15
	CheckQuery    = "query"    // the presentation answers its request
)

// AllChecks lists the check names.
func AllChecks() []string {
	return []string{CheckProof, CheckValidity, CheckStatus, CheckSchema, CheckIssuer, CheckHolder, CheckRules, CheckQuery}
}

// Reason codes of the proof and validity checks (DOMAIN.md, rules 1 and 4).
const (
	CodeMalformed         = "CREDENTIAL_MALFORMED"
	CodeProofInvalid      = "PROOF_INVALID"
	CodeIssuerNotResolved = "ISSUER_NOT_RESOLVED"
	CodeNotYetValid       = "CREDENTIAL_NOT_YET_VALID"
	CodeExpired           = "CREDENTIAL_EXPIRED"
	CodeSchemaInvalid     = "CREDENTIAL_SCHEMA_INVALID"
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
	// Credential names the credential of a presentation it is about (its
	// id, or "verifiableCredential[i]").
	Credential string `json:"credential,omitempty"`
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
	// Findings are the hospital's rules' outcomes (with a policy that
	// runs them).
	Findings []Finding `json:"findings,omitempty"`
	// Format and VerificationMethod describe the proof that verified.
	Format             string        `json:"format,omitempty"`
	VerificationMethod string        `json:"verificationMethod,omitempty"`
	Credential         vc.Credential `json:"-"`
	// status is the status check's outcome, for the rules.
	status []StatusResult
}

// Verifier runs the checks.
type Verifier struct {
	Engine *secure.Engine
	Keys   vc.KeyResolver
	Status *StatusChecker
	// Trust is the ledger's trust registry (registry.TrustIndex); nil
	// recognises only a policy's own TrustedIssuers.
	Trust Accreditations
	// Skew is tolerated on validity times and proof times.
	Skew time.Duration
	Now  func() time.Time
}

// Options of one verification.
type Options struct {
	// Checks limits the checks run further (empty: the policy's).
	Checks []string
	// Policy is the verifier tenant's (the zero value: proof, validity,
	// status and schema only).
	Policy PolicyConfig
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (o Options) wants(name string) bool {
	return o.Policy.wants(name) && (len(o.Checks) == 0 || slices.Contains(o.Checks, name))
}

func newResult() *Result {
	return &Result{Checks: []string{}, Warnings: []Problem{}, Errors: []Problem{}, Results: []CheckResult{}}
}

// VerifyCredential verifies one credential (a parsed JSON object or a
// compact token; see secure.ParseInput).
func (v *Verifier) VerifyCredential(ctx context.Context, input any, o Options) *Result {
	r := v.credential(ctx, input, o, v.now())
	if r.Credential != nil && (o.wants(CheckIssuer) || o.wants(CheckRules)) {
		ev := Evidence{Credentials: []Credential{CredentialFromVC(r.Credential, true, r.status)}, Now: v.now()}
		v.judge(r, ev, o, "")
	}
	r.finish()
	return r
}

// credential runs the checks of one credential that need no other
// credential: proof, validity, status, schema. It does not decide.
func (v *Verifier) credential(ctx context.Context, input any, o Options, now time.Time) *Result {
	r := newResult()
	if o.Policy.StatusMaxAge > 0 {
		ctx = WithMaxAge(ctx, time.Duration(o.Policy.StatusMaxAge))
	}
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
	if o.wants(CheckSchema) {
		schema(r, got.Credential, got.Format)
	}
	return r
}

// schema validates the subject of every healthcare type the credential
// declares. A selectively disclosed SD-JWT shows part of its subject by
// design, so the schema (which requires the whole) does not apply to it.
func schema(r *Result, c vc.Credential, format string) {
	var problems []string
	applies := false
	for _, t := range c.Types() {
		if _, ok := healthcare.Lookup(t); !ok {
			continue
		}
		if format == sdjwt.TypeSDJWTVC {
			continue
		}
		applies = true
		subjects := c.Subjects()
		if len(subjects) != 1 {
			problems = append(problems, fmt.Sprintf("a %s has one credentialSubject, not %d", t, len(subjects)))
			continue
		}
		if msg := validateSubject(t, subjects[0]); msg != "" {
			problems = append(problems, msg)
		}
	}
	if !applies {
		return
	}
	r.Checks = append(r.Checks, CheckSchema)
	if len(problems) > 0 {
		r.fail(CheckSchema, CodeSchemaInvalid, strings.Join(problems, "; "))
		return
	}
	r.pass(CheckSchema)
}

// schemaVerdicts memoizes healthcare.ValidateSubject, a pure function of
// the type and the subject, under the SHA-256 of an unambiguous encoding of
// both (appendValue): re-verifying a credential, the common case of a
// hospital's checks, then costs a hash instead of a JSON Schema evaluation.
// Bounded: it is emptied when full.
var schemaVerdicts struct {
	sync.Mutex
	m map[[sha256.Size]byte]string
}

const maxSchemaVerdicts = 16384

// validateSubject is "" for a valid subject, else the problem.
func validateSubject(typ string, subject map[string]any) string {
	enc, ok := appendValue(appendString(make([]byte, 0, 2048), typ), subject, 0)
	if !ok {
		if err := healthcare.ValidateSubject(typ, subject); err != nil {
			return err.Error()
		}
		return ""
	}
	key := sha256.Sum256(enc)
	schemaVerdicts.Lock()
	msg, hit := schemaVerdicts.m[key]
	schemaVerdicts.Unlock()
	if hit {
		return msg
	}
	if err := healthcare.ValidateSubject(typ, subject); err != nil {
		msg = err.Error()
	}
	schemaVerdicts.Lock()
	if schemaVerdicts.m == nil || len(schemaVerdicts.m) >= maxSchemaVerdicts {
		schemaVerdicts.m = make(map[[sha256.Size]byte]string)
	}
	schemaVerdicts.m[key] = msg
	schemaVerdicts.Unlock()
	return msg
}

// appendValue appends a decoded JSON value in a form that two values share
// only when they are equal: a tag per kind, lengths before contents, object
// members sorted by name. ok is false for a kind JSON decoding does not
// produce, or nesting deeper than 64.
func appendValue(b []byte, v any, depth int) ([]byte, bool) {
	if depth > 64 {
		return b, false
	}
	switch t := v.(type) {
	case nil:
		return append(b, 'z'), true
	case bool:
		if t {
			return append(b, 't'), true
		}
		return append(b, 'f'), true
	case string:
		return appendString(append(b, 's'), t), true
	case json.Number:
		return appendString(append(b, 'n'), string(t)), true
	case float64:
		return strconv.AppendFloat(append(b, 'd'), t, 'g', -1, 64), true
	case []any:
		b = strconv.AppendInt(append(b, 'a'), int64(len(t)), 10)
		for _, x := range t {
			var ok bool
			if b, ok = appendValue(append(b, ','), x, depth+1); !ok {
				return b, false
			}
		}
		return b, true
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = strconv.AppendInt(append(b, 'o'), int64(len(t)), 10)
		for _, k := range keys {
			var ok bool
			if b, ok = appendValue(appendString(append(b, ','), k), t[k], depth+1); !ok {
				return b, false
			}
		}
		return b, true
	case vc.Credential:
		return appendValue(b, map[string]any(t), depth)
	}
	return b, false
}

func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// judge applies the hospital's rules to the evidence and adds their
// findings: rules 1 and 2 under the issuer check, 5 under holder, 6–15
// under rules. Rules 3 and 4 restate the status and validity checks, which
// have reported already. cred names the credential findings are about in a
// presentation's result ("" for a credential's own).
func (v *Verifier) judge(r *Result, ev Evidence, o Options, _ string) {
	findings := EvaluateRules(ev, o.Policy.rules(v.Trust))
	failed := map[string]bool{}
	for _, f := range findings {
		check := CheckRules
		switch f.Rule {
		case 1, 2:
			check = CheckIssuer
		case 3, 4:
			continue
		case 5:
			check = CheckHolder
		}
		if !o.wants(check) {
			continue
		}
		r.Findings = append(r.Findings, f)
		p := Problem{Code: f.Code, Check: check, Message: f.Message}
		if len(ev.Credentials) > 1 || ev.Holder != "" {
			p.Credential = f.Credential
		}
		switch f.Severity {
		case SeverityWarning, SeverityReview:
			r.Warnings = append(r.Warnings, p)
		default:
			r.Errors = append(r.Errors, p)
			failed[check] = true
		}
	}
	for _, check := range []string{CheckIssuer, CheckHolder, CheckRules} {
		if !o.wants(check) || check == CheckHolder && ev.Holder == "" && len(ev.Credentials) < 2 {
			continue
		}
		r.Checks = append(r.Checks, check)
		r.Results = append(r.Results, CheckResult{Name: check, Passed: !failed[check]})
	}
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
	r.status = res
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

// finish sets verified and the decision: reject on any error, review on a
// review finding, else accept.
func (r *Result) finish() {
	r.Verified = len(r.Errors) == 0
	switch {
	case !r.Verified:
		r.Decision = Reject
	case Decide(r.Findings) == Review:
		r.Decision = Review
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
