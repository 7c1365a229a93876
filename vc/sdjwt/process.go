package sdjwt

import (
	"fmt"
	"sort"

	"github.com/credence/credence/vc"
)

// processor replaces digests by the disclosed claims (RFC 9901 §7.1 step
// 3), recording where each Disclosure went.
type processor struct {
	byDigest map[string]*disclosure
	seen     map[string]bool // every digest met, disclosed or not
}

func newProcessor(ds []*disclosure) (*processor, error) {
	p := &processor{byDigest: make(map[string]*disclosure, len(ds)), seen: map[string]bool{}}
	for _, d := range ds {
		if p.byDigest[d.digest] != nil {
			return nil, fmt.Errorf("%w: the same disclosure appears twice", vc.ErrMalformed)
		}
		p.byDigest[d.digest] = d
	}
	return p, nil
}

// value processes v found at path (inside parent's value, or the JWT).
func (p *processor) value(v any, path string, parent *disclosure) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		return t, p.object(t, path, parent)
	case []any:
		return p.array(t, path, parent)
	}
	return v, nil
}

func (p *processor) object(m map[string]any, path string, parent *disclosure) error {
	if _, ok := m["..."]; ok {
		return fmt.Errorf("%w: %s: member \"...\" outside an array element digest", vc.ErrMalformed, path)
	}
	for name, v := range m {
		if name == "_sd" {
			continue
		}
		nv, err := p.value(v, pointer(path, name), parent)
		if err != nil {
			return err
		}
		m[name] = nv
	}
	return p.insertDisclosed(m, path, parent)
}

// insertDisclosed replaces the object's _sd digests by their claims.
func (p *processor) insertDisclosed(m map[string]any, path string, parent *disclosure) error {
	raw, ok := m["_sd"]
	if !ok {
		return nil
	}
	delete(m, "_sd")
	digests, ok := raw.([]any)
	if !ok {
		return fmt.Errorf("%w: %s/_sd is not an array", vc.ErrMalformed, path)
	}
	for _, e := range digests {
		digest, ok := e.(string)
		if !ok {
			return fmt.Errorf("%w: %s/_sd holds a non-string", vc.ErrMalformed, path)
		}
		d, err := p.claim(digest, parent, false)
		if err != nil {
			return err
		}
		if d == nil {
			continue // a decoy or an undisclosed claim
		}
		if _, exists := m[d.name]; exists {
			return fmt.Errorf("%w: disclosed claim %s already exists", vc.ErrMalformed, pointer(path, d.name))
		}
		d.path = pointer(path, d.name)
		if m[d.name], err = p.value(d.value, d.path, d); err != nil {
			return err
		}
	}
	return nil
}

func (p *processor) array(a []any, path string, parent *disclosure) ([]any, error) {
	out := a[:0:0]
	for i, e := range a {
		digest, isDigest, err := arrayDigest(e, path)
		if err != nil {
			return nil, err
		}
		elem := pointer(path, i)
		if !isDigest {
			nv, err := p.value(e, elem, parent)
			if err != nil {
				return nil, err
			}
			out = append(out, nv)
			continue
		}
		d, err := p.claim(digest, parent, true)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // not disclosed: the element disappears
		}
		d.path = elem
		nv, err := p.value(d.value, elem, d)
		if err != nil {
			return nil, err
		}
		out = append(out, nv)
	}
	return out, nil
}

// arrayDigest recognizes the {"...": digest} form of a hidden element.
func arrayDigest(e any, path string) (string, bool, error) {
	m, ok := e.(map[string]any)
	if !ok {
		return "", false, nil
	}
	v, ok := m["..."]
	if !ok {
		return "", false, nil
	}
	s, isString := v.(string)
	if len(m) != 1 || !isString {
		return "", false, fmt.Errorf("%w: %s: malformed array element digest", vc.ErrMalformed, path)
	}
	return s, true, nil
}

// claim looks a digest up. A digest met twice is an error (§7.1 step 4);
// one without a Disclosure yields nil (a decoy or an undisclosed claim).
func (p *processor) claim(digest string, parent *disclosure, element bool) (*disclosure, error) {
	if p.seen[digest] {
		return nil, fmt.Errorf("%w: digest %s appears twice", vc.ErrMalformed, digest)
	}
	p.seen[digest] = true
	d := p.byDigest[digest]
	if d == nil {
		return nil, nil
	}
	if d.element != element {
		return nil, fmt.Errorf("%w: disclosure %s is of the wrong kind for where its digest is", vc.ErrMalformed, digest)
	}
	d.used, d.parent = true, parent
	return d, nil
}

// unreferenced fails if a Disclosure's digest was nowhere (§7.1 step 5).
func (p *processor) unreferenced() error {
	for _, d := range p.byDigest {
		if !d.used {
			return fmt.Errorf("%w: disclosure %s is not referenced by the SD-JWT", vc.ErrMalformed, d.digest)
		}
	}
	return nil
}

// paths lists the JSON Pointers of the disclosed claims, sorted.
func (p *processor) paths() []string {
	out := make([]string, 0, len(p.byDigest))
	for _, d := range p.byDigest {
		if d.used {
			out = append(out, d.path)
		}
	}
	sort.Strings(out)
	return out
}
