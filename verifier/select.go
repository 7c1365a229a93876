package verifier

import (
	"slices"
	"strings"
)

// Selection is how a wallet answers a query with the credentials it holds:
// the fewest credentials and, for SD-JWT VCs, the fewest claims that
// satisfy it. Match says what a presentation satisfies; Select says what to
// put in one.
type Selection struct {
	// Satisfied is false when the candidates cannot satisfy the query;
	// Missing then names the unsatisfied required items.
	Satisfied bool     `json:"satisfied"`
	Missing   []string `json:"missing"`
	// Picks lists one credential per answered item, in query order.
	Picks []Pick `json:"picks"`
}

// Pick is the credential chosen for one DCQL credential query or PE input
// descriptor.
type Pick struct {
	Item string `json:"item"`
	// Candidate is the chosen Candidate's Index.
	Candidate int `json:"candidate"`
	// Disclose lists, for an SD-JWT VC, the selectively disclosable claims
	// the item asks for as JSON Pointers in the VC view
	// ("/credentialSubject/name"), sorted; empty when it asks for none.
	// It is nil for the other formats, which are presented whole.
	Disclose []string `json:"disclose,omitempty"`
}

// Select chooses what to present from cands (the holder's credentials,
// every claim visible) so that the query is satisfied, disclosing no more
// than asked:
//
//   - DCQL: every credential query when there are no credential_sets;
//     otherwise, for each required set, its first option whose queries all
//     match. Optional sets are not answered (data minimization: a wallet
//     that wants to offer them asks its holder first). A query's claims are
//     disclosed (with claim_sets, those of the first set the credential
//     satisfies); a query without claims discloses none (OpenID4VP 1.0 §6.1).
//   - Presentation Exchange: every input descriptor without
//     submission_requirements; otherwise each all rule takes its group and a
//     pick rule the fewest matching descriptors it allows (count, else min,
//     else one). A descriptor's non-optional fields are disclosed, each
//     through the first path that selects a value passing its filter.
//
// For each answered item the first matching candidate is chosen, so callers
// order cands by preference. Select fails only when the query is invalid.
func (q Query) Select(cands []Candidate) (Selection, error) {
	c, err := q.compile()
	if err != nil {
		return Selection{}, err
	}
	m := c.match(cands)
	items, ok := c.answer(m)
	sel := Selection{Satisfied: ok, Missing: m.Missing, Picks: []Pick{}}
	if !ok {
		return sel, nil
	}
	sel.Missing = []string{}
	byIndex := make(map[int]int, len(cands))
	for i, cand := range cands {
		byIndex[cand.Index] = i
	}
	for _, item := range items {
		idx := m.Items[item].Candidates[0]
		cand := cands[byIndex[idx]]
		p := Pick{Item: m.Items[item].ID, Candidate: idx}
		if isSDJWT(cand.Format) {
			p.Disclose = c.disclose(item, cand)
		}
		sel.Picks = append(sel.Picks, p)
	}
	return sel, nil
}

