package ld

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestNumbers: native JSON numbers become the literals JSON-LD 1.1 toRdf
// prescribes (and jsonld.js produces): integers below 10^21 as xsd:integer
// in full, everything else as a canonical xsd:double.
func TestNumbers(t *testing.T) {
	p := New()
	tests := []struct {
		json string
		want string
	}{
		{`131072`, `"131072"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`0`, `"0"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`-42`, `"-42"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`1.0`, `"1"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`9007199254740993`, `"9007199254740992"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`1234567890123456789`, `"1234567890123456768"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`10000000000000000000`, `"10000000000000000000"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`-10000000000000000000`, `"-10000000000000000000"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`1e20`, `"100000000000000000000"^^<http://www.w3.org/2001/XMLSchema#integer>`},
		{`1e21`, `"1.0E21"^^<http://www.w3.org/2001/XMLSchema#double>`},
		{`1.5`, `"1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>`},
		{`0.000001`, `"1.0E-6"^^<http://www.w3.org/2001/XMLSchema#double>`},
		{`-2.5e-10`, `"-2.5E-10"^^<http://www.w3.org/2001/XMLSchema#double>`},
		{`true`, `"true"^^<http://www.w3.org/2001/XMLSchema#boolean>`},
	}
	for _, tt := range tests {
		var doc map[string]any
		if err := json.Unmarshal([]byte(`{"https://example.org/#n": `+tt.json+`}`), &doc); err != nil {
			t.Fatal(err)
		}
		got, err := p.Canonicalize(doc)
		if err != nil {
			t.Fatalf("%s: %v", tt.json, err)
		}
		if want := "_:c14n0 <https://example.org/#n> " + tt.want + " .\n"; string(got) != want {
			t.Errorf("%s: got %s want %s", tt.json, strings.TrimSpace(string(got)), want)
		}
	}
}

// TestGoNumbers: documents built in Go may hold ints; they canonicalize as
// the same number decoded from JSON does.
func TestGoNumbers(t *testing.T) {
	p := New()
	a, err := p.Canonicalize(map[string]any{"https://example.org/#n": 131072})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := p.Canonicalize(map[string]any{"https://example.org/#n": float64(131072)})
	if string(a) != string(b) {
		t.Errorf("int: %s, float64: %s", a, b)
	}
}
