package verifier

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

// The DCQL examples of OpenID4VP 1.0 (examples/query_lang and
// examples/request), verbatim.
const (
	dcqlSimple = `{"credentials": [{"id": "my_credential", "format": "dc+sd-jwt",
  "meta": {"vct_values": [ "https://credentials.example.com/identity_credential" ]},
  "claims": [{"path": ["family_name"]}, {"path": ["given_name"]}, {"path": ["address", "street_address"]}]}]}`

	dcqlValueMatching = `{"credentials": [{"id": "my_credential", "format": "dc+sd-jwt",
  "meta": {"vct_values": [ "https://credentials.example.com/identity_credential" ]},
  "claims": [{"path": ["family_name"], "values": ["Doe"]}, {"path": ["given_name"]},
    {"path": ["address", "street_address"]}, {"path": ["postal_code"], "values": ["90210", "90211"]}]}]}`

	dcqlClaimsAlternatives = `{"credentials": [{"id": "pid", "format": "dc+sd-jwt",
  "meta": {"vct_values": [ "https://credentials.example.com/identity_credential" ]},
  "claims": [{"id": "a", "path": ["family_name"]}, {"id": "b", "path": ["postal_code"]}, {"id": "c", "path": ["locality"]},
    {"id": "d", "path": ["region"]}, {"id": "e", "path": ["date_of_birth"]}],
  "claim_sets": [["a", "c", "d", "e"], ["a", "b", "e"]]}]}`

	dcqlCredentialsAlternatives = `{"credentials": [
  {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
   "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["address", "street_address"]}]},
  {"id": "other_pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://othercredentials.example/pid"]},
   "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["address", "street_address"]}]},
  {"id": "pid_reduced_cred_1", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://credentials.example.com/reduced_identity_credential"]},
   "claims": [{"path": ["family_name"]}, {"path": ["given_name"]}]},
  {"id": "pid_reduced_cred_2", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://cred.example/residence_credential"]},
   "claims": [{"path": ["postal_code"]}, {"path": ["locality"]}, {"path": ["region"]}]},
  {"id": "nice_to_have", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://company.example/company_rewards"]},
   "claims": [{"path": ["rewards_number"]}]}],
 "credential_sets": [
  {"options": [[ "pid" ], [ "other_pid" ], [ "pid_reduced_cred_1", "pid_reduced_cred_2" ]]},
  {"required": false, "options": [[ "nice_to_have" ]]}]}`

	dcqlMultiCredentials = `{"credentials": [
  {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://credentials.example.com/identity_credential"]},
   "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["address", "street_address"]}]},
  {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.7367.1.mVRC"},
   "claims": [{"path": ["org.iso.7367.1", "vehicle_holder"]}, {"path": ["org.iso.18013.5.1", "given_name"]}]}]}`

	dcqlLDP = `{"credentials": [{"id": "example_ldp_vc", "format": "ldp_vc", "meta": {"type_values": [["IDCredential"]]},
  "claims": [{"path": ["credentialSubject", "family_name"]}, {"path": ["credentialSubject", "given_name"]},
    {"path": ["credentialSubject", "birthdate"]}, {"path": ["credentialSubject", "address", "street_address"]},
    {"path": ["credentialSubject", "address", "locality"]}, {"path": ["credentialSubject", "address", "postal_code"]},
    {"path": ["credentialSubject", "address", "country"]}]}]}`

	dcqlJWT = `{"credentials": [{"id": "example_jwt_vc", "format": "jwt_vc_json", "meta": {"type_values": [["IDCredential"]]},
  "claims": [{"path": ["credentialSubject", "family_name"]}, {"path": ["credentialSubject", "given_name"]}]}]}`

	// dcqlLicense is what a hospital asks a clinician: an Arizona medical
	// license, by its expanded types.
	dcqlLicense = `{"credentials": [{"id": "license", "format": "ldp_vc",
  "meta": {"type_values": [["https://www.w3.org/2018/credentials#VerifiableCredential",
    "https://w3id.org/credence/healthcare#MedicalLicenseCredential"]]},
  "claims": [{"path": ["credentialSubject", "license", "jurisdiction"], "values": ["AZ"]},
    {"path": ["credentialSubject", "npi"]}]}]}`
)

var dcqlSeeds = []string{dcqlSimple, dcqlValueMatching, dcqlClaimsAlternatives, dcqlCredentialsAlternatives,
	dcqlMultiCredentials, dcqlLDP, dcqlJWT, dcqlLicense}

