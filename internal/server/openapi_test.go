package server

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
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

func TestOpenAPIServed(t *testing.T) {
	cfg := witnessingConfig(t)
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
