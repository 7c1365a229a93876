package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	walletapi "github.com/credence/credence/wallet-api"
)

// openapi.json is written by hand; these tests keep it true:
//
//   - TestOpenAPIMatchesRoutes: every route the server mounts is documented,
//     and every documented operation is served;
//   - TestOpenAPIMatchesBehaviour: every operation, called without a
//     token, with an invalid one and with a token of each kind, refuses
//     exactly the callers its security requirement does not admit, and
//     answers only status codes and media types the document lists, with
//     bodies that match the documented schemas (checked by Ajv);
//   - TestOpenAPIOperations: the document's own consistency;
//   - TestOpenAPIServed: GET /openapi.json;
//   - TestOpenAPIValidates: the OpenAPI 3.1 specification, checked by
//     implementations independent of Credence (testdata/openapi).

// openAPI is what the tests read of the document.
type openAPI struct {
	Tags       []struct{ Name string }               `json:"tags"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses       map[string]apiResponse     `json:"responses"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type apiOp struct {
	Method      string                `json:"-"` // "GET"
	Path        string                `json:"-"` // "/admin/issuers/{issuer}"
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Tags        []string              `json:"tags"`
	Security    []map[string][]string `json:"security"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]apiResponse `json:"responses"`
}

type apiResponse struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

func (o apiOp) String() string { return o.Method + " " + o.Path }

// admits reports whether the operation's security admits a caller: role
// is the token kind a bearerAuth requirement names ("admin", "verifier",
// "issuer:{issuer}", ...), "" without a token.
func (o apiOp) admits(role string) bool {
	if len(o.Security) == 0 {
		return true
	}
	for _, req := range o.Security {
		if len(req) == 0 && role == "" {
			return true
		}
		for _, roles := range req {
			if slices.Contains(roles, role) {
				return true
			}
		}
	}
	return false
}

// response is the documented response for a status, its $ref resolved.
func (d openAPI) response(o apiOp, status string) (apiResponse, bool) {
	r, ok := o.Responses[status]
	if name, isRef := strings.CutPrefix(r.Ref, "#/components/responses/"); isRef {
		r, ok = d.Components.Responses[name]
	}
	return r, ok
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T, b []byte) (openAPI, []apiOp) {
	t.Helper()
	var d openAPI
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var ops []apiOp
	for _, p := range slices.Sorted(maps.Keys(d.Paths)) {
		for _, m := range httpMethods {
			raw, ok := d.Paths[p][m]
			if !ok {
				continue
			}
			o := apiOp{Method: strings.ToUpper(m), Path: p}
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			ops = append(ops, o)
		}
	}
	return d, ops
}

// Routes whose documented path is not the gin path with each :param or
// *param written {param}.
var (
	// The catch-all answers only .../{subject}/history (a subject may
	// contain "/"); anything else under it is 404 (checked below).
	catchAllPaths = map[string]string{"/registry/subjects/*subject": "/registry/subjects/{subject}/history"}
	// Operations the not-found handler serves, so gin lists no route for
	// them: hosted did:web documents at any depth (didapi.API.NoRoute).
	notRouted = []string{"GET /{path}/did.json"}
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

func openAPIPath(ginPath string) string {
	if p, ok := catchAllPaths[ginPath]; ok {
		return p
	}
	return ginParam.ReplaceAllString(ginPath, "{$1}")
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s, ts := newServer(t, testConfig(t))
	_, ops := loadOpenAPI(t, openAPIDocument)
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.String()] = true
	}
	served := map[string]bool{}
	for _, r := range s.Routes() {
		k := r.Method + " " + openAPIPath(r.Path)
		served[k] = true
		if !documented[k] {
			t.Errorf("%s %s is served but openapi.json does not document %s", r.Method, r.Path, k)
		}
	}
	if len(served) < 70 {
		t.Fatalf("the server lists only %d routes", len(served))
	}
	for _, o := range ops {
		if k := o.String(); !served[k] && !slices.Contains(notRouted, k) {
			t.Errorf("openapi.json documents %s, which the server does not serve", k)
		}
	}
	for _, k := range notRouted {
		if served[k] || !documented[k] {
			t.Errorf("%s: routed %v, documented %v; notRouted is stale", k, served[k], documented[k])
		}
	}
	checkUnroutedOperations(t, ts.URL)
}

// checkUnroutedOperations shows that the exceptions are what the server
// does: the not-found handler serves GET .../did.json of hosted did:web
// DIDs; the subjects catch-all serves only .../history; and gin answers no
// HEAD or OPTIONS on its own (gin.New adds no HEAD for GET routes and
// HandleMethodNotAllowed is off), so the routes it lists are every method
// served.
func checkUnroutedOperations(t *testing.T, base string) {
	if resp, b := do(t, "POST", base+"/admin/dids", adminToken, `{"method":"web","path":"openapi/board"}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create did:web: %d %s", resp.StatusCode, b)
	}
	resp, b := do(t, "GET", base+"/openapi/board/did.json", "", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/did+json" || !bytes.Contains(b, []byte(":openapi:board")) {
		t.Errorf("GET a hosted did:web document: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	for _, c := range []struct{ method, path, detail string }{
		{"POST", "/openapi/board/did.json", "no such endpoint"},
		{"GET", "/openapi/none/did.json", "no DID document at this path"},
		{"GET", "/registry/subjects/did:example:x", "use /registry/subjects/{subject}/history"},
		{"HEAD", "/healthz", ""},
		{"OPTIONS", "/openapi.json", "no such endpoint"},
	} {
		resp, b := do(t, c.method, base+c.path, "", "")
		if resp.StatusCode != http.StatusNotFound || !bytes.Contains(b, []byte(c.detail)) {
			t.Errorf("%s %s = %d %s, want 404 %q", c.method, c.path, resp.StatusCode, b, c.detail)
		}
	}
}

func TestOpenAPIOperations(t *testing.T) {
	d, ops := loadOpenAPI(t, openAPIDocument)
	var tags []string
	for _, tg := range d.Tags {
		tags = append(tags, tg.Name)
	}
	if want := []string{"did", "issuer", "verifier", "trust", "registry", "wallet", "ops"}; !reflect.DeepEqual(tags, want) {
		t.Errorf("tags = %v, want %v", tags, want)
	}
	ids := map[string]string{}
	for _, o := range ops {
		if prev, dup := ids[o.OperationID]; dup || o.OperationID == "" {
			t.Errorf("%s: operationId %q (also %s)", o, o.OperationID, prev)
		}
		ids[o.OperationID] = o.String()
		if len(o.Tags) != 1 || !slices.Contains(tags, o.Tags[0]) || o.Summary == "" {
			t.Errorf("%s: tags %v, summary %q", o, o.Tags, o.Summary)
		}
		for _, req := range o.Security {
			for scheme := range req {
				if d.Components.SecuritySchemes[scheme] == nil {
					t.Errorf("%s: unknown security scheme %q", o, scheme)
				}
			}
		}
		if _, ok := d.response(o, "401"); !o.admits("") && !ok {
			t.Errorf("%s requires a token but documents no 401", o)
		}
		for status := range o.Responses {
			if r, ok := d.response(o, status); !ok || r.Content == nil && status != "204" && status != "304" {
				t.Errorf("%s: response %s is undefined or has no content", o, status)
			}
		}
	}
}

// openAPICaller is a caller of the auth test: its token and the role a
// bearerAuth requirement names to admit it.
type openAPICaller struct{ name, token, role string }

func TestOpenAPIMatchesBehaviour(t *testing.T) {
	s, ts := newServer(t, testConfig(t))
	d, ops := loadOpenAPI(t, openAPIDocument)
	callers, values := openAPICallers(t, s, ts.URL)
	// Deleting the holder ends the holder's token: last.
	last := slices.IndexFunc(ops, func(o apiOp) bool { return o.String() == "DELETE /wallet/holders/{holder}" })
	if last < 0 {
		t.Fatal("openapi.json does not document DELETE /wallet/holders/{holder}")
	}
	ops = append(append(ops[:last:last], ops[last+1:]...), ops[last])
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	var samples responseSamples
	for _, o := range ops {
		path := param.ReplaceAllStringFunc(o.Path, func(p string) string {
			if v, ok := values[p[1:len(p)-1]]; ok {
				return v
			}
			return "openapi-x"
		})
		for _, c := range callers {
			resp, body := callOperation(t, o, ts.URL+path, c.token)
			refused := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
				resp.StatusCode == http.StatusNotFound && problemType(body) == "urn:credence:problem:holder-not-found"
			if admitted := o.admits(c.role); refused == admitted {
				t.Errorf("%s with %s: answered %d %.200s, but by openapi.json's security %v the caller is %s",
					o, c.name, resp.StatusCode, body, o.Security, map[bool]string{true: "admitted", false: "refused"}[admitted])
			}
			checkDocumentedAnswer(t, d, o, c, resp, body)
			samples.add(o, c, resp, body)
		}
	}
	openAPIHappyPath(t, &apiClient{t: t, base: ts.URL, doc: d, ops: ops, samples: &samples})
	samples.check(t)
}

// openAPICallers makes a token of every kind (and the resources the
// issuer and holder tokens are for) and returns the callers with the path
// values that name those resources.
func openAPICallers(t *testing.T, s *Server, base string) ([]openAPICaller, map[string]string) {
	tenant := createTenant(t, base, `{"name":"OpenAPI Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	var v struct{ Token string }
	if resp, b := do(t, "POST", base+"/admin/verifiers", adminToken, `{"name":"OpenAPI Clinic"}`); resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &v) != nil {
		t.Fatalf("create verifier: %d %s", resp.StatusCode, b)
	}
	var h holderOut
	if resp, b := do(t, "POST", base+"/wallet/holders", adminToken, ""); resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &h) != nil {
		t.Fatalf("create holder: %d %s", resp.StatusCode, b)
	}
	scoped := func(scope string) string {
		secret, _, err := s.tokens.Issue(context.Background(), "openapi-test", "openapi test", scope)
		if err != nil {
			t.Fatal(err)
		}
		return secret
	}
	return []openAPICaller{
			{"no token", "", ""},
			{"an invalid token", "crd_" + strings.Repeat("x", 43), "(invalid)"},
			{"an admin token", adminToken, "admin"},
			{"the issuer's token", tenant.Token, "issuer:{issuer}"},
			{"a verifier token", v.Token, "verifier"},
			{"a registry token", scoped(registryapi.ScopeRegistry), "registry"},
			{"a wallet provisioning token", scoped(walletapi.ScopeProvision), "wallet"},
			{"the holder's token", h.Token, "holder:{holder}"},
		}, map[string]string{"issuer": tenant.Issuer.ID, "holder": h.Holder.ID,
			"did": "did:example:openapi", "subject": "did:example:openapi"}
}

// callOperation calls an operation with a minimal body: {} in its
// documented JSON media type, an empty form, nothing without a body.
func callOperation(t *testing.T, o apiOp, url, token string) (*http.Response, []byte) {
	if o.RequestBody == nil {
		return do(t, o.Method, url, token, "")
	}
	media := slices.Collect(maps.Keys(o.RequestBody.Content))
	if len(media) != 1 {
		t.Fatalf("%s: request media types %v (the test sends one)", o, media)
	}
	body := "{}"
	if media[0] == "application/x-www-form-urlencoded" {
		body = ""
	}
	return do(t, o.Method, url, token, body, "Content-Type", media[0])
}

// checkDocumentedAnswer fails when the status is not documented for the
// operation, or the media type answered is not documented for the status.
func checkDocumentedAnswer(t *testing.T, d openAPI, o apiOp, c openAPICaller, resp *http.Response, body []byte) {
	t.Helper()
	status := resp.Status[:3]
	r, ok := d.response(o, status)
	if !ok {
		t.Errorf("%s with %s answered %s %.200s, which openapi.json does not document", o, c.name, status, body)
		return
	}
	got, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var media []string
	for m := range r.Content {
		base, _, _ := mime.ParseMediaType(m)
		media = append(media, base)
	}
	if len(media) == 0 && len(body) > 0 || len(media) > 0 && !slices.Contains(media, got) {
		t.Errorf("%s with %s answered %s as %q, openapi.json documents %v", o, c.name, status, got, media)
	}
}

func TestOpenAPIServed(t *testing.T) {
	cfg := testConfig(t)
	cfg.PublicURL = "https://credence.example:8443"
	_, ts := newServer(t, cfg)
	resp, body := do(t, "GET", ts.URL+"/openapi.json", "", "")
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || etag == "" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET /openapi.json = %d %v", resp.StatusCode, resp.Header)
	}
	var served, embedded map[string]any
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatalf("GET /openapi.json is not JSON: %v", err)
	}
	if v, _ := served["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) || !bytes.HasPrefix(body, []byte(`{"openapi":`)) {
		t.Errorf("openapi = %v (first member: %.20s)", served["openapi"], body)
	}
	want := []any{map[string]any{"url": cfg.PublicURL, "description": "This server"}}
	if !reflect.DeepEqual(served["servers"], want) {
		t.Errorf("servers = %v, want %v", served["servers"], want)
	}
	_ = json.Unmarshal(openAPIDocument, &embedded)
	delete(served, "servers")
	delete(embedded, "servers")
	if !reflect.DeepEqual(served, embedded) {
		t.Error("GET /openapi.json is not the embedded document")
	}
	for _, c := range []struct {
		ifNoneMatch string
		status      int
	}{{etag, http.StatusNotModified}, {`"other", W/` + etag, http.StatusNotModified}, {`"other"`, http.StatusOK}} {
		resp, b := do(t, "GET", ts.URL+"/openapi.json", "", "", "If-None-Match", c.ifNoneMatch)
		if resp.StatusCode != c.status || c.status == http.StatusNotModified && len(b) > 0 {
			t.Errorf("If-None-Match %s: %d (%d bytes), want %d", c.ifNoneMatch, resp.StatusCode, len(b), c.status)
		}
	}
}

func TestWithServers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"openapi":"3.1.0","info":{"title":"t"},"paths":{}}`, `{"openapi":"3.1.0","info":{"title":"t"},"servers":[{"description":"This server","url":"https://a.example"}],"paths":{}}`},
		{"{\"openapi\": \"3.1.0\",\n \"servers\": [{\"url\": \"/\"}],\n \"info\": {\"d\": \"<a&b>\"}}", `{"openapi":"3.1.0","info":{"d":"<a&b>"},"servers":[{"description":"This server","url":"https://a.example"}]}`},
		{`[]`, ""},
		{`{"openapi":`, ""},
		{`{"openapi":"3.1.0"`, ""},
		{``, ""},
	} {
		got, err := withServers([]byte(c.in), "https://a.example")
		if string(got) != c.want || (err == nil) != (c.want != "") {
			t.Errorf("withServers(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}

// apiClient calls the server, checks each answer against the documented
// operation it reaches (status, media type) and keeps it for the schema
// check.
type apiClient struct {
	t       *testing.T
	base    string
	doc     openAPI
	ops     []apiOp
	samples *responseSamples
}

// call answers the body of a request that must answer want (any
// documented status when want is 0).
func (c *apiClient) call(method, path, token string, body any, want int, hdr ...string) []byte {
	c.t.Helper()
	var in string
	switch b := body.(type) {
	case nil:
	case string:
		in = b
	default:
		j, _ := json.Marshal(b)
		in = string(j)
	}
	resp, out := do(c.t, method, c.base+path, token, in, hdr...)
	if want != 0 && resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, out, want)
	}
	o, ok := c.operation(method, path)
	if !ok {
		c.t.Fatalf("%s %s matches no operation of openapi.json", method, path)
	}
	caller := openAPICaller{name: "the happy path (" + path + ")"}
	checkDocumentedAnswer(c.t, c.doc, o, caller, resp, out)
	c.samples.add(o, caller, resp, out)
	return out
}

// Path parameters in a regexp.QuoteMeta'd path template.
var (
	multiSegmentParam = regexp.MustCompile(`\\\{(did|path|subject)\\\}`)
	anyParam          = regexp.MustCompile(`\\\{[a-z]+\\\}`)
)

// operation finds the documented operation a request reaches: the one
// whose path template matches with the fewest parameters ({did}, {path}
// and {subject} may hold "/").
func (c *apiClient) operation(method, path string) (apiOp, bool) {
	path, _, _ = strings.Cut(path, "?")
	best, params := apiOp{}, -1
	for _, o := range c.ops {
		expr := regexp.QuoteMeta(o.Path)
		n := strings.Count(expr, `\{`)
		expr = anyParam.ReplaceAllString(multiSegmentParam.ReplaceAllString(expr, `.+`), `[^/]+`)
		if o.Method == method && regexp.MustCompile("^"+expr+"$").MatchString(path) && (params < 0 || n < params) {
			best, params = o, n
		}
	}
	return best, params >= 0
}

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

// openAPIHappyPath drives the main flows of every role with valid
// requests, so that successful answers, not only refusals, are checked
// against the document.
func openAPIHappyPath(t *testing.T, c *apiClient) {
	openAPIDIDPath(t, c)
	iss, cred := openAPIIssuerPath(t, c)
	openAPITrustPath(t, c, iss)
	openAPIVerifierPath(t, c, iss, cred)
	for _, p := range []string{"/registry/entries/0", "/registry/proofs/inclusion?index=0&size=2", "/registry/proofs/consistency?from=1&to=2",
		"/registry/subjects/" + iss.Issuer.DID + "/history", "/registry/key", "/registry/checkpoint"} {
		c.call("GET", p, "", nil, http.StatusOK)
	}
}

func openAPIDIDPath(t *testing.T, c *apiClient) {
	var d struct{ DID string }
	if err := json.Unmarshal(c.call("POST", "/admin/dids", adminToken, `{"method":"credence","label":"openapi"}`, http.StatusCreated), &d); err != nil {
		t.Fatal(err)
	}
	c.call("POST", "/admin/dids/"+d.DID+"/update", adminToken,
		`{"services":[{"id":"#hub","type":"LinkedDomains","serviceEndpoint":"https://hub.example"}]}`, http.StatusOK)
	c.call("POST", "/admin/dids/"+d.DID+"/rotate", adminToken, "", http.StatusOK)
	c.call("GET", "/admin/dids", adminToken, nil, http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID, "", nil, http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID+"?versionId=1", "", nil, http.StatusOK, "Accept", "application/did+ld+json")
	c.call("POST", "/admin/dids/"+d.DID+"/deactivate", adminToken, "{}", http.StatusOK)
	c.call("GET", "/1.0/identifiers/"+d.DID, "", nil, http.StatusGone)
	c.call("GET", "/1.0/identifiers/did:credence:nope", "", nil, 0)
	c.call("GET", "/.well-known/did.json", "", nil, http.StatusOK)
}

// openAPIIssuerPath makes an issuer, issues a license (returned), makes
// and redeems the token of an offer, revokes and reads status lists.
func openAPIIssuerPath(t *testing.T, c *apiClient) (tenantOut, map[string]any) {
	var iss tenantOut
	_ = json.Unmarshal(c.call("POST", "/admin/issuers", adminToken, map[string]any{"name": "OpenAPI Texas Board",
		"jurisdictions": []string{"TX"}, "types": []string{"MedicalLicenseCredential"}}, http.StatusCreated), &iss)
	c.call("GET", "/admin/issuers/"+iss.Issuer.ID, adminToken, nil, http.StatusOK)
	base := "/issuers/" + iss.Issuer.ID
	g := synth.New(5)
	issue := func(id string) map[string]any {
		body := map[string]any{"credential": map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL},
			"type": []any{"VerifiableCredential", "MedicalLicenseCredential"}, "credentialSubject": activeLicense(g)},
			"options": map[string]any{"credentialId": id}}
		var out struct{ VerifiableCredential map[string]any }
		_ = json.Unmarshal(c.call("POST", base+"/credentials/issue", iss.Token, body, http.StatusCreated), &out)
		return out.VerifiableCredential
	}
	cred, revoked := issue("urn:example:openapi:1"), issue("urn:example:openapi:2")
	c.call("GET", base+"/credentials?limit=1", iss.Token, nil, http.StatusOK)
	c.call("GET", base+"/credentials/urn:example:openapi:2", iss.Token, nil, http.StatusOK)
	c.call("POST", base+"/credentials/status", iss.Token, `{"credentialId":"urn:example:openapi:2","action":"revoke"}`, http.StatusOK)
	c.call("POST", base+"/credentials/batch", iss.Token, "{}\n", http.StatusOK, "Content-Type", "application/x-ndjson")
	entries, _ := revoked["credentialStatus"].([]any)
	if len(entries) == 0 {
		t.Fatalf("the license has no status entries: %v", revoked)
	}
	list, _ := entries[0].(map[string]any)["statusListCredential"].(string)
	u, err := url.Parse(list)
	if err != nil {
		t.Fatal(err)
	}
	c.call("GET", u.Path, "", nil, http.StatusOK)
	c.call("GET", u.Path+"/proof", "", nil, http.StatusOK)
	openAPIOfferPath(t, c, iss, activeLicense(g))
	c.call("GET", "/contexts/healthcare/v1", "", nil, http.StatusOK)
	return iss, cred
}

func openAPIOfferPath(t *testing.T, c *apiClient, iss tenantOut, subject map[string]any) {
	base := "/issuers/" + iss.Issuer.ID
	delete(subject, "id") // the holder's DID is bound when the offer is claimed
	var o struct {
		ID              string
		CredentialOffer struct {
			Grants map[string]struct {
				Code string `json:"pre-authorized_code"`
			}
		} `json:"credential_offer"`
		URI string `json:"credential_offer_uri"`
	}
	_ = json.Unmarshal(c.call("POST", base+"/offers", iss.Token, map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": subject}}, http.StatusCreated), &o)
	c.call("GET", base+"/offers/"+o.ID, iss.Token, nil, http.StatusOK)
	u, err := url.Parse(o.URI)
	if err != nil {
		t.Fatal(err)
	}
	c.call("GET", u.RequestURI(), "", nil, http.StatusOK)
	c.call("GET", "/.well-known/openid-credential-issuer"+base, "", nil, http.StatusOK)
	c.call("GET", "/.well-known/oauth-authorization-server"+base, "", nil, http.StatusOK)
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"},
		"pre-authorized_code": {o.CredentialOffer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].Code}}
	form2 := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}
	c.call("POST", base+"/token", "", form.Encode(), http.StatusOK, "Content-Type", "application/x-www-form-urlencoded")
	c.call("POST", base+"/token", "", form2.Encode(), http.StatusBadRequest, "Content-Type", "application/x-www-form-urlencoded")
	c.call("POST", base+"/nonce", "", nil, http.StatusOK)
	c.call("POST", base+"/credential", "an-access-token-not-issued", `{"credential_configuration_id":"x"}`, 0, "Content-Type", "application/json")
}

