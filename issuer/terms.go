package issuer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"io"
	"slices"
	"sync"
)

// termCache remembers which credential shapes passed the JSON-LD term check.
// Whether every term is defined depends only on the contexts, the member
// names at each path and the types, not on claim values, so credentials of
// one shape (a bulk renewal of 100,000 licenses) are expanded once. Values of
// @vocab-typed properties are the exception JSON-LD allows; Credence's own
// context has none, and a shape seen for the first time is always checked.
type termCache struct {
	mu  sync.Mutex
	ok  map[[32]byte]struct{}
	max int
}

func newTermCache(max int) *termCache { return &termCache{ok: map[[32]byte]struct{}{}, max: max} }

func (c *termCache) check(doc map[string]any, full func(map[string]any) error) error {
	key := shapeOf(doc)
	c.mu.Lock()
	_, hit := c.ok[key]
	c.mu.Unlock()
	if hit {
		return nil
	}
	if err := full(doc); err != nil {
		return err
	}
	c.mu.Lock()
	if len(c.ok) >= c.max {
		clear(c.ok)
	}
	c.ok[key] = struct{}{}
	c.mu.Unlock()
	return nil
}

// shapeOf hashes member names and nesting, plus the full values of
// @context, type and @type members.
func shapeOf(doc map[string]any) [32]byte {
	h := sha256.New()
	writeShape(h, doc)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func writeShape(h hash.Hash, v any) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.Write([]byte{'{'})
		var n [8]byte
		for _, k := range keys {
			binary.BigEndian.PutUint64(n[:], uint64(len(k))) // length-prefixed: unambiguous
			h.Write(n[:])
			io.WriteString(h, k)
			if k == "@context" || k == "type" || k == "@type" {
				full, _ := json.Marshal(t[k])
				h.Write(full)
			} else {
				writeShape(h, t[k])
			}
		}
		h.Write([]byte{'}'})
	case []any:
		h.Write([]byte{'['})
		for _, e := range t {
			writeShape(h, e)
			h.Write([]byte{','})
		}
		h.Write([]byte{']'})
	case string:
		h.Write([]byte{'s'})
	case nil:
		h.Write([]byte{'n'})
	case bool:
		h.Write([]byte{'b'})
	default:
		h.Write([]byte{'#'})
	}
}
