package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/wallet-api/wallet"
)

// walletTestServer starts a real server whose public URL is its own (the
// URLs of presentation requests are built from it) and whose wallet may
// reach the verifier on loopback.
func walletTestServer(t *testing.T) string {
	t.Helper()
	_, ts, _ := testServer(t, func(c *config.Config) { c.WebAllowPrivate = true })
	return ts.URL
}

// runIn is run with stdin as standard input.
func walletRunIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&buf)
	cmd.SetErr(&buf)
	cmd.SetIn(strings.NewReader(stdin))
	err := cmd.ExecuteContext(t.Context())
	return buf.String(), err
}

// post sends body as JSON and fails the test unless the answer is want.
func walletPost(t *testing.T, u, token string, body any, want int) []byte {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	status, out := httpDo(t, http.MethodPost, u, token, string(b))
	if status != want {
		t.Fatalf("POST %s: %d, want %d: %s", u, status, want, out)
	}
	return out
}

type walletCreated struct {
	Holder wallet.Holder `json:"holder"`
	Token  string        `json:"token"`
}

type walletList struct {
	Credentials []wallet.Stored `json:"credentials"`
}

type walletDisclosures struct {
	Disclosures []wallet.Disclosure `json:"disclosures"`
}

// walletClinic is an accredited issuer of patient identity credentials.
type walletClinic struct {
	srv, id, did, token string
}

func newWalletClinic(t *testing.T, srv string) walletClinic {
	t.Helper()
	var out struct {
		Issuer struct{ ID, DID string } `json:"issuer"`
		Token  string                   `json:"token"`
	}
	b := walletPost(t, srv+"/admin/issuers", testAdminToken, map[string]any{"name": "Mercy Clinic identity desk",
		"jurisdictions": []string{"NY"}, "types": []string{"PatientIdentityCredential"}}, http.StatusCreated)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	walletPost(t, srv+"/admin/accreditations", testAdminToken, map[string]any{"issuer": out.Issuer.DID,
		"types": []string{"PatientIdentityCredential"}, "jurisdictions": []string{"NY"}}, http.StatusCreated)
	return walletClinic{srv: srv, id: out.Issuer.ID, did: out.Issuer.DID, token: out.Token}
}

// issue answers the issuer's answer {"verifiableCredential": ...} as it is.
func (c walletClinic) issue(t *testing.T, format string, subject map[string]any) []byte {
	t.Helper()
	return walletPost(t, c.srv+"/issuers/"+c.id+"/credentials/issue", c.token, map[string]any{"credential": map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", healthcare.ContextURL},
		"type":              []any{"VerifiableCredential", "PatientIdentityCredential"},
		"credentialSubject": subject,
	}, "options": map[string]any{"format": format}}, http.StatusCreated)
}

// walletIdentityQuery asks for the name and birth date of a patient identity SD-JWT VC.
var walletIdentityQuery = map[string]any{"credentials": []any{map[string]any{
	"id": "pid", "format": "dc+sd-jwt", "meta": map[string]any{"vct_values": []any{healthcare.Vocab + "PatientIdentityCredential"}},
	"claims": []any{map[string]any{"path": []any{"name"}}, map[string]any{"path": []any{"birthDate"}}},
}}}

var walletIdentityDisclosed = []string{"/credentialSubject/birthDate", "/credentialSubject/name"}

type walletRequest struct{ ID, URL string }

func newWalletRequest(t *testing.T, srv, token string) walletRequest {
	t.Helper()
	var r walletRequest
	b := walletPost(t, srv+"/verifier/requests", token, map[string]any{"purpose": "check-in", "query": map[string]any{"dcql_query": walletIdentityQuery}}, http.StatusCreated)
	if err := json.Unmarshal(b, &r); err != nil || r.URL == "" {
		t.Fatalf("presentation request: %v %s", err, b)
	}
	return r
}

