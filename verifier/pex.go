package verifier

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/credence/credence/vc/di"
)

// DIF Presentation Exchange v2.0.0 as a verifier reads it: §"Input
// Evaluation" over the verified credentials, then the Submission
// Requirement Feature.

const (
	maxPEXText    = 256 // ids, names of groups
	maxPEXPaths   = 16  // JSONPath alternatives of one field
	maxPEXNesting = 4   // depth of from_nested
)

type pexDefinition struct {
	formats map[string]bool // nil: any format
	descs   []pexDescriptor
	reqs    []pexRequirement // nil: every descriptor is required
}

type pexDescriptor struct {
	id      string
	groups  []string
	formats map[string]bool // nil: the definition's
	fields  []pexField
}

type pexField struct {
	paths    [][]pathStep
	filter   *jsonschema.Schema
	optional bool
}

type pexRequirement struct {
	all             bool
	count, min, max int   // -1 when absent
	from            []int // descriptor indexes of the from group
	nested          []pexRequirement
}

// pexUnsupported names the features Credence refuses rather than ignore,
// since ignoring them would accept what the verifier meant to exclude.
var pexUnsupported = map[string]string{
	"statuses":          "the credential status feature is not supported (Credence always checks status)",
	"subject_is_issuer": "the relational constraint feature is not supported",
	"is_holder":         "the relational constraint feature is not supported (Credence always checks holder binding)",
	"same_subject":      "the relational constraint feature is not supported (Credence always checks the subjects match)",
}

func compilePEX(m map[string]any) (compiledQuery, error) {
	if _, err := jString(m["id"], "id", maxPEXText); err != nil {
		return nil, err
	}
	if _, ok := m["frame"]; ok {
		return nil, inputErr("frame", "the JSON-LD framing feature is not supported")
	}
	d := &pexDefinition{}
	var err error
	if v, ok := m["format"]; ok {
		if d.formats, err = pexFormats(v, "format"); err != nil {
			return nil, err
		}
	}
	arr, err := jArray(m["input_descriptors"], "input_descriptors", 1, maxQueryItems)
	if err != nil {
		return nil, err
	}
	d.descs = make([]pexDescriptor, len(arr))
	fieldIDs := map[string]bool{}
	for i, x := range arr {
		field := fmt.Sprintf("input_descriptors[%d]", i)
		if d.descs[i], err = compileDescriptor(x, field, fieldIDs); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(d.descs[:i], func(o pexDescriptor) bool { return o.id == d.descs[i].id }) {
			return nil, inputErr(field+".id", fmt.Sprintf("id %q is repeated", d.descs[i].id))
		}
	}
	if v, ok := m["submission_requirements"]; ok {
		if d.reqs, err = compileRequirements(v, "submission_requirements", d.descs, 0); err != nil {
			return nil, err
		}
		for i, desc := range d.descs {
			if len(desc.groups) == 0 {
				return nil, inputErr(fmt.Sprintf("input_descriptors[%d].group", i), "is required with submission_requirements")
			}
		}
	}
	return d, nil
}

func compileDescriptor(v any, field string, fieldIDs map[string]bool) (pexDescriptor, error) {
	var d pexDescriptor
	obj, err := jObject(v, field)
	if err != nil {
		return d, err
	}
	if d.id, err = jString(obj["id"], field+".id", maxPEXText); err != nil {
		return d, err
	}
	if g, ok := obj["group"]; ok {
		if d.groups, err = jStrings(g, field+".group", 0, maxQuerySets, maxPEXText); err != nil {
			return d, err
		}
	}
	if f, ok := obj["format"]; ok {
		if d.formats, err = pexFormats(f, field+".format"); err != nil {
			return d, err
		}
	}
	cons, err := jObject(obj["constraints"], field+".constraints")
	if err != nil {
		return d, err
	}
	for _, name := range slices.Sorted(maps.Keys(pexUnsupported)) {
		if _, ok := cons[name]; ok {
			return d, inputErr(field+".constraints."+name, pexUnsupported[name])
		}
	}
	if ld, ok := cons["limit_disclosure"]; ok && ld != "required" && ld != "preferred" {
		return d, inputErr(field+".constraints.limit_disclosure", `must be "required" or "preferred"`)
	}
	fs, ok := cons["fields"]
	if !ok {
		return d, nil
	}
	arr, err := jArray(fs, field+".constraints.fields", 0, maxQueryClaim)
	if err != nil {
		return d, err
	}
	d.fields = make([]pexField, len(arr))
	for i, x := range arr {
		if d.fields[i], err = compileField(x, fmt.Sprintf("%s.constraints.fields[%d]", field, i), fieldIDs); err != nil {
			return d, err
		}
	}
	return d, nil
}

