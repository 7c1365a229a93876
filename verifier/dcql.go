package verifier

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DCQL (OpenID4VP 1.0 §6, §7 and Appendix B) as a verifier reads it:
// which of the verified credentials satisfy which credential queries, and
// whether the credential sets are satisfied.

// Bounds of a query (the spec sets none; these keep matching cheap).
const (
	maxQueryItems = 32  // credential queries, input descriptors
	maxQueryClaim = 64  // claims or fields of one item
	maxQuerySets  = 32  // credential_sets, claim_sets, their options
	maxQueryValue = 64  // values of one claim
	maxQueryText  = 512 // type, vct and authority strings
)

var dcqlID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// dcqlFormats maps the Credential Format Identifiers of OpenID4VP
// Appendix B to the formats of secure.Verified.
var dcqlFormats = map[string][]string{
	"ldp_vc":      formatsLDP,
	"jwt_vc_json": formatsJWT,
	"dc+sd-jwt":   formatsSDJWT,
	"vc+sd-jwt":   formatsSDJWT, // the identifier of drafts before 1.0
}

type dcqlQuery struct {
	creds []dcqlCredential
	sets  []dcqlSet // nil: every credential query is required
}

type dcqlCredential struct {
	id         string
	formats    []string
	typeValues [][]string // W3C formats: one of these sets of types
	vctValues  []string   // SD-JWT: one of these vct
	claims     []dcqlClaim
	claimSets  [][]int // indexes into claims
}

type dcqlClaim struct {
	path   []pathStep
	values []any
}

type dcqlSet struct {
	options  [][]int // indexes into creds
	required bool
}

