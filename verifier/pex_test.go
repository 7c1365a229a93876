package verifier

import (
	"errors"
	"reflect"
	"testing"
)

// Presentation definitions of DIF Presentation Exchange v2.0.0
// (test/v2.0.0/presentation-definition), verbatim without their envelope.
const (
	pexMinimal = `{"id": "32f54163-7166-48f1-93d8-ff217bdb0653", "input_descriptors": [{"id": "wa_driver_license",
  "name": "Washington State Business License",
  "purpose": "We can only allow licensed Washington State business representatives into the WA Business Conference",
  "constraints": {"fields": [{"path": ["$.credentialSubject.dateOfBirth", "$.credentialSubject.dob",
    "$.vc.credentialSubject.dateOfBirth", "$.vc.credentialSubject.dob"]}]}}]}`

	pexSingleGroup = `{"id": "32f54163-7166-48f1-93d8-ff217bdb0653",
  "submission_requirements": [{"name": "Citizenship Information", "rule": "pick", "count": 1, "from": "A"}],
  "input_descriptors": [
    {"id": "citizenship_input_1", "name": "EU Driver's License", "group": ["A"], "constraints": {"fields": [
      {"path": ["$.credentialSchema.id", "$.vc.credentialSchema.id"], "filter": {"type": "string", "const": "https://eu.com/claims/DriversLicense.json"}},
      {"path": ["$.issuer", "$.vc.issuer", "$.iss"],
       "purpose": "We can only accept digital driver's licenses issued by national authorities of member states or trusted notarial auditors.",
       "filter": {"type": "string", "pattern": "did:example:gov1|did:example:gov2"}},
      {"path": ["$.credentialSubject.dob", "$.vc.credentialSubject.dob", "$.dob"], "filter": {"type": "string", "format": "date"}}]}},
    {"id": "citizenship_input_2", "name": "US Passport", "group": ["A"], "constraints": {"fields": [
      {"path": ["$.credentialSchema.id", "$.vc.credentialSchema.id"], "filter": {"type": "string", "const": "hub://did:foo:123/Collections/schema.us.gov/passport.json"}},
      {"path": ["$.credentialSubject.birth_date", "$.vc.credentialSubject.birth_date", "$.birth_date"], "filter": {"type": "string", "format": "date"}}]}}]}`

	pexInputDescriptors = `{"id": "32f54163-7166-48f1-93d8-ff217bdb0653", "input_descriptors": [{"id": "banking_input_1",
  "name": "Bank Account Information", "purpose": "We can only remit payment to a currently-valid bank account.", "group": ["A"],
  "constraints": {"fields": [
    {"path": ["$.credentialSchema.id", "$.vc.credentialSchema.id"],
     "filter": {"type": "string", "pattern": "https://bank-schemas.org/1.0.0/accounts.json|https://bank-schemas.org/2.0.0/accounts.json"}},
    {"path": ["$.issuer", "$.vc.issuer", "$.iss"], "purpose": "We can only verify bank accounts if they are attested by a trusted bank, auditor or regulatory authority.",
     "filter": {"type": "string", "pattern": "did:example:123|did:example:456"}, "intent_to_retain": true},
    {"path": ["$.credentialSubject.account[*].id", "$.vc.credentialSubject.account[*].id", "$.account[*].id"],
     "purpose": "We can only remit payment to a currently-valid bank account in the US, France, or Germany, submitted as an ABA Acct # or IBAN.",
     "filter": {"type": "string", "pattern": "^[0-9]{10-12}|^(DE|FR)[0-9]{2}\\s?([0-9a-zA-Z]{4}\\s?){4}[0-9a-zA-Z]{2}$"}, "intent_to_retain": true},
    {"path": ["$.credentialSubject.account[*].route", "$.vc.credentialSubject.account[*].route", "$.account[*].route"],
     "purpose": "We can only remit payment to a currently-valid account at a US, Japanese, or German federally-accredited bank, submitted as an ABA RTN or SWIFT code.",
     "filter": {"type": "string", "pattern": "^[0-9]{9}|^([a-zA-Z]){4}([a-zA-Z]){2}([0-9a-zA-Z]){2}([0-9a-zA-Z]{3})?$"}, "intent_to_retain": true}]}}]}`

	pexMultiGroup = `{"id": "32f54163-7166-48f1-93d8-ff217bdb0653",
  "submission_requirements": [
    {"name": "Banking Information", "purpose": "We can only remit payment to a currently-valid bank account in the US, Germany or France.", "rule": "pick", "count": 1, "from": "A"},
    {"name": "Employment Information", "purpose": "We are only verifying one current employment relationship, not any other information about employment.", "rule": "all", "from": "B"},
    {"name": "Eligibility to Drive on US Roads", "purpose": "We need to verify eligibility to drive on US roads via US or EU driver's license, but no biometric or identifying information contained there.", "rule": "pick", "count": 1, "from": "C"}],
  "input_descriptors": [
    {"id": "banking_input_1", "name": "Bank Account Information", "purpose": "Bank Account required to remit payment.", "group": ["A"],
     "constraints": {"limit_disclosure": "required", "fields": [
       {"path": ["$.credentialSchema", "$.vc.credentialSchema"], "filter": {"allOf": [
         {"type": "array", "contains": {"type": "object", "properties": {"id": {"type": "string", "pattern": "https://bank-standards.example.com#accounts"}}, "required": ["id"]}},
         {"type": "array", "contains": {"type": "object", "properties": {"id": {"type": "string", "pattern": "https://bank-standards.example.com#investments"}}, "required": ["id"]}}]}},
       {"path": ["$.issuer", "$.vc.issuer", "$.iss"], "filter": {"type": "string", "pattern": "did:example:123|did:example:456"}},
       {"path": ["$.credentialSubject.portfolio_value", "$.vc.credentialSubject.portfolio_value", "$.portfolio_value"], "filter": {"type": "number", "minimum": 1000000}, "intent_to_retain": true}]}},
    {"id": "banking_input_2", "name": "Bank Account Information", "group": ["A"], "constraints": {"fields": [
       {"path": ["$.issuer", "$.vc.issuer", "$.iss"], "filter": {"type": "string", "pattern": "did:example:123|did:example:456"}}]}},
    {"id": "employment_input", "name": "Employment History", "group": ["B"], "constraints": {"limit_disclosure": "required", "fields": [
       {"path": ["$.credentialSchema", "$.vc.credentialSchema"], "filter": {"type": "string", "const": "https://business-standards.org/schemas/employment-history.json"}},
       {"path": ["$.jobs[*].active"], "filter": {"type": "boolean", "pattern": "true"}}]}},
    {"id": "drivers_license_input_1", "name": "EU Driver's License", "group": ["C"], "constraints": {"fields": [
       {"path": ["$.credentialSchema.id", "$.vc.credentialSchema.id"], "filter": {"type": "string", "const": "https://schema.eu/claims/DriversLicense.json"}}]}},
    {"id": "drivers_license_input_2", "name": "Driver's License from one of 50 US States", "group": ["C"], "constraints": {"fields": [
       {"path": ["$.credentialSubject.birth_date", "$.vc.credentialSubject.birth_date", "$.birth_date"],
        "filter": {"type": "string", "format": "date", "forrmatMaximum": "1999-05-16"}}]}}]}`

	// pexLicense asks for an active Arizona license and an NPI.
	pexLicense = `{"id": "hire", "input_descriptors": [{"id": "license", "constraints": {"fields": [
    {"path": ["$.type", "$.vct"], "filter": {"anyOf": [{"type": "array", "contains": {"const": "MedicalLicenseCredential"}},
      {"const": "https://w3id.org/credence/healthcare#MedicalLicenseCredential"}]}},
    {"path": ["$.credentialSubject.license.jurisdiction", "$.license.jurisdiction"], "filter": {"const": "AZ"}},
    {"path": ["$['credentialSubject']['license']['status']", "$.license.status"], "filter": {"enum": ["active"]}},
    {"path": ["$.credentialSubject.npi", "$.npi"], "filter": {"type": "string", "pattern": "^[12][0-9]{9}$"}},
    {"path": ["$.credentialSubject.boardCertified"], "optional": true, "filter": {"const": true}}]}}]}`
)

