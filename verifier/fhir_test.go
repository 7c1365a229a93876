package verifier

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/status"
)

var fhirAt = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

const (
	fhirBoard  = "did:credence:zQmTexasMedicalBoard7hY3"
	fhirDEA    = "did:credence:zQmDrugEnforcement4kP9"
	fhirHolder = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	fhirLicID  = "urn:uuid:3f0a3a52-6d4e-4c53-9a56-0d0e3c2b1a01"
	fhirNPI    = "1234567893"
	fhirFamily = "Okafor"
	fhirBirth  = "1971-04-12"
	fhirLicNo  = "MD482913"
	fhirDEANo  = "AB1234563"
)

// fhirPHI is what must never appear in a FHIR result.
var fhirPHI = []string{fhirHolder, fhirNPI, fhirFamily, "Adaeze", fhirBirth, fhirLicNo, fhirDEANo}

func fhirSubjectOf(kind string) map[string]any {
	s := map[string]any{"id": fhirHolder, "npi": fhirNPI, "birthDate": fhirBirth,
		"name": map[string]any{"family": fhirFamily, "given": []any{"Adaeze"}}}
	switch kind {
	case healthcare.MedicalLicense:
		s["license"] = map[string]any{"licenseNumber": fhirLicNo, "jurisdiction": "TX", "status": "active"}
	case healthcare.DEARegistration:
		s["registration"] = map[string]any{"deaNumber": fhirDEANo, "state": "TX", "activityStatus": "active"}
	}
	return s
}

// fhirCred is a verified credential as the pipeline hands it on; id "" has
// none. It has a revocation and a suspension entry.
func fhirCred(id, kind, issuer string) vc.Credential {
	c := vc.Credential{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"type":              []any{vc.TypeCredential, kind},
		"issuer":            issuer,
		"validFrom":         "2025-01-01T00:00:00Z",
		"credentialSubject": fhirSubjectOf(kind),
		"credentialStatus": []any{
			status.Entry{Purpose: status.PurposeRevocation, Index: 94567, ListCredential: "https://tmb.example/status/1"}.Object(),
			status.Entry{Purpose: status.PurposeSuspension, Index: 94567, ListCredential: "https://tmb.example/status/2"}.Object(),
		},
	}
	if id != "" {
		c["id"] = id
	}
	return c
}

// fhirResult is a credential's result as VerifyCredential builds it: each
// check passed unless an error is about it.
func fhirResult(cred vc.Credential, checks []string, errs, warns []Problem, fs []Finding) *Result {
	r := newResult()
	r.Credential, r.Checks, r.Findings = cred, checks, fs
	r.Errors, r.Warnings = append(r.Errors, errs...), append(r.Warnings, warns...)
	for _, c := range checks {
		r.Results = append(r.Results, CheckResult{Name: c, Passed: !slices.ContainsFunc(errs, func(p Problem) bool { return p.Check == c })})
	}
	r.finish()
	return r
}

var tenantChecks = []string{CheckProof, CheckValidity, CheckStatus, CheckSchema, CheckIssuer, CheckRules}

