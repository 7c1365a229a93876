package healthcare_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

// FuzzValidateSubject: arbitrary JSON never panics, and is either valid
// or rejected with a *vc.InvalidError whose fields are JSON Pointers into
// the credential subject.
func FuzzValidateSubject(f *testing.F) {
	for _, typ := range healthcare.Types() {
		b, err := json.Marshal(subject(f, typ.Name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `"x"`, `1e999`, `{"npi":"1234567893","license":{"jurisdiction":1}}`,
		`{"registration":{"deaNumber":"AB1234563","registrantType":"mid_level_practitioner","state":"AZ","registeredAddress":{"state":"CA"}}}`,
		`{"ageOver":{"~/":true},"identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1"}],"type":[1,{}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		for _, typ := range healthcare.Types() {
			err := healthcare.ValidateSubject(typ.Name, v)
			if err == nil {
				continue
			}
			var ie *vc.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, vc.ErrMalformed) || len(ie.Fields) == 0 {
				t.Fatalf("%s: %v is not a *vc.InvalidError", typ.Name, err)
			}
			for _, fe := range ie.Fields {
				if fe.Field != "/credentialSubject" && !strings.HasPrefix(fe.Field, "/credentialSubject/") || fe.Detail == "" {
					t.Fatalf("%s: bad field error %+v", typ.Name, fe)
				}
			}
			if m, ok := v.(map[string]any); ok {
				healthcare.ExpiresAt(typ.Name, m)
				healthcare.Jurisdiction(typ.Name, m)
			}
		}
	})
}