func TestDCQLW3CExamples(t *testing.T) {
	ldp := candidate(t, 0, "eddsa-rdfc-2022", ldpExample)
	jwt := candidate(t, 0, "jwt-vc-1.1", ldpExample)
	for _, c := range []struct {
		name      string
		query     string
		cand      Candidate
		satisfied bool
	}{
		{"ldp_vc query, Data Integrity credential", dcqlLDP, ldp, true},
		{"ldp_vc query, Ed25519Signature2020 credential", dcqlLDP, candidate(t, 0, "Ed25519Signature2020", ldpExample), true},
		{"ldp_vc query, JWT credential", dcqlLDP, jwt, false},
		{"jwt_vc_json query, VC 1.1 JWT", dcqlJWT, jwt, true},
		{"jwt_vc_json query, VC-JOSE", dcqlJWT, candidate(t, 0, "vc+jwt", ldpExample), true},
		{"jwt_vc_json query, Data Integrity credential", dcqlJWT, ldp, false},
		{"ldp_vc query, a claim missing", dcqlLDP, candidate(t, 0, "eddsa-rdfc-2022", edit(t, ldpExample, func(m map[string]any) {
			delete(subject(m)["address"].(map[string]any), "country")
		})), false},
		{"ldp_vc query, another type", dcqlLDP, candidate(t, 0, "eddsa-rdfc-2022", edit(t, ldpExample, func(m map[string]any) {
			m["type"] = []any{"VerifiableCredential", "OtherCredential"}
		})), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mustMatch(t, dcql(c.query), c.cand)
			if m.Satisfied != c.satisfied {
				t.Fatalf("Satisfied = %v, want %v (%+v)", m.Satisfied, c.satisfied, m)
			}
			if !c.satisfied && (len(m.Missing) != 1 || len(m.Unrequested) != 1) {
				t.Errorf("unsatisfied match = %+v, want one missing id and the candidate unrequested", m)
			}
		})
	}
}

func TestDCQLSDJWTExamples(t *testing.T) {
	id := candidate(t, 0, "dc+sd-jwt", identityExample)
	noStreet := candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) { delete(subject(m), "address") }))
	for _, c := range []struct {
		name      string
		query     string
		cand      Candidate
		satisfied bool
	}{
		{"simple", dcqlSimple, id, true},
		{"simple, no address", dcqlSimple, noStreet, false},
		{"simple, W3C credential", dcqlSimple, candidate(t, 0, "eddsa-rdfc-2022", identityExample), false},
		{"simple, another vct", dcqlSimple, candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			m["type"] = []any{"VerifiableCredential", "OtherCredential"}
		})), false},
		{"value matching", dcqlValueMatching, id, true},
		{"value matching, other postal code", dcqlValueMatching, candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			subject(m)["postal_code"] = "90212"
		})), false},
		{"value matching, numeric postal code", dcqlValueMatching, candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			subject(m)["postal_code"] = json.Number("90210")
		})), false},
		{"claim sets, second option", dcqlClaimsAlternatives, candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			subject(m)["date_of_birth"] = "1940-01-01"
		})), true},
		{"claim sets, first option", dcqlClaimsAlternatives, candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			s := subject(m)
			delete(s, "postal_code")
			s["date_of_birth"], s["locality"], s["region"] = "1940-01-01", "Beverly Hills", "CA"
		})), true},
		{"claim sets, no option", dcqlClaimsAlternatives, id, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if m := mustMatch(t, dcql(specVCT(c.query)), c.cand); m.Satisfied != c.satisfied {
				t.Fatalf("Satisfied = %v, want %v (%+v)", m.Satisfied, c.satisfied, m)
			}
		})
	}
}

