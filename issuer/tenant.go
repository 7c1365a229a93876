package issuer

import (
	"context"
	"crypto"
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

// Errors.
var (
	// ErrNotFound: no such tenant or inventory record.
	ErrNotFound = errors.New("issuer: not found")
	// ErrExists: a tenant or credential id is taken.
	ErrExists = errors.New("issuer: already exists")
)

// AnyType in a tenant's types lets it issue credentials of any type other
// than the healthcare types, which must always be listed by name.
const AnyType = "*"

const (
	bucketTenants = "issuers"
	maxNameLength = 200
)

var slug = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Tenant is an issuer.
type Tenant struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	DID           string    `json:"did"`
	Jurisdictions []string  `json:"jurisdictions"`
	Types         []string  `json:"types"`
	Created       time.Time `json:"created"`
}

// Scope is the token scope that grants a tenant's API.
func Scope(tenantID string) string { return "issuer:" + tenantID }

// TenantInput is what creating a tenant takes. ID is optional (derived from
// the name); Algorithm is "Ed25519" (default) or "P-256".
type TenantInput struct {
	ID            string   `json:"id,omitempty"`
	Name          string   `json:"name"`
	Jurisdictions []string `json:"jurisdictions"`
	Types         []string `json:"types"`
	Algorithm     string   `json:"algorithm,omitempty"`
}

// DIDs creates issuer DIDs and reads their current assertion key.
type DIDs interface {
	CreateIssuerDID(ctx context.Context, algorithm, label string) (string, error)
	AssertionKey(ctx context.Context, did string) (vm, keyID string, err error)
}

// Keys gives signers for managed keys.
type Keys interface {
	Signer(ctx context.Context, keyID string) (crypto.Signer, error)
}

// Tokens issues API tokens; the secret is shown once.
type Tokens interface {
	IssueToken(ctx context.Context, subject, label string, scopes ...string) (string, error)
}

// validate checks a tenant input and reports every problem.
func (in *TenantInput) validate() error {
	var p []vc.FieldError
	add := func(f, d string) { p = append(p, vc.FieldError{Field: f, Detail: d}) }
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > maxNameLength || strings.ContainsAny(in.Name, "\x00\r\n") {
		add("/name", fmt.Sprintf("required, one line of at most %d characters", maxNameLength))
	}
	if in.ID != "" && !slug.MatchString(in.ID) {
		add("/id", "lower-case letters, digits and hyphens, at most 63")
	}
	if len(in.Jurisdictions) == 0 {
		add("/jurisdictions", "list at least one USPS state or territory code")
	}
	for i, j := range in.Jurisdictions {
		if !healthcare.ValidState(j) {
			add(fmt.Sprintf("/jurisdictions/%d", i), fmt.Sprintf("%q is not a USPS state or territory code", j))
		}
	}
	if len(in.Types) == 0 {
		add("/types", "list the credential types this issuer may issue")
	}
	for i, t := range in.Types {
		if _, ok := healthcare.Lookup(t); !ok && t != AnyType && !validTerm(t) {
			add(fmt.Sprintf("/types/%d", i), fmt.Sprintf("%q is not a credential type", t))
		}
	}
	switch in.Algorithm {
	case "":
		in.Algorithm = "Ed25519"
	case "Ed25519", "P-256":
	default:
		add("/algorithm", "Ed25519 or P-256")
	}
	if len(p) > 0 {
		return &vc.InvalidError{Fields: p}
	}
	in.Jurisdictions = sortedUnique(in.Jurisdictions)
	in.Types = sortedUnique(in.Types)
	return nil
}

var term = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,99}$`)

func validTerm(s string) bool { return term.MatchString(s) }

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// idFromName derives a tenant id from its name: "Texas Medical Board" →
// "texas-medical-board".
func idFromName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 56 {
			break
		}
	}
	id := strings.Trim(b.String(), "-")
	if id == "" {
		id = "issuer"
	}
	return id
}

// CreateTenant registers an issuer: its did:credence DID on the ledger (keys
// in the key manager), its record, and an API token scoped to it. The token
// secret is returned once.
func (s *Service) CreateTenant(ctx context.Context, in TenantInput) (Tenant, string, error) {
	if err := in.validate(); err != nil {
		return Tenant{}, "", err
	}
	id, err := s.reserveID(ctx, in)
	if err != nil {
		return Tenant{}, "", err
	}
	d, err := s.dids.CreateIssuerDID(ctx, in.Algorithm, "issuer "+id)
	if err != nil {
		_ = s.kv.Delete(context.WithoutCancel(ctx), bucketTenants, id)
		return Tenant{}, "", err
	}
	t := Tenant{ID: id, Name: in.Name, DID: d, Jurisdictions: in.Jurisdictions, Types: in.Types, Created: s.now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(t)
	if err := s.kv.Put(ctx, bucketTenants, id, b); err != nil {
		return Tenant{}, "", err
	}
	secret, err := s.tokens.IssueToken(ctx, "issuer:"+id, "issuer "+id+" API", Scope(id))
	if err != nil {
		return Tenant{}, "", err
	}
	return t, secret, nil
}

// reserveID claims the tenant id (the requested one, or one derived from the
// name with a numeric suffix when taken) with a placeholder record.
func (s *Service) reserveID(ctx context.Context, in TenantInput) (string, error) {
	placeholder := []byte(`{"pending":true}`)
	if in.ID != "" {
		err := s.kv.Create(ctx, bucketTenants, in.ID, placeholder)
		if errors.Is(err, kv.ErrExists) {
			return "", fmt.Errorf("%w: issuer id %q", ErrExists, in.ID)
		}
		return in.ID, err
	}
	base := idFromName(in.Name)
	for n := 1; n < 1000; n++ {
		id := base
		if n > 1 {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		err := s.kv.Create(ctx, bucketTenants, id, placeholder)
		if errors.Is(err, kv.ErrExists) {
			continue
		}
		return id, err
	}
	return "", fmt.Errorf("%w: no free id for %q", ErrExists, in.Name)
}

// Tenant reads a tenant.
func (s *Service) Tenant(ctx context.Context, id string) (Tenant, error) {
	b, err := s.kv.Get(ctx, bucketTenants, id)
	if errors.Is(err, kv.ErrNotFound) || errors.Is(err, kv.ErrInvalidName) {
		return Tenant{}, fmt.Errorf("%w: issuer %q", ErrNotFound, id)
	}
	if err != nil {
		return Tenant{}, err
	}
	var t Tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return Tenant{}, fmt.Errorf("failed to decode issuer %q: %w", id, err)
	}
	if t.DID == "" {
		return Tenant{}, fmt.Errorf("%w: issuer %q (its creation did not complete)", ErrNotFound, id)
	}
	return t, nil
}

// Tenants lists every complete tenant, by id.
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) {
	var out []Tenant
	err := s.kv.List(ctx, bucketTenants, "", func(_ string, v []byte) error {
		var t Tenant
		if json.Unmarshal(v, &t) == nil && t.DID != "" {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// mayIssue reports whether the tenant may issue credentials of type t.
func (t Tenant) mayIssue(typ string) bool {
	if slices.Contains(t.Types, typ) {
		return true
	}
	_, health := healthcare.Lookup(typ)
	return !health && slices.Contains(t.Types, AnyType)
}
