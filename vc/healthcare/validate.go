package healthcare

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/credence/credence/vc"
)

// subjectPointer is where a subject sits in its credential; every field
// error is reported from the credential root.
const subjectPointer = "/credentialSubject"

// ValidateSubject checks a credential subject of the named type against the
// type's JSON Schema and the domain rules (identifier check digits, real
// dates in order, consistent states). The subject is a decoded JSON object
// (map[string]any), raw JSON ([]byte, json.RawMessage), or anything
// encoding/json can marshal.
//
// It returns nil, an error wrapping vc.ErrUnsupported for an unknown type,
// or a *vc.InvalidError (wrapping vc.ErrMalformed) listing every problem,
// each named by its JSON Pointer from the credential root, e.g.
// "/credentialSubject/license/licenseNumber".
func ValidateSubject(typeName string, subject any) error {
	i := byName(typeName)
	if i < 0 {
		return fmt.Errorf("healthcare: credential type %q: %w", typeName, vc.ErrUnsupported)
	}
	v, err := jsonTree(subject)
	if err != nil {
		return &vc.InvalidError{Fields: []vc.FieldError{{Field: subjectPointer, Detail: err.Error()}}}
	}
	var p problems
	if err := compiled()[i].Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			p.add(subjectPointer, err.Error())
		} else {
			fromSchema(&p, subjectPointer, ve)
		}
	}
	if m, ok := v.(map[string]any); ok {
		checkDomain(&p, typeName, m)
	}
	return p.err()
}

// err sorts and deduplicates the problems and returns them as an
// *vc.InvalidError, or nil when there are none.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	slices.SortStableFunc(p, func(a, b vc.FieldError) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Detail, b.Detail))
	})
	p = slices.Compact(p)
	return &vc.InvalidError{Fields: p}
}

// has reports whether a problem was already found at field, so that the
// domain checks do not repeat what the schema said.
func (p problems) has(field string) bool {
	return slices.ContainsFunc(p, func(f vc.FieldError) bool { return f.Field == field })
}

// jsonTree returns subject as a tree of the types encoding/json decodes
// into: as is when it already is one, else through a JSON round trip.
func jsonTree(subject any) (any, error) {
	switch s := subject.(type) {
	case json.RawMessage:
		return decode(s)
	case []byte:
		return decode(s)
	}
	if isTree(subject, 0) {
		return subject, nil
	}
	b, err := json.Marshal(subject)
	if err != nil {
		return nil, fmt.Errorf("not a JSON value: %v", err)
	}
	return decode(b)
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d.More() {
		return nil, errors.New("not JSON: trailing data")
	}
	return v, nil
}

// maxDepth bounds isTree's recursion; deeper values take the round trip,
// where encoding/json enforces its own limit.
const maxDepth = 100

func isTree(v any, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, string, float64, json.Number:
		return true
	case map[string]any:
		for _, e := range x {
			if !isTree(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isTree(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
