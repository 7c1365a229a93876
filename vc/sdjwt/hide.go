package sdjwt

import (
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/credence/credence/vc"
)

// hider replaces claims by digests, collecting the Disclosures it makes.
type hider struct {
	cfg  config
	made []*disclosure
}

// hideAll hides every path, deepest first (so that a recursive
// Disclosure embeds the digests of the claims below it), then in the order
// given.
func (h *hider) hideAll(root map[string]any, paths []string) error {
	type target struct {
		path   string
		tokens []string
	}
	targets := make([]target, 0, len(paths))
	for _, p := range paths {
		tokens, err := splitPointer(p)
		if err != nil {
			return err
		}
		if slices.Contains(reserved, tokens[0]) || protected[tokens[0]] {
			return fmt.Errorf("%w: %s must not be selectively disclosable", vc.ErrMalformed, p)
		}
		if slices.ContainsFunc(targets, func(t target) bool { return t.path == p }) {
			return fmt.Errorf("%w: path %s given twice", vc.ErrMalformed, p)
		}
		targets = append(targets, target{p, tokens})
	}
	slices.SortStableFunc(targets, func(a, b target) int { return len(b.tokens) - len(a.tokens) })
	for _, t := range targets {
		if err := h.hide(root, t.tokens); err != nil {
			return fmt.Errorf("%s: %w", t.path, err)
		}
	}
	return nil
}

// hide replaces the claim at tokens by a digest in its object's _sd array
// or, for an array element, by {"...": digest}.
func (h *hider) hide(root map[string]any, tokens []string) error {
	parent, err := resolve(root, tokens[:len(tokens)-1])
	if err != nil {
		return err
	}
	last := tokens[len(tokens)-1]
	salt, err := h.salt()
	if err != nil {
		return err
	}
	switch c := parent.(type) {
	case map[string]any:
		v, ok := c[last]
		if !ok {
			return fmt.Errorf("%w: no claim %q", vc.ErrMalformed, last)
		}
		d, err := newDisclosure(salt, last, false, v)
		if err != nil {
			return err
		}
		delete(c, last)
		sd, _ := c["_sd"].([]any)
		c["_sd"] = append(sd, d.digest)
		sortDigests(c)
		h.made = append(h.made, d)
	case []any:
		i, err := index(last, len(c))
		if err != nil {
			return err
		}
		d, err := newDisclosure(salt, "", true, c[i])
		if err != nil {
			return err
		}
		c[i] = map[string]any{"...": d.digest}
		h.made = append(h.made, d)
	default:
		return fmt.Errorf("%w: not an object or array", vc.ErrMalformed)
	}
	return nil
}

// resolve walks tokens down from root.
func resolve(root map[string]any, tokens []string) (any, error) {
	var cur any = root
	for _, t := range tokens {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[t]
			if !ok {
				return nil, fmt.Errorf("%w: no claim %q", vc.ErrMalformed, t)
			}
			cur = v
		case []any:
			i, err := index(t, len(c))
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("%w: %q is below a value that is not an object or array", vc.ErrMalformed, t)
		}
	}
	return cur, nil
}

// index parses an array index token (RFC 6901: no leading zeros).
func index(t string, n int) (int, error) {
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != t {
		return 0, fmt.Errorf("%w: no array element %q", vc.ErrMalformed, t)
	}
	return i, nil
}

// salt draws 128 bits, base64url-encoded (RFC 9901 §9.3).
func (h *hider) salt() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(h.cfg.rand, b[:]); err != nil {
		return "", fmt.Errorf("failed to draw a salt: %w", err)
	}
	return b64.EncodeToString(b[:]), nil
}

// decoys adds the configured number of decoy digests to the top level.
func (h *hider) decoys(root map[string]any) error {
	if h.cfg.decoys <= 0 {
		return nil
	}
	sd, _ := root["_sd"].([]any)
	for range h.cfg.decoys {
		s, err := h.salt()
		if err != nil {
			return err
		}
		sd = append(sd, digestOf(s))
	}
	root["_sd"] = sd
	sortDigests(root)
	return nil
}

// checkNames refuses the member names an SD-JWT payload reserves for
// digests (_sd, "...") anywhere in the claims.
func checkNames(v any, path string) error {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "_sd" || k == "..." {
				return fmt.Errorf("%w: claim name %q at %s is reserved by SD-JWT", vc.ErrMalformed, k, path)
			}
			if err := checkNames(e, pointer(path, k)); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := checkNames(e, pointer(path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
