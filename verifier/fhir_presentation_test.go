package verifier

import (
	"slices"
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

// fhirPresentationResult is a presentation holding a license (on
// probation), a DEA registration without an id (invalid) and a credential
// whose proof failed, as VerifyPresentation reports it: the credentials'
// own errors copied with the presentation's label, the rules' findings with
// theirs.
func fhirPresentationResult() *PresentationResult {
	lic := fhirResult(fhirCred(fhirLicID, healthcare.MedicalLicense, fhirBoard), []string{CheckProof, CheckValidity, CheckStatus, CheckSchema}, nil, nil, nil)
	dea := fhirResult(fhirCred("", healthcare.DEARegistration, fhirDEA), []string{CheckProof, CheckValidity, CheckStatus, CheckSchema}, nil, nil, nil)
	bad := fhirResult(nil, []string{CheckProof}, []Problem{{Code: CodeProofInvalid, Check: CheckProof, Message: "signature does not verify"}}, nil, nil)
	findings := []Finding{
		{9, CodeLicenseRestricted, SeverityReview, "the license is on probation: committee review", fhirLicID},
		{10, CodeDEAInvalid, SeverityReject, `"` + fhirDEANo + `" is not a valid DEA number`, "credentials[1]"},
	}
	r := fhirResult(nil, []string{CheckProof, CheckIssuer, CheckHolder, CheckRules},
		[]Problem{
			{Code: CodeProofInvalid, Check: CheckProof, Message: "signature does not verify", Credential: "verifiableCredential[2]"},
			{Code: CodeDEAInvalid, Check: CheckRules, Message: findings[1].Message, Credential: "credentials[1]"},
		},
		[]Problem{
			{Code: CodeLicenseRestricted, Check: CheckRules, Message: findings[0].Message, Credential: fhirLicID},
			{Code: CodeChallengeMissing, Check: CheckProof, Message: "no challenge was asked"},
		}, findings)
	r.Results[0].Passed = true // the presentation's own proof passed; the error is a credential's
	return &PresentationResult{Result: r, Holder: fhirHolder, Credentials: []*Result{lic, dea, bad}}
}

// TestFHIRPresentation: the Bundle's presentation entry holds the whole
// decision and every reason, each credential's entry its own.
func TestFHIRPresentation(t *testing.T) {
	b := FHIRPresentation(fhirPresentationResult(), FHIROptions{At: fhirAt, Validator: "hosp-tx", Watchable: true})
	if b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) != 4 {
		t.Fatalf("bundle %s/%s with %d entries", b.ResourceType, b.Type, len(b.Entry))
	}
	tests := []struct {
		status, display, validation string
		reasons                     []string
	}{
		{"val-fail", "", "multiple", []string{"PROOF_INVALID/reject/proof/verifiableCredential[2]", "DEA_INVALID/reject/rules/verifiableCredential[1]",
			"LICENSE_RESTRICTED/review/rules/" + fhirLicID, "PRESENTATION_CHALLENGE_MISSING/warning/proof"}},
		{"in-process", healthcare.MedicalLicense, "primary", []string{"LICENSE_RESTRICTED/review/rules"}},
		{"val-fail", healthcare.DEARegistration + " verifiableCredential[1]", "primary", []string{"DEA_INVALID/reject/rules"}},
		{"val-fail", "verifiableCredential[2]", "", []string{"PROOF_INVALID/reject/proof"}},
	}
	for i, tt := range tests {
		v := b.Entry[i].Resource
		if v.Status != tt.status {
			t.Errorf("entry %d: status %q, want %q", i, v.Status, tt.status)
		}
		if r := fhirReasons(v); !slices.Equal(r, tt.reasons) {
			t.Errorf("entry %d: reasons %v, want %v", i, r, tt.reasons)
		}
		if c := conceptCode(v.ValidationType); c != tt.validation {
			t.Errorf("entry %d: validationType %q, want %q", i, c, tt.validation)
		}
		if i > 0 && (len(v.Target) != 1 || v.Target[0].Display != tt.display) {
			t.Errorf("entry %d: target %+v, want display %q", i, v.Target, tt.display)
		}
	}
	pv := b.Entry[0].Resource
	if len(pv.Target) != 3 || pv.Attestation == nil || len(pv.PrimarySource) != 0 {
		t.Errorf("presentation entry: %d targets, attestation %+v, %d primary sources", len(pv.Target), pv.Attestation, len(pv.PrimarySource))
	}
	// The DEA registration's entry: the presentation's checks as they bear on it.
	var checks []string
	for _, p := range b.Entry[2].Resource.ValidationProcess {
		checks = append(checks, p.Coding[0].Code+"="+string(mustJSON(t, p.Extension[0].ValueBoolean)))
	}
	want := []string{"proof=true", "validity=true", "status=true", "schema=true", "issuer=true", "holder=true", "rules=false"}
	if !slices.Equal(checks, want) {
		t.Errorf("DEA entry checks %v, want %v", checks, want)
	}
}
