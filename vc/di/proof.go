package di

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/mr-tron/base58"

	"github.com/credence/credence/vc"
)

// maxProofs bounds the proofs of one document: each costs two
// canonicalizations to verify.
const maxProofs = 16

// proofs returns the proofs of doc: none, one or a proof set.
func proofs(doc map[string]any) ([]map[string]any, error) {
	switch v := doc["proof"].(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) > maxProofs {
			return nil, fmt.Errorf("%w: more than %d proofs", vc.ErrMalformed, maxProofs)
		}
		out := make([]map[string]any, len(v))
		for i, p := range v {
			m, ok := p.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: proof %d is not an object", vc.ErrMalformed, i)
			}
			out[i] = m
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: proof is not an object or a list", vc.ErrMalformed)
}

// unsecured returns a shallow copy of doc whose proof is the proofs of all
// named by previous (in document order), or that has no proof if previous
// is empty: the document a proof in a set or chain signs.
func unsecured(doc map[string]any, all []map[string]any, previous []string) (map[string]any, error) {
	out := maps.Clone(doc)
	delete(out, "proof")
	if len(previous) == 0 {
		return out, nil
	}
	var matching []any
	for _, p := range all {
		if id, _ := p["id"].(string); id != "" && slices.Contains(previous, id) {
			matching = append(matching, p)
		}
	}
	for _, id := range previous {
		if !slices.ContainsFunc(all, func(p map[string]any) bool { return p["id"] == id }) {
			return nil, fmt.Errorf("%w: previous proof %q is not in the document", vc.ErrMalformed, id)
		}
	}
	out["proof"] = matching
	return out, nil
}

// previousProofs reads previousProof: absent, a string or a list of them.
func previousProofs(proof map[string]any) ([]string, error) {
	switch v := proof["previousProof"].(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: previousProof %d is not a string", vc.ErrMalformed, i)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: previousProof is not a string or a list", vc.ErrMalformed)
}

// encodeProofValue is multibase base58btc.
func encodeProofValue(sig []byte) string { return "z" + base58.Encode(sig) }

// decodeProofValue reads a multibase base58btc proofValue.
func decodeProofValue(v any) ([]byte, error) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "z") {
		return nil, fmt.Errorf("%w: proofValue is not multibase base58btc", vc.ErrMalformed)
	}
	b, err := base58.Decode(s[1:])
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("%w: proofValue is not multibase base58btc", vc.ErrMalformed)
	}
	return b, nil
}

// dateTime formats t as proofs carry it: xsd:dateTime in UTC, to the second.
func dateTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// parseDateTime reads an xsd:dateTime; one without a time zone is UTC.
func parseDateTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if ok {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%w: %v is not an xsd:dateTime", vc.ErrMalformed, v)
}

// contextPrefix reports whether the @context list of doc starts with the
// proof's @context, as eddsa-jcs-2022 verification requires.
func contextPrefix(doc, proof any) bool {
	d, p := list(doc), list(proof)
	if len(p) > len(d) {
		return false
	}
	for i := range p {
		if !reflect.DeepEqual(d[i], p[i]) {
			return false
		}
	}
	return true
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}
