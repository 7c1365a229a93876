package healthcare_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

func TestExamplesValidate(t *testing.T) {
	for _, typ := range healthcare.Types() {
		t.Run(typ.Name, func(t *testing.T) {
			if err := healthcare.ValidateSubject(typ.Name, subject(t, typ.Name)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// at walks a subject to the object at a slash-separated path of members
// and array indexes.
func at(t testing.TB, s map[string]any, path string) map[string]any {
	t.Helper()
	var v any = s
	for _, k := range strings.Split(path, "/") {
		if k == "" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if err := json.Unmarshal([]byte(k), &i); err != nil || i >= len(x) {
				t.Fatalf("bad index %q in %s", k, path)
			}
			v = x[i]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object", path)
	}
	return m
}

func TestValidateSubjectRejects(t *testing.T) {
	tests := []struct {
		name   string
		typ    string
		mutate func(t *testing.T, s map[string]any)
		want   []vc.FieldError // Detail: a substring the detail must contain
	}{
		{"bad NPI check digit", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { s["npi"] = "1952183239" },
			[]vc.FieldError{{Field: "/credentialSubject/npi", Detail: "NPI check digit is wrong"}}},
		{"NPI shape", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { s["npi"] = "395218323" },
			[]vc.FieldError{{Field: "/credentialSubject/npi", Detail: "NPI must be 10 digits starting with 1 or 2"}}},
		{"bad facility NPI", healthcare.HospitalPrivilege,
			func(t *testing.T, s map[string]any) { at(t, s, "facility")["npi"] = "1735522729" },
			[]vc.FieldError{{Field: "/credentialSubject/facility/npi", Detail: "NPI check digit is wrong"}}},
		{"bad NPI in a FHIR identifier", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) {
				id := at(t, s, "identifier/0")
				id["system"], id["value"] = healthcare.SystemNPI, "1234567890"
			},
			[]vc.FieldError{{Field: "/credentialSubject/identifier/0/value", Detail: "NPI check digit is wrong"}}},
		{"bad DEA check digit", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["deaNumber"] = "BA5808212" },
			[]vc.FieldError{{Field: "/credentialSubject/registration/deaNumber", Detail: "DEA check digit is wrong"}}},
		{"unknown DEA registrant letter", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["deaNumber"] = "ZA5808211" },
			[]vc.FieldError{{Field: "/credentialSubject/registration/deaNumber", Detail: `unknown DEA registrant type letter "Z"`}}},
		{"DEA letter of a mid-level for a practitioner", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["deaNumber"] = "MA5808211" },
			[]vc.FieldError{{Field: "/credentialSubject/registration/deaNumber", Detail: `registrant type letter "M" does not fit registrantType practitioner`}}},
		{"DEA shape", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["deaNumber"] = "B15808211" },
			[]vc.FieldError{{Field: "/credentialSubject/registration/deaNumber", Detail: "DEA number must be 2 letters"}}},
		{"unknown state", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license")["jurisdiction"] = "XX" },
			[]vc.FieldError{{Field: "/credentialSubject/license/jurisdiction", Detail: `unknown state "XX"`}}},
		{"unknown address state", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { at(t, s, "address")["state"] = "ZZ" },
			[]vc.FieldError{{Field: "/credentialSubject/address/state", Detail: `unknown state "ZZ"`}}},
		{"DEA address outside the registration state", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["state"] = "CA" },
			[]vc.FieldError{{Field: "/credentialSubject/registration/registeredAddress/state", Detail: "not in the registration's state CA"}}},
		{"missing required field", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { delete(at(t, s, "license"), "licenseNumber") },
			[]vc.FieldError{{Field: "/credentialSubject/license/licenseNumber", Detail: "missing property licenseNumber"}}},
		{"missing required fields, one error each", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) {
				delete(s, "birthDate")
				delete(at(t, s, "identityAssurance"), "level")
				delete(at(t, s, "identityAssurance"), "proofedOn")
			},
			[]vc.FieldError{
				{Field: "/credentialSubject/birthDate", Detail: "missing property birthDate"},
				{Field: "/credentialSubject/identityAssurance/level", Detail: "missing property level"},
				{Field: "/credentialSubject/identityAssurance/proofedOn", Detail: "missing property proofedOn"},
			}},
		{"wrong license type code", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license/licenseType")["code"] = "XY" },
			[]vc.FieldError{{Field: "/credentialSubject/license/licenseType/code", Detail: `"XY" is not one of "MD", "DO", "NP", "PA", "RN"`}}},
		{"wrong license type system", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) {
				at(t, s, "license/licenseType")["system"] = "http://example.org/degrees"
			},
			[]vc.FieldError{{Field: "/credentialSubject/license/licenseType/system", Detail: `must be "http://terminology.hl7.org/CodeSystem/v2-0360"`}}},
		{"malformed date", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license")["issueDate"] = "07/17/2023" },
			[]vc.FieldError{{Field: "/credentialSubject/license/issueDate", Detail: `"07/17/2023" is not a calendar date YYYY-MM-DD`}}},
		{"impossible date", healthcare.BoardCertification,
			func(t *testing.T, s map[string]any) { at(t, s, "certification")["effectiveDate"] = "2023-02-29" },
			[]vc.FieldError{{Field: "/credentialSubject/certification/effectiveDate", Detail: "is not a calendar date"}}},
		{"month 13", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { s["birthDate"] = "1975-13-01" },
			[]vc.FieldError{{Field: "/credentialSubject/birthDate", Detail: "is not a calendar date"}}},
		{"expiry before issue", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license")["expirationDate"] = "2023-07-16" },
			[]vc.FieldError{{Field: "/credentialSubject/license/expirationDate", Detail: "expirationDate 2023-07-16 is before issueDate 2023-07-17"}}},
		{"privilege expiring before granted", healthcare.HospitalPrivilege,
			func(t *testing.T, s map[string]any) { at(t, s, "privileges/1")["expirationDate"] = "2023-01-01" },
			[]vc.FieldError{{Field: "/credentialSubject/privileges/1/expirationDate", Detail: "is before grantedDate"}}},
		{"appointment ending before it starts", healthcare.HospitalPrivilege,
			func(t *testing.T, s map[string]any) { at(t, s, "appointment")["endDate"] = "2020-01-01" },
			[]vc.FieldError{{Field: "/credentialSubject/appointment/endDate", Detail: "endDate 2020-01-01 is before startDate 2024-01-04"}}},
		{"license jurisdiction not the board's", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license")["jurisdiction"] = "TX" },
			[]vc.FieldError{{Field: "/credentialSubject/license/issuingBoard/jurisdiction", Detail: `issuing board's jurisdiction "AZ" is not the license's jurisdiction "TX"`}}},
		{"extra property where additionalProperties is false", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { at(t, s, "license")["nickname"] = "x" },
			[]vc.FieldError{{Field: "/credentialSubject/license/nickname", Detail: `unknown property "nickname"`}}},
		{"extra subject property", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { s["ssn"] = "123-45-6789" },
			[]vc.FieldError{{Field: "/credentialSubject/ssn", Detail: `unknown property "ssn"`}}},
		{"extra property is pointer-escaped", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { at(t, s, "ageOver")["a/b~c"] = true },
			[]vc.FieldError{{Field: "/credentialSubject/ageOver/a~1b~0c", Detail: `unknown property "a/b~c"`}}},
		{"NUCC code shape", healthcare.BoardCertification,
			func(t *testing.T, s map[string]any) { at(t, s, "certification/specialty")["code"] = "207R0000X" },
			[]vc.FieldError{{Field: "/credentialSubject/certification/specialty/code", Detail: "NUCC taxonomy code must be 10 characters"}}},
		{"NUCC code in a generic coding", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) {
				c := at(t, s, "identifier/0/type/coding/0")
				c["system"], c["code"] = healthcare.SystemNUCC, "207R"
			},
			[]vc.FieldError{{Field: "/credentialSubject/identifier/0/type/coding/0/code", Detail: "is not a NUCC taxonomy code"}}},
		{"not a DID", healthcare.MedicalLicense,
			func(t *testing.T, s map[string]any) { s["id"] = "https://example.org/people/1" },
			[]vc.FieldError{{Field: "/credentialSubject/id", Detail: "must be a DID"}}},
		{"not a URI", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { at(t, s, "identifier/0")["system"] = "mrn" },
			[]vc.FieldError{{Field: "/credentialSubject/identifier/0/system", Detail: `"mrn" is not an absolute URI`}}},
		{"wrong type", healthcare.BoardCertification,
			func(t *testing.T, s map[string]any) {
				at(t, s, "certification/continuingCertification")["participating"] = "yes"
			},
			[]vc.FieldError{{Field: "/credentialSubject/certification/continuingCertification/participating", Detail: "must be a boolean, not a string"}}},
		{"subject type neither string nor array", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { s["type"] = 7.0 },
			[]vc.FieldError{{Field: "/credentialSubject/type", Detail: "must be a string or an array"}}},
		{"subject type array of non-strings", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { s["type"] = []any{"Patient", 7.0} },
			[]vc.FieldError{{Field: "/credentialSubject/type/1", Detail: "must be a string"}}},
		{"duplicate schedules", healthcare.DEARegistration,
			func(t *testing.T, s map[string]any) { at(t, s, "registration")["schedules"] = []any{"2", "2"} },
			[]vc.FieldError{{Field: "/credentialSubject/registration/schedules", Detail: "items 0 and 1 are the same"}}},
		{"empty given names", healthcare.PatientIdentity,
			func(t *testing.T, s map[string]any) { at(t, s, "name")["given"] = []any{} },
			[]vc.FieldError{{Field: "/credentialSubject/name/given", Detail: "must not be empty"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := subject(t, tt.typ)
			tt.mutate(t, s)
			err := healthcare.ValidateSubject(tt.typ, s)
			var ie *vc.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("got %v, want a *vc.InvalidError wrapping vc.ErrMalformed", err)
			}
			if len(ie.Fields) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %d %v", len(ie.Fields), ie.Fields, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if g := ie.Fields[i]; g.Field != w.Field || !strings.Contains(g.Detail, w.Detail) {
					t.Errorf("error %d: got %s: %q, want %s: %q", i, g.Field, g.Detail, w.Field, w.Detail)
				}
			}
		})
	}
}