func fhirResults() map[string]*Result {
	lic := fhirCred(fhirLicID, healthcare.MedicalLicense, fhirBoard)
	return map[string]*Result{
		"accept": fhirResult(lic, tenantChecks, nil,
			[]Problem{{Code: CodeLicenseExpiring, Check: CheckRules, Message: "the license of NPI " + fhirNPI + " expires on 2026-04-15"}},
			[]Finding{{8, CodeLicenseExpiring, SeverityWarning, "the license expires on 2026-04-15", fhirLicID}}),
		"review": fhirResult(lic, tenantChecks, nil,
			[]Problem{{Code: CodeLicenseRestricted, Check: CheckRules, Message: "the license is on probation: committee review"}},
			[]Finding{{9, CodeLicenseRestricted, SeverityReview, "the license is on probation: committee review", fhirLicID}}),
		"reject": fhirResult(lic, tenantChecks,
			[]Problem{{Code: CodeRevoked, Check: CheckStatus, Message: "revocation status entry 94567 is set"}}, nil, nil),
		"reject-issuer": fhirResult(lic, tenantChecks,
			[]Problem{{Code: CodeIssuerNotRecognized, Check: CheckIssuer, Message: fhirBoard + " is not accredited to issue MedicalLicenseCredential in TX"}},
			nil, []Finding{{2, CodeIssuerNotRecognized, SeverityReject, "not accredited in TX", fhirLicID}}),
		"reject-status-unavailable": fhirResult(lic, tenantChecks,
			[]Problem{{Code: CodeStatusUnavailable, Check: CheckStatus, Message: "GET https://tmb.example/status/1: timeout"}}, nil, nil),
		"reject-proof": fhirResult(nil, []string{CheckProof},
			[]Problem{{Code: CodeProofInvalid, Check: CheckProof, Message: "signature does not verify"}}, nil, nil),
		"anonymous": fhirResult(lic, []string{CheckProof, CheckValidity, CheckStatus, CheckSchema}, nil, nil, nil),
	}
}

