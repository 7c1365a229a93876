package issuer

import (
	"context"
	"errors"
	"testing"

	"github.com/credence/credence/vc"
)

// licenseRequest is a valid license issue request for tenant tn, edited by
// edit.
func licenseRequest(t *testing.T, edit func(cred, subject map[string]any)) IssueRequest {
	subject, _ := example(t, "medical-license.vc.json")
	cred := credential("MedicalLicenseCredential", subject)
	if edit != nil {
		edit(cred, subject)
	}
	return IssueRequest{Credential: cred}
}

func license(s map[string]any) map[string]any { return s["license"].(map[string]any) }

func TestIssueRejects(t *testing.T) {
	e := newEnv(t)
	_, validFrom := example(t, "medical-license.vc.json")
	e.now = validFrom
	tn := e.tenant(t, TenantInput{Name: "Arizona Medical Board", Jurisdictions: []string{"AZ"}, Types: []string{"MedicalLicenseCredential"}})
	other := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
	tests := []struct {
		name      string
		tenant    string
		edit      func(cred, subject map[string]any)
		options   IssueOptions
		field     string
		malformed bool
	}{
		{"bad NPI check digit", tn.ID, func(_, s map[string]any) { s["npi"] = "1952183239" }, IssueOptions{}, "/credential/credentialSubject/npi", false},
		{"unknown state", tn.ID, func(_, s map[string]any) { license(s)["jurisdiction"] = "XX" }, IssueOptions{}, "/credential/credentialSubject/license/jurisdiction", false},
		{"missing license number", tn.ID, func(_, s map[string]any) { delete(license(s), "licenseNumber") }, IssueOptions{}, "/credential/credentialSubject/license/licenseNumber", false},
		{"missing npi", tn.ID, func(_, s map[string]any) { delete(s, "npi") }, IssueOptions{}, "/credential/credentialSubject/npi", false},
		{"issuer is not the tenant", tn.ID, func(c, _ map[string]any) { c["issuer"] = other.DID }, IssueOptions{}, "/credential/issuer", false},
		{"jurisdiction not the tenant's", other.ID, nil, IssueOptions{}, "/credential/credentialSubject", false},
		{"type not allowed", tn.ID, func(c, _ map[string]any) {
			c["type"] = []any{"VerifiableCredential", "DEARegistrationCredential"}
		}, IssueOptions{}, "/credential/type/1", false},
		{"validUntil after the license expires", tn.ID, func(c, _ map[string]any) { c["validUntil"] = "2030-01-01T00:00:00Z" }, IssueOptions{}, "/credential/validUntil", false},
		{"license already expired", tn.ID, func(_, s map[string]any) {
			license(s)["issueDate"], license(s)["expirationDate"] = "2019-01-01", "2020-12-31"
		}, IssueOptions{}, "/credential/credentialSubject", false},
		{"undefined term", tn.ID, func(c, _ map[string]any) { c["favoriteColor"] = "blue" }, IssueOptions{}, "/credential/favoriteColor", false},
		{"missing healthcare context", tn.ID, func(c, _ map[string]any) { c["@context"] = []any{vc.ContextV2} }, IssueOptions{}, "/credential/@context", false},
		{"data model: issuer not a URL", tn.ID, func(c, _ map[string]any) { c["id"] = "not a url" }, IssueOptions{}, "/credential/id", true},
		{"data model: issuer null", tn.ID, func(c, _ map[string]any) { c["issuer"] = nil }, IssueOptions{}, "/credential/issuer", true},
		{"data model: issuer without id", tn.ID, func(c, _ map[string]any) { c["issuer"] = map[string]any{"name": "TMB"} }, IssueOptions{}, "/credential/issuer", true},
		{"unknown format", tn.ID, nil, IssueOptions{Format: "cbor"}, "/options/format", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := licenseRequest(t, tt.edit)
			req.Options = tt.options
			_, err := e.svc.Issue(context.Background(), tt.tenant, req)
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("got %v, want a Rejection", err)
			}
			if rej.Malformed != tt.malformed {
				t.Errorf("malformed = %v, want %v", rej.Malformed, tt.malformed)
			}
			if !errors.Is(err, vc.ErrMalformed) {
				t.Errorf("a rejection must wrap vc.ErrMalformed")
			}
			for _, f := range rej.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Errorf("fields %+v do not name %s", rej.Fields, tt.field)
		})
	}
}

func TestIssueDEARejectsBadCheckDigit(t *testing.T) {
	e := newEnv(t)
	subject, validFrom := example(t, "dea-registration.vc.json")
	e.now = validFrom
	tn := e.tenant(t, TenantInput{Name: "DEA", Jurisdictions: []string{"NY", "CA", "TX", "FL", "AZ", "WA", "IL", "MA", "GA", "OH"}, Types: []string{"DEARegistrationCredential"}})
	dea := subject["registration"].(map[string]any)
	n := []byte(dea["deaNumber"].(string))
	n[8] = '0' + (n[8]-'0'+1)%10
	dea["deaNumber"] = string(n)
	_, err := e.svc.Issue(context.Background(), tn.ID, IssueRequest{Credential: credential("DEARegistrationCredential", subject)})
	var rej *Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want a Rejection", err)
	}
	if rej.Fields[0].Field != "/credential/credentialSubject/registration/deaNumber" {
		t.Errorf("fields %+v", rej.Fields)
	}
}

func TestTenantInputRejected(t *testing.T) {
	e := newEnv(t)
	_, _, err := e.svc.CreateTenant(context.Background(), TenantInput{Name: " ", Jurisdictions: []string{"XX"}, Types: nil, Algorithm: "RSA"})
	var inv *vc.InvalidError
	if !errors.As(err, &inv) || len(inv.Fields) != 4 {
		t.Fatalf("got %v, want 4 field errors (name, jurisdiction, types, algorithm)", err)
	}
	tn := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
	if tn.ID != "texas-medical-board" {
		t.Errorf("id %q", tn.ID)
	}
	again := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
	if again.ID != "texas-medical-board-2" {
		t.Errorf("second id %q", again.ID)
	}
	if _, _, err := e.svc.CreateTenant(context.Background(), TenantInput{ID: "texas-medical-board", Name: "x", Jurisdictions: []string{"TX"}, Types: []string{"*"}}); !errors.Is(err, ErrExists) {
		t.Errorf("taken id: got %v, want ErrExists", err)
	}
	if e.tokens.scopes[0] != "issuer:texas-medical-board" {
		t.Errorf("token scopes %v", e.tokens.scopes)
	}
	e.dids.fail = errors.New("ledger down")
	if _, _, err := e.svc.CreateTenant(context.Background(), TenantInput{ID: "failing", Name: "x", Jurisdictions: []string{"TX"}, Types: []string{"*"}}); err == nil {
		t.Fatal("CreateTenant succeeded without a DID")
	}
	e.dids.fail = nil
	if _, err := e.svc.Tenant(context.Background(), "failing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a failed creation left a tenant: %v", err)
	}
	e.tenant(t, TenantInput{ID: "failing", Name: "x", Jurisdictions: []string{"TX"}, Types: []string{"*"}})
}