func TestValidateSubjectListsEveryProblem(t *testing.T) {
	s := subject(t, healthcare.MedicalLicense)
	s["npi"] = "1952183239"
	lic := at(t, s, "license")
	lic["jurisdiction"] = "XX"
	delete(lic, "status")
	lic["expirationDate"] = "2025-02-30"
	s["hobby"] = "golf"
	err := healthcare.ValidateSubject(healthcare.MedicalLicense, s)
	var ie *vc.InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("got %v", err)
	}
	var got []string
	for _, f := range ie.Fields {
		got = append(got, f.Field)
	}
	want := []string{
		"/credentialSubject/hobby",
		"/credentialSubject/license/expirationDate",
		"/credentialSubject/license/jurisdiction",
		"/credentialSubject/license/status",
		"/credentialSubject/npi",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got fields %v, want %v", got, want)
	}
}

func TestValidateSubjectUnknownType(t *testing.T) {
	err := healthcare.ValidateSubject("DriverLicenseCredential", map[string]any{})
	if !errors.Is(err, vc.ErrUnsupported) {
		t.Fatalf("got %v, want vc.ErrUnsupported", err)
	}
}

func TestValidateSubjectInputForms(t *testing.T) {
	s := subject(t, healthcare.DEARegistration)
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	type wrapped struct {
		ID           string         `json:"id"`
		Name         map[string]any `json:"name"`
		NPI          string         `json:"npi"`
		Registration map[string]any `json:"registration"`
	}
	for name, in := range map[string]any{
		"[]byte":          raw,
		"json.RawMessage": json.RawMessage(raw),
		"struct":          wrapped{s["id"].(string), s["name"].(map[string]any), s["npi"].(string), s["registration"].(map[string]any)},
		"[]string inside": map[string]any{"id": s["id"], "name": map[string]any{"family": "Anderson", "given": []string{"Priya"}}, "npi": s["npi"], "registration": s["registration"]},
	} {
		if err := healthcare.ValidateSubject(healthcare.DEARegistration, in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, in := range map[string]any{
		"not JSON":   []byte("{"),
		"trailing":   []byte("{} {}"),
		"not object": "a string",
		"nil":        nil,
		"channel":    make(chan int),
	} {
		err := healthcare.ValidateSubject(healthcare.DEARegistration, in)
		var ie *vc.InvalidError
		if !errors.As(err, &ie) || ie.Fields[0].Field != "/credentialSubject" {
			t.Errorf("%s: got %v, want an error at /credentialSubject", name, err)
		}
	}
}

func TestValidateSubjectConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for _, typ := range healthcare.Types() {
		s := subject(t, typ.Name)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := healthcare.ValidateSubject(typ.Name, s); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
}

func BenchmarkValidateSubject(b *testing.B) {
	s := subject(b, healthcare.MedicalLicense)
	b.ReportAllocs()
	for b.Loop() {
		if err := healthcare.ValidateSubject(healthcare.MedicalLicense, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateSubjectInvalid(b *testing.B) {
	s := subject(b, healthcare.MedicalLicense)
	s["npi"] = "1952183239"
	delete(at(b, s, "license"), "status")
	b.ReportAllocs()
	for b.Loop() {
		if err := healthcare.ValidateSubject(healthcare.MedicalLicense, s); err == nil {
			b.Fatal("valid")
		}
	}
}
