package healthcare

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaFS holds the subject schemas: the shared domain schemas with only
// their $id changed (see schemas/README.md).
//
//go:embed schemas/*.schema.json
var schemaFS embed.FS

// Schemas returns every subject schema, keyed by its URL (its $id), as
// served over HTTP. The map and the slices are the caller's to keep.
func Schemas() map[string][]byte {
	m := make(map[string][]byte, len(types))
	for _, t := range types {
		m[t.SchemaURL] = slices.Clone(schemaBytes(t.SchemaURL))
	}
	return m
}

// schemaBytes returns the embedded bytes of the schema at url.
func schemaBytes(url string) []byte {
	b, err := schemaFS.ReadFile("schemas/" + path.Base(url))
	if err != nil {
		panic("healthcare: missing embedded schema " + url) // caught by every test
	}
	return b
}

// compiled returns the compiled schema of each type, in the order of types.
// The schemas are embedded, so failing to compile them is a bug the tests
// catch; it panics rather than fail every validation at run time.
var compiled = sync.OnceValue(func() []*jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	for _, t := range types {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaBytes(t.SchemaURL)))
		if err != nil {
			panic(fmt.Sprintf("healthcare: schema %s: %v", t.SchemaURL, err))
		}
		if err := c.AddResource(t.SchemaURL, doc); err != nil {
			panic(fmt.Sprintf("healthcare: schema %s: %v", t.SchemaURL, err))
		}
	}
	out := make([]*jsonschema.Schema, len(types))
	for i, t := range types {
		s, err := c.Compile(t.SchemaURL)
		if err != nil {
			panic(fmt.Sprintf("healthcare: schema %s: %v", t.SchemaURL, err))
		}
		out[i] = s
	}
	return out
})

// noLoader refuses every URL: the schemas are self-contained and nothing
// is ever fetched (the 2020-12 meta-schemas are built into the library).
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("healthcare: schema %s is not embedded", url)
}

// ptr appends reference tokens to a JSON Pointer, escaping them (RFC 6901).
func ptr(base string, tokens ...string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range tokens {
		b.WriteByte('/')
		if strings.ContainsAny(t, "~/") {
			t = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
		}
		b.WriteString(t)
	}
	return b.String()
}