// writeFile writes content to name in dir and returns its path.
func walletWriteFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sdDisclosed are the claim names an SD-JWT+KB discloses.
func walletSDDisclosed(t *testing.T, token string) []string {
	t.Helper()
	parts := strings.Split(token, "~")
	if len(parts) < 2 || parts[len(parts)-1] == "" {
		t.Fatalf("not an SD-JWT+KB: %q", token)
	}
	var names []string
	for _, d := range parts[1 : len(parts)-1] {
		b, err := base64.RawURLEncoding.DecodeString(d)
		var arr []any
		if err != nil || json.Unmarshal(b, &arr) != nil || len(arr) != 3 {
			t.Fatalf("disclosure %q: %v %s", d, err, b)
		}
		names = append(names, arr[1].(string))
	}
	slices.Sort(names)
	return names
}

func TestWalletCLI(t *testing.T) {
	srv := walletTestServer(t)
	dir := t.TempDir()

	pat := decode[walletCreated](t, mustRun(t, "wallet", "create-holder", "--server", srv, "--token", testAdminToken, "--label", "Pat Example", "--json"))
	if h := pat.Holder; !strings.HasPrefix(h.ID, "h") || !strings.HasPrefix(h.DID, "did:key:z6Mk") || h.Label != "Pat Example" || h.DIDMethod != "key" || pat.Token == "" {
		t.Fatalf("create-holder --json: %+v", pat)
	}
	as := func(a ...string) []string {
		return append(a, "--server", srv, "--holder", pat.Holder.ID, "--token", pat.Token)
	}

	// Credentials from an issuer: its answer on standard input, a credential
	// object in a file, a compact JWT as text in a file.
	clinic := newWalletClinic(t, srv)
	pt := synth.New(11).Patient()
	subject := pt.IdentitySubject()
	subject["id"] = pat.Holder.DID
	out, err := walletRunIn(t, string(clinic.issue(t, "sd-jwt", subject)), as("wallet", "add", "-")...)
	if err != nil {
		t.Fatalf("wallet add -: %v\n%s", err, out)
	}
	for _, want := range []string{" is in the wallet", "format               dc+sd-jwt", "PatientIdentityCredential", "issuer               " + clinic.did} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet add - lacks %q:\n%s", want, out)
		}
	}
	var di struct{ VerifiableCredential json.RawMessage }
	if err := json.Unmarshal(clinic.issue(t, "di", subject), &di); err != nil {
		t.Fatal(err)
	}
	diFile := walletWriteFile(t, dir, "identity.json", di.VerifiableCredential)
	diSt := decode[wallet.Stored](t, mustRun(t, as("wallet", "add", diFile, "--json")...))
	// A VC-JOSE credential comes enveloped: its token is the data: URL's.
	var jwt struct{ VerifiableCredential struct{ ID string } }
	_ = json.Unmarshal(clinic.issue(t, "jwt", subject), &jwt)
	_, token, _ := strings.Cut(jwt.VerifiableCredential.ID, ",")
	if strings.Count(token, ".") != 2 {
		t.Fatalf("issued JWT: %+v", jwt)
	}
	jwtSt := decode[wallet.Stored](t, mustRun(t, as("wallet", "add", walletWriteFile(t, dir, "identity.jwt", []byte(token+"\n")), "--json")...))
	if diSt.Format == jwtSt.Format || diSt.Format == "dc+sd-jwt" || diSt.Issuer != clinic.did || !slices.Contains(jwtSt.Types, "PatientIdentityCredential") {
		t.Fatalf("added: %+v\n%+v", diSt, jwtSt)
	}
	// The same credential again is the same wallet credential.
	if again := decode[wallet.Stored](t, mustRun(t, as("wallet", "add", diFile, "--json")...)); again.ID != diSt.ID {
		t.Errorf("adding again: %s, want %s", again.ID, diSt.ID)
	}

	// Lists, with filters.
	if l := decode[walletList](t, mustRun(t, as("wallet", "list", "--json")...)); len(l.Credentials) != 3 {
		t.Fatalf("wallet list --json: %+v", l)
	}
	sd := decode[walletList](t, mustRun(t, as("wallet", "list", "--format", "dc+sd-jwt", "--issuer", clinic.did, "--json")...))
	if len(sd.Credentials) != 1 || sd.Credentials[0].Format != "dc+sd-jwt" || sd.Credentials[0].Claims != nil {
		t.Fatalf("wallet list --format dc+sd-jwt: %+v", sd)
	}
	sdID := sd.Credentials[0].ID
	out = mustRun(t, as("wallet", "list", "--format", diSt.Format)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "VALID UNTIL") ||
		!strings.HasPrefix(lines[1], diSt.ID+" ") || !strings.Contains(lines[1], " PatientIdentityCredential ") || !strings.Contains(lines[1], clinic.did) {
		t.Errorf("wallet list --format %s:\n%s", diSt.Format, out)
	}
	if out := mustRun(t, as("wallet", "list", "--type", "MedicalLicenseCredential")...); strings.TrimSpace(out) != "no credentials" {
		t.Errorf("wallet list --type MedicalLicenseCredential:\n%s", out)
	}

	out = mustRun(t, as("wallet", "show", sdID)...)
	for _, want := range []string{"id                   " + sdID, "dc+sd-jwt", "vct                  " + healthcare.Vocab + "PatientIdentityCredential", "claims ", pt.Family} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet show lacks %q:\n%s", want, out)
		}
	}
	if st := decode[wallet.Stored](t, mustRun(t, as("wallet", "show", sdID, "--json")...)); st.ID != sdID || len(st.Credential) == 0 || st.Claims == nil {
		t.Errorf("wallet show --json: %+v", st)
	}

	// A front desk asks for the name and birth date. The holder first makes
	// a presentation from the request object in a file without sending it,
	// then answers the request's URL.
	var desk struct{ Token string }
	if err := json.Unmarshal(walletPost(t, srv+"/admin/verifiers", testAdminToken, map[string]any{"name": "Front desk"}, http.StatusCreated), &desk); err != nil {
		t.Fatal(err)
	}
	r := newWalletRequest(t, srv, desk.Token)
	status, object := httpDo(t, http.MethodGet, r.URL, "", "")
	if status != http.StatusOK {
		t.Fatalf("request object: %d %s", status, object)
	}
	vpFile := filepath.Join(dir, "vp.txt")
	out = mustRun(t, as("wallet", "present", "--request", walletWriteFile(t, dir, "request.json", object), "--no-send", "--out", vpFile)...)
	for _, want := range []string{"request " + r.ID, "not sent", "PatientIdentityCredential from " + clinic.did + ": " + strings.Join(walletIdentityDisclosed, ", "), "written to           " + vpFile} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet present --no-send lacks %q:\n%s", want, out)
		}
	}
	vp, err := os.ReadFile(vpFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := walletSDDisclosed(t, strings.TrimSuffix(string(vp), "\n")); !slices.Equal(got, []string{"birthDate", "name"}) {
		t.Errorf("the presentation written discloses %q", got)
	}
	if fi, err := os.Stat(vpFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the presentation file: %v %v", fi.Mode(), err)
	}

	out = mustRun(t, as("wallet", "present", "--request", r.URL)...)
	for _, want := range []string{"request " + r.ID, "verifier answered    200 OK: accept", strings.Join(walletIdentityDisclosed, ", ")} {
		if !strings.Contains(out, want) {
			t.Errorf("wallet present --request URL lacks %q:\n%s", want, out)
		}
	}
	var got struct{ Outcome struct{ Decision string } }
	if status, b := httpDo(t, http.MethodGet, srv+"/verifier/requests/"+r.ID, desk.Token, ""); status != http.StatusOK || json.Unmarshal(b, &got) != nil || got.Outcome.Decision != "accept" {
		t.Fatalf("the front desk's outcome: %d %s", status, b)
	}
	runErr(t, as("wallet", "present", "--request", r.URL), "400", "closed")

	// A second request, answered with a chosen credential, in JSON, unsent;
	// a credential that cannot answer it is refused.
	r2 := newWalletRequest(t, srv, desk.Token)
	runErr(t, as("wallet", "present", "--request", r2.URL, "--credential", diSt.ID), "422", "cannot be satisfied")
	p := decode[wallet.Presentation](t, mustRun(t, as("wallet", "present", "--request", r2.URL, "--credential", sdID, "--no-send", "--json")...))
	if tok, ok := p.Presentation.(string); !ok || p.Response != nil || p.Disclosure.RequestID != r2.ID || p.Disclosure.Delivered || !strings.Contains(tok, "~") {
		t.Errorf("wallet present --json: %+v", p)
	}

	// The log, newest first.
	out = mustRun(t, as("wallet", "disclosures")...)
	var heads []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, " ") {
			heads = append(heads, l)
		}
	}
	if len(heads) != 3 || !strings.Contains(heads[0], "request "+r2.ID+"  not delivered") ||
		!strings.Contains(heads[1], "request "+r.ID+"  accept (HTTP 200)") || !strings.Contains(heads[2], "request "+r.ID+"  not delivered") ||
		strings.Count(out, strings.Join(walletIdentityDisclosed, ", ")) != 3 {
		t.Errorf("wallet disclosures:\n%s", out)
	}
	log := decode[walletDisclosures](t, mustRun(t, as("wallet", "disclosures", "--json")...))
	if len(log.Disclosures) != 3 || log.Disclosures[1].Outcome != "accept" || log.Disclosures[1].Status != http.StatusOK ||
		len(log.Disclosures[1].Credentials) != 1 || !slices.Equal(log.Disclosures[1].Credentials[0].Disclosed, walletIdentityDisclosed) {
		t.Errorf("wallet disclosures --json: %+v", log)
	}

	// Delete.
	if out := mustRun(t, as("wallet", "delete", jwtSt.ID)...); out != "credential "+jwtSt.ID+" deleted\n" {
		t.Errorf("wallet delete: %q", out)
	}
	if l := decode[walletList](t, mustRun(t, as("wallet", "list", "--json")...)); len(l.Credentials) != 2 || slices.ContainsFunc(l.Credentials, func(s wallet.Stored) bool { return s.ID == jwtSt.ID }) {
		t.Errorf("wallet list after delete: %+v", l)
	}
	runErr(t, as("wallet", "show", jwtSt.ID), "404", "No such credential")
	runErr(t, as("wallet", "delete", jwtSt.ID), "404", "No such credential")
}

