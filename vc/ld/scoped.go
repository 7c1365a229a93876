package ld

import (
	"maps"
	"unicode"

	"github.com/piprate/json-gold/ld"
)

// fastContext is a processed context whose type terms carry their
// type-scoped context already processed, so that json-gold does not process
// it again for every node of that type.
//
// json-gold uses a *ld.Context found in a local context as the active
// context (writing only its processing mode, always the same value, which
// is why every use gets a copy: see fresh). A type term's @context becomes
// a private URL the Processor's loader answers with a copy of the
// pre-processed context. That context was built on base, so the result is
// right only when the active context at a node of that type is base (or a
// copy of it, which is what json-gold reverts to below a typed node):
// usable checks that of a document before base is used for it.
//
// Property-scoped contexts defined inside a type-scoped context (such as
// proofPurpose in DataIntegrityProof's) are pre-processed the same way, on
// the type-scoped context, which is the active context where json-gold
// applies them to a string value.
type fastContext struct {
	base    *ld.Context                 // the active context, type terms pre-processed
	plain   *ld.Context                 // the active context as json-gold builds it
	scoped  map[string]*ld.Context      // type term -> base with its scoped context applied
	pre     map[*ld.TermDefinition]bool // the pre-processed type terms in base
	preProp map[*ld.TermDefinition]bool // the pre-processed property terms in scoped
	names   map[string]bool             // the terms of pre and preProp
	root    *frame                      // plain for the fast expander; nil if it cannot be used
}

// newFastContext pre-processes the type-scoped contexts of c. Only terms
// named like types (an upper-case initial) with an inline scoped context
// are pre-processed; a term whose context fails to process is left as is.
func newFastContext(c *ld.Context, register func(*ld.Context) string) *fastContext {
	f := &fastContext{
		base:    ld.CopyContext(c),
		plain:   c,
		scoped:  map[string]*ld.Context{},
		pre:     map[*ld.TermDefinition]bool{},
		preProp: map[*ld.TermDefinition]bool{},
		names:   map[string]bool{},
	}
	for term, td := range c.TermDefinitions {
		if local, ok := typeScoped(term, td); ok {
			if sc, err := f.base.Parse(local); err == nil {
				f.scoped[term] = sc
			}
		}
	}
	for term, sc := range f.scoped {
		f.preProcessProperties(sc, register)
		td := c.TermDefinitions[term].Copy()
		td.Context = register(sc)
		f.base.TermDefinitions[term] = td
		f.pre[td] = true
		f.names[term] = true
	}
	return f
}

// preProcessProperties pre-processes the property-scoped contexts of the
// type-scoped context sc whose values are vocabulary terms (@type @vocab,
// as proofPurpose): values usable lets through only when they are strings.
func (f *fastContext) preProcessProperties(sc *ld.Context, register func(*ld.Context) string) {
	for term, td := range sc.TermDefinitions {
		if td == nil || !td.HasContext || td.Type != "@vocab" {
			continue
		}
		local, ok := td.Context.(map[string]any)
		if !ok {
			continue
		}
		pc, err := sc.Parse(local)
		if err != nil {
			continue
		}
		pre := td.Copy()
		pre.Context = register(pc)
		sc.TermDefinitions[term] = pre
		f.preProp[pre] = true
		f.names[term] = true
	}
}

// typeScoped returns the scoped context of a type term as json-gold applies
// it to a node of that type: not propagated to nested nodes unless the
// context says otherwise.
func typeScoped(term string, td *ld.TermDefinition) (any, bool) {
	if td == nil || !td.HasContext || term == "" || !unicode.IsUpper(rune(term[0])) {
		return nil, false
	}
	m, ok := td.Context.(map[string]any)
	if !ok {
		return nil, false
	}
	if _, ok := m["@propagate"]; !ok {
		m = maps.Clone(m)
		m["@propagate"] = false
	}
	return m, true
}

// fresh returns a shallow copy of c that json-gold may use as an active
// context: its own Values (json-gold writes the processing mode there when
// it meets a *ld.Context) and everything else shared and never written.
func fresh(c *ld.Context) *ld.Context {
	cp := *c
	v := *c.Values
	cp.Values = &v
	return &cp
}
