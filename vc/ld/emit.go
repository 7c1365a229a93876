package ld

import (
	"math"
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// emitter converts the output of the fast expander to RDF quads directly,
// giving the dataset toRDF gives (json-gold's node map, then Deserialize
// JSON-LD to RDF), with the same checks, without building the node map.
//
// The node map merges the node objects of one @id and keeps a value once
// per subject and property, comparing values as json-gold's CompareValues
// does (@value, @type, @language, @index; node references by @id; lists
// never), so the dataset may hold a quad twice (1 and "1"^^xsd:integer).
// The emitter keeps the same values. Values CompareValues finds equal give
// the same quad, but for -0 and 0, which the emitter leaves to toRDF: so the
// order in which the emitter meets values does not matter. Lists and nodes
// without @id get fresh blank nodes; blank node identifiers of the document
// keep theirs (under another prefix, so that the two never meet). Labels do
// not reach the canonical form.
//
// A graph object without @id (the fast expander makes them of the values
// of terms with a @graph container: proofs, and the credentials of a
// presentation, graphterm.go) gets a fresh blank node, the object of its
// property and the name of a graph holding its nodes, as the node map
// makes it.
type emitter struct {
	quads  []quad
	blanks int
	seen   map[valueKey]struct{}
	graph  nodeTerm // the graph being emitted; the default graph if term is ""
}

// valueKey is a value of a property of a subject in a graph, as the node
// map compares values.
type valueKey struct {
	graph, subject, property, value string
}

// quadsOf returns the quads of the fast expansion of a document.
func quadsOf(expanded []any) ([]quad, error) {
	e := &emitter{quads: make([]quad, 0, 64), seen: make(map[valueKey]struct{}, 32)}
	for _, n := range expanded {
		m := n.(map[string]any)
		s, err := e.subject(m)
		if err != nil {
			return nil, err
		}
		if err := e.node(s, m); err != nil {
			return nil, err
		}
	}
	return e.quads, nil
}

// nodeTerm is a resource (an IRI or a blank node) as subject or object.
type nodeTerm struct {
	term  string // N-Quads form, or the blank node's label
	blank bool
	id    string // the identifier as the node map compares it
	fresh bool   // a blank node of the emitter's, the subject of one node object only
}

func (e *emitter) fresh() nodeTerm {
	e.blanks++
	l := "_:g" + strconv.Itoa(e.blanks)
	return nodeTerm{l, true, l, true}
}

// ref is the resource of an @id or a type.
func ref(id string) nodeTerm {
	if rest, ok := strings.CutPrefix(id, "_:"); ok {
		return nodeTerm{"_:d" + rest, true, id, false}
	}
	var b strings.Builder
	iri(&b, id)
	return nodeTerm{b.String(), false, id, false}
}

// first reports whether value is new for the property of subject.
func (e *emitter) first(subject nodeTerm, property, value string) bool {
	k := valueKey{e.graph.id, subject.id, property, value}
	if _, ok := e.seen[k]; ok {
		return false
	}
	e.seen[k] = struct{}{}
	return true
}

func (e *emitter) add(s nodeTerm, p, pTerm string, o nodeTerm) {
	q := quad{pred: p}
	q.term[subjectPos], q.blank[subjectPos] = s.term, s.blank
	q.term[predicatePos] = pTerm
	q.term[objectPos], q.blank[objectPos] = o.term, o.blank
	q.term[graphPos], q.blank[graphPos] = e.graph.term, e.graph.blank
	q.complete()
	e.quads = append(e.quads, q)
}

var rdfType, rdfFirst, rdfRest, rdfNil = ref(ld.RDFType), ref(ld.RDFFirst), ref(ld.RDFRest), ref(ld.RDFNil)

// subject returns the resource of node object m: its @id, or a fresh
// blank node.
func (e *emitter) subject(m map[string]any) (nodeTerm, error) {
	id, ok := m["@id"].(string)
	if !ok {
		return e.fresh(), nil
	}
	if !wellFormed(id) {
		return nodeTerm{}, dropped("subject", id)
	}
	return ref(id), nil
}

// node emits the types and properties of node object m, whose resource is s.
// A value need not be compared with others (dedupe) when it is the only
// one of its property and the subject is met once.
func (e *emitter) node(s nodeTerm, m map[string]any) error {
	if types, ok := m["@type"].([]any); ok {
		dedupe := !s.fresh || len(types) > 1
		for _, t := range types {
			id := t.(string)
			if !wellFormed(id) {
				return dropped("type", id)
			}
			if !dedupe || e.first(s, "@type", id) {
				e.add(s, ld.RDFType, rdfType.term, ref(id))
			}
		}
	}
	for p, values := range m {
		if p == "@id" || p == "@type" {
			continue
		}
		if strings.HasPrefix(p, "_:") || !wellFormed(p) {
			return dropped("property", p)
		}
		pTerm := ref(p).term
		list := values.([]any)
		dedupe := !s.fresh || len(list) > 1
		for _, v := range list {
			if err := e.value(s, p, pTerm, v.(map[string]any), dedupe); err != nil {
				return err
			}
		}
	}
	return nil
}

// value emits the value v of property p of s.
func (e *emitter) value(s nodeTerm, p, pTerm string, v map[string]any, dedupe bool) error {
	if _, ok := v["@value"]; ok {
		if dedupe {
			key, ok := literalKey(v)
			if !ok {
				return errFallback
			}
			if !e.first(s, p, key) {
				return nil
			}
		}
		o, err := literalTerm(v)
		if err != nil {
			return err
		}
		e.add(s, p, pTerm, o)
		return nil
	}
	if items, ok := v["@list"]; ok {
		o, err := e.list(items.([]any))
		if err != nil {
			return err
		}
		e.add(s, p, pTerm, o)
		return nil
	}
	if nodes, ok := v["@graph"]; ok {
		if len(v) != 1 {
			return errFallback
		}
		return e.graphObject(s, p, pTerm, nodes.([]any))
	}
	o, err := e.subject(v)
	if err != nil {
		return err
	}
	if !dedupe || e.first(s, p, "\x00"+o.id) {
		e.add(s, p, pTerm, o)
	}
	return e.node(o, v)
}

// graphObject emits a graph object without @id, the value of property p of
// s: a fresh blank node names the graph of its nodes.
func (e *emitter) graphObject(s nodeTerm, p, pTerm string, nodes []any) error {
	name := e.fresh()
	e.add(s, p, pTerm, name)
	outer := e.graph
	e.graph = name
	defer func() { e.graph = outer }()
	for _, n := range nodes {
		m := n.(map[string]any)
		o, err := e.subject(m)
		if err != nil {
			return err
		}
		if err := e.node(o, m); err != nil {
			return err
		}
	}
	return nil
}

// list emits a list and returns its head.
func (e *emitter) list(items []any) (nodeTerm, error) {
	if len(items) == 0 {
		return rdfNil, nil
	}
	head := e.fresh()
	cell := head
	for i, item := range items {
		v := item.(map[string]any)
		var o nodeTerm
		if _, ok := v["@value"]; ok {
			var err error
			if o, err = literalTerm(v); err != nil {
				return o, err
			}
		} else if _, ok := v["@list"]; ok {
			return o, errFallback
		} else {
			var err error
			if o, err = e.subject(v); err != nil {
				return o, err
			}
			if err = e.node(o, v); err != nil {
				return o, err
			}
		}
		e.add(cell, ld.RDFFirst, rdfFirst.term, o)
		next := rdfNil
		if i < len(items)-1 {
			next = e.fresh()
		}
		e.add(cell, ld.RDFRest, rdfRest.term, next)
		cell = next
	}
	return head, nil
}

// literalTerm writes a value object as a literal.
func literalTerm(v map[string]any) (nodeTerm, error) {
	if t, _ := v["@type"].(string); strings.HasPrefix(t, "_:") {
		return nodeTerm{}, errFallback // a blank datatype, which the node map relabels
	}
	l, err := literal(v)
	if err != nil {
		return nodeTerm{}, err
	}
	var b strings.Builder
	term(&b, l)
	return nodeTerm{term: b.String()}, nil
}

// literalKey is a value object as CompareValues compares it: @value (as Go
// compares it: -0 equals 0), @type, @language, @index.
func literalKey(v map[string]any) (string, bool) {
	var b strings.Builder
	switch x := v["@value"].(type) {
	case string:
		b.WriteString("s" + x)
	case bool:
		b.WriteString("b" + strconv.FormatBool(x))
	case float64:
		if x == 0 && math.Signbit(x) {
			// -0 equals 0 there but is another literal: which one the node
			// map keeps depends on the order of values.
			return "", false
		}
		b.WriteString("f" + strconv.FormatFloat(x, 'g', -1, 64))
	default:
		return "", false
	}
	for _, k := range []string{"@type", "@language", "@index"} {
		b.WriteByte(0)
		switch x := v[k].(type) {
		case nil:
			if _, ok := v[k]; ok {
				return "", false
			}
		case string:
			if strings.HasPrefix(x, "_:") {
				return "", false // a blank datatype, which the node map relabels
			}
			b.WriteString("+" + x)
		default:
			return "", false
		}
	}
	return b.String(), true
}
