package vc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Input limits of the strict decoder.
const (
	// MaxDocumentBytes bounds a credential, presentation or token (bytes).
	MaxDocumentBytes = 1 << 20
	// MaxDepth bounds the nesting of JSON arrays and objects.
	MaxDepth = 64
)

// DecodeObject decodes a JSON object strictly: numbers stay json.Number (no
// float rounding of integers), a member name repeated in one object, nesting
// deeper than MaxDepth, input over MaxDocumentBytes, and trailing data are
// all errors wrapping ErrMalformed. Duplicate names matter: two parsers that
// pick different duplicates would see different signed documents.
//
// It decodes in one call, then scans the now known-valid bytes for repeated
// names and depth (a third of the cost of a token-by-token walk; the fuzz
// test holds it to such a walk).
func DecodeObject(b []byte) (map[string]any, error) {
	v, err := DecodeValue(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return m, nil
}

// DecodeValue is DecodeObject for any JSON value (SD-JWT disclosures are
// arrays).
func DecodeValue(b []byte) (any, error) {
	if len(b) > MaxDocumentBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrMalformed, len(b), MaxDocumentBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(bytes.TrimLeft(b[d.InputOffset():], " \t\r\n")) != 0 {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	if err := checkMembers(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return v, nil
}

// Marshal encodes v as JSON without HTML escaping, so signed bytes and
// canonical forms survive a round trip unchanged.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Clone deep-copies a decoded JSON value (maps, slices, scalars), so a
// mechanism can add a proof without mutating its caller's document.
func Clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = Clone(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = Clone(e)
		}
		return a
	}
	return v
}

// frame is one open object or array of checkMembers.
type frame struct {
	object    bool
	expectKey bool
	start     int                 // the object's names are names[start:]
	set       map[string]struct{} // instead, once it has more than smallObject
}

// smallObject bounds the linear search of names: credentials have objects
// of tens of members, a hostile input may have one of thousands.
const smallObject = 32

// checkMembers scans valid JSON for a member name repeated in one object
// (names compared after unescaping, as the decoder sees them) and for
// nesting deeper than MaxDepth.
func checkMembers(b []byte) error {
	stack := make([]frame, 0, 8)
	names := make([][]byte, 0, 32)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= MaxDepth {
				return fmt.Errorf("nesting deeper than %d", MaxDepth)
			}
			stack = append(stack, frame{object: c == '{', expectKey: c == '{', start: len(names)})
		case '}', ']':
			names = names[:stack[len(stack)-1].start]
			stack = stack[:len(stack)-1]
		case ',':
			if top := &stack[len(stack)-1]; top.object {
				top.expectKey = true
			}
		case '"':
			end, escaped := stringEnd(b, i)
			if n := len(stack); n > 0 && stack[n-1].expectKey {
				stack[n-1].expectKey = false
				name, err := memberName(b[i:end+1], escaped)
				if err != nil {
					return err
				}
				if !stack[n-1].add(&names, name) {
					return fmt.Errorf("member %q appears twice", name)
				}
			}
			i = end
		}
	}
	return nil
}

// add records name in f, reporting false if f already has it.
func (f *frame) add(names *[][]byte, name []byte) bool {
	if f.set != nil {
		if _, dup := f.set[string(name)]; dup {
			return false
		}
		f.set[string(name)] = struct{}{}
		return true
	}
	for _, n := range (*names)[f.start:] {
		if bytes.Equal(n, name) {
			return false
		}
	}
	*names = append(*names, name)
	if own := (*names)[f.start:]; len(own) > smallObject {
		f.set = make(map[string]struct{}, 2*len(own))
		for _, n := range own {
			f.set[string(n)] = struct{}{}
		}
		*names = (*names)[:f.start]
	}
	return true
}

// stringEnd returns the index of the quote closing the string opening at i.
func stringEnd(b []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return len(b) - 1, escaped
}

// memberName is a quoted name as the decoder reads it.
func memberName(quoted []byte, escaped bool) ([]byte, error) {
	name := quoted[1 : len(quoted)-1]
	if !escaped && utf8.Valid(name) {
		return name, nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}
