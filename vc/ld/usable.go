package ld

import (
	"slices"

	"github.com/piprate/json-gold/ld"
)

// usable reports whether json-gold expands doc the same with f.base as with
// f.plain: every node with a pre-processed type is expanded with base as
// its active context, has no other scoped type, and no pre-processed term
// is used as a property. Whatever usable cannot follow exactly (embedded
// contexts, property-scoped contexts, maps, @nest, @reverse) must not
// mention a pre-processed term at all.
func (f *fastContext) usable(doc map[string]any) bool {
	return len(f.scoped) == 0 || f.node(doc, true)
}

// node checks a node object whose active context is base.
func (f *fastContext) node(m map[string]any, root bool) bool {
	ctx, ok := f.typeContext(m, root)
	if !ok {
		return false
	}
	for key, v := range m {
		if !f.member(ctx, key, v) {
			return false
		}
	}
	return true
}

// typeContext returns the context json-gold expands the members of node m
// with: base, or base with the node's one pre-processed type applied.
func (f *fastContext) typeContext(m map[string]any, root bool) (*ld.Context, bool) {
	ctx, scoped := f.base, 0
	for key, v := range m {
		if key == "@context" && !root {
			return nil, false
		}
		if keyword(f.base, key) != "@type" {
			continue
		}
		for _, t := range strs(v) {
			td := f.base.TermDefinitions[t]
			if td == nil || !td.HasContext {
				continue
			}
			sc, ok := f.scoped[t]
			if scoped++; !ok || scoped > 1 {
				return nil, false
			}
			ctx = sc
		}
	}
	return ctx, true
}

// member checks one member of a node whose members are expanded with ctx.
func (f *fastContext) member(ctx *ld.Context, key string, v any) bool {
	switch keyword(ctx, key) {
	case "@context", "@type", "@id", "@index", "@language", "@direction":
		return true
	case "@graph", "@included":
		return f.values(v)
	case "":
	default:
		return f.opaque(v)
	}
	td := ctx.TermDefinitions[key]
	if td == nil {
		return f.values(v)
	}
	if f.pre[td] {
		return false
	}
	if f.preProp[td] {
		// json-gold applies it to a map value after reverting to base, so
		// only scalar values are expanded with the pre-processed context.
		return scalars(v) && f.opaque(v)
	}
	if td.HasContext || td.Reverse || !simpleContainer(td.Container) {
		return f.opaque(v)
	}
	return f.values(v)
}

// values checks the value of a property whose nested nodes json-gold
// expands with base (it reverts type-scoped contexts for nested nodes).
func (f *fastContext) values(v any) bool {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if !f.values(e) {
				return false
			}
		}
	case map[string]any:
		for key, e := range x {
			switch keyword(f.base, key) {
			case "@value":
				return f.opaque(x)
			case "@list", "@set":
				return len(x) <= 2 && f.values(e)
			}
		}
		return f.node(x, false)
	}
	return true
}

// opaque reports whether v never names a pre-processed term, as a key or a
// string, and embeds no context.
func (f *fastContext) opaque(v any) bool {
	switch x := v.(type) {
	case string:
		return !f.names[x]
	case []any:
		for _, e := range x {
			if !f.opaque(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range x {
			if k == "@context" || f.names[k] || !f.opaque(e) {
				return false
			}
		}
	}
	return true
}

// scalars reports whether v is a scalar or a list of them.
func scalars(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, e := range x {
			if !scalars(e) {
				return false
			}
		}
	}
	return true
}

// keyword returns the keyword key is or aliases in ctx, or "".
func keyword(ctx *ld.Context, key string) string {
	if ld.IsKeyword(key) {
		return key
	}
	if td := ctx.TermDefinitions[key]; td != nil && ld.IsKeyword(td.ID) {
		return td.ID
	}
	return ""
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// simpleContainer: @set, @list and plain @graph hold values json-gold
// expands like any other; index, id, type and language maps do not.
func simpleContainer(c []string) bool {
	return !slices.ContainsFunc(c, func(s string) bool {
		return s != "@set" && s != "@list" && s != "@graph"
	})
}
