package ld

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// citizenshipV4rc1 is the context of the employment vector, registered by
// the tests (testdata/citizenship-v4rc1.jsonld).
const citizenshipV4rc1 = "https://w3id.org/citizenship/v4rc1"

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func readJSON(tb testing.TB, name string) map[string]any {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFile(tb, name), &doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

// testProcessor knows the citizenship context besides the embedded ones.
func testProcessor(tb testing.TB) *Processor {
	return New(WithContext(citizenshipV4rc1, readFile(tb, "citizenship-v4rc1.jsonld")))
}