// answer lists the items (indexes into m.Items) a wallet answers, or false
// when the query cannot be satisfied.
func (q *dcqlQuery) answer(m Match) ([]int, bool) {
	if !m.Satisfied {
		return nil, false
	}
	if q.sets == nil {
		return indexes(len(q.creds)), true
	}
	var out []int
	for _, s := range q.sets {
		if !s.required {
			continue
		}
		for _, o := range s.options {
			if !slices.ContainsFunc(o, func(i int) bool { return len(m.Items[i].Candidates) == 0 }) {
				out = append(out, o...)
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

func (q *dcqlQuery) disclose(item int, c Candidate) []string {
	cq := q.creds[item]
	view := claimsOf(c, false)
	claims := cq.claims
	if cq.claimSets != nil {
		claims = nil
		for _, set := range cq.claimSets {
			if !slices.ContainsFunc(set, func(i int) bool { return !cq.claims[i].matches(view) }) {
				for _, i := range set {
					claims = append(claims, cq.claims[i])
				}
				break
			}
		}
	}
	out := []string{}
	for _, cl := range claims {
		out = appendPointers(out, view, cl.path)
	}
	return sortedUnique(out)
}

// answer differs from Match's verdict on pick rules: Match counts every
// matching descriptor of a presentation against count and max, while a
// wallet can leave matching descriptors out, so a rule is satisfiable when
// enough of its members match.
func (d *pexDefinition) answer(m Match) ([]int, bool) {
	ok := make([]bool, len(m.Items))
	for i, it := range m.Items {
		ok[i] = len(it.Candidates) > 0
	}
	reqs := d.reqs
	if reqs == nil {
		reqs = []pexRequirement{{all: true, from: indexes(len(d.descs)), count: -1, min: -1, max: -1}}
	}
	var out []int
	for _, r := range reqs {
		picked, satisfiable := r.choose(ok)
		if !satisfiable {
			return nil, false
		}
		out = append(out, picked...)
	}
	slices.Sort(out)
	return slices.Compact(out), true
}

// choose returns the descriptors a rule needs, the fewest a pick rule
// allows (count, else min, else one when any matches), and whether enough
// of its members match.
func (r pexRequirement) choose(ok []bool) ([]int, bool) {
	type member struct {
		picked []int
		ok     bool
	}
	var members []member
	if r.nested != nil {
		for _, x := range r.nested {
			p, sat := x.choose(ok)
			members = append(members, member{p, sat})
		}
	} else {
		for _, i := range r.from {
			members = append(members, member{[]int{i}, ok[i]})
		}
	}
	avail := 0
	for _, m := range members {
		if m.ok {
			avail++
		}
	}
	want := len(members)
	if !r.all {
		switch {
		case r.count >= 0:
			want = r.count
		case r.min >= 0:
			want = r.min
		default:
			want = min(1, avail)
		}
	}
	if avail < want {
		return nil, false
	}
	var out []int
	for _, m := range members {
		if m.ok && want > 0 {
			out = append(out, m.picked...)
			want--
		}
	}
	return out, true
}

func (d *pexDefinition) disclose(item int, c Candidate) []string {
	view := claimsOf(c, true)
	out := []string{}
	for _, f := range d.descs[item].fields {
		if f.optional {
			continue
		}
		for _, p := range f.paths {
			sel := selectPath(view, p, false)
			if len(sel) > 0 && (f.filter == nil || slices.ContainsFunc(sel, func(v any) bool { return f.filter.Validate(v) == nil })) {
				out = appendPointers(out, view, p)
				break
			}
		}
	}
	return sortedUnique(out)
}

// sdjwtRegistered are the claims of an SD-JWT VC view that are never
// selectively disclosed here: iss, sub, vct, jti, nbf and exp are visible
// in every presentation.
var sdjwtRegistered = map[string]bool{"iss": true, "sub": true, "vct": true, "jti": true, "nbf": true, "exp": true, "iat": true, "cnf": true, "status": true}

// appendPointers appends the subject claims a path of an SD-JWT view needs
// disclosed: its leading member names as one pointer (what lies below is
// disclosed with it), or every claim when the path starts with a wildcard.
func appendPointers(out []string, view any, path []pathStep) []string {
	var keys []string
	for _, s := range path {
		if s.kind != stepKey {
			break
		}
		keys = append(keys, s.key)
	}
	if len(keys) == 0 {
		obj, _ := asObject(view)
		for k := range obj {
			if !sdjwtRegistered[k] {
				out = append(out, "/credentialSubject/"+escapePointer(k))
			}
		}
		return out
	}
	if sdjwtRegistered[keys[0]] {
		return out
	}
	var b strings.Builder
	b.WriteString("/credentialSubject")
	for _, k := range keys {
		b.WriteString("/" + escapePointer(k))
	}
	return append(out, b.String())
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
