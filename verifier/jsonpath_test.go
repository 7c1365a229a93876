package verifier

import (
	"reflect"
	"testing"

	"github.com/credence/credence/vc"
)

func TestParseJSONPath(t *testing.T) {
	for _, c := range []struct {
		path string
		want []pathStep
	}{
		{"$", nil},
		{"$.a.b", []pathStep{{kind: stepKey, key: "a"}, {kind: stepKey, key: "b"}}},
		{"$['a']", []pathStep{{kind: stepKey, key: "a"}}},
		{`$["a b"]['it\'s']`, []pathStep{{kind: stepKey, key: "a b"}, {kind: stepKey, key: "it's"}}},
		{"$.a[0]", []pathStep{{kind: stepKey, key: "a"}, {kind: stepIndex, index: 0}}},
		{"$.a[12].b", []pathStep{{kind: stepKey, key: "a"}, {kind: stepIndex, index: 12}, {kind: stepKey, key: "b"}}},
		{"$.a[*]", []pathStep{{kind: stepKey, key: "a"}, {kind: stepAll}}},
		{"$.*.b", []pathStep{{kind: stepAll}, {kind: stepKey, key: "b"}}},
		{"$.@context", []pathStep{{kind: stepKey, key: "@context"}}},
		{"$['credentialSubject']['license']", []pathStep{{kind: stepKey, key: "credentialSubject"}, {kind: stepKey, key: "license"}}},
	} {
		got, err := parseJSONPath(c.path)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseJSONPath(%q) = %v, %v; want %v", c.path, got, err, c.want)
		}
	}
	for _, bad := range []string{
		"", "a.b", "$..a", "$.a..b", "$.a[-1]", "$.a[0,1]", "$.a[1:2]", "$.a[?(@.x)]", "$.a[(@.length-1)]",
		"$.", "$.a.", "$[", "$['a'", "$['a]", `$['a\x']`, "$.a[01]", "$.a[99999999999]", "$ .a", "@.a", "$.a b",
		"$" + string(make([]byte, maxPathBytes)),
	} {
		if got, err := parseJSONPath(bad); err == nil {
			t.Errorf("parseJSONPath(%q) = %v, want an error", bad, got)
		}
	}
}

// The claims path pointer examples of OpenID4VP 1.0 §7.4.
func TestSelectPathSpecExamples(t *testing.T) {
	doc, err := vc.DecodeObject([]byte(`{
	  "name": "Arthur Dent",
	  "address": {"street_address": "42 Market Street", "locality": "Milliways", "postal_code": "12345"},
	  "degrees": [{"type": "Bachelor of Science", "university": "University of Betelgeuse"},
	              {"type": "Master of Science", "university": "University of Betelgeuse"}],
	  "nationalities": ["British", "Betelgeusian"]}`))
	if err != nil {
		t.Fatal(err)
	}
	key := func(k string) pathStep { return pathStep{kind: stepKey, key: k} }
	for _, c := range []struct {
		path []pathStep
		want []any
	}{
		{[]pathStep{key("name")}, []any{"Arthur Dent"}},
		{[]pathStep{key("address"), key("street_address")}, []any{"42 Market Street"}},
		{[]pathStep{key("degrees"), {kind: stepAll}, key("type")}, []any{"Bachelor of Science", "Master of Science"}},
		{[]pathStep{key("nationalities"), {kind: stepIndex, index: 1}}, []any{"Betelgeusian"}},
		{[]pathStep{key("nationalities"), {kind: stepIndex, index: 2}}, nil},
		{[]pathStep{key("missing")}, nil},
		{[]pathStep{key("address"), {kind: stepAll}}, nil},                 // null on an object: error
		{[]pathStep{key("name"), key("x")}, nil},                           // key on a string: error
		{[]pathStep{key("degrees"), {kind: stepAll}, key("honours")}, nil}, // nothing selected
		{[]pathStep{{kind: stepAll}}, nil},                                 // the root is an object
		{[]pathStep{key("nationalities"), {kind: stepIndex, index: 0}}, []any{"British"}},
	} {
		if got := selectPath(doc, c.path, true); !reflect.DeepEqual(got, c.want) {
			t.Errorf("DCQL %v selected %v, want %v", c.path, got, c.want)
		}
	}
	// JSONPath: wildcards also take member values; a mismatched step only
	// drops that value.
	steps, _ := parseJSONPath("$.address.*")
	if got := selectPath(doc, steps, false); len(got) != 3 || got[0] != "Milliways" {
		t.Errorf("$.address.* selected %v", got)
	}
	steps, _ = parseJSONPath("$.*.type")
	if got := selectPath(doc, steps, false); got != nil {
		t.Errorf("$.*.type selected %v, want nothing (type is in array elements)", got)
	}
	steps, _ = parseJSONPath("$.degrees[*].type")
	if got := selectPath(doc, steps, false); len(got) != 2 {
		t.Errorf("$.degrees[*].type selected %v", got)
	}
}
