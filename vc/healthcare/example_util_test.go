package healthcare_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

// exampleFiles maps each type to its example under testdata/examples.
var exampleFiles = map[string]string{
	healthcare.MedicalLicense:     "medical-license.vc.json",
	healthcare.BoardCertification: "board-certification.vc.json",
	healthcare.DEARegistration:    "dea-registration.vc.json",
	healthcare.HospitalPrivilege:  "hospital-privilege.vc.json",
	healthcare.PatientIdentity:    "patient-identity.vc.json",
}

// example returns the example credential of a type, freshly decoded, with
// its @context switched to [VC 2.0, ContextURL] and its credentialSchema to
// the type's schema URL.
func example(t testing.TB, typeName string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "examples", exampleFiles[typeName]))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["@context"] = []any{"https://www.w3.org/ns/credentials/v2", healthcare.ContextURL}
	typ, _ := healthcare.Lookup(typeName)
	c["credentialSchema"] = []any{map[string]any{"id": typ.SchemaURL, "type": "JsonSchema"}}
	return c
}

// subject returns the credentialSubject of the example of a type.
func subject(t testing.TB, typeName string) map[string]any {
	t.Helper()
	return example(t, typeName)["credentialSubject"].(map[string]any)
}
