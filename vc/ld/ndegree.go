package ld

import (
	"maps"
	"slices"
	"strings"
)

// hashNDegree is Hash N-Degree Quads (RDFC-1.0 4.8): the hash of n's
// neighbourhood, with the issuer that labelled it.
func (c *canonicalizer) hashNDegree(n string, iss *issuer) (string, *issuer, error) {
	if err := c.step(); err != nil {
		return "", nil, err
	}
	related := c.relatedByHash(n, iss)
	var data strings.Builder
	for _, h := range slices.Sorted(maps.Keys(related)) {
		data.WriteString(h)
		var chosenPath string
		var chosen *issuer
		err := permute(related[h], func(perm []string) error {
			if err := c.step(); err != nil {
				return err
			}
			path, next, ok, err := c.tryPath(perm, iss, chosenPath)
			if err == nil && ok && (chosen == nil || path < chosenPath) {
				chosenPath, chosen = path, next
			}
			return err
		})
		if err != nil {
			return "", nil, err
		}
		data.WriteString(chosenPath)
		iss = chosen
	}
	return hashHex(data.String()), iss, nil
}

// tryPath builds the path of one permutation of related blank nodes; ok is
// false once the path can no longer beat chosenPath.
func (c *canonicalizer) tryPath(perm []string, iss *issuer, chosenPath string) (string, *issuer, bool, error) {
	iss = iss.clone()
	var path strings.Builder
	var recurse []string
	worse := func() bool {
		return chosenPath != "" && path.Len() >= len(chosenPath) && path.String() > chosenPath
	}
	for _, r := range perm {
		if id, ok := c.canonical.ids[r]; ok {
			path.WriteString(id)
		} else {
			if !iss.has(r) {
				recurse = append(recurse, r)
			}
			path.WriteString(iss.issue(r))
		}
		if worse() {
			return "", nil, false, nil
		}
	}
	for _, r := range recurse {
		h, next, err := c.hashNDegree(r, iss)
		if err != nil {
			return "", nil, false, err
		}
		path.WriteString(iss.issue(r))
		path.WriteString("<" + h + ">")
		iss = next
		if worse() {
			return "", nil, false, nil
		}
	}
	return path.String(), iss, true, nil
}

// relatedByHash groups the blank nodes sharing a quad with n by the hash of
// their relation to n (RDFC-1.0 4.8.2 steps 1–3).
func (c *canonicalizer) relatedByHash(n string, iss *issuer) map[string][]string {
	related := map[string][]string{}
	for _, i := range c.byNode[n] {
		q := &c.quads[i]
		for _, pos := range [...]int{subjectPos, objectPos, graphPos} {
			b := q.term[pos]
			if !q.blank[pos] || b == n {
				continue
			}
			h := c.hashRelated(b, q, iss, positionName[pos])
			related[h] = append(related[h], b)
		}
	}
	return related
}

// hashRelated is Hash Related Blank Node (RDFC-1.0 4.7).
func (c *canonicalizer) hashRelated(r string, q *quad, iss *issuer, position string) string {
	id, ok := c.canonical.ids[r]
	if !ok {
		if id, ok = iss.ids[r]; !ok {
			id = c.hashFirstDegree(r)
		}
	}
	input := position
	if position != "g" {
		input += "<" + q.pred + ">"
	}
	return hashHex(input + id)
}

// permute calls f with every permutation of list (Heap's algorithm), in no
// particular order: RDFC-1.0 takes the least path over all of them.
func permute(list []string, f func([]string) error) error {
	a := slices.Clone(list)
	var gen func(k int) error
	gen = func(k int) error {
		if k <= 1 {
			return f(a)
		}
		for i := range k - 1 {
			if err := gen(k - 1); err != nil {
				return err
			}
			if k%2 == 0 {
				a[i], a[k-1] = a[k-1], a[i]
			} else {
				a[0], a[k-1] = a[k-1], a[0]
			}
		}
		return gen(k - 1)
	}
	return gen(len(a))
}

// issuer issues blank node identifiers (RDFC-1.0 4.5).
type issuer struct {
	prefix string
	ids    map[string]string
	order  []string
}

func newIssuer(prefix string) *issuer { return &issuer{prefix: prefix, ids: map[string]string{}} }

func (i *issuer) has(n string) bool { _, ok := i.ids[n]; return ok }

func (i *issuer) issue(n string) string {
	if id, ok := i.ids[n]; ok {
		return id
	}
	id := i.prefix + itoa(len(i.order))
	i.ids[n] = id
	i.order = append(i.order, n)
	return id
}

func (i *issuer) clone() *issuer {
	c := &issuer{prefix: i.prefix, ids: make(map[string]string, len(i.ids)), order: slices.Clone(i.order)}
	for k, v := range i.ids {
		c.ids[k] = v
	}
	return c
}
