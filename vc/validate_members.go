package vc

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/multiformats/go-multibase"
)

// checkTyped checks members whose objects must each have a type
// (credentialStatus, refreshService, termsOfUse, evidence, proof).
func checkTyped(p *problems, field string, v any, needID bool) {
	for i, m := range objectsAt(p, field, v) {
		f := indexField(field, v, i)
		if m == nil {
			continue
		}
		checkTypes(p, f+"/type", m["type"], "")
		if needID {
			if s, ok := m["id"].(string); !ok || !IsURL(s) {
				p.add(f+"/id", "must be a URL")
			}
		} else {
			checkOptionalURL(p, f+"/id", m, "id")
		}
	}
}

func checkSchemas(p *problems, v any) { checkTyped(p, "/credentialSchema", v, true) }

// checkRelated checks relatedResource (VC 2.0 §5.3): each has a URL id,
// unique, and at least one well-formed digest.
func checkRelated(p *problems, v any) {
	seen := map[string]bool{}
	for i, m := range objectsAt(p, "/relatedResource", v) {
		f := indexField("/relatedResource", v, i)
		if m == nil {
			continue
		}
		id, ok := m["id"].(string)
		if !ok || !IsURL(id) {
			p.add(f+"/id", "must be a URL")
		} else if seen[id] {
			p.add(f+"/id", "%q appears twice", id)
		}
		seen[id] = true
		sri, hasSRI := m["digestSRI"]
		mb, hasMB := m["digestMultibase"]
		if !hasSRI && !hasMB {
			p.add(f, "needs digestSRI or digestMultibase")
		}
		if hasSRI && !validSRI(sri) {
			p.add(f+"/digestSRI", "must be a Subresource Integrity digest (sha256-, sha384- or sha512- and base64)")
		}
		if hasMB && !validDigestMultibase(mb) {
			p.add(f+"/digestMultibase", "must be a multibase-encoded SHA-2 multihash")
		}
	}
}

var sriSizes = map[string]int{"sha256": 32, "sha384": 48, "sha512": 64}

func validSRI(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	alg, b64, ok := strings.Cut(s, "-")
	size, known := sriSizes[alg]
	if !ok || !known {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	return err == nil && len(raw) == size
}

// multihash codes of sha2-256, sha2-384 and sha2-512 with their digest sizes.
var multihashSizes = map[byte]int{0x12: 32, 0x20: 48, 0x13: 64}

func validDigestMultibase(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, raw, err := multibase.Decode(s)
	if err != nil || len(raw) < 2 {
		return false
	}
	size, known := multihashSizes[raw[0]]
	return known && int(raw[1]) == size && len(raw) == 2+size
}

// checkLanguageValue checks name/description: a string, a language value
// object, or an array of those.
func checkLanguageValue(p *problems, field string, v any) {
	switch t := v.(type) {
	case nil, string:
	case map[string]any:
		if _, ok := t["@value"].(string); !ok {
			p.add(field, "a language value object needs a string @value")
		}
	case []any:
		for i, e := range t {
			checkLanguageValue(p, fmt.Sprintf("%s/%d", field, i), e)
		}
	default:
		p.add(field, "must be a string or a language value object")
	}
}

// objectsAt returns the objects of a member that may be an object or an
// array of objects; a non-object entry is reported and returned as nil.
func objectsAt(p *problems, field string, v any) []map[string]any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return []map[string]any{t}
	case []any:
		out := make([]map[string]any, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				p.add(fmt.Sprintf("%s/%d", field, i), "must be an object")
			}
			out[i] = m
		}
		return out
	}
	p.add(field, "must be an object or an array of objects")
	return nil
}

func indexField(field string, v any, i int) string {
	if _, ok := v.([]any); ok {
		return fmt.Sprintf("%s/%d", field, i)
	}
	return field
}
