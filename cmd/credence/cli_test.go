package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/server"
)

const testAdminToken = "test-admin-token-0123456789abcdef"

// A fixed Ed25519 did:key (a W3C did:key test vector).
const vectorDIDKey = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

// TestMain clears the CREDENCE_* environment so a developer's settings (server
// URL, token, master key, admin token) cannot leak into the commands under test.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "CREDENCE_") {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

// run executes the CLI in-process and returns everything it wrote.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetIn(strings.NewReader(""))
	err := cmd.ExecuteContext(t.Context())
	return buf.String(), err
}

// mustRun is run that fails the test on error.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("credence %s: %v\noutput:\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runErr is run that fails the test unless the command fails with an error
// containing every one of want.
func runErr(t *testing.T, args []string, want ...string) error {
	t.Helper()
	out, err := run(t, args...)
	if err == nil {
		t.Fatalf("credence %s succeeded, want an error\noutput:\n%s", strings.Join(args, " "), out)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("credence %s: error %q does not mention %q", strings.Join(args, " "), err, w)
		}
	}
	return err
}

type createOutput struct {
	DID         string        `json:"did"`
	DIDDocument *did.Document `json:"didDocument"`
	KeyIDs      []string      `json:"keyIds"`
}

func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("output has more than one JSON value:\n%s", out)
	}
	return v
}

// checkCreated checks a `did create --json` answer: the DID has prefix, its
// document names it, and it was made on exactly one key that the document uses.
func checkCreated(t *testing.T, c createOutput, prefix string) {
	t.Helper()
	if !strings.HasPrefix(c.DID, prefix) {
		t.Errorf("did = %q, want prefix %q", c.DID, prefix)
	}
	if c.DIDDocument == nil || c.DIDDocument.ID != c.DID {
		t.Fatalf("didDocument = %+v, want id %q", c.DIDDocument, c.DID)
	}
	if len(c.KeyIDs) != 1 || c.KeyIDs[0] == "" {
		t.Errorf("keyIds = %q, want exactly one", c.KeyIDs)
	}
	if len(c.DIDDocument.VerificationMethod) == 0 {
		t.Errorf("didDocument has no verification method: %+v", c.DIDDocument)
	}
	for _, vm := range c.DIDDocument.VerificationMethod {
		if vm.Controller != c.DID || !strings.HasPrefix(vm.ID, c.DID+"#") {
			t.Errorf("verification method %+v does not belong to %s", vm, c.DID)
		}
	}
}

