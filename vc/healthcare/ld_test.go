package healthcare_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
)

var processor = ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context))

// kitchenSink adds to an example every optional member its schema allows
// and the example leaves out, so that the context is checked on all of
// them.
func kitchenSink(t *testing.T, typeName string) map[string]any {
	c := example(t, typeName)
	s := c["credentialSubject"].(map[string]any)
	switch typeName {
	case healthcare.MedicalLicense:
		s["type"] = "Practitioner"
		at(t, s, "license")["compact"] = "IMLC"
		s["disciplinaryActions"] = []any{map[string]any{"actionType": "probation", "effectiveDate": "2024-01-02",
			"endDate": "2025-01-02", "basis": "Records", "public": true}}
	case healthcare.BoardCertification:
		cert := at(t, s, "certification")
		cert["subspecialty"] = map[string]any{"system": healthcare.SystemNUCC, "code": "207RC0000X", "display": "Cardiovascular Disease"}
		cert["expirationDate"] = "2029-12-31"
	case healthcare.DEARegistration:
		r := at(t, s, "registration")
		r["businessActivitySubcode"] = "0"
		r["stateControlledSubstanceNumber"] = "CSR-12345"
	case healthcare.HospitalPrivilege:
		at(t, s, "privileges/0")["conditions"] = "Proctored for the first five cases"
	case healthcare.PatientIdentity:
		s["type"] = []any{"Patient"}
		at(t, s, "identifier/0")["period"] = map[string]any{"start": "2020-01-01", "end": "2030-01-01"}
	}
	if err := healthcare.ValidateSubject(typeName, s); err != nil {
		t.Fatalf("kitchen sink %s: %v", typeName, err)
	}
	return c
}

// TestContextDefinesEveryTerm checks, with the JSON-LD processor, that no
// member of any credential type (every optional member included) is
// undefined or left to a catch-all @vocab, and that each canonicalizes.
func TestContextDefinesEveryTerm(t *testing.T) {
	for _, typ := range healthcare.Types() {
		t.Run(typ.Name, func(t *testing.T) {
			for name, c := range map[string]map[string]any{"example": example(t, typ.Name), "kitchen sink": kitchenSink(t, typ.Name)} {
				if err := processor.CheckTerms(c); err != nil {
					t.Fatalf("%s: CheckTerms: %v", name, err)
				}
				nq, err := processor.Canonicalize(c)
				if err != nil {
					t.Fatalf("%s: Canonicalize: %v", name, err)
				}
				for _, bad := range []string{ld.IssuerDependentVocab, ld.UndefinedTermVocab} {
					if strings.Contains(string(nq), bad) {
						t.Errorf("%s: canonical form uses %s:\n%s", name, bad, nq)
					}
				}
			}
		})
	}
}

// TestContextUsableWithVC11 checks the context after the VC 1.1 context:
// it defines no term that the 1.1 VerifiableCredential scope protects.
func TestContextUsableWithVC11(t *testing.T) {
	for _, typ := range healthcare.Types() {
		c := kitchenSink(t, typ.Name)
		c["@context"] = []any{ld.CredentialsV1, healthcare.ContextURL}
		c["issuanceDate"], c["expirationDate"] = c["validFrom"], c["validUntil"]
		for _, k := range []string{"validFrom", "validUntil", "credentialStatus", "credentialSchema"} {
			delete(c, k)
		}
		if err := processor.CheckTerms(c); err != nil {
			t.Errorf("%s: %v", typ.Name, err)
		}
	}
}

// TestContextCanonicalTerms spot-checks the mapping of terms to IRIs.
func TestContextCanonicalTerms(t *testing.T) {
	nq, err := processor.Canonicalize(example(t, healthcare.DEARegistration))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<https://w3id.org/credence/healthcare#DEARegistrationCredential>`,
		`<http://hl7.org/fhir/HumanName.family> "Anderson"`,
		`<https://w3id.org/credence/healthcare#npi> "1952183238"`,
		`<https://w3id.org/credence/healthcare#deaNumber> "BA5808211"`,
		`<https://w3id.org/credence/healthcare#jurisdiction> "AZ"`, // registration.state
		`<http://hl7.org/fhir/Address.state> "AZ"`,                 // registeredAddress.state
		`<https://w3id.org/credence/healthcare#expirationDate> "2025-11-05"^^<http://www.w3.org/2001/XMLSchema#date>`,
	} {
		if !strings.Contains(string(nq), want) {
			t.Errorf("canonical form lacks %s:\n%s", want, nq)
		}
	}
}

func TestContextRejectsUnknownMembers(t *testing.T) {
	for _, tt := range []struct{ path, member, want string }{
		{"", "favoriteColor", "/credentialSubject/favoriteColor"},
		{"license", "nickname", "/credentialSubject/license/nickname"},
	} {
		c := example(t, healthcare.MedicalLicense)
		at(t, c["credentialSubject"].(map[string]any), tt.path)[tt.member] = "x"
		err := processor.CheckTerms(c)
		var ie *vc.InvalidError
		if !errors.As(err, &ie) {
			t.Fatalf("%s: got %v, want a *vc.InvalidError", tt.want, err)
		}
		if len(ie.Fields) != 1 || ie.Fields[0].Field != tt.want || !strings.Contains(ie.Fields[0].Detail, tt.member) {
			t.Errorf("got %+v, want one error at %s naming %q", ie.Fields, tt.want, tt.member)
		}
	}
}

// TestSynthCredentialsCheckTerms puts generated subjects of every type in
// a credential and checks their terms: the generator and the context agree.
func TestSynthCredentialsCheckTerms(t *testing.T) {
	g := synth.New(7)
	for range 20 {
		p := g.Provider()
		st := p.States[0]
		for typ, s := range map[string]map[string]any{
			healthcare.MedicalLicense:     p.LicenseSubject(st),
			healthcare.DEARegistration:    p.DEASubject(st),
			healthcare.BoardCertification: p.BoardCertificationSubject(),
			healthcare.HospitalPrivilege:  p.PrivilegeSubject(g.Facility(st)),
			healthcare.PatientIdentity:    g.Patient().IdentitySubject(),
		} {
			c := example(t, typ)
			c["credentialSubject"] = s
			if err := processor.CheckTerms(c); err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
		}
	}
}
