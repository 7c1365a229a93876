package ld

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gowebpki/jcs"
	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// dropped reports data that RDF cannot carry and that json-gold would drop.
func dropped(what, value string) error {
	return fmt.Errorf("%w: %s %q is not an absolute IRI: it would be dropped", vc.ErrMalformed, what, value)
}

// toRDF is the Deserialize JSON-LD to RDF algorithm of JSON-LD 1.1 over
// json-gold's node map. It differs from json-gold's own ToRDF in three
// ways: data that cannot be carried (relative or invalid IRIs, invalid
// language tags) is an error instead of being dropped; the IRI validity
// check, a costly regular expression json-gold runs per distinct IRI on
// every call, is remembered per process; JSON literals of any JSON value
// are canonicalized (JCS), as JSON-LD 1.1 says.
func toRDF(expanded []any) (*ld.RDFDataset, error) {
	issuer := ld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{"@default": map[string]any{}}
	if _, err := ld.NewJsonLdApi().GenerateNodeMap(expanded, nodeMap, "@default", issuer, "", "", nil); err != nil {
		return nil, err
	}
	ds := ld.NewRDFDataset()
	for name, g := range nodeMap {
		if name != "@default" && !wellFormed(name) {
			return nil, dropped("graph", name)
		}
		c := converter{issuer: issuer, graph: name}
		if err := c.convert(g.(map[string]any)); err != nil {
			return nil, err
		}
		ds.Graphs[name] = c.quads
	}
	return ds, nil
}

type converter struct {
	issuer *ld.IdentifierIssuer
	graph  string
	quads  []*ld.Quad
}

func (c *converter) convert(g map[string]any) error {
	for subject, n := range g {
		if !wellFormed(subject) {
			return dropped("subject", subject)
		}
		s := resource(subject)
		for property, values := range n.(map[string]any) {
			if err := c.property(s, property, values); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *converter) property(s ld.Node, property string, values any) error {
	if property == "@type" {
		for _, t := range values.([]any) {
			id, _ := t.(string)
			if !wellFormed(id) {
				return dropped("type", id)
			}
			c.add(s, ld.NewIRI(ld.RDFType), resource(id))
		}
		return nil
	}
	if ld.IsKeyword(property) {
		return nil
	}
	if strings.HasPrefix(property, "_:") || !wellFormed(property) {
		return dropped("property", property)
	}
	p := ld.NewIRI(property)
	for _, item := range values.([]any) {
		o, err := c.object(item)
		if err != nil {
			return err
		}
		c.add(s, p, o)
	}
	return nil
}

func (c *converter) add(s, p, o ld.Node) {
	c.quads = append(c.quads, ld.NewQuad(s, p, o, c.graph))
}

// object converts a node reference, value object or list object.
func (c *converter) object(item any) (ld.Node, error) {
	m := item.(map[string]any)
	if _, ok := m["@value"]; ok {
		return literal(m)
	}
	if list, ok := m["@list"]; ok {
		return c.list(list.([]any))
	}
	id, _ := m["@id"].(string)
	if !wellFormed(id) {
		return nil, dropped("object", id)
	}
	return resource(id), nil
}

func (c *converter) list(items []any) (ld.Node, error) {
	if len(items) == 0 {
		return ld.NewIRI(ld.RDFNil), nil
	}
	head := ld.NewBlankNode(c.issuer.GetId(""))
	s := head
	for i, item := range items {
		o, err := c.object(item)
		if err != nil {
			return nil, err
		}
		c.add(s, ld.NewIRI(ld.RDFFirst), o)
		var next ld.Node = ld.NewIRI(ld.RDFNil)
		if i < len(items)-1 {
			next = ld.NewBlankNode(c.issuer.GetId(""))
		}
		c.add(s, ld.NewIRI(ld.RDFRest), next)
		if b, ok := next.(ld.BlankNode); ok {
			s = b
		}
	}
	return head, nil
}

func resource(id string) ld.Node {
	if strings.HasPrefix(id, "_:") {
		return ld.NewBlankNode(id)
	}
	return ld.NewIRI(id)
}

// literal converts a value object.
func literal(m map[string]any) (ld.Node, error) {
	datatype, _ := m["@type"].(string)
	if datatype == "@json" {
		return jsonLiteral(m["@value"])
	}
	if datatype != "" && !wellFormed(datatype) {
		return nil, dropped("datatype", datatype)
	}
	switch v := m["@value"].(type) {
	case bool:
		return ld.NewLiteral(strconv.FormatBool(v), or(datatype, ld.XSDBoolean), ""), nil
	case float64:
		return number(v, datatype), nil
	case string:
		if lang, ok := m["@language"].(string); ok {
			if !validLanguage(lang) {
				return nil, fmt.Errorf("%w: language tag %q is not valid: it would be dropped", vc.ErrMalformed, lang)
			}
			return ld.NewLiteral(v, ld.RDFLangString, lang), nil
		}
		return ld.NewLiteral(v, or(datatype, ld.XSDString), ""), nil
	}
	return nil, fmt.Errorf("%w: value %v cannot be an RDF literal", vc.ErrMalformed, m["@value"])
}

// jsonLiteral is a JSON literal: its value in JCS canonical form.
func jsonLiteral(v any) (ld.Node, error) {
	b, err := json.Marshal(v)
	if err == nil {
		b, err = jcs.Transform(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JSON literal: %w", vc.ErrMalformed, err)
	}
	return ld.NewLiteral(string(b), ld.RDFSyntaxNS+"JSON", ""), nil
}

// number converts a native number as JSON-LD 1.1 says (and as jsonld.js
// does): integers below 10^21 in full, anything else as a canonical double.
func number(f float64, datatype string) ld.Node {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 && datatype != ld.XSDDouble {
		return ld.NewLiteral(strconv.FormatFloat(f, 'f', 0, 64), or(datatype, ld.XSDInteger), "")
	}
	return ld.NewLiteral(ld.GetCanonicalDouble(f), or(datatype, ld.XSDDouble), "")
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// validLanguage matches BCP 47 loosely, as json-gold does:
// ^[a-zA-Z]+(-[a-zA-Z0-9]+)*$.
func validLanguage(tag string) bool {
	parts := strings.Split(tag, "-")
	for i, p := range parts {
		if p == "" || strings.IndexFunc(p, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9')
		}) >= 0 {
			return false
		}
	}
	return true
}