var pexSeeds = []string{pexMinimal, pexSingleGroup, pexInputDescriptors, pexMultiGroup, pexLicense}

func TestPEXSpecExamplesCompile(t *testing.T) {
	for _, s := range pexSeeds {
		if err := pexQuery(s).Validate(); err != nil {
			t.Errorf("Validate: %v\n%s", err, s)
		}
	}
}

func TestPEXMinimal(t *testing.T) {
	withDOB := func(format string) Candidate {
		return candidate(t, 4, format, edit(t, licenseExample, func(m map[string]any) { subject(m)["dob"] = "1978-06-20" }))
	}
	for _, c := range []struct {
		name      string
		cand      Candidate
		satisfied bool
	}{
		{"no date of birth", candidate(t, 4, "eddsa-rdfc-2022", licenseExample), false},
		{"dob", withDOB("eddsa-rdfc-2022"), true},
		{"dob in a VC 1.1 JWT", withDOB("jwt-vc-1.1"), true},
	} {
		m := mustMatch(t, pexQuery(pexMinimal), c.cand)
		if m.Satisfied != c.satisfied {
			t.Errorf("%s: %+v", c.name, m)
		}
		if !c.satisfied && (!reflect.DeepEqual(m.Missing, []string{"wa_driver_license"}) || !reflect.DeepEqual(m.Unrequested, []int{4})) {
			t.Errorf("%s: %+v", c.name, m)
		}
	}
}

