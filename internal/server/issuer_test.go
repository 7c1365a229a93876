package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// httpMethod resolves did:credence through the server under test.
type httpMethod struct{ base string }

func (m httpMethod) Resolve(ctx context.Context, d did.DID, _ did.Options) (*did.Resolution, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.base+"/1.0/identifiers/"+d.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, did.ErrNotFound
	}
	var res did.Resolution
	return &res, json.NewDecoder(resp.Body).Decode(&res)
}

func TestIssuanceOverHTTP(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
			}
			_, ts := newServer(t, cfg)
			issuanceScenario(t, ts.URL)
		})
	}
}

type tenantOut struct {
	Issuer struct{ ID, DID string } `json:"issuer"`
	Token  string                   `json:"token"`
}

func createTenant(t *testing.T, base, body string) tenantOut {
	t.Helper()
	resp, b := do(t, "POST", base+"/admin/issuers", adminToken, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create issuer: %d %s", resp.StatusCode, b)
	}
	var out tenantOut
	if err := json.Unmarshal(b, &out); err != nil || out.Token == "" || !strings.HasPrefix(out.Issuer.DID, "did:credence:") {
		t.Fatalf("create issuer answered %s", b)
	}
	return out
}

func licenseBody(t testing.TB, subject map[string]any, format string) string {
	b, _ := json.Marshal(map[string]any{"credential": map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"type":              []any{"VerifiableCredential", "MedicalLicenseCredential"},
		"credentialSubject": subject,
	}, "options": map[string]any{"format": format}})
	return string(b)
}

func activeLicense(g *synth.Generator) map[string]any {
	p := g.Provider()
	for p.License("TX").Expired(time.Now()) {
		p = g.Provider()
	}
	return p.LicenseSubject("TX")
}