func compileField(v any, field string, ids map[string]bool) (pexField, error) {
	var f pexField
	obj, err := jObject(v, field)
	if err != nil {
		return f, err
	}
	if _, ok := obj["predicate"]; ok {
		return f, inputErr(field+".predicate", "the predicate feature is not supported")
	}
	if v, ok := obj["id"]; ok {
		id, err := jString(v, field+".id", maxPEXText)
		if err != nil {
			return f, err
		}
		if ids[id] {
			return f, inputErr(field+".id", fmt.Sprintf("field id %q is repeated", id))
		}
		ids[id] = true
	}
	paths, err := jStrings(obj["path"], field+".path", 1, maxPEXPaths, maxPathBytes)
	if err != nil {
		return f, err
	}
	for i, p := range paths {
		steps, err := parseJSONPath(p)
		if err != nil {
			return f, inputErr(fmt.Sprintf("%s.path[%d]", field, i), err.Error())
		}
		f.paths = append(f.paths, steps)
	}
	if v, ok := obj["optional"]; ok {
		if f.optional, err = jBool(v, field+".optional"); err != nil {
			return f, err
		}
	}
	if v, ok := obj["filter"]; ok {
		if f.filter, err = compileFilter(v, field+".filter"); err != nil {
			return f, err
		}
	}
	return f, nil
}

// filterURL names a filter while it compiles; nothing is ever fetched.
const filterURL = "urn:credence:pex:filter"

// compileFilter compiles a field's JSON Schema filter (draft-07 unless its
// $schema names another draft). References outside the filter are refused.
func compileFilter(v any, field string) (*jsonschema.Schema, error) {
	switch v.(type) {
	case map[string]any, bool:
	default:
		return nil, inputErr(field, "must be a JSON Schema (an object or a boolean)")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(filterURL, v); err != nil {
		return nil, inputErr(field, err.Error())
	}
	s, err := c.Compile(filterURL)
	if err != nil {
		return nil, inputErr(field, "not a valid JSON Schema: "+err.Error())
	}
	return s, nil
}

type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not fetched: a filter must be self-contained", url)
}

// pexFormats reads a format object (Claim Format Designations) into the
// secure.Verified formats it admits, or nil when it names only presentation
// formats. alg values are not checked: Credence verifies EdDSA and ES256.
func pexFormats(v any, field string) (map[string]bool, error) {
	obj, err := jObject(v, field)
	if err != nil {
		return nil, err
	}
	allowed, credLevel := map[string]bool{}, false
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		f := field + "." + k
		spec, err := jObject(obj[k], f)
		if err != nil {
			return nil, err
		}
		lists := map[string][]string{}
		for _, name := range []string{"alg", "proof_type", "cryptosuite"} {
			if x, ok := spec[name]; ok {
				if lists[name], err = jStrings(x, f+"."+name, 1, maxQuerySets, 128); err != nil {
					return nil, err
				}
			}
		}
		switch {
		case k == "jwt" || k == "jwt_vc" || k == "jwt_vc_json":
			addAll(allowed, formatsJWT)
		case k == "ldp" || k == "ldp_vc" || k == "di" || k == "di_vc":
			addAll(allowed, ldpFormats(lists["proof_type"], lists["cryptosuite"]))
		case k == "vc+sd-jwt" || k == "dc+sd-jwt":
			addAll(allowed, formatsSDJWT)
		case strings.HasSuffix(k, "_vp") || strings.HasSuffix(k, "_vp_json"):
			continue
		}
		credLevel = true
	}
	if !credLevel {
		return nil, nil
	}
	if len(allowed) == 0 {
		return nil, inputErr(field, "names no credential format Credence verifies: jwt_vc_json, ldp_vc, di_vc, dc+sd-jwt")
	}
	return allowed, nil
}

// ldpFormats lists the Data Integrity formats a proof_type and cryptosuite
// restriction admits.
func ldpFormats(proofTypes, suites []string) []string {
	var out []string
	for _, f := range formatsLDP {
		pt := "DataIntegrityProof"
		if f == string(di.Ed25519Signature2020) {
			pt = f
		}
		ok := proofTypes == nil || slices.Contains(proofTypes, pt)
		if pt == "DataIntegrityProof" && suites != nil {
			ok = ok && slices.Contains(suites, f)
		}
		if ok {
			out = append(out, f)
		}
	}
	return out
}

func addAll(m map[string]bool, keys []string) {
	for _, k := range keys {
		m[k] = true
	}
}

