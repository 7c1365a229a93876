package ld

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/piprate/json-gold/ld"
)

// maxRememberedIRIs bounds the process-wide IRI validity cache.
const maxRememberedIRIs = 1 << 14

var (
	iriValid   sync.Map // IRI -> bool
	iriEntries atomic.Int64
)

// wellFormed reports whether iri may appear in RDF: a blank node label or
// an absolute IRI, which for http(s) must also pass json-gold's URL check.
// Results are remembered: that check is a costly regular expression.
func wellFormed(iri string) bool {
	if strings.HasPrefix(iri, "_:") {
		return true
	}
	if v, ok := iriValid.Load(iri); ok {
		return v.(bool)
	}
	ok := ld.IsAbsoluteIri(iri)
	if ok && (strings.HasPrefix(iri, "http://") || strings.HasPrefix(iri, "https://")) {
		ok = ld.IsURL(iri)
	}
	if iriEntries.Load() < maxRememberedIRIs {
		if _, loaded := iriValid.LoadOrStore(iri, ok); !loaded {
			iriEntries.Add(1)
		}
	}
	return ok
}