func issuanceScenario(t *testing.T, base string) {
	tx := createTenant(t, base, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	ca := createTenant(t, base, `{"name":"Medical Board of California","jurisdictions":["CA"],"types":["MedicalLicenseCredential"]}`)
	g := synth.New(42, synth.WithKeys())
	eng := secure.New(NewProcessor())
	keys := vc.DIDKeys{Resolver: did.NewResolver(did.WithMethod("credence", httpMethod{base}, 0))}
	issuePath := base + "/issuers/" + tx.Issuer.ID + "/credentials/issue"

	var first map[string]any
	for _, f := range secure.Formats() {
		resp, b := do(t, "POST", issuePath, tx.Token, licenseBody(t, activeLicense(g), string(f)))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("issue %s: %d %s", f, resp.StatusCode, b)
		}
		var out struct{ VerifiableCredential json.RawMessage }
		_ = json.Unmarshal(b, &out)
		in, err := secure.ParseInput(out.VerifiableCredential)
		if err != nil {
			t.Fatal(err)
		}
		v, err := eng.VerifyCredential(context.Background(), in, keys, secure.VerifyOptions{})
		if err != nil {
			t.Fatalf("%s credential does not verify: %v", f, err)
		}
		if v.Credential.Issuer() != tx.Issuer.DID {
			t.Errorf("%s: issuer %s", f, v.Credential.Issuer())
		}
		if f == secure.DataIntegrity {
			first = in.(map[string]any)
		}
	}

	// Invalid input: the field is named; 400 for the data model, 422 for rules.
	bad := activeLicense(g)
	bad["npi"] = "1234567890"
	resp, b := do(t, "POST", issuePath, tx.Token, licenseBody(t, bad, ""))
	if resp.StatusCode != http.StatusUnprocessableEntity || !bytes.Contains(b, []byte(`"field":"/credential/credentialSubject/npi"`)) {
		t.Errorf("bad NPI: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "POST", issuePath, tx.Token, `{"credential":{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","credentialSubject":{}}}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("empty subject: %d %s", resp.StatusCode, b)
	}
	resp, _ = do(t, "POST", issuePath, tx.Token, `{"credential":{},"options":{},"extra":1}`)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown member: %d", resp.StatusCode)
	}
	// Tenants are isolated: CA's token cannot issue as TX; no token is 401.
	if resp, _ := do(t, "POST", issuePath, ca.Token, licenseBody(t, activeLicense(g), "")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another tenant's token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", issuePath, "", licenseBody(t, activeLicense(g), "")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", base+"/admin/issuers", tx.Token, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a tenant token on admin routes: %d", resp.StatusCode)
	}

	// Bulk: NDJSON in, NDJSON out, in order, one failure, a summary.
	var nd strings.Builder
	for i := range 5 {
		s := activeLicense(g)
		if i == 2 {
			s["license"].(map[string]any)["jurisdiction"] = "CA"
		}
		nd.WriteString(licenseBody(t, s, "") + "\n")
	}
	resp, b = do(t, "POST", base+"/issuers/"+tx.Issuer.ID+"/credentials/batch?format=jwt", tx.Token, nd.String(), "Content-Type", "application/x-ndjson")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch: %d %s", resp.StatusCode, b)
	}
	lines := readLines(t, b)
	if len(lines) != 6 || lines[2]["error"] == nil || lines[3]["verifiableCredential"] == nil || lines[5]["summary"] == nil {
		t.Fatalf("batch answered %s", b)
	}

	// Inventory: every issued credential, no personal data.
	resp, b = do(t, "GET", base+"/issuers/"+tx.Issuer.ID+"/credentials?limit=100", tx.Token, "")
	var inv struct{ Credentials []map[string]any }
	_ = json.Unmarshal(b, &inv)
	if resp.StatusCode != http.StatusOK || len(inv.Credentials) != len(secure.Formats())+4 {
		t.Fatalf("inventory: %d %s", resp.StatusCode, b)
	}
	if bytes.Contains(b, []byte(`"npi"`)) || bytes.Contains(b, []byte(`"family"`)) {
		t.Errorf("the inventory holds personal data: %s", b)
	}
	id := vc.Credential(first).ID()
	resp, b = do(t, "GET", base+"/issuers/"+tx.Issuer.ID+"/credentials/"+url.PathEscape(id), tx.Token, "")
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(id)) {
		t.Errorf("inventory record: %d %s", resp.StatusCode, b)
	}

	// A rotation: the next credential is signed by the new key.
	resp, b = do(t, "POST", base+"/admin/dids/"+tx.Issuer.DID+"/rotate", adminToken, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d %s", resp.StatusCode, b)
	}
	resp, b = do(t, "POST", issuePath, tx.Token, licenseBody(t, activeLicense(g), "di"))
	var out struct{ VerifiableCredential map[string]any }
	_ = json.Unmarshal(b, &out)
	if vm := out.VerifiableCredential["proof"].(map[string]any)["verificationMethod"]; vm != tx.Issuer.DID+"#key-2" {
		t.Errorf("after rotation the proof names %v", vm)
	}
	if _, err := eng.VerifyCredential(context.Background(), out.VerifiableCredential, keys, secure.VerifyOptions{}); err != nil {
		t.Errorf("credential signed after rotation: %v", err)
	}

	// The contexts and schemas credentials name are served.
	resp, b = do(t, "GET", base+"/contexts/healthcare/v1", "", "")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(b, healthcare.Context) {
		t.Errorf("healthcare context: %d", resp.StatusCode)
	}
	ht, _ := healthcare.Lookup("MedicalLicenseCredential")
	u, _ := url.Parse(ht.SchemaURL)
	if resp, _ := do(t, "GET", base+"/schemas/"+u.Host+u.Path, "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("schema %s: %d", ht.SchemaURL, resp.StatusCode)
	}
	if resp, _ := do(t, "GET", base+"/contexts/www.w3.org/ns/credentials/v2", "", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("v2 context: %d", resp.StatusCode)
	}
}

func readLines(t *testing.T, b []byte) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
