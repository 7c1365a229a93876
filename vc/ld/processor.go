package ld

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"

	"github.com/credence/credence/vc"
)

// Processor canonicalizes JSON-LD documents against the embedded contexts
// and those added with WithContext. It is safe for concurrent use.
type Processor struct {
	docs  map[string]any   // decoded context documents by URL
	bad   map[string]error // contexts added with WithContext that are not JSON
	cache sync.Map         // cacheKey -> *fastContext
	size  sync.Mutex       // guards n
	n     int              // entries in cache

	scopedPrefix string   // private URL prefix of pre-processed scoped contexts
	scoped       sync.Map // URL -> *ld.Context
	nScoped      atomic.Int64

	frames framePool // the fast expander's active contexts
}

// Option configures a Processor.
type Option func(*Processor)

// WithContext adds the context doc, served under url, to those a document may
// name. It replaces an embedded context of the same URL. A doc that is not
// JSON makes every document naming url fail with vc.ErrMalformed.
func WithContext(url string, doc []byte) Option {
	return func(p *Processor) {
		v, err := decodeJSON(doc)
		if err != nil {
			p.bad[url] = fmt.Errorf("%w: JSON-LD context %s: %w", vc.ErrMalformed, url, err)
			delete(p.docs, url)
			return
		}
		delete(p.bad, url)
		p.docs[url] = v
	}
}

// New returns a Processor that knows the embedded contexts and those given.
func New(opts ...Option) *Processor {
	p := &Processor{docs: maps.Clone(embeddedDocs()), bad: map[string]error{}, scopedPrefix: privatePrefix()}
	for _, o := range opts {
		o(p)
	}
	p.frames.root = p.contextFrame
	return p
}

// contextFrame returns the fast expander's frame of a document whose @context
// is local: the active context of a node object with that @context that is
// the value of a null-scoped graph term, expanded on an empty context.
// Canonicalize, the fast expander's only user, processes contexts in
// json-gold's SafeMode.
func (p *Processor) contextFrame(local any) (*frame, error) {
	f, err := p.activeContext(local, nil, true)
	if err != nil {
		return nil, err
	}
	if f.root == nil {
		return nil, fallback("a context the fast expander does not take")
	}
	return f.root, nil
}

// embeddedDocs decodes the embedded contexts once per process.
var embeddedDocs = sync.OnceValue(func() map[string]any {
	m := make(map[string]any, len(embedded))
	for url, b := range embedded {
		v, err := decodeJSON(b)
		if err != nil {
			panic("ld: embedded context " + url + " is not JSON") // caught by every test
		}
		m[url] = v
	}
	return m
})

func decodeJSON(b []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// loader is the ld.DocumentLoader of a Processor: it serves the held
// contexts only and never touches the network.
type loader struct{ p *Processor }

// LoadDocument returns a copy of the context (json-gold merges @import into
// the document it loads), its null-scoped graph terms rewritten
// (graphterm.go).
func (l loader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	p := l.p
	if strings.HasPrefix(url, p.scopedPrefix) {
		if c, ok := p.scoped.Load(url); ok {
			return &ld.RemoteDocument{DocumentURL: url, Document: map[string]any{"@context": fresh(c.(*ld.Context))}}, nil
		}
	}
	if err, ok := p.bad[url]; ok {
		return nil, err
	}
	doc, ok := p.docs[url]
	if !ok {
		return nil, fmt.Errorf("%w: JSON-LD context %s is not known", vc.ErrUnsupported, url)
	}
	out := ld.CloneDocument(doc)
	if m, ok := out.(map[string]any); ok {
		if c, ok := rewriteContext(m["@context"]); ok {
			m["@context"] = c
		}
	}
	return &ld.RemoteDocument{DocumentURL: url, Document: out}, nil
}

// options returns fresh json-gold options that load contexts from p.
func (p *Processor) options(safe bool) *ld.JsonLdOptions {
	o := ld.NewJsonLdOptions("")
	o.DocumentLoader = loader{p}
	o.ProcessingMode = ld.JsonLd_1_1
	o.SafeMode = safe
	return o
}

// jsonldError wraps a json-gold error in the matching sentinel: an unknown
// or broken context keeps its own, anything else is a malformed document.
func jsonldError(err error) error {
	if errors.Is(err, vc.ErrUnsupported) || errors.Is(err, vc.ErrMalformed) {
		return fmt.Errorf("failed to process JSON-LD: %w", err)
	}
	return fmt.Errorf("%w: JSON-LD: %w", vc.ErrMalformed, err)
}