func TestDCQLCredentialSets(t *testing.T) {
	q := dcql(replaceAll(specVCT(dcqlCredentialsAlternatives),
		"https://credentials.example.com/reduced_identity_credential", "urn:credence:type:Reduced",
		"https://cred.example/residence_credential", "urn:credence:type:Residence"))
	withVCT := func(index int, typ string, fn func(s map[string]any)) Candidate {
		return candidate(t, index, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
			m["type"] = []any{"VerifiableCredential", typ}
			fn(subject(m))
		}))
	}
	reduced1 := withVCT(3, "Reduced", func(map[string]any) {})
	reduced2 := withVCT(5, "Residence", func(s map[string]any) { s["locality"], s["region"] = "Beverly Hills", "CA" })
	unrelated := candidate(t, 7, "eddsa-rdfc-2022", licenseExample)

	m := mustMatch(t, q, reduced1, reduced2, unrelated)
	want := []MatchItem{
		{ID: "pid", Required: false, Candidates: []int{}},
		{ID: "other_pid", Required: false, Candidates: []int{}},
		{ID: "pid_reduced_cred_1", Required: false, Candidates: []int{3}},
		{ID: "pid_reduced_cred_2", Required: false, Candidates: []int{5}},
		{ID: "nice_to_have", Required: false, Candidates: []int{}},
	}
	if !m.Satisfied || !reflect.DeepEqual(m.Items, want) || len(m.Missing) != 0 || !reflect.DeepEqual(m.Unrequested, []int{7}) {
		t.Errorf("two reduced credentials: %+v", m)
	}
	// The full identity credential also satisfies pid_reduced_cred_1 (same
	// claims): a credential may answer several queries.
	m = mustMatch(t, q, candidate(t, 0, "dc+sd-jwt", identityExample))
	if !m.Satisfied || !reflect.DeepEqual(m.Items[0].Candidates, []int{0}) {
		t.Errorf("identity credential: %+v", m)
	}
	m = mustMatch(t, q, reduced1)
	if m.Satisfied || !reflect.DeepEqual(m.Missing, []string{"pid"}) {
		t.Errorf("one reduced credential: %+v, want unsatisfied, missing the first closest option [pid]", m)
	}
}

func replaceAll(s string, oldnew ...string) string { return strings.NewReplacer(oldnew...).Replace(s) }

func TestDCQLRequiredWithoutSets(t *testing.T) {
	q := dcql(`{"credentials": [
	  {"id": "license", "format": "ldp_vc", "meta": {"type_values": [["MedicalLicenseCredential"]]}},
	  {"id": "dea", "format": "ldp_vc", "meta": {"type_values": [["DEARegistrationCredential"]]}}]}`)
	m := mustMatch(t, q, candidate(t, 0, "eddsa-jcs-2022", licenseExample))
	if m.Satisfied || !reflect.DeepEqual(m.Missing, []string{"dea"}) || !m.Items[0].Required || !m.Items[1].Required {
		t.Errorf("license without DEA: %+v", m)
	}
}

func TestDCQLHealthcarePaths(t *testing.T) {
	lic := candidate(t, 0, "eddsa-rdfc-2022", licenseExample)
	for _, c := range []struct {
		name, query string
		satisfied   bool
	}{
		{"license in AZ by expanded type", dcqlLicense, true},
		{"license in TX", replaceAll(dcqlLicense, `["AZ"]`, `["TX"]`), false},
		{"compact type", replaceAll(dcqlLicense, `"https://w3id.org/credence/healthcare#MedicalLicenseCredential"`, `"MedicalLicenseCredential"`), true},
		{"one of two type sets", replaceAll(dcqlLicense, `"type_values": [`, `"type_values": [["DEARegistrationCredential"], `), true},
		{"null selects array elements", claimQuery(`["credentialSubject", "name", "given", null]`, `["E."]`), true},
		{"index", claimQuery(`["credentialSubject", "name", "given", 1]`, `["E."]`), true},
		{"index out of range", claimQuery(`["credentialSubject", "name", "given", 2]`, ``), false},
		{"null on an object aborts", claimQuery(`["credentialSubject", "license", null]`, ``), false},
		{"key on an array aborts", claimQuery(`["credentialSubject", "name", "given", "x"]`, ``), false},
		{"integer value", claimQuery(`["credentialSubject", "license", "yearsActive"]`, `[18]`), true},
		{"integer value as string", claimQuery(`["credentialSubject", "license", "yearsActive"]`, `["18"]`), false},
		{"whole subject", claimQuery(`["credentialSubject"]`, ``), true},
		{"issuer name", claimQuery(`["issuer", "name"]`, `["Arizona Medical Board (synthetic)"]`), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if m := mustMatch(t, dcql(c.query), lic); m.Satisfied != c.satisfied {
				t.Fatalf("Satisfied = %v, want %v", m.Satisfied, c.satisfied)
			}
		})
	}
}

func claimQuery(path, values string) string {
	claim := `{"path": ` + path
	if values != "" {
		claim += `, "values": ` + values
	}
	return `{"credentials": [{"id": "c", "format": "ldp_vc", "meta": {"type_values": [["MedicalLicenseCredential"]]}, "claims": [` + claim + `}]}]}`
}

func TestDCQLSDJWTHealthcareVCT(t *testing.T) {
	q := dcql(`{"credentials": [{"id": "id", "format": "vc+sd-jwt",
	  "meta": {"vct_values": ["` + healthcare.Vocab + `MedicalLicenseCredential"]},
	  "claims": [{"path": ["license", "jurisdiction"], "values": ["AZ"]}, {"path": ["sub"]}, {"path": ["iss"]}]}]}`)
	if m := mustMatch(t, q, candidate(t, 0, "dc+sd-jwt", licenseExample)); !m.Satisfied {
		t.Errorf("SD-JWT license: %+v", m)
	}
}

