package healthcare_test

import (
	"testing"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

func TestExpiresAt(t *testing.T) {
	tests := []struct {
		typ    string
		mutate func(t *testing.T, s map[string]any)
		want   string // RFC 3339, empty for none
	}{
		{healthcare.MedicalLicense, nil, "2025-07-16T23:59:59Z"},
		{healthcare.DEARegistration, nil, "2025-11-05T23:59:59Z"},
		{healthcare.HospitalPrivilege, nil, "2026-01-03T23:59:59Z"},
		{healthcare.PatientIdentity, nil, ""},
		// Continuous certification: the next reverification.
		{healthcare.BoardCertification, nil, "2026-04-01T23:59:59Z"},
		// A dated certificate ending before its reverification.
		{healthcare.BoardCertification, func(t *testing.T, s map[string]any) {
			at(t, s, "certification")["expirationDate"] = "2025-12-31"
		}, "2025-12-31T23:59:59Z"},
		{healthcare.BoardCertification, func(t *testing.T, s map[string]any) {
			delete(at(t, s, "certification"), "continuingCertification")
		}, ""},
		{healthcare.MedicalLicense, func(t *testing.T, s map[string]any) {
			at(t, s, "license")["expirationDate"] = "2025-02-30"
		}, ""},
		{"UnknownCredential", nil, ""},
	}
	for _, tt := range tests {
		typ := tt.typ
		if _, ok := healthcare.Lookup(typ); !ok {
			typ = healthcare.MedicalLicense
		}
		s := subject(t, typ)
		if tt.mutate != nil {
			tt.mutate(t, s)
		}
		got, ok := healthcare.ExpiresAt(tt.typ, s)
		if tt.want == "" {
			if ok {
				t.Errorf("%s: ExpiresAt = %v, want none", tt.typ, got)
			}
			continue
		}
		want, _ := time.Parse(time.RFC3339, tt.want)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: ExpiresAt = %v, %v, want %v", tt.typ, got, ok, want)
		}
	}
}

// TestExpiresAtMatchesExamples: the examples' validUntil is the subject's
// expiry, as issuers set it.
func TestExpiresAtMatchesExamples(t *testing.T) {
	for _, typ := range healthcare.Types() {
		c := example(t, typ.Name)
		got, ok := healthcare.ExpiresAt(typ.Name, c["credentialSubject"].(map[string]any))
		if !ok {
			continue
		}
		if s := got.Format(time.RFC3339); s != c["validUntil"] {
			t.Errorf("%s: ExpiresAt = %s, example validUntil %s", typ.Name, s, c["validUntil"])
		}
	}
}

func TestJurisdiction(t *testing.T) {
	tests := []struct {
		typ    string
		mutate func(t *testing.T, s map[string]any)
		want   string
	}{
		{healthcare.MedicalLicense, nil, "AZ"},
		{healthcare.DEARegistration, func(t *testing.T, s map[string]any) { at(t, s, "registration")["state"] = "NM" }, "NM"},
		{healthcare.HospitalPrivilege, nil, "AZ"},
		{healthcare.BoardCertification, nil, ""},
		{healthcare.PatientIdentity, nil, ""},
		{healthcare.MedicalLicense, func(t *testing.T, s map[string]any) { at(t, s, "license")["jurisdiction"] = "XX" }, ""},
		{healthcare.MedicalLicense, func(t *testing.T, s map[string]any) { delete(s, "license") }, ""},
	}
	for _, tt := range tests {
		s := subject(t, tt.typ)
		if tt.mutate != nil {
			tt.mutate(t, s)
		}
		got, ok := healthcare.Jurisdiction(tt.typ, s)
		if got != tt.want && tt.want != "" || ok != (tt.want != "") {
			t.Errorf("%s: Jurisdiction = %q, %v, want %q", tt.typ, got, ok, tt.want)
		}
	}
}