func TestPEXSingleGroup(t *testing.T) {
	passport := func(birth string) Candidate {
		return candidate(t, 0, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
			m["credentialSchema"] = map[string]any{"id": "hub://did:foo:123/Collections/schema.us.gov/passport.json", "type": "JsonSchema"}
			subject(m)["birth_date"] = birth
		}))
	}
	euLicense := candidate(t, 1, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
		m["credentialSchema"] = map[string]any{"id": "https://eu.com/claims/DriversLicense.json"}
		m["issuer"] = "did:example:gov2"
		subject(m)["dob"] = "1990-01-31"
	}))
	for _, c := range []struct {
		name      string
		cands     []Candidate
		satisfied bool
	}{
		{"passport", []Candidate{passport("1978-06-20")}, true},
		{"passport with a bad date", []Candidate{passport("20 June 1978")}, false},
		{"EU license", []Candidate{euLicense}, true},
		{"both: pick 1 takes exactly one", []Candidate{passport("1978-06-20"), euLicense}, false},
		{"neither", []Candidate{candidate(t, 0, "eddsa-rdfc-2022", licenseExample)}, false},
	} {
		m := mustMatch(t, pexQuery(pexSingleGroup), c.cands...)
		if m.Satisfied != c.satisfied {
			t.Errorf("%s: %+v", c.name, m)
		}
		if m.Items[0].Required || m.Items[1].Required {
			t.Errorf("%s: pick items are marked required: %+v", c.name, m.Items)
		}
	}
}

func TestPEXMultiGroup(t *testing.T) {
	m := mustMatch(t, pexQuery(pexMultiGroup))
	want := []string{"banking_input_1", "banking_input_2", "employment_input", "drivers_license_input_1", "drivers_license_input_2"}
	if m.Satisfied || !reflect.DeepEqual(m.Missing, want) {
		t.Errorf("no candidates: %+v", m)
	}
	bank := candidate(t, 0, "vc+jwt", `{"issuer": "did:example:456", "credentialSubject": {}}`)
	job := candidate(t, 1, "vc+jwt", `{"credentialSchema": "https://business-standards.org/schemas/employment-history.json", "jobs": [{"active": false}, {"active": true}]}`)
	dl := candidate(t, 2, "vc+jwt", `{"credentialSchema": {"id": "https://schema.eu/claims/DriversLicense.json"}}`)
	m = mustMatch(t, pexQuery(pexMultiGroup), bank, job, dl)
	if !m.Satisfied || !m.Items[2].Required || m.Items[0].Required {
		t.Errorf("bank, job and license: %+v", m)
	}
	noJobs := candidate(t, 1, "vc+jwt", `{"credentialSchema": "https://business-standards.org/schemas/employment-history.json", "jobs": []}`)
	m = mustMatch(t, pexQuery(pexMultiGroup), bank, noJobs, dl)
	if m.Satisfied || !reflect.DeepEqual(m.Missing, []string{"employment_input"}) || !reflect.DeepEqual(m.Unrequested, []int{1}) {
		t.Errorf("no jobs: %+v", m)
	}
}

func TestPEXNested(t *testing.T) {
	// Submission requirement example pick_3: all of group A or two of B.
	q := pexQuery(`{"id": "n", "submission_requirements": [{"name": "Confirm banking relationship or employment and residence proofs",
	  "rule": "pick", "count": 1, "from_nested": [{"rule": "all", "from": "A"}, {"rule": "pick", "count": 2, "from": "B"}]}],
	  "input_descriptors": [
	    {"id": "a1", "group": ["A"], "constraints": {"fields": [{"path": ["$.a1"]}]}},
	    {"id": "b1", "group": ["B"], "constraints": {"fields": [{"path": ["$.b1"]}]}},
	    {"id": "b2", "group": ["B"], "constraints": {"fields": [{"path": ["$.b2"]}]}},
	    {"id": "b3", "group": ["B"], "constraints": {"fields": [{"path": ["$.b3"]}]}}]}`)
	c := func(i int, doc string) Candidate { return candidate(t, i, "vc+jwt", doc) }
	for _, tc := range []struct {
		name      string
		cands     []Candidate
		satisfied bool
		missing   []string
	}{
		{"all of A", []Candidate{c(0, `{"a1": 1}`)}, true, []string{}},
		{"two of B", []Candidate{c(0, `{"b1": 1}`), c(1, `{"b3": 1}`)}, true, []string{}},
		{"one of B", []Candidate{c(0, `{"b1": 1}`)}, false, []string{"a1", "b2", "b3"}},
		{"A and two of B: count 1", []Candidate{c(0, `{"a1": 1, "b1": 1, "b2": 1}`)}, false, []string{}},
	} {
		m := mustMatch(t, q, tc.cands...)
		if m.Satisfied != tc.satisfied || !reflect.DeepEqual(m.Missing, tc.missing) {
			t.Errorf("%s: %+v", tc.name, m)
		}
	}
}

