package ld

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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

// Bounds of the fast expander's memory, per Processor: the active contexts
// it builds (each a copy of a processed context) and the expansions of keys
// it remembers per active context. Past them, documents take json-gold's
// path, which needs no memory beyond the document.
const (
	maxFrames    = 512
	maxFrameKeys = 256
)

// frame is an active context as json-gold's expansion tracks it: the
// processed context and the one json-gold reverts to below a node with a
// type-scoped context (its "previous context"), nil when there is none.
type frame struct {
	ctx  *ld.Context
	prev *frame
	pool *framePool

	derived sync.Map // deriveKey -> *frame, or error when ctx cannot be derived
	keys    sync.Map // key -> its expansion as a property or keyword (string)
	nKeys   atomic.Int64
}

// framePool counts the frames of a Processor, and gives the root frame of
// a node object's own @context (for the values of null-scoped graph terms).
type framePool struct {
	n    atomic.Int64
	root func(local any) (*frame, error)
}

type deriveKey struct {
	td       *ld.TermDefinition // the term whose scoped context is applied
	typeTerm bool               // type-scoped (else property-scoped)
}

// rootFrame returns the frame of the processed context c of a document's
// @context value local, or nil if json-gold would give c a previous context
// (a @propagate in local).
func rootFrame(pool *framePool, c *ld.Context, local any) *frame {
	for _, e := range ld.Arrayify(local) {
		if m, ok := e.(map[string]any); ok {
			if _, ok := m["@propagate"]; ok {
				return nil
			}
		}
	}
	return &frame{ctx: c, pool: pool}
}

// key expands key as a property (vocabulary-relative), as json-gold does
// for every member of a node.
func (fr *frame) key(key string) (string, error) {
	if v, ok := fr.keys.Load(key); ok {
		return v.(string), nil
	}
	iri, err := fr.ctx.ExpandIri(key, false, true, nil, nil)
	if err != nil {
		return "", err
	}
	if fr.nKeys.Load() < maxFrameKeys {
		if _, loaded := fr.keys.LoadOrStore(key, iri); !loaded {
			fr.nKeys.Add(1)
		}
	}
	return iri, nil
}

// revert returns the frame json-gold reverts to for a nested node object.
func (fr *frame) revert() *frame {
	if fr.prev != nil {
		return fr.prev
	}
	return fr
}

// derive returns the frame of fr with the scoped context of td applied, as
// json-gold applies a type-scoped context (typeTerm: not propagated unless
// it says so, protected terms kept) or a property-scoped one (propagated
// unless it says otherwise, protected terms overridable). A frame that does
// not propagate reverts to fr, or to what fr reverts to.
func (fr *frame) derive(td *ld.TermDefinition, typeTerm bool) (*frame, error) {
	k := deriveKey{td, typeTerm}
	if v, ok := fr.derived.Load(k); ok {
		if err, ok := v.(error); ok {
			return nil, err
		}
		return v.(*frame), nil
	}
	if fr.pool.n.Add(1) > maxFrames {
		fr.pool.n.Add(-1)
		return nil, fallback("too many active contexts")
	}
	var v any
	propagate, ok := propagates(td.Context, !typeTerm)
	if !ok {
		v = fallback("null scoped context")
	} else if c, err := parseScoped(fr.ctx, td.Context, !typeTerm); err != nil {
		v = err
	} else {
		d := &frame{ctx: c, prev: fr.prev, pool: fr.pool}
		if !propagate && d.prev == nil {
			d.prev = fr
		}
		v = d
	}
	if _, ok := v.(error); ok {
		fr.pool.n.Add(-1)
	}
	if got, loaded := fr.derived.LoadOrStore(k, v); loaded {
		if _, ok := v.(*frame); ok {
			fr.pool.n.Add(-1) // another goroutine derived it first
		}
		v = got
	}
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.(*frame), nil
}

// propagates reports whether json-gold propagates the scoped context local
// to nested nodes (def unless its first context says), and whether derive
// models it: a null context, which json-gold chains to the previous context
// differently, it does not.
func propagates(local any, def bool) (propagate, ok bool) {
	if local == nil {
		return false, false
	}
	contexts := ld.Arrayify(local)
	for _, c := range contexts {
		if c == nil {
			return false, false
		}
	}
	if m, ok := contexts[0].(map[string]any); ok {
		if b, ok := m["@propagate"].(bool); ok {
			return b, true
		}
	}
	return def, true
}

// parseScoped processes the scoped context local on c, as json-gold does
// for a type-scoped context, or (override) for a property-scoped one, in
// which a protected term may be redefined. json-gold then gives the new
// definition its own protection; so does parseScoped, by processing local
// on a copy of c whose definitions of the terms local redefines are not
// protected. That needs the terms up front: a single inline context
// without @import or a nested @context.
func parseScoped(c *ld.Context, local any, override bool) (*ld.Context, error) {
	if !override {
		return parsed(c.Parse(local))
	}
	m, ok := local.(map[string]any)
	if !ok {
		return nil, fallback("property-scoped context that is not one object")
	}
	if _, ok := m["@import"]; ok {
		return nil, fallback("@import in a property-scoped context")
	}
	if _, ok := m["@context"]; ok {
		return nil, fallback("@context in a property-scoped context")
	}
	var unprotect []string
	for term := range m {
		if td := c.TermDefinitions[term]; td != nil && td.Protected {
			unprotect = append(unprotect, term)
		}
	}
	if len(unprotect) > 0 {
		c = ld.CopyContext(c)
		for _, term := range unprotect {
			td := c.TermDefinitions[term].Copy()
			td.Protected = false
			c.TermDefinitions[term] = td
		}
	}
	return parsed(c.Parse(m))
}

// parsed makes an error of context processing a fallback: json-gold
// reports it, with its own context.
func parsed(c *ld.Context, err error) (*ld.Context, error) {
	if err != nil {
		return nil, fallback("scoped context: " + err.Error())
	}
	return c, nil
}

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

func appendSortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