func compileDCQL(m map[string]any) (compiledQuery, error) {
	v, ok := m["credentials"]
	if !ok {
		return nil, inputErr("credentials", "is required")
	}
	arr, err := jArray(v, "credentials", 1, maxQueryItems)
	if err != nil {
		return nil, err
	}
	q := &dcqlQuery{creds: make([]dcqlCredential, len(arr))}
	index := map[string]int{}
	for i, x := range arr {
		field := fmt.Sprintf("credentials[%d]", i)
		if q.creds[i], err = compileDCQLCredential(x, field); err != nil {
			return nil, err
		}
		if _, dup := index[q.creds[i].id]; dup {
			return nil, inputErr(field+".id", fmt.Sprintf("id %q is repeated", q.creds[i].id))
		}
		index[q.creds[i].id] = i
	}
	if v, ok := m["credential_sets"]; ok {
		if q.sets, err = compileDCQLSets(v, index); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func compileDCQLSets(v any, index map[string]int) ([]dcqlSet, error) {
	arr, err := jArray(v, "credential_sets", 1, maxQuerySets)
	if err != nil {
		return nil, err
	}
	sets := make([]dcqlSet, len(arr))
	for i, x := range arr {
		field := fmt.Sprintf("credential_sets[%d]", i)
		obj, err := jObject(x, field)
		if err != nil {
			return nil, err
		}
		sets[i].required = true
		if r, ok := obj["required"]; ok {
			if sets[i].required, err = jBool(r, field+".required"); err != nil {
				return nil, err
			}
		}
		opts, ok := obj["options"]
		if !ok {
			return nil, inputErr(field+".options", "is required")
		}
		if sets[i].options, err = idOptions(opts, field+".options", index, maxQueryItems); err != nil {
			return nil, err
		}
	}
	return sets, nil
}

// idOptions reads a non-empty array of non-empty arrays of ids, each of
// which must be a key of index.
func idOptions(v any, field string, index map[string]int, perOption int) ([][]int, error) {
	arr, err := jArray(v, field, 1, maxQuerySets)
	if err != nil {
		return nil, err
	}
	out := make([][]int, len(arr))
	for i, x := range arr {
		f := fmt.Sprintf("%s[%d]", field, i)
		ids, err := jStrings(x, f, 1, perOption, 64)
		if err != nil {
			return nil, err
		}
		for j, id := range ids {
			k, ok := index[id]
			if !ok {
				return nil, inputErr(fmt.Sprintf("%s[%d]", f, j), fmt.Sprintf("no credential or claim has id %q", id))
			}
			out[i] = append(out[i], k)
		}
	}
	return out, nil
}

func compileDCQLCredential(v any, field string) (dcqlCredential, error) {
	var c dcqlCredential
	obj, err := jObject(v, field)
	if err != nil {
		return c, err
	}
	if c.id, err = requiredDCQLID(obj, field); err != nil {
		return c, err
	}
	format, err := jString(obj["format"], field+".format", 64)
	if err != nil {
		return c, err
	}
	if c.formats = dcqlFormats[format]; c.formats == nil {
		return c, inputErr(field+".format", fmt.Sprintf("format %q is not one Credence verifies: ldp_vc, jwt_vc_json, dc+sd-jwt", format))
	}
	if err := checkDCQLFlags(obj, field); err != nil {
		return c, err
	}
	meta, err := jObject(obj["meta"], field+".meta")
	if err != nil {
		return c, err
	}
	if isSDJWT(c.formats[0]) {
		c.vctValues, err = jStrings(meta["vct_values"], field+".meta.vct_values", 1, maxQuerySets, maxQueryText)
	} else {
		c.typeValues, err = typeValues(meta["type_values"], field+".meta.type_values")
	}
	if err != nil {
		return c, err
	}
	return c, compileDCQLClaims(obj, field, &c)
}

func requiredDCQLID(obj map[string]any, field string) (string, error) {
	id, err := jString(obj["id"], field+".id", 64)
	if err != nil {
		return "", err
	}
	if !dcqlID.MatchString(id) {
		return "", inputErr(field+".id", "must be letters, digits, '_' or '-'")
	}
	return id, nil
}

// checkDCQLFlags checks the members Credence reads for syntax only.
func checkDCQLFlags(obj map[string]any, field string) error {
	for _, name := range []string{"multiple", "require_cryptographic_holder_binding"} {
		if v, ok := obj[name]; ok {
			if _, err := jBool(v, field+"."+name); err != nil {
				return err
			}
		}
	}
	v, ok := obj["trusted_authorities"]
	if !ok {
		return nil
	}
	arr, err := jArray(v, field+".trusted_authorities", 1, maxQuerySets)
	if err != nil {
		return err
	}
	for i, x := range arr {
		f := fmt.Sprintf("%s.trusted_authorities[%d]", field, i)
		ta, err := jObject(x, f)
		if err != nil {
			return err
		}
		if _, err := jString(ta["type"], f+".type", 64); err != nil {
			return err
		}
		if _, err := jStrings(ta["values"], f+".values", 1, maxQueryValue, maxQueryText); err != nil {
			return err
		}
	}
	return nil
}

func typeValues(v any, field string) ([][]string, error) {
	arr, err := jArray(v, field, 1, maxQuerySets)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(arr))
	for i, x := range arr {
		if out[i], err = jStrings(x, fmt.Sprintf("%s[%d]", field, i), 1, maxQuerySets, maxQueryText); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func compileDCQLClaims(obj map[string]any, field string, c *dcqlCredential) error {
	sets, hasSets := obj["claim_sets"]
	v, ok := obj["claims"]
	if !ok {
		if hasSets {
			return inputErr(field+".claim_sets", "must not be present without claims")
		}
		return nil
	}
	arr, err := jArray(v, field+".claims", 1, maxQueryClaim)
	if err != nil {
		return err
	}
	c.claims = make([]dcqlClaim, len(arr))
	index := map[string]int{}
	for i, x := range arr {
		f := fmt.Sprintf("%s.claims[%d]", field, i)
		cl, err := jObject(x, f)
		if err != nil {
			return err
		}
		if _, has := cl["id"]; has || hasSets {
			id, err := requiredDCQLID(cl, f)
			if err != nil {
				return err
			}
			if _, dup := index[id]; dup {
				return inputErr(f+".id", fmt.Sprintf("id %q is repeated", id))
			}
			index[id] = i
		}
		if c.claims[i], err = compileDCQLClaim(cl, f); err != nil {
			return err
		}
	}
	if hasSets {
		c.claimSets, err = idOptions(sets, field+".claim_sets", index, maxQueryClaim)
	}
	return err
}

func compileDCQLClaim(cl map[string]any, field string) (dcqlClaim, error) {
	var c dcqlClaim
	p, err := jArray(cl["path"], field+".path", 1, maxPathSteps)
	if err != nil {
		return c, err
	}
	for i, x := range p {
		s, err := claimsPathStep(x)
		if err != nil {
			return c, inputErr(fmt.Sprintf("%s.path[%d]", field, i), err.Error())
		}
		c.path = append(c.path, s)
	}
	v, ok := cl["values"]
	if !ok {
		return c, nil
	}
	if c.values, err = jArray(v, field+".values", 1, maxQueryValue); err != nil {
		return c, err
	}
	for i, x := range c.values {
		if !dcqlValue(x) {
			return c, inputErr(fmt.Sprintf("%s.values[%d]", field, i), "must be a string, an integer or a boolean")
		}
	}
	return c, nil
}

// claimsPathStep reads one component of a claims path pointer: a string, a
// non-negative integer or null.
func claimsPathStep(x any) (pathStep, error) {
	switch t := x.(type) {
	case nil:
		return pathStep{kind: stepAll}, nil
	case string:
		return pathStep{kind: stepKey, key: t}, nil
	case json.Number:
		i, err := pathIndex(string(t))
		if err != nil {
			return pathStep{}, fmt.Errorf("must be a string, a non-negative integer or null: %w", err)
		}
		return pathStep{kind: stepIndex, index: i}, nil
	}
	return pathStep{}, fmt.Errorf("must be a string, a non-negative integer or null")
}

func dcqlValue(x any) bool {
	switch t := x.(type) {
	case string, bool:
		return true
	case json.Number:
		s := strings.TrimPrefix(string(t), "-")
		return s != "" && len(s) <= 20 && strings.Trim(s, "0123456789") == ""
	}
	return false
}

func (q *dcqlQuery) match(cands []Candidate) Match {
	views := make([]any, len(cands))
	for i, c := range cands {
		views[i] = claimsOf(c, false)
	}
	m := Match{Items: make([]MatchItem, len(q.creds))}
	requested := make([]bool, len(cands))
	satisfied := make([]bool, len(q.creds))
	for i, cq := range q.creds {
		m.Items[i] = MatchItem{ID: cq.id, Required: q.required(i), Candidates: []int{}}
		for j, c := range cands {
			if cq.matches(c, views[j]) {
				m.Items[i].Candidates = append(m.Items[i].Candidates, c.Index)
				requested[j] = true
			}
		}
		satisfied[i] = len(m.Items[i].Candidates) > 0
	}
	m.Satisfied, m.Missing = q.evaluate(satisfied)
	return finish(m, cands, requested)
}

// required reports whether credential query i is in every option of some
// required credential set (or, without sets, always).
func (q *dcqlQuery) required(i int) bool {
	if q.sets == nil {
		return true
	}
	for _, s := range q.sets {
		if s.required && !slices.ContainsFunc(s.options, func(o []int) bool { return !slices.Contains(o, i) }) {
			return true
		}
	}
	return false
}

// evaluate applies the credential sets (§6.4.2): every required set needs
// one option whose credential queries are all satisfied. Missing names,
// for each unsatisfied set, the unsatisfied queries of its closest option.
func (q *dcqlQuery) evaluate(satisfied []bool) (bool, []string) {
	sets := q.sets
	if sets == nil {
		all := make([]int, len(q.creds))
		for i := range all {
			all[i] = i
		}
		sets = []dcqlSet{{options: [][]int{all}, required: true}}
	}
	ok, missing := true, []string{}
	for _, s := range sets {
		var best []string
		for k, o := range s.options {
			var lack []string
			for _, i := range o {
				if !satisfied[i] {
					lack = append(lack, q.creds[i].id)
				}
			}
			if k == 0 || len(lack) < len(best) {
				best = lack
			}
		}
		if s.required && len(best) > 0 {
			ok = false
			for _, id := range best {
				if !slices.Contains(missing, id) {
					missing = append(missing, id)
				}
			}
		}
	}
	return ok, missing
}

func (cq *dcqlCredential) matches(c Candidate, view any) bool {
	if !slices.Contains(cq.formats, c.Format) || !cq.metaMatches(c) {
		return false
	}
	if cq.claims == nil {
		return true
	}
	if cq.claimSets == nil {
		for _, cl := range cq.claims {
			if !cl.matches(view) {
				return false
			}
		}
		return true
	}
	ok := make([]bool, len(cq.claims))
	for i, cl := range cq.claims {
		ok[i] = cl.matches(view)
	}
	return slices.ContainsFunc(cq.claimSets, func(set []int) bool {
		return !slices.ContainsFunc(set, func(i int) bool { return !ok[i] })
	})
}

func (cq *dcqlCredential) metaMatches(c Candidate) bool {
	if cq.vctValues != nil {
		return slices.Contains(cq.vctValues, vctOfCredential(c.Credential))
	}
	types := expandedTypes(c.Credential)
	return slices.ContainsFunc(cq.typeValues, func(want []string) bool {
		return !slices.ContainsFunc(want, func(t string) bool { return !types[t] })
	})
}

func (cl dcqlClaim) matches(view any) bool {
	sel := selectPath(view, cl.path, true)
	if len(sel) == 0 {
		return false
	}
	if cl.values == nil {
		return true
	}
	return slices.ContainsFunc(sel, func(v any) bool {
		return slices.ContainsFunc(cl.values, func(w any) bool { return sameValue(v, w) })
	})
}
