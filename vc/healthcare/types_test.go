package healthcare_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

func TestTypes(t *testing.T) {
	var got []string
	for _, typ := range healthcare.Types() {
		got = append(got, typ.Name)
		if typ.Description == "" || !strings.HasPrefix(typ.SchemaURL, healthcare.SchemaBase) {
			t.Errorf("%+v: no description or schema URL outside %s", typ, healthcare.SchemaBase)
		}
		if l, ok := healthcare.Lookup(typ.Name); !ok || l != typ {
			t.Errorf("Lookup(%s) = %+v, %v", typ.Name, l, ok)
		}
	}
	want := []string{healthcare.MedicalLicense, healthcare.BoardCertification, healthcare.DEARegistration,
		healthcare.HospitalPrivilege, healthcare.PatientIdentity}
	if !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	if _, ok := healthcare.Lookup("VerifiableCredential"); ok {
		t.Error("Lookup(VerifiableCredential) ok")
	}
	healthcare.Types()[0].Name = "changed"
	if healthcare.Types()[0].Name != healthcare.MedicalLicense {
		t.Error("Types() shares its slice")
	}
}

func TestSchemas(t *testing.T) {
	m := healthcare.Schemas()
	if len(m) != len(healthcare.Types()) {
		t.Fatalf("%d schemas, want %d", len(m), len(healthcare.Types()))
	}
	for _, typ := range healthcare.Types() {
		var s struct {
			Schema string `json:"$schema"`
			ID     string `json:"$id"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(m[typ.SchemaURL], &s); err != nil {
			t.Fatalf("%s: %v", typ.SchemaURL, err)
		}
		if s.ID != typ.SchemaURL || s.Schema != "https://json-schema.org/draft/2020-12/schema" ||
			!strings.HasPrefix(s.Title, typ.Name+" ") {
			t.Errorf("%s: $id %s, $schema %s, title %q", typ.SchemaURL, s.ID, s.Schema, s.Title)
		}
	}
	m[healthcare.Types()[0].SchemaURL][0] = 'x'
	if healthcare.Schemas()[healthcare.Types()[0].SchemaURL][0] != '{' {
		t.Error("Schemas() shares its bytes")
	}
}

// TestContextCoversSchemas walks every schema, all nesting levels and
// definitions, and checks each property it names is a term of the
// context, at the top or in a scoped context. (TestContextDefinesEveryTerm
// checks the same with the JSON-LD processor, scopes included.)
func TestContextCoversSchemas(t *testing.T) {
	var ctx map[string]any
	if err := json.Unmarshal(healthcare.Context, &ctx); err != nil {
		t.Fatal(err)
	}
	terms := map[string]bool{}
	var collectTerms func(c map[string]any)
	collectTerms = func(c map[string]any) {
		for k, v := range c {
			terms[k] = true
			if d, ok := v.(map[string]any); ok {
				if sc, ok := d["@context"].(map[string]any); ok {
					collectTerms(sc)
				}
			}
		}
	}
	top := ctx["@context"].(map[string]any)
	collectTerms(top)
	if top["@protected"] != true || top["@version"] != 1.1 {
		t.Errorf("context: @protected %v, @version %v, want true, 1.1", top["@protected"], top["@version"])
	}
	for _, typ := range healthcare.Types() {
		if !terms[typ.Name] {
			t.Errorf("type %s is not a term", typ.Name)
		}
	}
	for url, b := range healthcare.Schemas() {
		var s any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, p := range schemaProperties(s) {
			if !terms[p] {
				t.Errorf("%s: property %q is not a term of the context", url, p)
			}
		}
	}
}

// schemaProperties lists the names under every "properties" of a schema.
func schemaProperties(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if props, ok := x["properties"].(map[string]any); ok {
			for k := range props {
				out = append(out, k)
			}
		}
		for _, e := range x {
			out = append(out, schemaProperties(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, schemaProperties(e)...)
		}
	}
	return out
}
