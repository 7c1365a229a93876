package ld

import (
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// member expands member k: v of a node whose members have the active
// context fr (tsc before type-scoped contexts) into res.
func member(fr, tsc *frame, res map[string]any, k string, v any) error {
	e, err := fr.key(k)
	if err != nil {
		return err
	}
	if e == "" || !strings.Contains(e, ":") && !ld.IsKeyword(e) {
		return fallback("key expands to no IRI")
	}
	if ld.IsKeyword(e) {
		if _, ok := res[e]; ok {
			return fallback("colliding keywords")
		}
		switch e {
		case "@id":
			s, ok := v.(string)
			if !ok {
				return fallback("@id value")
			}
			id, err := fr.ctx.ExpandIri(s, true, false, nil, nil)
			if err != nil {
				return err
			}
			res["@id"] = id
		case "@type":
			types, ok := typeStrings(v)
			if !ok {
				return fallback("@type value")
			}
			if s, ok := v.(string); ok {
				t, err := tsc.ctx.ExpandIri(s, true, true, nil, nil)
				if err != nil {
					return err
				}
				res["@type"] = t
				return nil
			}
			list := make([]any, len(types))
			for i, s := range v.([]any) {
				if list[i], err = tsc.ctx.ExpandIri(s.(string), true, true, nil, nil); err != nil {
					return err
				}
			}
			res["@type"] = list
		default:
			return fallback("keyword " + e)
		}
		return nil
	}
	if k == "" {
		return fallback("empty term") // json-gold drops the scalars of the empty term
	}
	term := fr
	td := fr.ctx.TermDefinitions[k]
	if nullGraphTerm(td) {
		return graphMember(fr, res, e, td, v)
	}
	if td != nil && td.HasContext {
		if td.Context == nil {
			return fallback("null scoped context")
		}
		if term, err = fr.derive(td, false); err != nil {
			return err
		}
	}
	if td != nil && td.Type == "@json" {
		return fallback("@json")
	}
	list, graph := false, false
	if ttd := term.ctx.TermDefinitions[k]; ttd != nil {
		if ttd.Reverse || ttd.Type == "@json" {
			return fallback("@reverse or @json")
		}
		switch {
		case len(ttd.Container) == 0, slices.Equal(ttd.Container, []string{"@set"}):
		case slices.Equal(ttd.Container, []string{"@list"}):
			list = true
		case plainGraph(ttd.Container):
			// json-gold wraps each expanded value in a graph object; the
			// subset takes node objects only (a proof, a list of proofs).
			if !nodeObjects(v) {
				return fallback("value of a graph container that is not a node object")
			}
			graph = true
		default:
			return fallback("container " + strings.Join(ttd.Container, " "))
		}
	}
	ev, err := element(term, k, v)
	if err != nil || ev == nil {
		return err
	}
	if graph {
		l, ok := ev.([]any)
		if !ok {
			l = []any{ev}
		}
		graphs := make([]any, len(l))
		for i, n := range l {
			graphs[i] = map[string]any{"@graph": []any{n}}
		}
		ev = graphs
	}
	if list {
		// A list of lists json-gold expands item by item, which the subset
		// leaves out.
		if a, ok := v.([]any); ok && slices.ContainsFunc(a, func(e any) bool { _, ok := e.([]any); return ok }) {
			return fallback("list of lists")
		}
		if l, ok := ev.([]any); ok {
			ev = map[string]any{"@list": l}
		} else {
			ev = map[string]any{"@list": []any{ev}}
		}
	}
	values, ok := res[e].([]any)
	l, isList := ev.([]any)
	switch {
	case !ok && isList:
		values = l // element's own, new list
	case isList:
		values = append(values, l...)
	default:
		values = append(values, ev)
	}
	res[e] = values
	return nil
}

// plainGraph reports whether a container mapping is @graph, alone or with
// @set.
func plainGraph(container []string) bool {
	return slices.Contains(container, "@graph") &&
		!slices.ContainsFunc(container, func(c string) bool { return c != "@graph" && c != "@set" })
}

// nodeObjects reports whether v is a map or an array of maps and nulls.
func nodeObjects(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return true
	case []any:
		return !slices.ContainsFunc(x, func(e any) bool {
			_, ok := e.(map[string]any)
			return !ok && e != nil
		})
	}
	return false
}

// graphMember expands into res the value v of a null-scoped graph term td
// (graphterm.go) whose IRI is e: as JSON-LD 1.1 (and jsonld.js) expands it,
// and json-gold with the rewritten definition. Each node object in v is
// expanded on an empty context, its own @context processed on it: as a
// document of its own, with the root frame of that @context. Each becomes
// a graph object.
//
// The expander takes only node objects with an @context of their own, as
// the credentials of a presentation are, under a plain @graph container;
// anything else falls back.
func graphMember(fr *frame, res map[string]any, e string, td *ld.TermDefinition, v any) error {
	if !plainGraph(td.Container) {
		return fallback("container " + strings.Join(td.Container, " "))
	}
	if v == nil {
		return nil
	}
	values, _ := res[e].([]any)
	if values == nil {
		values = []any{}
	}
	for _, item := range ld.Arrayify(v) {
		if item == nil {
			continue
		}
		m, ok := item.(map[string]any)
		if !ok {
			return fallback("value of a null-scoped graph term that is not a node object")
		}
		local, ok := m["@context"]
		if !ok {
			return fallback("node object of a null-scoped graph term without @context")
		}
		root, err := fr.pool.root(local)
		if err != nil {
			return err
		}
		n, err := node(root, "", m, true)
		if err != nil {
			return err
		}
		// A graph holding a node with no members but @id, which expansion
		// keeps here, would hold no triples: json-gold takes it.
		if _, id := n["@id"]; len(n) == 0 || id && len(n) == 1 {
			return fallback("empty node object")
		}
		values = append(values, map[string]any{"@graph": []any{n}})
	}
	res[e] = values
	return nil
}