func TestPEXLicense(t *testing.T) {
	lic := candidate(t, 0, "eddsa-rdfc-2022", licenseExample)
	for _, c := range []struct {
		name      string
		cand      Candidate
		satisfied bool
	}{
		{"W3C license", lic, true},
		{"SD-JWT license", candidate(t, 0, "dc+sd-jwt", licenseExample), true},
		{"TX license", candidate(t, 0, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
			subject(m)["license"].(map[string]any)["jurisdiction"] = "TX"
		})), false},
		{"bad NPI", candidate(t, 0, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) { subject(m)["npi"] = "3952183238" })), false},
		{"optional field present and passing", candidate(t, 0, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
			subject(m)["boardCertified"] = true
		})), true},
		{"optional field present but failing its filter", candidate(t, 0, "eddsa-rdfc-2022", edit(t, licenseExample, func(m map[string]any) {
			subject(m)["boardCertified"] = false
		})), false},
	} {
		if m := mustMatch(t, pexQuery(pexLicense), c.cand); m.Satisfied != c.satisfied {
			t.Errorf("%s: %+v", c.name, m)
		}
	}
}

func TestPEXFormats(t *testing.T) {
	// format_example.json of the spec: of the credential formats only the
	// JWT ones are Credence's (the proof types listed are not).
	got, err := pexFormats(map[string]any{
		"jwt":    map[string]any{"alg": []any{"EdDSA", "ES256K", "ES384"}},
		"jwt_vc": map[string]any{"alg": []any{"ES256K", "ES384"}},
		"jwt_vp": map[string]any{"alg": []any{"EdDSA", "ES256K"}},
		"ldp_vc": map[string]any{"proof_type": []any{"JsonWebSignature2020", "Ed25519Signature2018", "EcdsaSecp256k1Signature2019", "RsaSignature2018"}},
		"ldp_vp": map[string]any{"proof_type": []any{"Ed25519Signature2018"}},
		"ldp":    map[string]any{"proof_type": []any{"RsaSignature2018"}},
	}, "format")
	if err != nil || !reflect.DeepEqual(got, map[string]bool{"vc+jwt": true, "jwt-vc-1.1": true}) {
		t.Errorf("format_example: %v, %v", got, err)
	}
	for _, c := range []struct {
		format map[string]any
		want   map[string]bool
	}{
		{map[string]any{"ldp_vp": map[string]any{}}, nil},
		{map[string]any{"di_vc": map[string]any{"proof_type": []any{"DataIntegrityProof"}, "cryptosuite": []any{"eddsa-jcs-2022"}}},
			map[string]bool{"eddsa-jcs-2022": true}},
		{map[string]any{"ldp_vc": map[string]any{"proof_type": []any{"Ed25519Signature2020"}}}, map[string]bool{"Ed25519Signature2020": true}},
		{map[string]any{"vc+sd-jwt": map[string]any{}}, map[string]bool{"dc+sd-jwt": true}},
	} {
		if got, err := pexFormats(c.format, "format"); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("pexFormats(%v) = %v, %v; want %v", c.format, got, err, c.want)
		}
	}
	q := pexQuery(`{"id": "f", "format": {"jwt_vc_json": {"alg": ["EdDSA"]}}, "input_descriptors": [
	  {"id": "any", "constraints": {}},
	  {"id": "sd", "format": {"dc+sd-jwt": {}}, "constraints": {}}]}`)
	m := mustMatch(t, q, candidate(t, 0, "vc+jwt", licenseExample), candidate(t, 1, "dc+sd-jwt", licenseExample),
		candidate(t, 2, "eddsa-rdfc-2022", licenseExample))
	if !m.Satisfied || !reflect.DeepEqual(m.Items[0].Candidates, []int{0}) || !reflect.DeepEqual(m.Items[1].Candidates, []int{1}) ||
		!reflect.DeepEqual(m.Unrequested, []int{2}) {
		t.Errorf("formats: %+v", m)
	}
}

