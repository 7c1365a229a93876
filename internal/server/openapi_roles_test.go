package server

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
)

// operationKeys are the operations a document describes, sorted.
func operationKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	_, ops := loadOpenAPI(t, doc)
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.String()
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIForRoles trims the document to each role's routes: exactly
// their operations, only the tags and components they use, and every
// reference still resolves (independent validators agree).
func TestOpenAPIForRoles(t *testing.T) {
	_, by := allRoutes(t)
	whole, err := forOperations(openAPIDocument, servedOperations(append(by[""], slices.Concat(slices.Collect(maps.Values(by))...)...), true))
	if err != nil || !bytes.Equal(whole, openAPIDocument) {
		t.Fatalf("the document of every route is not the whole document (%v)", err)
	}
	var full struct {
		Tags       []struct{ Name string }
		Components map[string]map[string]json.RawMessage
	}
	_ = json.Unmarshal(openAPIDocument, &full)
	dir := t.TempDir()
	var files []string
	for _, role := range config.AllRoles() {
		served := servedOperations(append(slices.Clone(by[""]), by[role]...), role == config.RoleRegistry)
		doc, err := forOperations(openAPIDocument, served)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		if got, want := operationKeys(t, doc), slices.Sorted(maps.Keys(served)); !slices.Equal(got, want) {
			t.Errorf("%s: the document describes\n%s\nwant\n%s", role, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		var d struct {
			Tags       []struct{ Name string }
			Components map[string]map[string]json.RawMessage
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		_, ops := loadOpenAPI(t, doc)
		tags := map[string]bool{}
		for _, o := range ops {
			for _, tag := range o.Tags {
				tags[tag] = true
			}
		}
		for _, tag := range d.Tags {
			if !tags[tag.Name] {
				t.Errorf("%s: tag %s is kept but no operation uses it", role, tag.Name)
			}
			delete(tags, tag.Name)
		}
		if len(tags) > 0 {
			t.Errorf("%s: operations use the tags %v the document no longer lists", role, slices.Sorted(maps.Keys(tags)))
		}
		if len(d.Components["schemas"]) >= len(full.Components["schemas"]) || len(d.Components["securitySchemes"]) != len(full.Components["securitySchemes"]) {
			t.Errorf("%s: %d of %d schemas and %d of %d security schemes kept", role, len(d.Components["schemas"]), len(full.Components["schemas"]),
				len(d.Components["securitySchemes"]), len(full.Components["securitySchemes"]))
		}
		// Every kept component is used.
		var compact bytes.Buffer
		_ = json.Compact(&compact, doc)
		for kind, defs := range d.Components {
			if kind == "securitySchemes" {
				continue
			}
			for name := range defs {
				ref, _ := json.Marshal("#/components/" + kind + "/" + name)
				if bytes.Count(compact.Bytes(), append([]byte(`"$ref":`), ref...)) == 0 {
					t.Errorf("%s: %s/%s is kept but nothing refers to it", role, kind, name)
				}
			}
		}
		file := filepath.Join(dir, role+".json")
		if err := os.WriteFile(file, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	got := runOpenAPIValidator(t, files...)
	if len(got) != len(files) {
		t.Fatalf("validate.mjs judged %d of %d documents", len(got), len(files))
	}
	for _, v := range got {
		if !v.Valid || len(v.Warnings) > 0 || v.Schemas < 10 {
			t.Errorf("%s: valid %v, %d schemas, errors %q, warnings %q", v.File, v.Valid, v.Schemas, v.Errors, v.Warnings)
		}
	}
}
