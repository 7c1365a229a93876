package verifier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

// ScopePrefix starts the scope of a verifier tenant's token:
// "verifier:<id>".
const ScopePrefix = "verifier:"

// Scope is the token scope of verifier tenant id.
func Scope(id string) string { return ScopePrefix + id }

// Limits of a policy.
const (
	MaxTrustedIssuers = 256
	MaxExclusions     = 10000
	maxTenantName     = 200
)

// Errors of the tenant store; test with errors.Is.
var (
	ErrTenantNotFound = errors.New("verifier tenant not found")
	ErrTenantExists   = errors.New("verifier tenant exists")
)

// Duration is a time.Duration written in JSON as a Go duration string
// ("5m", "720h").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"5m\" or \"720h\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// TrustedIssuer is an issuer a verifier recognises on its own authority,
// beside the ledger's trust registry: for issuers that are not on it (a
// did:key or did:web issuer of another implementation). Empty
// Jurisdictions: every jurisdiction.
type TrustedIssuer struct {
	Issuer        string    `json:"issuer"`
	Types         []string  `json:"types"`
	Jurisdictions []string  `json:"jurisdictions,omitempty"`
	ValidFrom     time.Time `json:"validFrom,omitzero"`
	ValidUntil    time.Time `json:"validUntil,omitzero"`
}

// PolicyConfig is what a verifier tenant requires, as stored and as the
// API takes it. The zero value is the default policy: proof, validity and
// status, no domain rules (what anonymous VC-API verification runs).
type PolicyConfig struct {
	// Checks limits the checks run (empty: every check the policy needs).
	Checks []string `json:"checks,omitempty"`
	// Rules turns on the hospital's rules of DOMAIN.md (issuer
	// accreditation, holder binding, licensure, DEA, ...).
	Rules bool `json:"rules,omitempty"`
	// PracticeState, Telehealth, PatientState, ControlledSubstances,
	// RequireBoardCertification, Facility, RequiredIAL: see Policy.
	PracticeState             string `json:"practiceState,omitempty"`
	Telehealth                bool   `json:"telehealth,omitempty"`
	PatientState              string `json:"patientState,omitempty"`
	ControlledSubstances      bool   `json:"controlledSubstances,omitempty"`
	RequireBoardCertification bool   `json:"requireBoardCertification,omitempty"`
	Facility                  string `json:"facility,omitempty"`
	RequiredIAL               int    `json:"requiredIAL,omitempty"`
	// LedgerTrust: issuers accredited on the ledger's trust registry are
	// recognised (default true).
	LedgerTrust *bool `json:"ledgerTrust,omitempty"`
	// TrustedIssuers are recognised besides the ledger's.
	TrustedIssuers []TrustedIssuer `json:"trustedIssuers,omitempty"`
	// Exclusions are excluded NPIs (the OIG LEIE entries the verifier
	// loaded); rule 12 runs when there is at least one.
	Exclusions []string `json:"exclusions,omitempty"`
	// StatusMaxAge bounds how old a cached status list may be (0: the
	// server's --status-max-age).
	StatusMaxAge Duration `json:"statusMaxAge,omitempty"`
	// ExpiryWarning is how early expiring licenses warn (0: 60 days).
	ExpiryWarning Duration `json:"expiryWarning,omitempty"`
	// CallerChallenges: the tenant makes and tracks its own presentation
	// challenges (VC-API's options.challenge as the caller's nonce). A
	// challenge this verifier never issued is then checked against the
	// presentation's proof alone, with a PRESENTATION_CHALLENGE_UNTRACKED
	// warning, instead of rejected as PRESENTATION_REPLAYED; preventing its
	// reuse is the caller's job. Challenges this verifier issued are still
	// used once. Off by default.
	CallerChallenges bool `json:"callerChallenges,omitempty"`
}

