package ld

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/credence/credence/vc"
)

// Input limits: a document beyond any of them is rejected with
// vc.ErrMalformed before any JSON-LD processing.
const (
	MaxDepth       = 64       // nesting of objects and arrays
	MaxValues      = 50_000   // members and array elements, all levels
	MaxStringBytes = 16 << 20 // total bytes of keys and string values
)

// xsdInteger is the datatype json-gold should give large integers.
const xsdInteger = "http://www.w3.org/2001/XMLSchema#integer"

// limiter walks a document, enforcing the limits and normalizing numbers.
type limiter struct {
	values, bytes int
}

// prepare checks doc against the limits and returns it, or a copy where
// numbers json-gold would get wrong are rewritten; doc is never modified.
func prepare(doc map[string]any) (out map[string]any, copied bool, err error) {
	var l limiter
	v, copied, err := l.walk(doc, 0)
	if err != nil {
		return nil, false, err
	}
	return v.(map[string]any), copied, nil
}

// walk returns v itself unless something inside had to be rewritten, in
// which case the containers on the path are copied and changed is true.
func (l *limiter) walk(v any, depth int) (w any, changed bool, err error) {
	if depth > MaxDepth {
		return nil, false, fmt.Errorf("%w: nested deeper than %d", vc.ErrMalformed, MaxDepth)
	}
	if l.values++; l.values > MaxValues {
		return nil, false, fmt.Errorf("%w: more than %d values", vc.ErrMalformed, MaxValues)
	}
	switch x := v.(type) {
	case map[string]any:
		return l.object(x, depth)
	case []any:
		return l.array(x, depth)
	case string:
		return v, false, l.count(len(x))
	case nil, bool:
		return v, false, nil
	case float64:
		if w, changed, err := normalizeNumber(x); changed || err != nil {
			return w, changed, err
		}
		return v, false, nil
	}
	f, ok := toFloat(v)
	if !ok {
		return nil, false, fmt.Errorf("%w: %T is not a JSON value", vc.ErrMalformed, v)
	}
	w, _, err = normalizeNumber(f)
	return w, true, err
}

func (l *limiter) object(m map[string]any, depth int) (any, bool, error) {
	var out map[string]any
	for k, e := range m {
		if err := l.count(len(k)); err != nil {
			return nil, false, err
		}
		w, changed, err := l.walk(e, depth+1)
		if err != nil {
			return nil, false, err
		}
		if changed {
			if out == nil {
				out = maps.Clone(m)
			}
			out[k] = w
		}
	}
	if out == nil {
		return m, false, nil
	}
	return out, true, nil
}

func (l *limiter) array(a []any, depth int) (any, bool, error) {
	var out []any
	for i, e := range a {
		w, changed, err := l.walk(e, depth+1)
		if err != nil {
			return nil, false, err
		}
		if changed {
			if out == nil {
				out = slices.Clone(a)
			}
			out[i] = w
		}
	}
	if out == nil {
		return a, false, nil
	}
	return out, true, nil
}

func (l *limiter) count(n int) error {
	if l.bytes += n; l.bytes > MaxStringBytes {
		return fmt.Errorf("%w: more than %d bytes of strings", vc.ErrMalformed, MaxStringBytes)
	}
	return nil
}

// normalizeNumber turns a JSON number into what json-gold handles as the JSON-LD
// specification says: a float64, or for integers of magnitude 2^63 to 10^21
// (which json-gold would write as xsd:double) an xsd:integer value object in
// the lexical form JavaScript's toFixed(0) gives, as jsonld.js does.
func normalizeNumber(f float64) (any, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, false, fmt.Errorf("%w: %v is not a JSON number", vc.ErrMalformed, f)
	}
	if a := math.Abs(f); a >= 1<<63 && a < 1e21 && f == math.Trunc(f) && f != -(1<<63) {
		return map[string]any{"@value": strconv.FormatFloat(f, 'f', 0, 64), "@type": xsdInteger}, true, nil
	}
	return f, false, nil
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case uint64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
