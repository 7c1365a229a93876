package ld

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// maxCanonWork bounds the work of canonicalizing one dataset, counted in
// Hash N-Degree Quads calls and the permutations they try. Datasets built to
// make RDFC-1.0 exponential ("poisoned") exceed it and are rejected, as the
// EdDSA cryptosuites require; ordinary credentials use a handful of steps.
const maxCanonWork = 10_000

// canonicalizer is one run of RDFC-1.0 (the successor of URDNA2015, with the
// same output) over a dataset.
type canonicalizer struct {
	quads     []quad
	byNode    map[string][]int // blank node label -> indexes of its quads
	canonical *issuer          // the canonical issuer, _:c14n
	firstHash map[string]string
	work      int
}

// canonicalize returns the canonical N-Quads of ds, lines sorted.
func canonicalize(ds *ld.RDFDataset) ([]byte, error) {
	n := 0
	for _, qs := range ds.Graphs {
		n += len(qs)
	}
	quads := make([]quad, 0, n)
	for name, qs := range ds.Graphs {
		g := graphNode(name)
		for _, q := range qs {
			quads = append(quads, newQuad(q.Subject, q.Predicate, q.Object, g))
		}
	}
	return canonicalQuads(quads)
}

// canonicalQuads returns the canonical N-Quads of a dataset, lines sorted.
func canonicalQuads(quads []quad) ([]byte, error) {
	c := &canonicalizer{quads: quads, byNode: map[string][]int{}, canonical: newIssuer("_:c14n"), firstHash: map[string]string{}}
	for i := range quads {
		c.index(i)
	}
	if err := c.label(); err != nil {
		return nil, err
	}
	lines := make([]string, len(c.quads))
	n := 0
	for i := range c.quads {
		lines[i] = c.quads[i].write(c.relabel)
		n += len(lines[i])
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	out := make([]byte, 0, n)
	for _, l := range lines {
		out = append(out, l...)
	}
	return out, nil
}

func graphNode(name string) ld.Node {
	switch {
	case name == "@default":
		return nil
	case strings.HasPrefix(name, "_:"):
		return ld.NewBlankNode(name)
	}
	return ld.NewIRI(name)
}

// index records the blank nodes of quad i.
func (c *canonicalizer) index(i int) {
	q := &c.quads[i]
	for pos, b := range q.blank {
		if b {
			if list := c.byNode[q.term[pos]]; len(list) == 0 || list[len(list)-1] != i {
				c.byNode[q.term[pos]] = append(list, i)
			}
		}
	}
}

// label issues canonical labels to every blank node (RDFC-1.0 steps 3–5).
func (c *canonicalizer) label() error {
	byHash := map[string][]string{}
	for n := range c.byNode {
		h := c.hashFirstDegree(n)
		byHash[h] = append(byHash[h], n)
	}
	hashes := slices.Sorted(maps.Keys(byHash))
	for _, h := range hashes {
		if nodes := byHash[h]; len(nodes) == 1 {
			c.canonical.issue(nodes[0])
		}
	}
	for _, h := range hashes {
		if len(byHash[h]) > 1 {
			if err := c.labelShared(byHash[h]); err != nil {
				return err
			}
		}
	}
	return nil
}

// labelShared labels blank nodes that share a first-degree hash, in the
// order of their n-degree hashes (RDFC-1.0 step 5).
func (c *canonicalizer) labelShared(nodes []string) error {
	type result struct {
		hash   string
		issuer *issuer
	}
	var results []result
	for _, n := range nodes {
		if c.canonical.has(n) {
			continue
		}
		tmp := newIssuer("_:b")
		tmp.issue(n)
		h, iss, err := c.hashNDegree(n, tmp)
		if err != nil {
			return err
		}
		results = append(results, result{h, iss})
	}
	slices.SortStableFunc(results, func(a, b result) int { return strings.Compare(a.hash, b.hash) })
	for _, r := range results {
		for _, n := range r.issuer.order {
			c.canonical.issue(n)
		}
	}
	return nil
}

func (c *canonicalizer) relabel(label string) string { return c.canonical.ids[label] }

// hashFirstDegree hashes the quads of n with n as _:a and other blank nodes
// as _:z (RDFC-1.0 4.6).
func (c *canonicalizer) hashFirstDegree(n string) string {
	if h, ok := c.firstHash[n]; ok {
		return h
	}
	lines := make([]string, 0, len(c.byNode[n]))
	for _, i := range c.byNode[n] {
		lines = append(lines, c.quads[i].write(func(b string) string {
			if b == n {
				return "_:a"
			}
			return "_:z"
		}))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	sum := hex.EncodeToString(h.Sum(nil))
	c.firstHash[n] = sum
	return sum
}

func (c *canonicalizer) step() error {
	if c.work++; c.work > maxCanonWork {
		return fmt.Errorf("%w: RDF canonicalization exceeds %d steps (a poisoned dataset)", vc.ErrMalformed, maxCanonWork)
	}
	return nil
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