func TestDCQLInvalid(t *testing.T) {
	w3c := `"format": "ldp_vc", "meta": {"type_values": [["X"]]}`
	for _, c := range []struct{ query, field string }{
		{dcqlMultiCredentials, "dcql_query.credentials[1].format"},
		{`{}`, "dcql_query.credentials"},
		{`{"credentials": []}`, "dcql_query.credentials"},
		{`{"credentials": [{"format": "ldp_vc", "meta": {}}]}`, "dcql_query.credentials[0].id"},
		{`{"credentials": [{"id": "a b", ` + w3c + `}]}`, "dcql_query.credentials[0].id"},
		{`{"credentials": [{"id": "a", ` + w3c + `}, {"id": "a", ` + w3c + `}]}`, "dcql_query.credentials[1].id"},
		{`{"credentials": [{"id": "a", "format": "ldp_vc"}]}`, "dcql_query.credentials[0].meta"},
		{`{"credentials": [{"id": "a", "format": "ldp_vc", "meta": {}}]}`, "dcql_query.credentials[0].meta.type_values"},
		{`{"credentials": [{"id": "a", "format": "ldp_vc", "meta": {"type_values": [[]]}}]}`, "dcql_query.credentials[0].meta.type_values[0]"},
		{`{"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"type_values": [["X"]]}}]}`, "dcql_query.credentials[0].meta.vct_values"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "multiple": "yes"}]}`, "dcql_query.credentials[0].multiple"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "trusted_authorities": [{"type": "aki"}]}]}`, "dcql_query.credentials[0].trusted_authorities[0].values"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": []}]}`, "dcql_query.credentials[0].claims"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": []}]}]}`, "dcql_query.credentials[0].claims[0].path"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x", -1]}]}]}`, "dcql_query.credentials[0].claims[0].path[1]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x", 1.5]}]}]}`, "dcql_query.credentials[0].claims[0].path[1]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": [true]}]}]}`, "dcql_query.credentials[0].claims[0].path[0]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x"], "values": [1.5]}]}]}`, "dcql_query.credentials[0].claims[0].values[0]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x"], "values": [null]}]}]}`, "dcql_query.credentials[0].claims[0].values[0]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x"], "values": []}]}]}`, "dcql_query.credentials[0].claims[0].values"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claim_sets": [["x"]]}]}`, "dcql_query.credentials[0].claim_sets"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"path": ["x"]}], "claim_sets": [["x"]]}]}`, "dcql_query.credentials[0].claims[0].id"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"id": "x", "path": ["x"]}], "claim_sets": [["y"]]}]}`, "dcql_query.credentials[0].claim_sets[0][0]"},
		{`{"credentials": [{"id": "a", ` + w3c + `, "claims": [{"id": "x", "path": ["x"]}, {"id": "x", "path": ["y"]}]}]}`, "dcql_query.credentials[0].claims[1].id"},
		{`{"credentials": [{"id": "a", ` + w3c + `}], "credential_sets": [{"options": [["b"]]}]}`, "dcql_query.credential_sets[0].options[0][0]"},
		{`{"credentials": [{"id": "a", ` + w3c + `}], "credential_sets": [{"options": []}]}`, "dcql_query.credential_sets[0].options"},
		{`{"credentials": [{"id": "a", ` + w3c + `}], "credential_sets": [{}]}`, "dcql_query.credential_sets[0].options"},
		{`{"credentials": [{"id": "a", ` + w3c + `}], "credential_sets": [{"options": [["a"]], "required": 1}]}`, "dcql_query.credential_sets[0].required"},
	} {
		err := dcql(c.query).Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Validate(%s) = %v, want an InputError on %s", c.query, err, c.field)
		}
	}
}

func TestDCQLIgnoresUnknownMembers(t *testing.T) {
	q := dcql(`{"future": 1, "credentials": [{"id": "a", "format": "ldp_vc", "later": {}, "meta": {"type_values": [["MedicalLicenseCredential"]], "x": 1},
	  "require_cryptographic_holder_binding": false, "multiple": true,
	  "trusted_authorities": [{"type": "openid_federation", "values": ["https://trustanchor.example.com"]}]}]}`)
	if m := mustMatch(t, q, candidate(t, 0, "eddsa-rdfc-2022", licenseExample)); !m.Satisfied {
		t.Errorf("%+v", m)
	}
}
