package verifier

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/status"
)

var updateFHIR = flag.Bool("update", false, "rewrite the golden files of testdata/fhir")

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

// TestFHIRGolden compares the projections with testdata/fhir (go test
// -run TestFHIRGolden -update rewrites them) and validates each against
// R4's structure.
func TestFHIRGolden(t *testing.T) {
	rs := fhirResults()
	o := FHIROptions{At: fhirAt, Validator: "hosp-tx", Watchable: true}
	cases := map[string]any{
		"credential-accept.json":     FHIRCredential(rs["accept"], o),
		"credential-review.json":     FHIRCredential(rs["review"], o),
		"credential-reject.json":     FHIRCredential(rs["reject"], o),
		"credential-anonymous.json":  FHIRCredential(rs["anonymous"], FHIROptions{At: fhirAt}),
		"presentation-bundle.json":   FHIRPresentation(fhirPresentationResult(), o),
		"presentation-replayed.json": FHIRPresentation(&PresentationResult{Result: fhirResult(nil, []string{CheckProof}, []Problem{{Code: CodeReplayed, Check: CheckProof}}, nil, nil)}, FHIROptions{At: fhirAt}),
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer // as the server writes it (httpx.JSON), indented
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "fhir", name)
			if *updateFHIR {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the projection (run with -update if the change is intended):\n%s", path, got)
			}
			for _, p := range checkR4(want) {
				t.Errorf("%s: %s", path, p)
			}
		})
	}
}

