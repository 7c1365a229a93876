package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
)

type fakeTokens struct{ scopes []string }

func (f *fakeTokens) IssueToken(_ context.Context, _, _ string, scopes ...string) (string, error) {
	f.scopes = append(f.scopes, scopes...)
	return "crd_secret", nil
}

func TestPolicyValidate(t *testing.T) {
	bad := PolicyConfig{
		Checks:         []string{"proof", "telepathy"},
		PracticeState:  "XX",
		RequiredIAL:    7,
		TrustedIssuers: []TrustedIssuer{{Issuer: "not a url", Types: nil, Jurisdictions: []string{"ZZ"}}},
		Exclusions:     []string{"1234567890"},
	}
	err := bad.Validate()
	var inv *vc.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Validate = %v, want an InvalidError", err)
	}
	want := []string{"/checks/1", "/practiceState", "/requiredIAL", "/trustedIssuers/0/issuer", "/trustedIssuers/0/types",
		"/trustedIssuers/0/jurisdictions/0", "/exclusions/0"}
	got := map[string]bool{}
	for _, f := range inv.Fields {
		got[f.Field] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no problem reported at %s (got %v)", w, inv.Fields)
		}
	}
	good := PolicyConfig{Rules: true, PracticeState: "TX", ControlledSubstances: true, Exclusions: []string{"1234567893"},
		TrustedIssuers: []TrustedIssuer{{Issuer: "did:key:z6Mk", Types: []string{"MedicalLicenseCredential"}, Jurisdictions: []string{"TX"}}}}
	if err := good.Validate(); err != nil {
		t.Fatalf("a valid policy: %v", err)
	}
}

func TestPolicyWantsAndTrust(t *testing.T) {
	var def PolicyConfig
	for _, c := range []string{CheckProof, CheckValidity, CheckStatus, CheckSchema} {
		if !def.wants(c) {
			t.Errorf("the default policy skips %s", c)
		}
	}
	for _, c := range []string{CheckIssuer, CheckHolder, CheckRules} {
		if def.wants(c) {
			t.Errorf("the default policy runs %s", c)
		}
	}
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ledger := StaticAccreditations{{Issuer: "did:credence:tx", Type: "MedicalLicenseCredential", Jurisdictions: []string{"TX"}}}
	p := PolicyConfig{Rules: true, TrustedIssuers: []TrustedIssuer{{Issuer: "did:key:z6Mk", Types: []string{"DEARegistrationCredential"}}}}
	r := p.rules(ledger)
	if !r.Accreditations.Accredited("did:credence:tx", "MedicalLicenseCredential", "TX", now) {
		t.Error("the ledger's accreditation is not used")
	}
	if !r.Accreditations.Accredited("did:key:z6Mk", "DEARegistrationCredential", "CA", now) {
		t.Error("the policy's trusted issuer is not used")
	}
	off := false
	p.LedgerTrust = &off
	if p.rules(ledger).Accreditations.Accredited("did:credence:tx", "MedicalLicenseCredential", "TX", now) {
		t.Error("ledgerTrust false still trusts the ledger")
	}
}

func TestTenants(t *testing.T) {
	ctx := context.Background()
	tok := &fakeTokens{}
	ts := &Tenants{Store: memkv.New(), Tokens: tok}
	ten, secret, err := ts.Create(ctx, TenantInput{ID: "general-hospital", Name: "General Hospital", Policy: PolicyConfig{Rules: true, PracticeState: "TX"}})
	if err != nil || secret == "" {
		t.Fatalf("Create: %v", err)
	}
	if len(tok.scopes) != 1 || tok.scopes[0] != "verifier:general-hospital" {
		t.Fatalf("token scopes %v", tok.scopes)
	}
	if _, _, err := ts.Create(ctx, TenantInput{ID: "general-hospital", Name: "Again"}); !errors.Is(err, ErrTenantExists) {
		t.Fatalf("a second tenant with the same id: %v", err)
	}
	if _, _, err := ts.Create(ctx, TenantInput{Name: "Bad", Policy: PolicyConfig{PracticeState: "QQ"}}); err == nil || !strings.Contains(err.Error(), "/policy/practiceState") {
		t.Fatalf("an invalid policy: %v", err)
	}
	got, err := ts.SetPolicy(ctx, ten.ID, PolicyConfig{Rules: true, PracticeState: "CA"})
	if err != nil || got.Policy.PracticeState != "CA" {
		t.Fatalf("SetPolicy: %+v, %v", got, err)
	}
	back, err := ts.Get(ctx, ten.ID)
	if err != nil || back.Policy.PracticeState != "CA" || back.Name != "General Hospital" {
		t.Fatalf("Get after SetPolicy: %+v, %v", back, err)
	}
	if _, err := ts.Get(ctx, "../etc"); !errors.Is(err, ErrTenantNotFound) {
		t.Fatalf("Get of a bad id: %v", err)
	}
	if _, err := ts.SetPolicy(ctx, "nobody", PolicyConfig{}); !errors.Is(err, ErrTenantNotFound) {
		t.Fatalf("SetPolicy of an unknown tenant: %v", err)
	}
	list, err := ts.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %v, %v", list, err)
	}
}

// TestValidateSubjectMemo: the memoized schema verdict is the schema's,
// for a subject seen before and after a changed one.
func TestValidateSubjectMemo(t *testing.T) {
	p := synth.New(9).Provider()
	good := p.LicenseSubject(p.States[0])
	bad := map[string]any{}
	for k, v := range good {
		bad[k] = v
	}
	bad["npi"] = "12345"
	for range 2 {
		if msg := validateSubject("MedicalLicenseCredential", good); msg != "" {
			t.Fatalf("a valid license subject: %s", msg)
		}
		msg := validateSubject("MedicalLicenseCredential", bad)
		want := healthcare.ValidateSubject("MedicalLicenseCredential", bad)
		if msg == "" || want == nil || msg != want.Error() {
			t.Fatalf("an invalid NPI: memo %q, schema %v", msg, want)
		}
	}
}

// TestAppendValue: the memo key's encoding is equal exactly for equal
// values, whatever the order of object members.
func TestAppendValue(t *testing.T) {
	enc := func(v any) string {
		b, ok := appendValue(nil, v, 0)
		if !ok {
			t.Fatalf("appendValue(%#v) refused", v)
		}
		return string(b)
	}
	distinct := []any{nil, true, false, "1", json.Number("1"), float64(1), "", []any{}, map[string]any{},
		[]any{"a,b"}, []any{"a", "b"}, []any{[]any{"a"}, "b"}, map[string]any{"a": "b"}, map[string]any{"ab": ""},
		map[string]any{"a": map[string]any{"b": "c"}}, map[string]any{"a": []any{"b", "c"}}, "s1:x", []any{nil}}
	seen := map[string]int{}
	for i, v := range distinct {
		if j, dup := seen[enc(v)]; dup {
			t.Errorf("%#v and %#v encode alike", distinct[j], v)
		}
		seen[enc(v)] = i
	}
	a := map[string]any{"x": "1", "y": []any{json.Number("2"), map[string]any{"p": true, "q": nil}}}
	b := map[string]any{"y": []any{json.Number("2"), map[string]any{"q": nil, "p": true}}, "x": "1"}
	if enc(a) != enc(b) {
		t.Error("equal objects encode differently")
	}
	if _, ok := appendValue(nil, struct{}{}, 0); ok {
		t.Error("a Go struct was encoded")
	}
}