func compileRequirements(v any, field string, descs []pexDescriptor, depth int) ([]pexRequirement, error) {
	if depth == maxPEXNesting {
		return nil, inputErr(field, fmt.Sprintf("nested deeper than %d", maxPEXNesting))
	}
	arr, err := jArray(v, field, 1, maxQuerySets)
	if err != nil {
		return nil, err
	}
	out := make([]pexRequirement, len(arr))
	for i, x := range arr {
		if out[i], err = compileRequirement(x, fmt.Sprintf("%s[%d]", field, i), descs, depth); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func compileRequirement(v any, field string, descs []pexDescriptor, depth int) (pexRequirement, error) {
	r := pexRequirement{count: -1, min: -1, max: -1}
	obj, err := jObject(v, field)
	if err != nil {
		return r, err
	}
	switch obj["rule"] {
	case "all":
		r.all = true
	case "pick":
	default:
		return r, inputErr(field+".rule", `must be "all" or "pick"`)
	}
	from, hasFrom := obj["from"]
	nested, hasNested := obj["from_nested"]
	var members int
	switch {
	case hasFrom == hasNested:
		return r, inputErr(field, "needs exactly one of from and from_nested")
	case hasFrom:
		group, err := jString(from, field+".from", maxPEXText)
		if err != nil {
			return r, err
		}
		for i, d := range descs {
			if slices.Contains(d.groups, group) {
				r.from = append(r.from, i)
			}
		}
		if members = len(r.from); members == 0 {
			return r, inputErr(field+".from", fmt.Sprintf("no input descriptor is in group %q", group))
		}
	default:
		if r.nested, err = compileRequirements(nested, field+".from_nested", descs, depth+1); err != nil {
			return r, err
		}
		members = len(r.nested)
	}
	if r.all {
		return r, nil
	}
	return r, pickBounds(obj, field, members, &r)
}

// pickBounds reads count, min and max of a pick rule: at least one, each
// achievable with the rule's members.
func pickBounds(obj map[string]any, field string, members int, r *pexRequirement) error {
	for _, b := range []struct {
		name string
		lo   int
		dst  *int
	}{{"count", 1, &r.count}, {"min", 0, &r.min}, {"max", 1, &r.max}} {
		if x, ok := obj[b.name]; ok {
			n, err := jInt(x, field+"."+b.name, b.lo, members)
			if err != nil {
				return err
			}
			*b.dst = n
		}
	}
	switch {
	case r.count < 0 && r.min < 0 && r.max < 0:
		return inputErr(field, "a pick rule needs count, min or max")
	case r.max >= 0 && r.min > r.max:
		return inputErr(field+".max", "must not be less than min")
	}
	return nil
}

func (d *pexDefinition) match(cands []Candidate) Match {
	views := make([]any, len(cands))
	for i, c := range cands {
		views[i] = claimsOf(c, true)
	}
	m := Match{Items: make([]MatchItem, len(d.descs))}
	requested := make([]bool, len(cands))
	ok := make([]bool, len(d.descs))
	for i, desc := range d.descs {
		m.Items[i] = MatchItem{ID: desc.id, Required: d.required(i), Candidates: []int{}}
		formats := desc.formats
		if formats == nil {
			formats = d.formats
		}
		for j, c := range cands {
			if (formats == nil || formats[c.Format]) && desc.matches(views[j]) {
				m.Items[i].Candidates = append(m.Items[i].Candidates, c.Index)
				requested[j] = true
			}
		}
		ok[i] = len(m.Items[i].Candidates) > 0
	}
	m.Satisfied, m.Missing = true, []string{}
	reqs := d.reqs
	if reqs == nil {
		all := make([]int, len(d.descs))
		for i := range all {
			all[i] = i
		}
		reqs = []pexRequirement{{all: true, from: all}}
	}
	for _, r := range reqs {
		if !r.satisfied(ok) {
			m.Satisfied = false
			m.Missing = r.missing(ok, d.descs, m.Missing)
		}
	}
	return finish(m, cands, requested)
}

// required reports whether descriptor i must be satisfied: always without
// submission requirements, else when a top-level all rule takes its group.
func (d *pexDefinition) required(i int) bool {
	if d.reqs == nil {
		return true
	}
	return slices.ContainsFunc(d.reqs, func(r pexRequirement) bool { return r.all && slices.Contains(r.from, i) })
}

func (r pexRequirement) satisfied(ok []bool) bool {
	n, total := 0, len(r.from)
	for _, i := range r.from {
		if ok[i] {
			n++
		}
	}
	if r.nested != nil {
		total = len(r.nested)
		for _, x := range r.nested {
			if x.satisfied(ok) {
				n++
			}
		}
	}
	switch {
	case r.all:
		return n == total
	case r.count >= 0 && n != r.count, r.min >= 0 && n < r.min, r.max >= 0 && n > r.max:
		return false
	}
	return true
}

// missing appends the ids of the unsatisfied descriptors under r.
func (r pexRequirement) missing(ok []bool, descs []pexDescriptor, out []string) []string {
	for _, i := range r.from {
		if !ok[i] && !slices.Contains(out, descs[i].id) {
			out = append(out, descs[i].id)
		}
	}
	for _, x := range r.nested {
		if !x.satisfied(ok) {
			out = x.missing(ok, descs, out)
		}
	}
	return out
}

// matches applies Input Evaluation to one candidate: every field yields a
// result. A field's paths are tried in order; the first selection with a
// value that passes the filter satisfies it. An optional field is satisfied
// when no path selects anything, but a value it selects must still pass the
// filter.
func (desc *pexDescriptor) matches(view any) bool {
	for _, f := range desc.fields {
		if !f.matches(view) {
			return false
		}
	}
	return true
}

func (f pexField) matches(view any) bool {
	found := false
	for _, p := range f.paths {
		sel := selectPath(view, p, false)
		if len(sel) == 0 {
			continue
		}
		found = true
		if f.filter == nil || slices.ContainsFunc(sel, func(v any) bool { return f.filter.Validate(v) == nil }) {
			return true
		}
	}
	return f.optional && !found
}
