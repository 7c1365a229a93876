package ld

import (
	"errors"
	"fmt"
	"slices"

	"github.com/piprate/json-gold/ld"
)

// The fast expander expands the documents Credence signs and verifies
// (credentials, proof configurations, DID documents) without json-gold's
// expansion, whose cost is almost all copies of the active context:
// json-gold copies it (hundreds of terms for VC 2.0) at every node with a
// type-scoped context, every node below one and every property with a
// scoped context.
//
// It follows json-gold's expansion step by step for a subset of JSON-LD:
// node objects whose members are terms, @id and @type, with string, number,
// boolean, null, node-object and array values, under terms with no
// container but @set or @list, or (node objects only) @graph. The node
// objects under a null-scoped graph term (verifiableCredential:
// graphterm.go) are expanded as documents of their own, with their own
// @context. Each leaf decision is json-gold's own: keys,
// @id and @type values go through (*ld.Context).ExpandIri, scalars through
// (*ld.Context).ExpandValue, and the active contexts are json-gold's,
// processed by (*ld.Context).Parse. What the expander keeps is the part that
// is costly in json-gold: each active context it meets (a type-scoped
// context applied to a context, a property-scoped one, and the context
// json-gold reverts to below a typed node) is built once and remembered,
// with the expansion of each key.
//
// Anything outside the subset (value objects, @list objects and lists of
// lists, language, index, id and type containers, @graph, @included,
// @reverse, @nest, @index, embedded contexts but those of the values of
// null-scoped graph terms, @json, a key that does not expand to an IRI, a
// null or remote property-scoped context, colliding keywords, a document
// that expands to nothing) returns errFallback before
// any result is produced, and the caller runs json-gold. So does an error of
// json-gold's context processing: the plain path reports it, or succeeds
// where the expander would not. The tests hold the output equal to
// json-gold's (reflect.DeepEqual on the expanded form) on every test
// document, on generated credentials, on tens of thousands of variants of
// them and under fuzzing.

// errFallback: the document leaves the fast expander's subset.
var errFallback = errors.New("ld: document needs the full JSON-LD expansion")

// fallback is errFallback, saying why.
func fallback(why string) error { return fmt.Errorf("%w: %s", errFallback, why) }

// expandFast expands doc, whose @context root processes, as json-gold's
// Expand does, or returns errFallback (or an error of json-gold's leaf
// functions, which the caller treats alike).
func expandFast(root *frame, doc map[string]any) (out []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fallback("panic")
		}
	}()
	// The root node: json-gold processes its @context on an empty context,
	// which makes the processed context itself the active context.
	res, err := node(root, "", doc, true)
	if err != nil {
		return nil, err
	}
	// Expansion drops a top-level node with no members but @id; json-gold
	// then unwraps a lone @graph, which the subset never produces.
	if _, id := res["@id"]; len(res) == 0 || id && len(res) == 1 {
		return nil, fallback("document expands to nothing")
	}
	return []any{res}, nil
}

// element expands the value of property prop, whose active context is fr.
func element(fr *frame, prop string, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			e, err := element(fr, prop, item)
			if err != nil {
				return nil, err
			}
			switch y := e.(type) {
			case nil:
			case []any:
				out = append(out, y...)
			default:
				out = append(out, y)
			}
		}
		return out, nil
	case map[string]any:
		res, err := node(fr, prop, x, false)
		if err != nil {
			return nil, err
		}
		return res, nil
	case string, bool, float64:
		return fr.ctx.ExpandValue(prop, v)
	}
	return nil, fallback("value of another type")
}

// node expands a node object, the value of property prop (or the document
// if root), as json-gold's expansion of a map element does.
func node(fr *frame, prop string, m map[string]any, root bool) (map[string]any, error) {
	var buf [24]string
	keys := appendSortedKeys(buf[:0], m)
	var tsc *frame // json-gold's typeScopedContext
	if !root {
		if _, ok := m["@context"]; ok {
			return nil, fallback("embedded context")
		}
		var scoped *ld.TermDefinition // the property-scoped context of prop
		if td := fr.ctx.TermDefinitions[prop]; td != nil && td.HasContext {
			if td.Context == nil {
				return nil, fallback("null property-scoped context")
			}
			scoped = td
		}
		if fr.prev != nil {
			tsc = fr
		}
		revert := true
		if tsc != nil && len(keys) <= 2 {
			for _, k := range keys {
				e, err := tsc.key(k)
				if err != nil {
					return nil, err
				}
				if e == "@value" {
					return nil, fallback("value object")
				}
				if e == "@id" && len(keys) == 1 {
					revert = false
					break
				}
			}
		}
		if revert {
			fr = fr.revert()
		}
		if scoped != nil {
			var err error
			if fr, err = fr.derive(scoped, false); err != nil {
				return nil, err
			}
		}
	}
	tsc = fr
	typeKey := ""
	for _, k := range keys {
		e, err := fr.key(k)
		if err != nil {
			return nil, err
		}
		if e != "@type" {
			continue
		}
		if typeKey != "" {
			return nil, fallback("second @type key")
		}
		typeKey = k
		types, ok := typeStrings(m[k])
		if !ok {
			return nil, fallback("@type value")
		}
		for _, t := range types {
			if td := tsc.ctx.TermDefinitions[t]; td != nil && td.HasContext {
				if fr, err = fr.derive(td, true); err != nil {
					return nil, err
				}
			}
		}
	}
	res := make(map[string]any, len(m))
	for _, k := range keys {
		if k == "@context" {
			continue
		}
		if err := member(fr, tsc, res, k, m[k]); err != nil {
			return nil, err
		}
	}
	if t, ok := res["@type"]; ok {
		if _, ok := t.([]any); !ok {
			res["@type"] = []any{t}
		}
	}
	return res, nil
}

// typeStrings returns the types of a @type value, sorted as json-gold
// applies their scoped contexts.
func typeStrings(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		if len(x) == 0 {
			return nil, false
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		slices.Sort(out)
		return out, true
	}
	return nil, false
}

func appendSortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