// TestFHIRCredential: each decision's status, reason codes with their
// severity, primary source outcome and push capability.
func TestFHIRCredential(t *testing.T) {
	rs := fhirResults()
	tests := []struct {
		result     string
		opts       FHIROptions
		status     string
		reasons    []string
		source     string // primarySource.validationStatus; "" none
		push       string
		types      []string // primarySource.type
		validation string   // validationType; "" none
	}{
		{"accept", FHIROptions{Validator: "hosp-tx", Watchable: true}, "validated", []string{"LICENSE_EXPIRING/warning/rules"},
			"successful", "yes", []string{"issuer", "lic-board"}, "primary"},
		{"accept", FHIROptions{Validator: "hosp-tx"}, "validated", []string{"LICENSE_EXPIRING/warning/rules"},
			"successful", "no", []string{"issuer", "lic-board"}, "primary"},
		{"review", FHIROptions{Validator: "hosp-tx", Watchable: true}, "in-process", []string{"LICENSE_RESTRICTED/review/rules"},
			"successful", "yes", []string{"issuer", "lic-board"}, "primary"},
		{"reject", FHIROptions{Validator: "hosp-tx"}, "val-fail", []string{"CREDENTIAL_REVOKED/reject/status"},
			"failed", "no", []string{"issuer", "lic-board"}, "primary"},
		{"reject-issuer", FHIROptions{Validator: "hosp-tx"}, "val-fail", []string{"ISSUER_NOT_RECOGNIZED/reject/issuer"},
			"failed", "no", []string{"issuer"}, "primary"},
		{"reject-status-unavailable", FHIROptions{}, "val-fail", []string{"STATUS_UNAVAILABLE/reject/status"},
			"unknown", "no", []string{"issuer", "lic-board"}, "primary"},
		{"reject-proof", FHIROptions{}, "val-fail", []string{"PROOF_INVALID/reject/proof"}, "", "", nil, ""},
		{"anonymous", FHIROptions{}, "validated", nil, "successful", "no", []string{"issuer"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.result, func(t *testing.T) {
			tt.opts.At = fhirAt
			got := FHIRCredential(rs[tt.result], tt.opts)
			if got.Status != tt.status {
				t.Errorf("status = %q, want %q", got.Status, tt.status)
			}
			if r := fhirReasons(got); !slices.Equal(r, tt.reasons) {
				t.Errorf("reasons = %v, want %v", r, tt.reasons)
			}
			if d := fhirDecision(got); d != rs[tt.result].Decision {
				t.Errorf("decision extension = %q, want %q", d, rs[tt.result].Decision)
			}
			if c := conceptCode(got.ValidationType); c != tt.validation {
				t.Errorf("validationType = %q, want %q", c, tt.validation)
			}
			if (len(got.Validator) > 0) != (tt.opts.Validator != "") {
				t.Errorf("validator = %+v for tenant %q", got.Validator, tt.opts.Validator)
			}
			if tt.source == "" {
				if len(got.PrimarySource) != 0 || len(got.Target) != 0 {
					t.Errorf("a credential that did not parse has a source or target: %+v", got)
				}
				return
			}
			ps := got.PrimarySource[0]
			if ps.Who.Identifier.Value != fhirBoard || ps.Who.Identifier.System != "urn:ietf:rfc:3986" {
				t.Errorf("who = %+v", ps.Who.Identifier)
			}
			if c := conceptCode(ps.ValidationStatus); c != tt.source {
				t.Errorf("validationStatus = %q, want %q", c, tt.source)
			}
			if c := conceptCode(ps.CanPushUpdates); c != tt.push {
				t.Errorf("canPushUpdates = %q, want %q", c, tt.push)
			}
			if (len(ps.PushTypeAvailable) > 0) != (tt.push == "yes") {
				t.Errorf("pushTypeAvailable = %+v with canPushUpdates %s", ps.PushTypeAvailable, tt.push)
			}
			var types []string
			for _, c := range ps.Type {
				types = append(types, conceptCode(&c))
			}
			if !slices.Equal(types, tt.types) {
				t.Errorf("primarySource.type = %v, want %v", types, tt.types)
			}
			if got.Target[0].Identifier.Value != fhirLicID || !slices.Equal(got.TargetLocation, []string{"Practitioner.qualification"}) {
				t.Errorf("target = %+v at %v", got.Target, got.TargetLocation)
			}
		})
	}
}

// TestFHIRStatus: the decision → status mapping, failing closed.
func TestFHIRStatus(t *testing.T) {
	for d, want := range map[string]string{Accept: "validated", Review: "in-process", Reject: "val-fail", "": "val-fail", "maybe": "val-fail"} {
		if got := FHIRStatus(d); got != want {
			t.Errorf("FHIRStatus(%q) = %q, want %q", d, got, want)
		}
	}
}

// TestFHIRTargetLocation: where DOMAIN.md maps each type.
func TestFHIRTargetLocation(t *testing.T) {
	for kind, want := range map[string]string{
		healthcare.MedicalLicense: "Practitioner.qualification", healthcare.DEARegistration: "Practitioner.qualification",
		healthcare.BoardCertification: "Practitioner.qualification", healthcare.HospitalPrivilege: "PractitionerRole",
		healthcare.PatientIdentity: "Patient", "UniversityDegreeCredential": "",
	} {
		got := FHIRCredential(fhirResult(fhirCred("urn:uuid:1", kind, fhirBoard), []string{CheckProof}, nil, nil, nil), FHIROptions{})
		if loc := strings.Join(got.TargetLocation, ","); loc != want {
			t.Errorf("%s: targetLocation %q, want %q", kind, loc, want)
		}
		if got.Target[0].Display != kind {
			t.Errorf("%s: target display %q", kind, got.Target[0].Display)
		}
	}
}

// fhirReasons lists the verification-reason extensions as
// code/severity/check[/credential].
func fhirReasons(v *FHIRVerificationResult) []string {
	var out []string
	for _, e := range v.Extension {
		if !strings.HasSuffix(e.URL, "/verification-reason") {
			continue
		}
		var parts []string
		for _, s := range e.Extension {
			switch {
			case s.ValueCoding != nil:
				parts = append(parts, s.ValueCoding.Code)
			case s.ValueCode != "":
				parts = append(parts, s.ValueCode)
			default:
				parts = append(parts, s.ValueString)
			}
		}
		out = append(out, strings.Join(parts, "/"))
	}
	return out
}

func fhirDecision(v *FHIRVerificationResult) string {
	for _, e := range v.Extension {
		if strings.HasSuffix(e.URL, "/verification-decision") {
			return e.ValueCode
		}
	}
	return ""
}

func conceptCode(c *FHIRCodeableConcept) string {
	if c == nil || len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].Code
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
