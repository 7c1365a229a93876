package ld

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// maxCachedContexts bounds the processed-context cache: documents may carry
// inline contexts, and a flood of distinct ones must not grow memory.
const maxCachedContexts = 512

// activeContext returns the processed context for the @context value v,
// processing it at most once per distinct value (up to the cache bound).
// prefix is prepended to v (CheckTerms adds its @vocab that way); safe
// selects json-gold's SafeMode, which a context carries in its options.
func (p *Processor) activeContext(v any, prefix map[string]any, safe bool) (*fastContext, error) {
	key, err := cacheKey(v, prefix != nil, safe)
	if err != nil {
		return nil, err
	}
	if c, ok := p.cache.Load(key); ok {
		return c.(*fastContext), nil
	}
	local := []any{}
	if prefix != nil {
		local = append(local, prefix)
	}
	// A copy: the processed context keeps references to inline contexts,
	// which belong to the caller's document.
	local = append(local, ld.Arrayify(ld.CloneDocument(v))...)
	if r, ok := rewriteContext(local); ok {
		local = r.([]any)
	}
	c, err := ld.NewContext(nil, p.options(safe)).Parse(local)
	if err != nil {
		return nil, jsonldError(err)
	}
	if !p.room() {
		return &fastContext{base: c, plain: c}, nil
	}
	f := newFastContext(c, p.register)
	if prefix == nil {
		f.root = rootFrame(&p.frames, c, v)
	}
	p.store(key, f)
	return f, nil
}

// room reports whether the cache takes more entries.
func (p *Processor) room() bool {
	p.size.Lock()
	defer p.size.Unlock()
	return p.n < maxCachedContexts
}

func (p *Processor) store(key string, c *fastContext) {
	p.size.Lock()
	defer p.size.Unlock()
	if p.n >= maxCachedContexts {
		return
	}
	if _, loaded := p.cache.LoadOrStore(key, c); !loaded {
		p.n++
	}
}

// register makes c loadable under a private URL and returns the URL.
func (p *Processor) register(c *ld.Context) string {
	url := p.scopedPrefix + strconv.FormatInt(p.nScoped.Add(1), 10)
	p.scoped.Store(url, c)
	return url
}

// privatePrefix returns a URL prefix no document can guess, so no document
// can name a pre-processed scoped context as its own context.
func privatePrefix() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "urn:x-credence:scoped:" + hex.EncodeToString(b) + ":"
}

// cacheKey names a @context value: the URLs themselves in the common case
// of a list of URLs, else its JSON (encoding/json sorts map keys).
func cacheKey(v any, checking, safe bool) (string, error) {
	var b strings.Builder
	b.WriteString(flag(checking) + flag(safe))
	for _, e := range ld.Arrayify(v) {
		s, ok := e.(string)
		if !ok {
			j, err := json.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("%w: @context: %w", vc.ErrMalformed, err)
			}
			return "j" + b.String() + string(j), nil
		}
		b.WriteByte('\n')
		b.WriteString(s)
	}
	return "u" + b.String(), nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