// TestWalletCLIPresentFailures: a verifier that refuses the presentation,
// and one that cannot be reached (made and recorded, not delivered), both
// exit non-zero and still write --out.
func TestWalletCLIPresentFailures(t *testing.T) {
	srv := walletTestServer(t)
	dir := t.TempDir()
	var h walletCreated
	if err := json.Unmarshal(walletPost(t, srv+"/wallet/holders", testAdminToken, map[string]any{}, http.StatusCreated), &h); err != nil {
		t.Fatal(err)
	}
	as := func(a ...string) []string {
		return append(a, "--server", srv, "--holder", h.Holder.ID, "--token", h.Token)
	}
	subject := synth.New(5).Patient().IdentitySubject()
	subject["id"] = h.Holder.DID
	mustRunIn := func(stdin string, args ...string) {
		if out, err := walletRunIn(t, stdin, args...); err != nil {
			t.Fatalf("credence %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	mustRunIn(string(newWalletClinic(t, srv).issue(t, "sd-jwt", subject)), as("wallet", "add", "-")...)

	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(`{"verified":false,"decision":"reject"}`))
	}))
	defer refuser.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	goneURL := gone.URL
	gone.Close()
	inline := func(name, responseURI string) string {
		b, _ := json.Marshal(map[string]any{"id": name, "verifier": "test desk", "challenge": "challenge-" + name,
			"domain": strings.TrimPrefix(responseURI, "http://"), "dcql_query": walletIdentityQuery, "response_uri": responseURI})
		return walletWriteFile(t, dir, name+".json", b)
	}

	out, err := run(t, as("wallet", "present", "--request", inline("refused", refuser.URL))...)
	if !errors.Is(err, errSilentFailure) || !strings.Contains(out, "verifier answered    422 Unprocessable Entity: reject") {
		t.Errorf("a refused presentation: %v\n%s", err, out)
	}

	vpFile := filepath.Join(dir, "vp.txt")
	out, err = run(t, as("wallet", "present", "--request", inline("unreachable", goneURL), "--out", vpFile)...)
	if err == nil || !strings.Contains(err.Error(), "not delivered") || !strings.Contains(err.Error(), "502 Verifier unreachable") || !strings.Contains(out, "request unreachable\n  not delivered to the verifier\n") {
		t.Errorf("an unreachable verifier: %v\n%s", err, out)
	}
	if vp, err := os.ReadFile(vpFile); err != nil || !slices.Equal(walletSDDisclosed(t, strings.TrimSpace(string(vp))), []string{"birthDate", "name"}) {
		t.Errorf("the undelivered presentation was not written: %v", err)
	}

	log := decode[walletDisclosures](t, mustRun(t, as("wallet", "disclosures", "--json")...))
	if len(log.Disclosures) != 2 || log.Disclosures[0].Delivered || log.Disclosures[1].Outcome != "reject" || log.Disclosures[1].Status != http.StatusUnprocessableEntity {
		t.Errorf("disclosures: %+v", log)
	}
	out = mustRun(t, as("wallet", "disclosures")...)
	// The log names where each presentation went, and the name the request
	// claimed as a claim.
	unreachable := strings.TrimPrefix(goneURL, "http://") + ` (claims to be "test desk")  request unreachable  not delivered`
	refused := strings.TrimPrefix(refuser.URL, "http://") + ` (claims to be "test desk")  request refused  reject (HTTP 422)`
	if !strings.Contains(out, unreachable) || !strings.Contains(out, refused) {
		t.Errorf("wallet disclosures:\n%s", out)
	}
}

