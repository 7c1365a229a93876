package server

import (
	"context"
	"encoding/json"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/internal/registryapi"
	walletapi "github.com/credence/credence/wallet-api"
)

// openAPICaller is a caller of the auth test: its token and the role a
// bearerAuth requirement names to admit it.
type openAPICaller struct{ name, token, role string }

func TestOpenAPIMatchesBehaviour(t *testing.T) {
	s, ts := newServer(t, witnessingConfig(t))
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
