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

// quad is an RDF quad whose blank nodes are referred to by label.
type quad struct {
	s, p, o, g ld.Node
}

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
	c := &canonicalizer{byNode: map[string][]int{}, canonical: newIssuer("_:c14n"), firstHash: map[string]string{}}
	for name, qs := range ds.Graphs {
		for _, q := range qs {
			c.add(quad{q.Subject, q.Predicate, q.Object, graphNode(name)})
		}
	}
	if err := c.label(); err != nil {
		return nil, err
	}
	lines := make([]string, len(c.quads))
	for i, q := range c.quads {
		lines[i] = nquad(q, c.relabel)
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	return []byte(strings.Join(lines, "")), nil
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

func (c *canonicalizer) add(q quad) {
	i := len(c.quads)
	c.quads = append(c.quads, q)
	for _, n := range []ld.Node{q.s, q.o, q.g} {
		if b, ok := n.(ld.BlankNode); ok {
			if list := c.byNode[b.Attribute]; len(list) == 0 || list[len(list)-1] != i {
				c.byNode[b.Attribute] = append(list, i)
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
		lines = append(lines, nquad(c.quads[i], func(b string) string {
			if b == n {
				return "_:a"
			}
			return "_:z"
		}))
	}
	slices.Sort(lines)
	h := hashHex(strings.Join(lines, ""))
	c.firstHash[n] = h
	return h
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
