package vc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeReference decodes a JSON object strictly: numbers stay json.Number (no
// float rounding of integers), a member name repeated in one object, nesting
// deeper than MaxDepth, input over MaxDocumentBytes, and trailing data are
// all errors wrapping ErrMalformed. Duplicate names matter: two parsers that
// pick different duplicates would see different signed documents.
func decodeReference(b []byte) (map[string]any, error) {
	if len(b) > MaxDocumentBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrMalformed, len(b), MaxDocumentBytes)
	}
	if !utf8.Valid(b) || unpairedSurrogate(b) {
		return nil, fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
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

// unpairedSurrogate reports a \uD800-\uDFFF escape not part of a pair,
// which encoding/json replaces with U+FFFD and RFC 8259 §8.2 leaves
// unpredictable; DecodeObject refuses it.
func unpairedSurrogate(b []byte) bool {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++ // skip the escaped character
			continue
		}
		var r rune
		if _, err := fmt.Sscanf(string(b[i+2:i+6]), "%04x", &r); err != nil {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00: // high: a low escape must follow
			var lo rune
			if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
				if _, err := fmt.Sscanf(string(b[i+8:i+12]), "%04x", &lo); err == nil && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
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

// FuzzDecodeObject holds DecodeObject to the token-by-token reference
// decoder: the same inputs accepted, with the same results.
func FuzzDecodeObject(f *testing.F) {
	lic, err := os.ReadFile("jose/testdata/license.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(lic), validV2,
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1},"b":{"a":1,"a":1}}`,
		`{"\xff":1,"\xfe":2}`, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\udc00\ud800"}`, `{"a":[{"a":1},{"a":2}]}`, `{"a":"\"a\":1","b":1}`,
		`{} `, `{} x`, `[]`, `null`, `{"n":12345678901234567890123}`,
		strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64),
		strings.Repeat(`[`, 65) + strings.Repeat("]", 65),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantErr := decodeReference(b)
		got, gotErr := DecodeObject(b)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("reference: %v, DecodeObject: %v", wantErr, gotErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("results differ:\n%v\n%v", got, want)
		}
	})
}

// BenchmarkDecodeObject decodes a license credential with DecodeObject and,
// for scale, with encoding/json alone (UseNumber, no check for repeated
// names), which the previous implementation followed with a scan.
//
//	go test -run '^$' -bench DecodeObject -count 5 ./vc
func BenchmarkDecodeObject(b *testing.B) {
	lic, err := os.ReadFile("jose/testdata/license.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jsontext", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := DecodeObject(lic); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			d := json.NewDecoder(bytes.NewReader(lic))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
