package ld

import (
	"errors"
	"fmt"
	"maps"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// Canonicalize returns the canonical N-Quads of doc under RDFC-1.0
// (URDNA2015): the bytes Data Integrity proofs hash. doc is not modified.
//
// As Data Integrity requires, data JSON-LD processing would drop silently is
// an error (vc.ErrMalformed) instead: a property that expands to no IRI, or
// a subject, property, type, object or datatype that is not an absolute IRI.
// Such data would not be secured by a proof.
func (p *Processor) Canonicalize(doc map[string]any) ([]byte, error) {
	out, err := p.process(doc, nil, true, normalize, canonicalFast)
	if err != nil {
		return nil, err
	}
	return out.([]byte), nil
}

// normalize expands in, converts it to RDF and canonicalizes the dataset.
func normalize(in map[string]any, opts *ld.JsonLdOptions) (any, error) {
	expanded, err := ld.NewJsonLdProcessor().Expand(in, opts)
	if err != nil {
		return nil, err
	}
	if err := checkExpanded(expanded); err != nil {
		return nil, err
	}
	ds, err := toRDF(expanded)
	if err != nil {
		return nil, err
	}
	return canonicalize(ds)
}

// canonicalFast canonicalizes in with the fast expander, or returns
// errFallback.
func canonicalFast(root *frame, in map[string]any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fallback("panic")
		}
	}()
	expanded, err := expandFast(root, in)
	if err != nil {
		return nil, errFallback
	}
	quads, err := quadsOf(expanded)
	if errors.Is(err, errFallback) {
		ds, err := toRDF(expanded)
		if err != nil {
			return nil, err
		}
		return canonicalize(ds)
	}
	if err != nil {
		return nil, err
	}
	return canonicalQuads(quads)
}

// process checks doc against the limits, puts the cached processed context
// in place of its @context (prefix and safe are as for activeContext) and
// runs fn on it. If fast is given and the context has a root frame, fast
// runs first, on the document as it is; fn runs only if fast returns
// errFallback. When the document allows, fn gets the context with
// pre-processed type-scoped contexts; should that fail, fn runs again with
// the context json-gold would have built.
func (p *Processor) process(doc, prefix map[string]any, safe bool, fn func(map[string]any, *ld.JsonLdOptions) (any, error), fast func(*frame, map[string]any) (any, error)) (any, error) {
	if doc == nil {
		return nil, fmt.Errorf("%w: no document", vc.ErrMalformed)
	}
	in, copied, err := prepare(doc)
	if err != nil {
		return nil, err
	}
	local, ok := in["@context"]
	if !ok && prefix == nil {
		in, _ = rewriteEmbedded(in, copied)
		out, err := guard(fn, in, p.options(safe))
		return out, wrapJSONLD(err)
	}
	if !ok {
		local = []any{}
	}
	f, err := p.activeContext(local, prefix, safe)
	if err != nil {
		return nil, err
	}
	if fast != nil && f.root != nil {
		if out, err := fast(f.root, in); !errors.Is(err, errFallback) {
			return out, wrapJSONLD(err)
		}
	}
	if in, copied = rewriteEmbedded(in, copied); !copied {
		in = maps.Clone(in)
	}
	if f.usable(in) {
		in["@context"] = fresh(f.base)
		if out, err := guard(fn, in, p.options(safe)); err == nil {
			return out, nil
		}
	}
	in["@context"] = fresh(f.plain)
	out, err := guard(fn, in, p.options(safe))
	return out, wrapJSONLD(err)
}

// rewriteEmbedded rewrites the null-scoped graph terms of the contexts
// embedded in in (graphterm.go) for json-gold, which processes them itself;
// the fast expander has its own way. copied reports whether the result is
// a copy of the caller's document.
func rewriteEmbedded(in map[string]any, copied bool) (map[string]any, bool) {
	if r, ok := rewriteBody(in, true); ok {
		return r.(map[string]any), true
	}
	return in, copied
}

// guard runs fn, turning a panic in json-gold (which asserts types of its
// input freely) into an error.
func guard(fn func(map[string]any, *ld.JsonLdOptions) (any, error), in map[string]any, opts *ld.JsonLdOptions) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: JSON-LD processing failed: %v", vc.ErrMalformed, r)
		}
	}()
	return fn(in, opts)
}

func wrapJSONLD(err error) error {
	if err == nil {
		return nil
	}
	return jsonldError(err)
}
