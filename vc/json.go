package vc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
func DecodeObject(b []byte) (map[string]any, error) {
	if len(b) > MaxDocumentBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrMalformed, len(b), MaxDocumentBytes)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := decodeValue(d, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	return m, nil
}

func decodeValue(d *json.Decoder, depth int) (any, error) {
	tok, err := d.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= MaxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", MaxDepth)
	}
	switch delim {
	case '{':
		return decodeObject(d, depth+1)
	case '[':
		return decodeArray(d, depth+1)
	}
	return nil, fmt.Errorf("unexpected %q", delim)
}

func decodeObject(d *json.Decoder, depth int) (map[string]any, error) {
	m := map[string]any{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("member %q appears twice", key)
		}
		v, err := decodeValue(d, depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	_, err := d.Token() // '}'
	return m, err
}

func decodeArray(d *json.Decoder, depth int) ([]any, error) {
	a := []any{}
	for d.More() {
		v, err := decodeValue(d, depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
	_, err := d.Token() // ']'
	return a, err
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
