package ld

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// Null-scoped graph terms.
//
// The VC 2.0 context defines verifiableCredential (in the scoped context of
// VerifiablePresentation) with "@container": "@graph" and "@context": null:
// each credential of a presentation is expanded on an empty context and
// becomes a graph object, its triples a named graph of their own. JSON-LD
// 1.1 takes the container mapping from the term's definition in the active
// context (Expansion Algorithm, 13.7; w3c/vc-data-model#1373), as jsonld.js
// does. json-gold v0.9.1 reads it from the term's scoped context instead,
// where a null context leaves no definition of the term: it loses @graph and
// puts the credentials' triples into the default graph (fixed by the
// unmerged piprate/json-gold#105). Presentations would then not verify
// across implementations.
//
// json-gold applies a term's scoped context and reads the container (and
// every other mapping it reads there) from the result: so the package
// rewrites each such definition, wherever json-gold could meet it (context
// documents, the document's own contexts), so that its scoped context is
//
//	[null, {term: {"@id": graphTermIRI, "@container": <same>, "@context": [null]}}]
//
// The null empties the active context as before; the definition of term in
// it carries the container json-gold looks for. That definition must not be
// seen by the value itself: expanding a value, json-gold applies the
// property-scoped context of term first, [null], which empties the context
// again before the value's own @context is processed. (A plain null would
// not do: json-gold skips a scoped context that is nil.) The value is thus
// expanded on an empty context, as jsonld.js expands it, and wrapped in a
// graph object. graphTermIRI is private to the process; were it ever to
// appear in an expansion, the document is rejected (checkExpanded).
//
// The fast expander recognizes the rewritten definitions (nullGraphTerm)
// and expands each value as a document of its own (expand.go).

// graphTermIRI is the IRI the rewritten scoped contexts map their term to.
var graphTermIRI = privatePrefix() + "null-scoped-graph-term"

// rewriteContext returns the local context v with every null-scoped graph
// term definition in it, at any depth of scoped contexts, rewritten; v
// itself if there is none. v is never modified: the maps and arrays on the
// path to a rewritten definition are copied.
func rewriteContext(v any) (any, bool) {
	switch x := v.(type) {
	case []any:
		return rewriteElements(x, rewriteContext)
	case map[string]any:
		var out map[string]any
		for term, def := range x {
			d, ok := def.(map[string]any)
			if !ok || ld.IsKeyword(term) {
				continue
			}
			r, ok := rewriteTerm(term, d)
			if !ok {
				continue
			}
			if out == nil {
				out = maps.Clone(x)
			}
			out[term] = r
		}
		if out == nil {
			return v, false
		}
		return out, true
	}
	return v, false
}

// rewriteTerm rewrites the expanded term definition def of term if it is
// a null-scoped graph term, or rewrites its scoped context.
func rewriteTerm(term string, def map[string]any) (map[string]any, bool) {
	scoped, ok := def["@context"]
	if !ok {
		return nil, false
	}
	if scoped != nil {
		r, ok := rewriteContext(scoped)
		if !ok {
			return nil, false
		}
		out := maps.Clone(def)
		out["@context"] = r
		return out, true
	}
	container, ok := graphContainer(def["@container"])
	if !ok {
		return nil, false
	}
	if _, ok := def["@reverse"]; ok {
		return nil, false // an invalid definition: json-gold reports it
	}
	inner := map[string]any{"@id": graphTermIRI, "@container": container, "@context": []any{nil}}
	if index, ok := def["@index"]; ok {
		inner["@index"] = index
	}
	out := maps.Clone(def)
	out["@context"] = []any{nil, map[string]any{term: inner}}
	return out, true
}

// graphContainer returns a copy of the container mapping c if it includes
// @graph.
func graphContainer(c any) (any, bool) {
	switch x := c.(type) {
	case string:
		return x, x == "@graph"
	case []any:
		if slices.Contains(x, any("@graph")) {
			return slices.Clone(x), true
		}
	}
	return nil, false
}

// nullGraphTerm reports whether td is a rewritten null-scoped graph term.
func nullGraphTerm(td *ld.TermDefinition) bool {
	if td == nil || !td.HasContext {
		return false
	}
	l, ok := td.Context.([]any)
	if !ok || len(l) != 2 || l[0] != nil {
		return false
	}
	m, ok := l[1].(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for _, def := range m {
		d, ok := def.(map[string]any)
		return ok && d["@id"] == graphTermIRI
	}
	return false
}

// rewriteBody returns the document v with the null-scoped graph terms of
// the contexts embedded in it (below its root) rewritten; v itself if there
// is none. v is never modified.
func rewriteBody(v any, root bool) (any, bool) {
	switch x := v.(type) {
	case []any:
		return rewriteElements(x, func(e any) (any, bool) { return rewriteBody(e, false) })
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			var r any
			var ok bool
			if k == "@context" {
				if root {
					continue
				}
				r, ok = rewriteContext(e)
			} else {
				r, ok = rewriteBody(e, false)
			}
			if ok {
				if out == nil {
					out = maps.Clone(x)
				}
				out[k] = r
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	}
	return v, false
}

// checkExpanded rejects an expansion that mentions graphTermIRI: a
// rewritten definition was seen where jsonld.js would not see one (which
// the [null] scoped context prevents), or a rewritten context found its
// way into a value (a context inside a JSON literal).
func checkExpanded(v any) error {
	if mentions(v, graphTermIRI) {
		return fmt.Errorf("%w: JSON-LD: the document uses a term scoped to a graph container with a null context in a way Credence does not process", vc.ErrUnsupported)
	}
	return nil
}

func mentions(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return mentions(e, s) })
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, s) || mentions(e, s) {
				return true
			}
		}
	}
	return false
}

// rewriteElements applies f to every element of a, copying a on the first
// change; ok reports whether anything changed.
func rewriteElements(a []any, f func(any) (any, bool)) (any, bool) {
	var out []any
	for i, e := range a {
		if r, ok := f(e); ok {
			if out == nil {
				out = slices.Clone(a)
			}
			out[i] = r
		}
	}
	if out == nil {
		return a, false
	}
	return out, true
}