// TestCheckR4 shows the structural check fails what R4 forbids.
func TestCheckR4(t *testing.T) {
	bad := map[string]string{
		"no status":         `{"resourceType":"VerificationResult"}`,
		"status":            `{"resourceType":"VerificationResult","status":"accepted"}`,
		"unknown element":   `{"resourceType":"VerificationResult","status":"validated","decision":"accept"}`,
		"empty array":       `{"resourceType":"VerificationResult","status":"validated","targetLocation":[]}`,
		"ext-1":             `{"resourceType":"VerificationResult","status":"validated","extension":[{"url":"x","valueCode":"a","extension":[{"url":"y","valueCode":"b"}]}]}`,
		"validator org":     `{"resourceType":"VerificationResult","status":"validated","validator":[{"identityCertificate":"x"}]}`,
		"validation-status": `{"resourceType":"VerificationResult","status":"validated","primarySource":[{"validationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/validation-status","code":"ok"}]}}]}`,
		"dateTime":          `{"resourceType":"VerificationResult","status":"validated","statusDate":"1 March 2026"}`,
		"bundle type":       `{"resourceType":"Bundle","type":"bag","entry":[{"resource":{"resourceType":"VerificationResult","status":"validated"}}]}`,
		"PHI":               `{"resourceType":"VerificationResult","status":"validated","target":[{"display":"` + fhirNPI + `"}]}`,
	}
	for name, doc := range bad {
		if p := checkR4([]byte(doc)); len(p) == 0 {
			t.Errorf("%s: no problem found in %s", name, doc)
		}
	}
	if p := checkR4([]byte(`{"resourceType":"VerificationResult","status":"validated"}`)); len(p) != 0 {
		t.Errorf("a minimal VerificationResult: %v", p)
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

// R4 structure (hl7.org/fhir/R4/verificationresult.html, bundle.html,
// datatypes.html, extensibility.html): the elements each type has, the
// required ones, and the codes of the HL7 code systems the projection uses.
var (
	r4Elements = map[string][]string{
		"VerificationResult": {"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension",
			"modifierExtension", "target", "targetLocation", "need", "status", "statusDate", "validationType", "validationProcess",
			"frequency", "lastPerformed", "nextScheduled", "failureAction", "primarySource", "attestation", "validator"},
		"primarySource": {"id", "extension", "modifierExtension", "who", "type", "communicationMethod", "validationStatus",
			"validationDate", "canPushUpdates", "pushTypeAvailable"},
		"attestation": {"id", "extension", "modifierExtension", "who", "onBehalfOf", "communicationMethod", "date",
			"sourceIdentityCertificate", "proxyIdentityCertificate", "proxySignature", "sourceSignature"},
		"validator":       {"id", "extension", "modifierExtension", "organization", "identityCertificate", "attestationSignature"},
		"Bundle":          {"resourceType", "id", "meta", "implicitRules", "language", "identifier", "type", "timestamp", "total", "link", "entry", "signature"},
		"entry":           {"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"},
		"CodeableConcept": {"id", "extension", "coding", "text"},
		"Coding":          {"id", "extension", "system", "version", "code", "display", "userSelected"},
		"Reference":       {"id", "extension", "reference", "type", "identifier", "display"},
		"Identifier":      {"id", "extension", "use", "type", "system", "value", "period", "assigner"},
		"Narrative":       {"id", "extension", "status", "div"},
	}
	r4Codes = map[string][]string{
		"http://terminology.hl7.org/CodeSystem/validation-type":                         {"nothing", "primary", "multiple"},
		"http://terminology.hl7.org/CodeSystem/validation-status":                       {"successful", "failed", "unknown"},
		"http://terminology.hl7.org/CodeSystem/can-push-updates":                        {"yes", "no", "undetermined"},
		"http://terminology.hl7.org/CodeSystem/push-type-available":                     {"specific", "any", "source"},
		"http://terminology.hl7.org/CodeSystem/failure-action":                          {"fatal", "warn", "rec-only", "none"},
		"http://terminology.hl7.org/CodeSystem/verificationresult-communication-method": {"manual", "portal", "pull", "push"},
		"http://terminology.hl7.org/CodeSystem/primary-source-type": {"lic-board", "prim", "cont-ed", "post-serv", "rel-own",
			"reg-auth", "legal", "issuer", "auth-source"},
	}
	// the code system each coded element takes its codes from
	r4Bindings = map[string]string{
		"validationType":      "http://terminology.hl7.org/CodeSystem/validation-type",
		"failureAction":       "http://terminology.hl7.org/CodeSystem/failure-action",
		"validationStatus":    "http://terminology.hl7.org/CodeSystem/validation-status",
		"canPushUpdates":      "http://terminology.hl7.org/CodeSystem/can-push-updates",
		"pushTypeAvailable":   "http://terminology.hl7.org/CodeSystem/push-type-available",
		"communicationMethod": "http://terminology.hl7.org/CodeSystem/verificationresult-communication-method",
		"type":                "http://terminology.hl7.org/CodeSystem/primary-source-type",
	}
	r4Status   = []string{"attested", "validated", "in-process", "req-revalid", "val-fail", "reval-fail"}
	r4DateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// checkR4 validates a VerificationResult or a Bundle of them against R4's
// structure, and that no personal data of the fixtures is in it.
func checkR4(doc []byte) []string {
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []string{err.Error()}
	}
	c := &r4Check{}
	for _, s := range fhirPHI {
		if bytes.Contains(doc, []byte(s)) {
			c.fail("", "personal data %q", s)
		}
	}
	c.noEmpty("", v)
	switch v["resourceType"] {
	case "VerificationResult":
		c.verificationResult("", v)
	case "Bundle":
		c.keys("", "Bundle", v)
		if v["type"] != "collection" {
			c.fail("/type", "%v, want collection", v["type"])
		}
		if ts, ok := v["timestamp"].(string); ok && !r4DateTime.MatchString(ts) {
			c.fail("/timestamp", "%q is not an instant", ts)
		}
		for i, e := range objects(v["entry"]) {
			c.keys(path("/entry", i), "entry", e)
			r, ok := e["resource"].(map[string]any)
			if !ok || r["resourceType"] != "VerificationResult" {
				c.fail(path("/entry", i), "no VerificationResult")
				continue
			}
			c.verificationResult(path("/entry", i)+"/resource", r)
		}
	default:
		c.fail("/resourceType", "%v", v["resourceType"])
	}
	return c.problems
}

type r4Check struct{ problems []string }

func (c *r4Check) fail(at, format string, args ...any) {
	c.problems = append(c.problems, at+": "+fmt.Sprintf(format, args...))
}

func (c *r4Check) keys(at, typ string, m map[string]any) {
	for k := range m {
		if !slices.Contains(r4Elements[typ], k) {
			c.fail(at, "%s has no element %q", typ, k)
		}
	}
}

// noEmpty: FHIR JSON has no nulls, empty strings, arrays or objects.
func (c *r4Check) noEmpty(at string, v any) {
	switch t := v.(type) {
	case nil:
		c.fail(at, "null")
	case string:
		if strings.TrimSpace(t) == "" {
			c.fail(at, "empty string")
		}
	case []any:
		if len(t) == 0 {
			c.fail(at, "empty array")
		}
		for i, e := range t {
			c.noEmpty(path(at, i), e)
		}
	case map[string]any:
		if len(t) == 0 {
			c.fail(at, "empty object")
		}
		for k, e := range t {
			c.noEmpty(at+"/"+k, e)
		}
	}
}

func (c *r4Check) verificationResult(at string, v map[string]any) {
	c.keys(at, "VerificationResult", v)
	if s, _ := v["status"].(string); !slices.Contains(r4Status, s) {
		c.fail(at+"/status", "%q is not in verificationresult-status (required, 1..1)", s)
	}
	for _, k := range []string{"statusDate", "lastPerformed"} {
		if s, ok := v[k].(string); ok && !r4DateTime.MatchString(s) {
			c.fail(at+"/"+k, "%q is not a dateTime", s)
		}
	}
	if t, ok := v["text"].(map[string]any); ok {
		c.keys(at+"/text", "Narrative", t)
		if div, _ := t["div"].(string); t["status"] != "generated" || !strings.HasPrefix(div, `<div xmlns="http://www.w3.org/1999/xhtml">`) {
			c.fail(at+"/text", "not a generated XHTML narrative")
		}
	}
	c.extensions(at+"/extension", v["extension"])
	for _, k := range []string{"validationType", "failureAction"} {
		c.concept(at+"/"+k, k, v[k])
	}
	for i, p := range objects(v["validationProcess"]) {
		c.concept(path(at+"/validationProcess", i), "validationProcess", p)
	}
	for i, r := range objects(v["target"]) {
		c.reference(path(at+"/target", i), r)
	}
	for i, ps := range objects(v["primarySource"]) {
		c.primarySource(path(at+"/primarySource", i), ps)
	}
	if a, ok := v["attestation"].(map[string]any); ok {
		c.keys(at+"/attestation", "attestation", a)
		c.concept(at+"/attestation/communicationMethod", "communicationMethod", a["communicationMethod"])
	}
	for i, val := range objects(v["validator"]) {
		p := path(at+"/validator", i)
		c.keys(p, "validator", val)
		org, ok := val["organization"].(map[string]any)
		if !ok {
			c.fail(p, "validator.organization is required (1..1)")
			continue
		}
		c.reference(p+"/organization", org)
	}
}

func (c *r4Check) primarySource(at string, ps map[string]any) {
	c.keys(at, "primarySource", ps)
	if who, ok := ps["who"].(map[string]any); ok {
		c.reference(at+"/who", who)
	}
	for _, k := range []string{"validationStatus", "canPushUpdates"} {
		c.concept(at+"/"+k, k, ps[k])
	}
	for _, k := range []string{"type", "communicationMethod", "pushTypeAvailable"} {
		for i, cc := range objects(ps[k]) {
			c.concept(path(at+"/"+k, i), k, cc)
		}
	}
	if s, ok := ps["validationDate"].(string); ok && !r4DateTime.MatchString(s) {
		c.fail(at+"/validationDate", "%q is not a dateTime", s)
	}
	if _, push := ps["pushTypeAvailable"]; push && codeAt(ps["canPushUpdates"]) != "yes" {
		c.fail(at, "pushTypeAvailable without canPushUpdates yes")
	}
}

// concept checks a CodeableConcept of element; one bound to an HL7 code
// system must use a code of it.
func (c *r4Check) concept(at, element string, v any) {
	if v == nil {
		return
	}
	cc, ok := v.(map[string]any)
	if !ok {
		c.fail(at, "not a CodeableConcept")
		return
	}
	c.keys(at, "CodeableConcept", cc)
	c.extensions(at+"/extension", cc["extension"])
	codings := objects(cc["coding"])
	if len(codings) == 0 {
		c.fail(at, "no coding")
	}
	for i, cd := range codings {
		c.keys(path(at+"/coding", i), "Coding", cd)
		sys, _ := cd["system"].(string)
		code, _ := cd["code"].(string)
		if want := r4Bindings[element]; want != "" && sys != want {
			c.fail(path(at+"/coding", i), "system %q, want %s", sys, want)
		}
		if codes, known := r4Codes[sys]; known && !slices.Contains(codes, code) {
			c.fail(path(at+"/coding", i), "%q is not a code of %s", code, sys)
		}
		if sys == "" || code == "" {
			c.fail(path(at+"/coding", i), "a coding without system or code")
		}
	}
}

func (c *r4Check) reference(at string, r map[string]any) {
	c.keys(at, "Reference", r)
	if r["reference"] == nil && r["identifier"] == nil && r["display"] == nil {
		c.fail(at, "an empty Reference")
	}
	if id, ok := r["identifier"].(map[string]any); ok {
		c.keys(at+"/identifier", "Identifier", id)
	}
}

// extensions: ext-1, an extension has a value or sub-extensions, not both.
func (c *r4Check) extensions(at string, v any) {
	for i, e := range objects(v) {
		p := path(at, i)
		if u, _ := e["url"].(string); u == "" {
			c.fail(p, "extension without url")
		}
		values := 0
		for k := range e {
			if strings.HasPrefix(k, "value") {
				values++
			}
		}
		_, sub := e["extension"]
		if values > 1 || (values == 1) == sub {
			c.fail(p, "ext-1: one value[x] or sub-extensions")
		}
		c.extensions(p+"/extension", e["extension"])
	}
}

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func codeAt(v any) string {
	m, _ := v.(map[string]any)
	cs := objects(m["coding"])
	if len(cs) == 0 {
		return ""
	}
	s, _ := cs[0]["code"].(string)
	return s
}

func path(at string, i int) string { return at + "/" + fmt.Sprintf("%d", i) }
