package healthcare

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/credence/credence/vc"
)

// fromSchema turns a jsonschema validation error tree into field errors:
// one per leaf, with a JSON Pointer from base and a short detail.
func fromSchema(p *problems, base string, e *jsonschema.ValidationError) {
	at := ptr(base, e.InstanceLocation...)
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference, *kind.AllOf:
		for _, c := range e.Causes {
			fromSchema(p, base, c)
		}
	case *kind.OneOf:
		if len(k.Subschemas) > 1 {
			p.add(at, "matches more than one of the allowed forms")
			return
		}
		alternatives(p, base, at, e)
	case *kind.AnyOf:
		alternatives(p, base, at, e)
	case *kind.Required:
		for _, m := range k.Missing {
			p.add(ptr(at, m), "missing property "+m)
		}
	case *kind.AdditionalProperties:
		for _, m := range k.Properties {
			p.add(ptr(at, m), fmt.Sprintf("unknown property %q", m))
		}
	default:
		p.add(at, leafDetail(e))
	}
}

// alternatives reports a failed oneOf/anyOf. Causes deeper than the value
// itself mean the value had the right shape but wrong contents: those are
// reported. Otherwise no alternative fit at all, and the value is.
func alternatives(p *problems, base, at string, e *jsonschema.ValidationError) {
	var deeper problems
	var want []string
	for _, c := range e.Causes {
		if ptr(base, c.InstanceLocation...) != at {
			fromSchema(&deeper, base, c)
			continue
		}
		if t, ok := c.ErrorKind.(*kind.Type); ok {
			want = append(want, t.Want...)
		}
	}
	switch {
	case len(deeper) > 0:
		*p = append(*p, deeper...)
	case len(want) > 0:
		p.add(at, "must be "+orList(articled(want)))
	default:
		p.add(at, "does not match any of the allowed forms")
	}
}

// leafDetail is the human-readable reason of one schema error.
func leafDetail(e *jsonschema.ValidationError) string {
	def := defName(e.SchemaURL)
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be %s, not %s", orList(articled(k.Want)), article(k.Got))
	case *kind.Enum:
		if def == "usState" {
			return fmt.Sprintf("unknown state %s", short(k.Got))
		}
		return fmt.Sprintf("%s is not one of %s", short(k.Got), enumList(k.Want))
	case *kind.Const:
		return fmt.Sprintf("must be %s", jsonText(k.Want))
	case *kind.Pattern:
		if def == "date" {
			return dateDetail(k.Got)
		}
		if d, ok := patternDetail[def]; ok {
			return d
		}
		return fmt.Sprintf("%s does not match the pattern %s", short(k.Got), k.Want)
	case *kind.Format:
		if k.Want == "date" {
			return dateDetail(k.Got)
		}
		if k.Want == "uri" {
			return fmt.Sprintf("%s is not an absolute URI", short(k.Got))
		}
		return fmt.Sprintf("%s is not a valid %s", short(k.Got), k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
	case *kind.MinItems:
		if k.Want == 1 {
			return "must not be empty"
		}
	case *kind.UniqueItems:
		return fmt.Sprintf("items %d and %d are the same", k.Duplicates[0], k.Duplicates[1])
	}
	return english.Sprint(e.ErrorKind.LocalizedString(english))
}

var english = message.NewPrinter(language.English)

// dateDetail is the one message for a bad date, whether its shape or its
// calendar is wrong, so that both schema errors collapse into one.
func dateDetail(got any) string {
	return fmt.Sprintf("%s is not a calendar date YYYY-MM-DD", short(got))
}

// patternDetail explains the patterns of the shared definitions by the
// name of the definition (or property) whose pattern failed.
var patternDetail = map[string]string{
	"npi":                     "NPI must be 10 digits starting with 1 or 2",
	"did":                     "must be a DID (did:<method>:<id>)",
	"deaNumber":               "DEA number must be 2 letters (the second may be 9) and 7 digits",
	"code":                    "NUCC taxonomy code must be 10 characters: 3 digits, 6 digits or capitals, X",
	"postalCode":              "must be a ZIP code (12345 or 12345-6789)",
	"country":                 "must be an ISO 3166 alpha-2 country code",
	"ccn":                     "CMS Certification Number must be 6 characters",
	"jurisdiction":            "must be a 2-letter code",
	"issuingJurisdiction":     "must be a 2-letter country code, optionally with a subdivision (US-FL)",
	"documentNumberHash":      "must be sha256: and 64 lowercase hex digits",
	"businessActivityCode":    "must be one capital letter or digit",
	"businessActivitySubcode": "must be one capital letter or digit",
}

// defName is the name of the definition or property whose schema failed:
// ".../$defs/npi" gives "npi", ".../properties/ccn" gives "ccn".
func defName(schemaURL string) string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	return frag[strings.LastIndexByte(frag, '/')+1:]
}

// short renders a value from the input for a message, cut to a readable
// length.
func short(v any) string {
	s := jsonText(v)
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// jsonText renders a JSON value for a message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func enumList(want []any) string {
	s := make([]string, len(want))
	for i, w := range want {
		s[i] = jsonText(w)
	}
	return strings.Join(s, ", ")
}

func articled(types []string) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = article(t)
	}
	return out
}

func article(t string) string {
	switch t {
	case "object", "array", "integer":
		return "an " + t
	case "null":
		return "null"
	}
	return "a " + t
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// problems collects field errors.
type problems []vc.FieldError

func (p *problems) add(field, detail string) {
	*p = append(*p, vc.FieldError{Field: field, Detail: detail})
}