func TestPEXInvalid(t *testing.T) {
	desc := func(constraints string) string {
		return `{"id": "p", "input_descriptors": [{"id": "d", "constraints": ` + constraints + `}]}`
	}
	field := func(f string) string { return desc(`{"fields": [` + f + `]}`) }
	for _, c := range []struct{ query, field string }{
		{`{"input_descriptors": []}`, "presentation_definition.id"},
		{`{"id": "p", "input_descriptors": []}`, "presentation_definition.input_descriptors"},
		{`{"id": "p", "frame": {}, "input_descriptors": []}`, "presentation_definition.frame"},
		{`{"id": "p", "input_descriptors": [{"id": "d"}]}`, "presentation_definition.input_descriptors[0].constraints"},
		{`{"id": "p", "input_descriptors": [{"id": "d", "constraints": {}}, {"id": "d", "constraints": {}}]}`, "presentation_definition.input_descriptors[1].id"},
		{desc(`{"statuses": {"active": {"directive": "required"}}}`), "presentation_definition.input_descriptors[0].constraints.statuses"},
		{desc(`{"is_holder": []}`), "presentation_definition.input_descriptors[0].constraints.is_holder"},
		{desc(`{"limit_disclosure": "always"}`), "presentation_definition.input_descriptors[0].constraints.limit_disclosure"},
		{field(`{"path": ["$.a"], "predicate": "required", "filter": {}}`), "presentation_definition.input_descriptors[0].constraints.fields[0].predicate"},
		{field(`{"path": []}`), "presentation_definition.input_descriptors[0].constraints.fields[0].path"},
		{field(`{"path": ["$..name"]}`), "presentation_definition.input_descriptors[0].constraints.fields[0].path[0]"},
		{field(`{"path": ["$.a", "$.b[?(@.x)]"]}`), "presentation_definition.input_descriptors[0].constraints.fields[0].path[1]"},
		{field(`{"path": ["$.a"], "filter": "string"}`), "presentation_definition.input_descriptors[0].constraints.fields[0].filter"},
		{field(`{"path": ["$.a"], "filter": {"type": "strong"}}`), "presentation_definition.input_descriptors[0].constraints.fields[0].filter"},
		{field(`{"path": ["$.a"], "filter": {"$ref": "https://example.com/schema.json"}}`), "presentation_definition.input_descriptors[0].constraints.fields[0].filter"},
		{field(`{"path": ["$.a"], "optional": "no"}`), "presentation_definition.input_descriptors[0].constraints.fields[0].optional"},
		{field(`{"id": "x", "path": ["$.a"]}, {"id": "x", "path": ["$.b"]}`), "presentation_definition.input_descriptors[0].constraints.fields[1].id"},
		{`{"id": "p", "format": {"mso_mdoc": {"alg": ["ES256"]}}, "input_descriptors": [{"id": "d", "constraints": {}}]}`, "presentation_definition.format"},
		{`{"id": "p", "format": {"jwt_vc": {"alg": []}}, "input_descriptors": [{"id": "d", "constraints": {}}]}`, "presentation_definition.format.jwt_vc.alg"},
		{`{"id": "p", "submission_requirements": [{"rule": "all", "from": "A"}], "input_descriptors": [{"id": "d", "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0].from"},
		{`{"id": "p", "submission_requirements": [{"rule": "all", "from": "A"}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}, {"id": "e", "constraints": {}}]}`,
			"presentation_definition.input_descriptors[1].group"},
		{`{"id": "p", "submission_requirements": [{"rule": "pick", "from": "A"}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0]"},
		{`{"id": "p", "submission_requirements": [{"rule": "pick", "count": 2, "from": "A"}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0].count"},
		{`{"id": "p", "submission_requirements": [{"rule": "any", "from": "A"}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0].rule"},
		{`{"id": "p", "submission_requirements": [{"rule": "all", "from": "A", "from_nested": []}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0]"},
		{`{"id": "p", "submission_requirements": [{"rule": "pick", "min": 1, "max": 0, "from": "A"}], "input_descriptors": [{"id": "d", "group": ["A"], "constraints": {}}]}`,
			"presentation_definition.submission_requirements[0].max"},
	} {
		err := pexQuery(c.query).Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Validate(%s) = %v, want an InputError on %s", c.query, err, c.field)
		}
	}
}