// Validate checks a policy and reports every problem (a *vc.InvalidError).
func (p *PolicyConfig) Validate() error {
	var fe []vc.FieldError
	add := func(f, d string) { fe = append(fe, vc.FieldError{Field: f, Detail: d}) }
	for i, c := range p.Checks {
		if !slices.Contains(AllChecks(), c) {
			add(fmt.Sprintf("/checks/%d", i), fmt.Sprintf("%q is not a check (%s)", c, strings.Join(AllChecks(), ", ")))
		}
	}
	for name, st := range map[string]string{"/practiceState": p.PracticeState, "/patientState": p.PatientState} {
		if st != "" && !healthcare.ValidState(st) {
			add(name, fmt.Sprintf("%q is not a USPS state or territory code", st))
		}
	}
	if p.RequiredIAL < 0 || p.RequiredIAL > 3 {
		add("/requiredIAL", "0 (not a patient flow), 1, 2 or 3")
	}
	if len(p.Facility) > 256 {
		add("/facility", "at most 256 characters")
	}
	if len(p.TrustedIssuers) > MaxTrustedIssuers {
		add("/trustedIssuers", fmt.Sprintf("at most %d", MaxTrustedIssuers))
	}
	for i, t := range p.TrustedIssuers {
		f := fmt.Sprintf("/trustedIssuers/%d", i)
		if !vc.IsURL(t.Issuer) {
			add(f+"/issuer", "a DID or URL")
		}
		if len(t.Types) == 0 || len(t.Types) > 32 {
			add(f+"/types", "one to 32 credential types")
		}
		for j, s := range t.Jurisdictions {
			if !healthcare.ValidState(s) {
				add(fmt.Sprintf("%s/jurisdictions/%d", f, j), fmt.Sprintf("%q is not a USPS state or territory code", s))
			}
		}
		if !t.ValidUntil.IsZero() && t.ValidUntil.Before(t.ValidFrom) {
			add(f+"/validUntil", "before validFrom")
		}
	}
	if len(p.Exclusions) > MaxExclusions {
		add("/exclusions", fmt.Sprintf("at most %d NPIs", MaxExclusions))
	}
	for i, n := range p.Exclusions {
		if !healthcare.ValidNPI(n) {
			add(fmt.Sprintf("/exclusions/%d", i), fmt.Sprintf("%q is not a valid NPI", n))
		}
	}
	if p.StatusMaxAge < 0 || p.ExpiryWarning < 0 {
		add("/statusMaxAge", "durations are not negative")
	}
	if len(fe) > 0 {
		return &vc.InvalidError{Fields: fe}
	}
	return nil
}

// ledgerTrust reports whether the ledger's registry is consulted.
func (p *PolicyConfig) ledgerTrust() bool { return p.LedgerTrust == nil || *p.LedgerTrust }

// wants reports whether the policy runs check name.
func (p *PolicyConfig) wants(name string) bool {
	if len(p.Checks) > 0 {
		return slices.Contains(p.Checks, name)
	}
	switch name {
	case CheckIssuer, CheckHolder, CheckRules:
		return p.Rules
	}
	return true
}

// rules is the rules' Policy of this configuration over the ledger's trust
// registry (nil: none).
func (p *PolicyConfig) rules(ledger Accreditations) Policy {
	var trust anyOf
	if ledger != nil && p.ledgerTrust() {
		trust = append(trust, ledger)
	}
	if len(p.TrustedIssuers) > 0 {
		s := make(StaticAccreditations, 0, len(p.TrustedIssuers))
		for _, t := range p.TrustedIssuers {
			for _, typ := range t.Types {
				s = append(s, Accreditation{Issuer: t.Issuer, Type: typ, Jurisdictions: t.Jurisdictions, From: t.ValidFrom, Until: t.ValidUntil})
			}
		}
		trust = append(trust, s)
	}
	out := Policy{PracticeState: p.PracticeState, Telehealth: p.Telehealth, PatientState: p.PatientState,
		ControlledSubstances: p.ControlledSubstances, RequireBoardCertification: p.RequireBoardCertification,
		Facility: p.Facility, RequiredIAL: p.RequiredIAL, Accreditations: trust, ExpiryWarning: time.Duration(p.ExpiryWarning)}
	if len(p.Exclusions) > 0 {
		ex := make(StaticExclusions, len(p.Exclusions))
		for _, n := range p.Exclusions {
			ex[n] = true
		}
		out.Exclusions = ex
	}
	return out
}

// anyOf recognises an issuer any of its registries recognises.
type anyOf []Accreditations

func (a anyOf) Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool {
	for _, r := range a {
		if r.Accredited(issuer, credentialType, jurisdiction, at) {
			return true
		}
	}
	return false
}

// Tenant is a verifier tenant: a hospital or any relying party with its
// policy.
type Tenant struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Policy  PolicyConfig `json:"policy"`
	Created time.Time    `json:"created"`
	Updated time.Time    `json:"updated,omitzero"`
}

// TenantInput creates a tenant.
type TenantInput struct {
	ID     string       `json:"id,omitempty"`
	Name   string       `json:"name"`
	Policy PolicyConfig `json:"policy"`
}

// TokenIssuer issues API tokens; the secret is shown once.
type TokenIssuer interface {
	IssueToken(ctx context.Context, subject, label string, scopes ...string) (string, error)
}

