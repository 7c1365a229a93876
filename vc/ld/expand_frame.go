package ld

import (
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"
)

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