func TestWalletCLIErrors(t *testing.T) {
	srv := walletTestServer(t)
	dir := t.TempDir()

	out := mustRun(t, "wallet", "create-holder", "--server", srv, "--token", testAdminToken, "--did-method", "jwk")
	for _, want := range []string{"holder h", "did:jwk:", "token                ", "shown only now"} {
		if !strings.Contains(out, want) {
			t.Errorf("create-holder lacks %q:\n%s", want, out)
		}
	}
	var other walletCreated
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "holder" && f[2] == "created" {
			other.Holder.ID = f[1]
		} else if len(f) == 2 && f[0] == "token" {
			other.Token = f[1]
		}
	}
	// The token printed is the holder's.
	if out := mustRun(t, "wallet", "list", "--server", srv, "--holder", other.Holder.ID, "--token", other.Token); out != "no credentials\n" {
		t.Fatalf("wallet list with the printed token: %q", out)
	}
	var h walletCreated
	if err := json.Unmarshal(walletPost(t, srv+"/wallet/holders", testAdminToken, map[string]any{"label": "x"}, http.StatusCreated), &h); err != nil {
		t.Fatal(err)
	}
	as := func(a ...string) []string {
		return append(a, "--server", srv, "--holder", h.Holder.ID, "--token", h.Token)
	}
	big := walletWriteFile(t, dir, "big.json", bytes.Repeat([]byte(" "), 513<<10))
	garbage := walletWriteFile(t, dir, "garbage.txt", []byte("not a credential at all\n"))
	notVC := walletWriteFile(t, dir, "not-vc.json", []byte(`{"hello":"world"}`))
	array := walletWriteFile(t, dir, "array.json", []byte(`[{"challenge":"c"}]`))
	noChallenge := walletWriteFile(t, dir, "no-challenge.json", []byte(`{"domain":"d","dcql_query":{"credentials":[{"id":"x","format":"dc+sd-jwt"}]}}`))
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"wallet", "list", "--holder", h.Holder.ID, "--token", h.Token}, []string{"--server is required"}},
		{[]string{"wallet", "list", "--server", srv, "--token", h.Token}, []string{"--holder is required"}},
		{[]string{"wallet", "list", "--server", srv, "--holder", h.Holder.ID}, []string{"--token is required"}},
		{[]string{"wallet", "list", "--server", srv, "--holder", h.Holder.ID, "--token", other.Token}, []string{"404", "No such holder"}},
		{[]string{"wallet", "disclosures", "--server", srv, "--holder", h.Holder.ID, "--token", testAdminToken}, []string{"404", "No such holder"}},
		{[]string{"wallet", "list", "--server", srv, "--holder", h.Holder.ID, "--token", "not-a-token-0123456789abcdef0123"}, []string{"401"}},
		{[]string{"wallet", "create-holder", "--server", srv}, []string{"401"}},
		{[]string{"wallet", "create-holder", "--server", srv, "--token", testAdminToken, "--did-method", "web"}, []string{"422", "didMethod"}},
		{as("wallet", "add", filepath.Join(dir, "missing.json")), []string{"no such file"}},
		{as("wallet", "add", dir), []string{"failed to read"}},
		{as("wallet", "add", big), []string{"larger than the limit of 512 KiB"}},
		{as("wallet", "add", garbage), []string{"garbage.txt: not a credential"}},
		{as("wallet", "add", notVC), []string{"422", "Credential invalid"}},
		{as("wallet", "add"), []string{"accepts 1 arg"}},
		{as("wallet", "show", "cnosuchcredential"), []string{"404", "No such credential"}},
		{as("wallet", "present"), []string{"--request is required"}},
		{as("wallet", "present", "--request", filepath.Join(dir, "missing.json")), []string{"--request", "no such file"}},
		{as("wallet", "present", "--request", array), []string{"a presentation request is a JSON object"}},
		{as("wallet", "present", "--request", noChallenge), []string{"400", "no challenge"}},
		{as("wallet", "present", "--request", srv+"/verifier/requests/nosuchrequest/object"), []string{"502", "Verifier unreachable"}},
	} {
		runErr(t, c.args, c.want...)
	}
	// Standard input is read for "-", within the same limit.
	if _, err := walletRunIn(t, strings.Repeat(" ", 513<<10), as("wallet", "add", "-")...); err == nil || !strings.Contains(err.Error(), "- is larger than") {
		t.Errorf("wallet add - of a large input: %v", err)
	}

	// The holder context from the environment.
	t.Setenv("CREDENCE_HOLDER", h.Holder.ID)
	t.Setenv("CREDENCE_TOKEN", h.Token)
	if out := mustRun(t, "wallet", "disclosures", "--server", srv); out != "no disclosures\n" {
		t.Errorf("wallet disclosures from the environment: %q", out)
	}
}

func TestWalletCredentialInput(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{`{"@context":["x"],"type":["VerifiableCredential"]}`, `{"@context":["x"],"type":["VerifiableCredential"]}`, ""},
		{`  {"verifiableCredential":{"@context":["x"]}}` + "\n", `{"@context":["x"]}`, ""},
		{`{"verifiableCredential":"a.b.c~d~","superseded":{}}`, `"a.b.c~d~"`, ""},
		{`{"@context":["x"],"verifiableCredential":"a.b.c"}`, `{"@context":["x"],"verifiableCredential":"a.b.c"}`, ""},
		{"a.b.c\n", `"a.b.c"`, ""},
		{`"a.b.c~"`, `"a.b.c~"`, ""},
		{"", "", "not a credential"},
		{"a.b c", "", "not a credential"},
		{"abc", "", "not a credential"},
		{`["a.b.c"]`, "", "not a credential"},
		{`{"verifiableCredential":[1]}`, "", "not a credential"},
		{`{"a":`, "", "not a JSON object"},
		{`"a.b`, "", "not a JSON string"},
	} {
		got, err := credentialInput([]byte(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("credentialInput(%q) = %s, %v; want an error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("credentialInput(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
}
