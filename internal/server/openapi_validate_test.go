package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// responseSample is an answer for validate.mjs --responses to check
// against its documented schema.
type responseSample struct {
	What   string          `json:"what"`
	Path   string          `json:"path"`
	Method string          `json:"method"`
	Status string          `json:"status"`
	Media  string          `json:"media"`
	Body   json.RawMessage `json:"body"`
}

type responseSamples struct {
	list []responseSample
	seen map[string]bool
}

// add keeps a JSON answer (each line of an NDJSON one) once.
func (r *responseSamples) add(o apiOp, c openAPICaller, resp *http.Response, body []byte) {
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	bodies := [][]byte{body}
	if media == "application/x-ndjson" {
		bodies = bytes.Split(bytes.TrimSpace(body), []byte("\n"))
	}
	for _, b := range bodies {
		k := o.String() + " " + resp.Status + " " + string(b)
		if len(b) == 0 || !json.Valid(b) || r.seen[k] {
			continue
		}
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		r.seen[k] = true
		r.list = append(r.list, responseSample{What: o.String() + " with " + c.name, Path: o.Path, Method: strings.ToLower(o.Method),
			Status: resp.Status[:3], Media: media, Body: b})
	}
}

// check has validate.mjs match every sample against its schema.
func (r *responseSamples) check(t *testing.T) {
	if len(r.list) < 300 {
		t.Fatalf("only %d JSON answers to check", len(r.list))
	}
	b, _ := json.Marshal(r.list)
	file := filepath.Join(t.TempDir(), "samples.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, _ := filepath.Abs("openapi.json")
	got := runOpenAPIValidator(t, "--responses", doc, file)
	if len(got) != 1 || !got[0].Valid || got[0].Schemas != len(r.list) {
		t.Errorf("answers that do not match openapi.json:\n%s", strings.Join(got[0].Errors, "\n"))
	}
}

// openAPIValidatorDir holds the independent validators (validate.mjs and
// its npm dependencies, pinned by package-lock.json).
const openAPIValidatorDir = "testdata/openapi"

// validation is one line of validate.mjs's output.
type validation struct {
	File     string   `json:"file"`
	Valid    bool     `json:"valid"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
	Schemas  int      `json:"schemas"`
}

func TestOpenAPIValidates(t *testing.T) {
	dir := t.TempDir()
	served, err := withServers(openAPIDocument, "https://credence.example")
	if err != nil {
		t.Fatal(err)
	}
	// A broken copy must be refused: a path parameter left undeclared and
	// a misspelt schema keyword, one for each validator.
	var broken map[string]any
	_ = json.Unmarshal(openAPIDocument, &broken)
	delete(broken["paths"].(map[string]any)["/admin/issuers/{issuer}"].(map[string]any)["get"].(map[string]any), "parameters")
	broken["components"].(map[string]any)["schemas"].(map[string]any)["Problem"].(map[string]any)["requried"] = []any{"type"}
	brokenJSON, _ := json.Marshal(broken)
	files := map[string][]byte{"served.json": served, "broken.json": brokenJSON}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	embedded, _ := filepath.Abs("openapi.json")
	if b, err := os.ReadFile(embedded); err != nil || !bytes.Equal(b, openAPIDocument) {
		t.Fatalf("%s is not the embedded document (%v)", embedded, err)
	}
	got := runOpenAPIValidator(t, embedded, filepath.Join(dir, "served.json"), filepath.Join(dir, "broken.json"))
	if len(got) != 3 {
		t.Fatalf("validate.mjs judged %d of 3 documents", len(got))
	}
	for _, v := range got[:2] {
		if !v.Valid || len(v.Warnings) > 0 || v.Schemas < 100 {
			t.Errorf("%s: valid %v, %d schemas, errors %q, warnings %q", v.File, v.Valid, v.Schemas, v.Errors, v.Warnings)
		}
	}
	errs := strings.Join(got[2].Errors, "\n")
	if got[2].Valid || !strings.Contains(errs, "missing path parameter") || !strings.Contains(errs, `unknown keyword: "requried"`) {
		t.Errorf("the broken document was not refused for both faults: valid %v, errors %s", got[2].Valid, errs)
	}
}

// runOpenAPIValidator runs validate.mjs with args (installing its npm
// dependencies from the lockfile when they are missing) and returns its
// verdicts in order. It fails, never skips, without Node.js.
func runOpenAPIValidator(t *testing.T, args ...string) []validation {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("TestOpenAPIValidates needs Node.js (node >= 20) on PATH to run the independent OpenAPI validators: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	installed := true
	for _, m := range []string{"@readme/openapi-parser", "ajv"} {
		if _, err := os.Stat(filepath.Join(openAPIValidatorDir, "node_modules", m, "package.json")); err != nil {
			installed = false
		}
	}
	if !installed {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatalf("%s/node_modules is missing and npm is not on PATH: install npm, or run `npm ci --prefix internal/server/%s` (scripts/test does): %v", openAPIValidatorDir, openAPIValidatorDir, err)
		}
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = openAPIValidatorDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", openAPIValidatorDir, err, out)
		}
	}
	cmd := exec.CommandContext(ctx, node, append([]string{"validate.mjs"}, args...)...)
	cmd.Dir = openAPIValidatorDir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node validate.mjs: %v\n%s", err, stderr.Bytes())
	}
	var got []validation
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v validation
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("validate.mjs printed %q: %v", sc.Text(), err)
		}
		got = append(got, v)
	}
	if len(got) == 0 {
		t.Fatalf("validate.mjs judged nothing:\n%s", stderr.Bytes())
	}
	return got
}