func TestDIDCreateLocal(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // created by the command

	first := decode[createOutput](t, mustRun(t, "did", "create", "--method", "key", "--data", data, "--json"))
	checkCreated(t, first, "did:key:z6Mk")

	st, err := os.Stat(filepath.Join(data, "master.key"))
	if err != nil {
		t.Fatalf("the data dir has no master key after did create: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode = %v, want 0600", st.Mode().Perm())
	}
	masterBefore, _ := os.ReadFile(filepath.Join(data, "master.key"))

	// The data dir is reused: the master key is loaded, not replaced, and new DIDs
	// get new keys.
	second := decode[createOutput](t, mustRun(t, "did", "create", "--method", "key", "--data", data, "--json", "--label", "second"))
	checkCreated(t, second, "did:key:z6Mk")
	if second.DID == first.DID || second.KeyIDs[0] == first.KeyIDs[0] {
		t.Errorf("two creates gave the same DID or key: %v / %v", first, second)
	}
	if masterAfter, _ := os.ReadFile(filepath.Join(data, "master.key")); !bytes.Equal(masterBefore, masterAfter) {
		t.Error("the second did create replaced master.key")
	}

	p256 := decode[createOutput](t, mustRun(t, "did", "create", "--key-type", "P-256", "--data", data, "--json"))
	checkCreated(t, p256, "did:key:zDn")

	jwk := decode[createOutput](t, mustRun(t, "did", "create", "--method", "jwk", "--data", data, "--json"))
	checkCreated(t, jwk, "did:jwk:")

	// Locally made did:key and did:jwk DIDs resolve (locally) to the documents
	// the create printed.
	for _, c := range []createOutput{first, p256, jwk} {
		res := decode[did.Resolution](t, mustRun(t, "did", "resolve", c.DID, "--json"))
		if !reflect.DeepEqual(res.Document, c.DIDDocument) {
			t.Errorf("resolving %s gave\n%+v\nwant the created document\n%+v", c.DID, res.Document, c.DIDDocument)
		}
	}

	// The keys are really kept: a server started on the data dir lists every DID
	// made offline, with its key id.
	cfg := config.Defaults()
	cfg.DataDir = data
	cfg.AdminToken = testAdminToken
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer func() { ts.Close(); srv.Close() }()
	code, body := httpDo(t, http.MethodGet, ts.URL+"/admin/dids", testAdminToken, "")
	if code != http.StatusOK {
		t.Fatalf("GET /admin/dids = %d %s", code, body)
	}
	var list struct {
		DIDs []struct {
			DID    string   `json:"did"`
			KeyIDs []string `json:"keyIds"`
		} `json:"dids"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	listed := map[string][]string{}
	for _, d := range list.DIDs {
		listed[d.DID] = d.KeyIDs
	}
	for _, c := range []createOutput{first, second, p256, jwk} {
		if !reflect.DeepEqual(listed[c.DID], c.KeyIDs) {
			t.Errorf("server lists %s with keys %q, want %q (all listed: %s)", c.DID, listed[c.DID], c.KeyIDs, body)
		}
	}
}

func TestDIDCreateLocalErrors(t *testing.T) {
	data := t.TempDir()
	runErr(t, []string{"did", "create", "--method", "web", "--data", data}, "--server")
	runErr(t, []string{"did", "create", "--method", "web", "--path", "issuers/tx", "--data", data}, "--server")
	runErr(t, []string{"did", "create", "--method", "ion", "--data", data})
	runErr(t, []string{"did", "create", "--key-type", "RSA", "--data", data}, "RSA")
	runErr(t, []string{"did", "create", "--method", "key", "--path", "issuers/tx", "--data", data}, "--path")
	runErr(t, []string{"did", "create", "extra-arg", "--data", data})
	if entries, _ := os.ReadDir(filepath.Join(data)); len(entries) > 0 {
		// Rejected before anything was opened or made: none of the above may
		// have created keys. (A master key alone would be harmless, but the
		// checks above all fail on input validation.)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("rejected creates wrote to the data dir: %v", names)
	}
}

func TestDIDCreateReadableOutput(t *testing.T) {
	out := mustRun(t, "did", "create", "--data", t.TempDir())
	for _, want := range []string{"Created did:key:z6Mk", "key ids: ", "verification method did:key:", "type ", "assertionMethod: did:key:", "authentication: did:key:"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not contain %q:\n%s", want, out)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("output without --json looks like JSON:\n%s", out)
	}
}

func TestDIDResolveLocal(t *testing.T) {
	res := decode[did.Resolution](t, mustRun(t, "did", "resolve", vectorDIDKey, "--json"))
	if res.Document == nil || res.Document.ID != vectorDIDKey {
		t.Fatalf("didDocument = %+v, want id %s", res.Document, vectorDIDKey)
	}
	if len(res.Document.VerificationMethod) == 0 || res.Document.VerificationMethod[0].Type != "Multikey" {
		t.Errorf("default representation = %+v, want Multikey", res.Document.VerificationMethod)
	}

	res = decode[did.Resolution](t, mustRun(t, "did", "resolve", vectorDIDKey, "--public-key-format", "JsonWebKey2020", "--json"))
	if res.Document == nil || len(res.Document.VerificationMethod) == 0 {
		t.Fatalf("no verification method: %+v", res.Document)
	}
	if vm := res.Document.VerificationMethod[0]; vm.Type != "JsonWebKey2020" || vm.PublicKeyJwk == nil {
		t.Errorf("verification method = %+v, want a JsonWebKey2020 with publicKeyJwk", vm)
	}

	out := mustRun(t, "did", "resolve", vectorDIDKey)
	for _, want := range []string{vectorDIDKey + "\n", "verification method " + vectorDIDKey + "#", "type Multikey"} {
		if !strings.Contains(out, want) {
			t.Errorf("readable output does not contain %q:\n%s", want, out)
		}
	}

	runErr(t, []string{"did", "resolve", "not-a-did"}, "INVALID_DID")
	runErr(t, []string{"did", "resolve", "did:example:1"}, "METHOD_NOT_SUPPORTED")
	runErr(t, []string{"did", "resolve"})
	runErr(t, []string{"did", "resolve", vectorDIDKey, vectorDIDKey})
}

// testServer starts a real Credence handler on a fresh data dir.
func testServer(t *testing.T, adjust ...func(*config.Config)) (*server.Server, *httptest.Server, config.Config) {
	t.Helper()
	n := startNode(t, t.TempDir(), adjust...)
	return n.srv, n.ts, n.cfg
}

// node is a Credence server on a data dir that a test stops and restarts.
type node struct {
	srv *server.Server
	ts  *httptest.Server
	cfg config.Config
}

// startNode starts a real Credence handler on dir (stopped at the test's
// end, or by stop).
func startNode(t *testing.T, dir string, adjust ...func(*config.Config)) *node {
	t.Helper()
	cfg := config.Defaults()
	cfg.DataDir, cfg.AdminToken = dir, testAdminToken
	for _, f := range adjust {
		f(&cfg)
	}
	// The public URL is the test server's own, so the status lists named in
	// issued credentials can be fetched.
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	cfg.PublicURL = "http://" + ts.Listener.Addr().String()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	n := &node{srv, ts, cfg}
	t.Cleanup(n.stop)
	return n
}

func (n *node) stop() {
	if n.ts != nil {
		n.ts.Close()
		n.srv.Close()
		n.ts = nil
	}
}

func httpDo(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestDIDAgainstServer(t *testing.T) {
	_, ts, cfg := testServer(t)

	key := decode[createOutput](t, mustRun(t, "did", "create", "--server", ts.URL, "--token", testAdminToken, "--method", "key", "--json"))
	checkCreated(t, key, "did:key:z6Mk")

	p256 := decode[createOutput](t, mustRun(t, "did", "create", "--server", ts.URL+"/", "--token", testAdminToken, "--key-type", "P-256", "--json"))
	checkCreated(t, p256, "did:key:zDn")

	runErr(t, []string{"did", "create", "--server", ts.URL, "--method", "key", "--json"}, "401", "Unauthorized")
	runErr(t, []string{"did", "create", "--server", ts.URL, "--token", "wrong-token-0123456789abcdef0123", "--json"}, "401", "Unauthorized")
	runErr(t, []string{"did", "create", "--server", ts.URL, "--token", testAdminToken, "--key-type", "RSA"}, "422")
	runErr(t, []string{"did", "create", "--server", ts.URL, "--token", testAdminToken, "--method", "web"}, "422", "path")
	runErr(t, []string{"did", "create", "--server", ts.URL, "--token", testAdminToken, "--method", "key", "--path", "a/b"}, "422", "path")

	web := decode[createOutput](t, mustRun(t, "did", "create", "--server", ts.URL, "--token", testAdminToken,
		"--method", "web", "--path", "issuers/tx", "--label", "Texas board", "--json"))
	checkCreated(t, web, "did:web:")
	if !strings.HasSuffix(web.DID, ":issuers:tx") {
		t.Errorf("did:web = %s, want it to end in :issuers:tx", web.DID)
	}
	// The same path cannot be taken twice.
	runErr(t, []string{"did", "create", "--server", ts.URL, "--token", testAdminToken, "--method", "web", "--path", "issuers/tx"}, "422")

	// The server hosts the did:web document it created.
	code, body := httpDo(t, http.MethodGet, ts.URL+"/issuers/tx/did.json", "", "")
	if code != http.StatusOK {
		t.Fatalf("GET /issuers/tx/did.json = %d %s", code, body)
	}
	var hosted did.Document
	if err := json.Unmarshal(body, &hosted); err != nil || !reflect.DeepEqual(&hosted, web.DIDDocument) {
		t.Errorf("hosted document %s differs from the created one %+v (%v)", body, web.DIDDocument, err)
	}

	// Resolution through the server gives the created documents.
	for _, c := range []createOutput{key, p256, web} {
		res := decode[did.Resolution](t, mustRun(t, "did", "resolve", c.DID, "--server", ts.URL, "--json"))
		if !reflect.DeepEqual(res.Document, c.DIDDocument) {
			t.Errorf("resolving %s through the server gave\n%+v\nwant\n%+v", c.DID, res.Document, c.DIDDocument)
		}
	}
	// The service's own did:web (the root) resolves too.
	pub := strings.TrimPrefix(cfg.PublicURL, "http://")
	rootDID := "did:web:" + strings.ReplaceAll(pub, ":", "%3A")
	res := decode[did.Resolution](t, mustRun(t, "did", "resolve", rootDID, "--server", ts.URL, "--json"))
	if res.Document == nil || res.Document.ID != rootDID || len(res.Document.VerificationMethod) != 2 {
		t.Errorf("service DID resolution = %+v, want %s with two keys", res.Document, rootDID)
	}

	res = decode[did.Resolution](t, mustRun(t, "did", "resolve", vectorDIDKey, "--server", ts.URL, "--public-key-format", "JsonWebKey2020", "--json"))
	if res.Document == nil || len(res.Document.VerificationMethod) == 0 || res.Document.VerificationMethod[0].Type != "JsonWebKey2020" {
		t.Errorf("--public-key-format through the server: %+v", res.Document)
	}

	out := mustRun(t, "did", "resolve", key.DID, "--server", ts.URL)
	if !strings.Contains(out, key.DID+"\n") || !strings.Contains(out, "verification method "+key.DID+"#") {
		t.Errorf("readable output:\n%s", out)
	}

	runErr(t, []string{"did", "resolve", "did:example:1", "--server", ts.URL, "--json"}, "METHOD_NOT_SUPPORTED")
	runErr(t, []string{"did", "resolve", "not-a-did", "--server", ts.URL}, "INVALID_DID")
	// A DID URL's query becomes resolution options and its fragment is not sent.
	runErr(t, []string{"did", "resolve", vectorDIDKey + "?versionId=1", "--server", ts.URL}, "INVALID_OPTIONS")
	if out := mustRun(t, "did", "resolve", vectorDIDKey+"#frag", "--server", ts.URL, "--json"); !strings.Contains(out, `"id": "`+vectorDIDKey+`"`) {
		t.Errorf("DID URL with fragment did not resolve the DID:\n%s", out)
	}
	runErr(t, []string{"did", "resolve", vectorDIDKey, "--server", ts.URL, "--public-key-format", "NoSuchFormat"})
	runErr(t, []string{"did", "resolve", "did:web:" + strings.ReplaceAll(pub, ":", "%3A") + ":nobody:here", "--server", ts.URL}, "NOT_FOUND")
}

// TestDIDServerFromEnvironment checks CREDENCE_SERVER and CREDENCE_TOKEN stand
// in for --server and --token, and that the flags win over them.
func TestDIDServerFromEnvironment(t *testing.T) {
	_, ts, _ := testServer(t)
	t.Setenv("CREDENCE_SERVER", ts.URL)
	t.Setenv("CREDENCE_TOKEN", testAdminToken)
	c := decode[createOutput](t, mustRun(t, "did", "create", "--json"))
	checkCreated(t, c, "did:key:z6Mk")

	runErr(t, []string{"did", "create", "--token", "wrong-token-0123456789abcdef0123"}, "401")

	// --server "" goes back to local mode.
	data := t.TempDir()
	c = decode[createOutput](t, mustRun(t, "did", "create", "--server", "", "--data", data, "--json"))
	checkCreated(t, c, "did:key:z6Mk")
	if _, err := os.Stat(filepath.Join(data, "master.key")); err != nil {
		t.Errorf("--server \"\" did not create locally: %v", err)
	}
}

// TestDIDResolveDeactivatedThroughServer checks a deactivated DID, which the
// resolution binding answers with 410 Gone and a normal result, is shown as
// deactivated rather than as an error.
func TestDIDResolveDeactivatedThroughServer(t *testing.T) {
	const id = "did:web:example.com:gone"
	var gotPath string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.EscapedPath()
		w.Header().Set("Content-Type", did.MediaDIDResolution)
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, `{"@context":"https://w3id.org/did-resolution/v1","didDocument":{"id":"`+id+`"},
			"didDocumentMetadata":{"deactivated":true},"didResolutionMetadata":{"contentType":"application/did+ld+json"}}`)
	}))
	defer ts.Close()

	out := mustRun(t, "did", "resolve", id, "--server", ts.URL)
	if !strings.Contains(out, id) || !strings.Contains(out, "DEACTIVATED") {
		t.Errorf("output:\n%s", out)
	}
	if gotPath != "/1.0/identifiers/"+id {
		t.Errorf("request path = %s", gotPath)
	}
	res := decode[did.Resolution](t, mustRun(t, "did", "resolve", id, "--server", ts.URL, "--json"))
	if !res.DocumentMetadata.Deactivated || res.Document == nil || res.Document.ID != id {
		t.Errorf("JSON result = %+v", res)
	}
}

// TestDIDCreateWhileServerHoldsDataDir checks an offline create on a data dir
// a running server has open fails with a clear message instead of hanging.
func TestDIDCreateWhileServerHoldsDataDir(t *testing.T) {
	_, _, cfg := testServer(t)
	runErr(t, []string{"did", "create", "--data", cfg.DataDir}, "locked")
}

func TestServeInvalidConfig(t *testing.T) {
	data := t.TempDir()
	err := runErr(t, []string{"serve", "--addr", "nope", "--data", data}, "--addr", "invalid configuration")
	if strings.Contains(err.Error(), "--data") {
		t.Errorf("error blames a valid setting: %v", err)
	}
	runErr(t, []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--log-level", "loud", "--log-format", "xml"}, "--log-level", "--log-format")
	runErr(t, []string{"serve", "--data", data, "--tls-cert", filepath.Join(data, "missing.pem")}, "--tls-cert")
	runErr(t, []string{"serve", "--shutdown-timeout", "soon", "--data", data}, "shutdown-timeout")
	runErr(t, []string{"serve", "unexpected", "--data", data})
	// Nothing was started: the data dir is untouched.
	err = filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if p != data {
			t.Errorf("invalid serve wrote %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
