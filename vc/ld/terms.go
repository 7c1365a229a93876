package ld

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// undefinedVocab is the @vocab CheckTerms puts before a document's own
// contexts: a term no context defines expands under it instead of being
// dropped, so it shows up in the expansion with its name.
const undefinedVocab = "urn:x-credence:undefined-term#"

var undefinedPrefix = map[string]any{"@vocab": undefinedVocab}

// CheckTerms rejects undefined terms: every property or type of doc that
// JSON-LD expansion would drop, or that expands only through a catch-all
// @vocab: the issuer-dependent one of VC 2.0 drafts or that of the
// undefined-terms context (UndefinedTermsV2). The error is a *vc.InvalidError listing each
// offending member by JSON Pointer, its detail naming the term. An unknown
// context fails with vc.ErrUnsupported.
func (p *Processor) CheckTerms(doc map[string]any) error {
	var fields []vc.FieldError
	_, err := p.process(doc, undefinedPrefix, true, func(in map[string]any, opts *ld.JsonLdOptions) (any, error) {
		fields = fields[:0]
		opts.ExpandedElementHandler = func(pointer string, expanded any) {
			if node, ok := expanded.(map[string]any); ok {
				fields = append(fields, nodeTerms(doc, pointer, node)...)
			}
		}
		expanded, err := ld.NewJsonLdProcessor().Expand(in, opts)
		if err == nil {
			err = checkExpanded(expanded)
		}
		var jerr *ld.JsonLdError
		if errors.As(err, &jerr) && jerr.Code == ld.InvalidProperty {
			// Only when a context sets @vocab to null: json-gold names no term.
			fields = append(fields, vc.FieldError{Field: "", Detail: "a property does not expand to an IRI (@vocab is null)"})
			return nil, nil
		}
		return nil, err
	}, nil)
	if err != nil {
		return err
	}
	if len(fields) == 0 {
		return nil
	}
	slices.SortFunc(fields, func(a, b vc.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return &vc.InvalidError{Fields: fields}
}

// nodeTerms reports the undefined properties and types of one expanded
// node found at pointer in doc.
func nodeTerms(doc map[string]any, pointer string, node map[string]any) []vc.FieldError {
	src, _ := resolve(doc, pointer).(map[string]any)
	var fields []vc.FieldError
	for k := range node {
		if term, how, ok := undefinedTerm(k); ok {
			at := pointer
			if _, ok := src[term]; ok {
				at += "/" + escape(term)
			}
			fields = append(fields, vc.FieldError{Field: at, Detail: fmt.Sprintf("property %q %s", term, how)})
		}
	}
	types, _ := node["@type"].([]any)
	for _, t := range types {
		s, _ := t.(string)
		if term, how, ok := undefinedTerm(s); ok {
			fields = append(fields, vc.FieldError{Field: typePointer(src, pointer, term), Detail: fmt.Sprintf("type %q %s", term, how)})
		} else if !strings.Contains(s, ":") {
			fields = append(fields, vc.FieldError{Field: typePointer(src, pointer, s), Detail: fmt.Sprintf("type %q does not expand to an IRI", s)})
		}
	}
	return fields
}

// undefinedTerm reports whether an expanded IRI came from an undefined term,
// and which.
func undefinedTerm(iri string) (term, how string, ok bool) {
	if t, ok := strings.CutPrefix(iri, undefinedVocab); ok {
		return t, "is not defined by any context", true
	}
	if t, ok := strings.CutPrefix(iri, IssuerDependentVocab); ok {
		return t, "is only defined by the issuer-dependent @vocab", true
	}
	if t, ok := strings.CutPrefix(iri, UndefinedTermVocab); ok {
		return t, "is only defined by the undefined-term @vocab", true
	}
	return "", "", false
}

// typePointer points at the type value term in the source node src found at
// pointer, as precisely as the source allows.
func typePointer(src map[string]any, pointer, term string) string {
	for _, key := range []string{"type", "@type"} {
		v, ok := src[key]
		if !ok {
			continue
		}
		at := pointer + "/" + escape(key)
		if list, ok := v.([]any); ok {
			if i := slices.Index(list, any(term)); i >= 0 {
				at += fmt.Sprintf("/%d", i)
			}
		}
		return at
	}
	return pointer
}