// Tenants keeps verifier tenants in a kv store.
type Tenants struct {
	Store  kv.Store
	Tokens TokenIssuer
	Now    func() time.Time
}

const bucketTenants = "verifiers"

// reservedTenant is the audit chain of requests without a tenant
// (audit.DefaultChain).
const reservedTenant = "default"

var tenantID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (t *Tenants) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// Create makes a tenant and its API token (scope Scope(id)), returning
// the token's secret, which is not kept.
func (t *Tenants) Create(ctx context.Context, in TenantInput) (Tenant, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	var fe []vc.FieldError
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxTenantName || strings.ContainsAny(in.Name, "\x00\r\n") {
		fe = append(fe, vc.FieldError{Field: "/name", Detail: fmt.Sprintf("required, one line of at most %d characters", maxTenantName)})
	}
	if in.ID != "" && !tenantID.MatchString(in.ID) {
		fe = append(fe, vc.FieldError{Field: "/id", Detail: "lower-case letters, digits and hyphens, at most 63"})
	}
	if in.ID == reservedTenant {
		fe = append(fe, vc.FieldError{Field: "/id", Detail: `"default" is reserved: it names the audit chain of anonymous and admin requests`})
	}
	if err := in.Policy.Validate(); err != nil {
		var ie *vc.InvalidError
		if !errors.As(err, &ie) {
			return Tenant{}, "", err
		}
		for _, f := range ie.Fields {
			fe = append(fe, vc.FieldError{Field: "/policy" + f.Field, Detail: f.Detail})
		}
	}
	if len(fe) > 0 {
		return Tenant{}, "", &vc.InvalidError{Fields: fe}
	}
	id := in.ID
	if id == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		id = "ver-" + hex.EncodeToString(b[:])
	}
	ten := Tenant{ID: id, Name: in.Name, Policy: in.Policy, Created: t.now().Truncate(time.Second)}
	b, err := json.Marshal(ten)
	if err != nil {
		return Tenant{}, "", err
	}
	if err := t.Store.Create(ctx, bucketTenants, id, b); errors.Is(err, kv.ErrExists) {
		return Tenant{}, "", fmt.Errorf("%w: %q", ErrTenantExists, id)
	} else if err != nil {
		return Tenant{}, "", err
	}
	secret, err := t.Tokens.IssueToken(ctx, Scope(id), "verifier "+id+" API", Scope(id))
	if err != nil {
		_ = t.Store.Delete(context.WithoutCancel(ctx), bucketTenants, id)
		return Tenant{}, "", err
	}
	return ten, secret, nil
}

// Get reads a tenant.
func (t *Tenants) Get(ctx context.Context, id string) (Tenant, error) {
	if !tenantID.MatchString(id) {
		return Tenant{}, fmt.Errorf("%w: %q", ErrTenantNotFound, id)
	}
	b, err := t.Store.Get(ctx, bucketTenants, id)
	if errors.Is(err, kv.ErrNotFound) {
		return Tenant{}, fmt.Errorf("%w: %q", ErrTenantNotFound, id)
	}
	if err != nil {
		return Tenant{}, err
	}
	var ten Tenant
	if err := json.Unmarshal(b, &ten); err != nil {
		return Tenant{}, fmt.Errorf("failed to decode verifier tenant %q: %w", id, err)
	}
	return ten, nil
}

// List returns every tenant, by id.
func (t *Tenants) List(ctx context.Context) ([]Tenant, error) {
	out := []Tenant{}
	err := t.Store.List(ctx, bucketTenants, "", func(_ string, v []byte) error {
		var ten Tenant
		if err := json.Unmarshal(v, &ten); err != nil {
			return err
		}
		out = append(out, ten)
		return nil
	})
	return out, err
}

// SetPolicy replaces a tenant's policy.
func (t *Tenants) SetPolicy(ctx context.Context, id string, p PolicyConfig) (Tenant, error) {
	if err := p.Validate(); err != nil {
		return Tenant{}, err
	}
	if _, err := t.Get(ctx, id); err != nil {
		return Tenant{}, err
	}
	var out Tenant
	err := t.Store.Update(ctx, bucketTenants, id, func(old []byte) ([]byte, error) {
		if old == nil {
			return nil, fmt.Errorf("%w: %q", ErrTenantNotFound, id)
		}
		if err := json.Unmarshal(old, &out); err != nil {
			return nil, err
		}
		out.Policy, out.Updated = p, t.now().Truncate(time.Second)
		return json.Marshal(out)
	})
	return out, err
}