func openAPITrustPath(t *testing.T, c *apiClient, iss tenantOut) {
	var a struct{ Accreditation struct{ ID string } }
	_ = json.Unmarshal(c.call("POST", "/admin/accreditations", adminToken, map[string]any{"issuer": iss.Issuer.DID,
		"types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"TX"}}, http.StatusCreated), &a)
	id := a.Accreditation.ID
	c.call("PUT", "/admin/accreditations/"+id, adminToken, `{"types":["MedicalLicenseCredential"],"jurisdictions":["TX","OK"]}`, http.StatusOK)
	c.call("GET", "/trust/accreditations?jurisdiction=TX", "", nil, http.StatusOK)
	c.call("GET", "/trust/accreditations/"+id, "", nil, http.StatusOK)
	c.call("GET", "/registry/governance", "", nil, http.StatusOK)
	var b struct{ Accreditation struct{ ID string } }
	_ = json.Unmarshal(c.call("POST", "/admin/accreditations", adminToken, map[string]any{"issuer": "did:example:withdrawn",
		"types": []string{"MedicalLicenseCredential"}}, http.StatusCreated), &b)
	c.call("POST", "/admin/accreditations/"+b.Accreditation.ID+"/withdraw", adminToken, `{"reason":"openapi test"}`, http.StatusOK)
}

// openAPIVerifierPath verifies credentials, runs a presentation request
// answered by a wallet holder, and reads the audit log and watch-lists.
func openAPIVerifierPath(t *testing.T, c *apiClient, iss tenantOut, cred map[string]any) {
	var v struct {
		Verifier struct{ ID string }
		Token    string
	}
	_ = json.Unmarshal(c.call("POST", "/admin/verifiers", adminToken, `{"name":"OpenAPI Hospital"}`, http.StatusCreated), &v)
	c.call("PUT", "/admin/verifiers/"+v.Verifier.ID+"/policy", adminToken, `{"rules":true,"practiceState":"TX"}`, http.StatusOK)
	c.call("GET", "/admin/verifiers/"+v.Verifier.ID, adminToken, nil, http.StatusOK)
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": cred}, http.StatusOK)
	c.call("POST", "/credentials/verify", v.Token, map[string]any{"verifiableCredential": cred}, 0)
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": cred}, http.StatusOK, "Accept", "application/fhir+json")
	tampered := maps.Clone(cred)
	tampered["validUntil"] = "2099-01-01T00:00:00Z"
	c.call("POST", "/credentials/verify", "", map[string]any{"verifiableCredential": tampered}, http.StatusUnprocessableEntity)
	c.call("POST", "/challenges", v.Token, "", http.StatusCreated)
	c.call("POST", "/verifier/watches", v.Token, map[string]any{"credential": cred, "webhook": "https://hooks.example/credence"}, http.StatusCreated)
	var ws struct{ Watches []struct{ ID string } }
	_ = json.Unmarshal(c.call("GET", "/verifier/watches", v.Token, nil, http.StatusOK), &ws)
	if len(ws.Watches) != 1 {
		t.Fatalf("watches: %+v", ws)
	}
	c.call("GET", "/verifier/watches/"+ws.Watches[0].ID, v.Token, nil, http.StatusOK)
	c.call("GET", "/verifier/watches/"+ws.Watches[0].ID+"/deliveries", v.Token, nil, http.StatusOK)
	c.call("DELETE", "/verifier/watches/"+ws.Watches[0].ID, v.Token, nil, http.StatusNoContent)
	openAPIPresentationPath(t, c, iss, v.Token)
	c.call("GET", "/verifier/audit", v.Token, nil, http.StatusOK)
	c.call("GET", "/verifier/audit/head", v.Token, nil, http.StatusOK)
	c.call("GET", "/admin/audit/default", adminToken, nil, http.StatusOK)
	c.call("GET", "/verifier/policy", v.Token, nil, http.StatusOK)
	c.call("PUT", "/verifier/policy", v.Token, `{"checks":["proof","validity","status"]}`, http.StatusOK)
}

// openAPIPresentationPath: a holder stores a license issued to its DID and
// answers the verifier's request (made, not sent, by the wallet; posted
// here to the request's response_uri, twice).
func openAPIPresentationPath(t *testing.T, c *apiClient, iss tenantOut, verifierToken string) {
	var h holderOut
	_ = json.Unmarshal(c.call("POST", "/wallet/holders", adminToken, `{"label":"openapi","didMethod":"key"}`, http.StatusCreated), &h)
	hb := "/wallet/holders/" + h.Holder.ID
	subject := activeLicense(synth.New(9))
	subject["id"] = h.Holder.DID
	var issued struct{ VerifiableCredential any }
	_ = json.Unmarshal(c.call("POST", "/issuers/"+iss.Issuer.ID+"/credentials/issue", iss.Token, map[string]any{"credential": map[string]any{
		"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": subject}}, http.StatusCreated), &issued)
	var st struct{ ID string }
	_ = json.Unmarshal(c.call("POST", hb+"/credentials", h.Token, map[string]any{"verifiableCredential": issued.VerifiableCredential}, http.StatusCreated), &st)
	c.call("GET", hb, h.Token, nil, http.StatusOK)
	c.call("GET", hb+"/credentials?type=MedicalLicenseCredential", h.Token, nil, http.StatusOK)
	c.call("GET", hb+"/credentials/"+st.ID, h.Token, nil, http.StatusOK)
	var r struct{ ID string }
	_ = json.Unmarshal(c.call("POST", "/verifier/requests", verifierToken, map[string]any{"purpose": "credentialing", "ttl": "10m",
		"query": map[string]any{"dcql_query": map[string]any{"credentials": []any{map[string]any{"id": "license", "format": "ldp_vc",
			"meta": map[string]any{"type_values": []any{[]any{"MedicalLicenseCredential"}}}}}}}}, http.StatusCreated), &r)
	var object map[string]any
	_ = json.Unmarshal(c.call("GET", "/verifier/requests/"+r.ID+"/object", "", nil, http.StatusOK), &object)
	var p struct{ Presentation any }
	_ = json.Unmarshal(c.call("POST", hb+"/presentations", h.Token, map[string]any{"request": object, "send": false}, http.StatusCreated), &p)
	c.call("POST", "/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": p.Presentation}, 0)
	c.call("POST", "/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": p.Presentation}, http.StatusConflict)
	c.call("GET", "/verifier/requests/"+r.ID+"/object", "", nil, http.StatusGone)
	c.call("GET", "/verifier/requests/"+r.ID, verifierToken, nil, http.StatusOK)
	c.call("GET", hb+"/disclosures", h.Token, nil, http.StatusOK)
	c.call("POST", hb+"/offers", h.Token, `{"offer":"openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.invalid%2Fo"}`, 0)
	c.call("DELETE", hb+"/credentials/"+st.ID, h.Token, nil, http.StatusNoContent)
}
