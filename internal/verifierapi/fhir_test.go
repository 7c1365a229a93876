package verifierapi

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/vctest"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

var verifyNow = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// verifyEnv serves the verify routes of an API over a real verifier
// (did:key issuers, JWT credentials, no status lists), a Texas hospital
// tenant that trusts the Texas board, and an audit log that keeps what it
// is given.
type verifyEnv struct {
	engine *gin.Engine
	eng    *secure.Engine
	board  vc.Signer
	doc    *synth.Provider

	mu        sync.Mutex
	decisions []Decision
}

func newVerifyEnv(t *testing.T) *verifyEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	env := &verifyEnv{eng: secure.New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))}
	env.board = keySigner(t, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)))
	env.doc = synth.New(11, synth.WithNow(verifyNow), synth.WithKeys()).Provider()

	api := env.hospitalAPI(t, &verifier.Requests{Store: memkv.New(), BaseURL: testBase + "/"})
	api.FHIR = verifier.FHIROptions{Watchable: true}
	e := gin.New()
	e.Use(httpx.RequestIDs())
	public := e.Group("", func(c *gin.Context) {
		if id := c.GetHeader(tenantHdr); id != "" {
			c.Set(tenantKey, id)
		}
	})
	api.Routes(public, e.Group("/tenant"), e.Group("/admin"))
	env.engine = e
	return env
}

// hospitalAPI is an API whose one tenant, hosp-tx (Houston General), runs
// the hospital's rules in TX and trusts env's board for TX licenses; its
// verifier's clock is verifyNow, and its decisions go to env.decisions.
func (env *verifyEnv) hospitalAPI(t *testing.T, requests *verifier.Requests) *API {
	t.Helper()
	tenants := &verifier.Tenants{Store: memkv.New(), Tokens: nopTokens{}}
	_, _, err := tenants.Create(t.Context(), verifier.TenantInput{ID: "hosp-tx", Name: "Houston General", Policy: verifier.PolicyConfig{
		Rules: true, PracticeState: "TX",
		TrustedIssuers: []verifier.TrustedIssuer{{Issuer: controller(env.board), Types: []string{healthcare.MedicalLicense}, Jurisdictions: []string{"TX"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &API{
		Verifier: &verifier.Verifier{Engine: env.eng, Keys: vc.DIDKeys{Resolver: did.NewResolver()}, Skew: time.Minute,
			Now: func() time.Time { return verifyNow }},
		Tenants:  tenants,
		Requests: requests,
		Log:      slog.New(slog.DiscardHandler),
		Record: func(_ context.Context, d Decision) error {
			env.mu.Lock()
			defer env.mu.Unlock()
			env.decisions = append(env.decisions, d)
			return nil
		},
	}
}

type nopTokens struct{}

func (nopTokens) IssueToken(context.Context, string, string, ...string) (string, error) {
	return "crd_test", nil
}

func keySigner(t *testing.T, k ed25519.PrivateKey) vc.Signer {
	t.Helper()
	_, s := vctest.KeySigner(t, k)
	return s
}

func controller(s vc.Signer) string { d, _, _ := strings.Cut(s.VerificationMethod, "#"); return d }

// license issues the clinician's TX license (a vc+jwt) with a license
// status, and validUntil when not zero.
func (env *verifyEnv) license(t *testing.T, id, status string, until time.Time) any {
	t.Helper()
	s := env.doc.LicenseSubject("TX")
	s["id"] = env.doc.DID
	lic := s["license"].(map[string]any)
	lic["status"], lic["expirationDate"] = status, "2027-12-31"
	cred := map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL}, "id": id,
		"type": []any{vc.TypeCredential, healthcare.MedicalLicense}, "issuer": controller(env.board),
		"validFrom": "2026-01-01T00:00:00Z", "credentialSubject": s}
	if !until.IsZero() {
		cred["validUntil"] = until.Format(time.RFC3339)
	}
	out, err := env.eng.Issue(t.Context(), cred, env.board, secure.IssueOptions{Format: secure.JWT, Now: verifyNow.AddDate(0, -1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (env *verifyEnv) post(path, tenant, accept string, body any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if tenant != "" {
		req.Header.Set(tenantHdr, tenant)
	}
	w := httptest.NewRecorder()
	env.engine.ServeHTTP(w, req)
	return w
}

func (env *verifyEnv) recorded() int {
	env.mu.Lock()
	defer env.mu.Unlock()
	return len(env.decisions)
}

// fhirView is what the tests read of a FHIR answer.
type fhirView struct {
	ResourceType, Status, Type string
	Entry                      []struct{ Resource fhirView }
	Validator                  []struct {
		Organization struct{ Identifier struct{ Value string } }
	}
	Extension []struct {
		URL       string
		Extension []struct {
			URL         string
			ValueCoding struct{ Code string }
		}
	}
}

func (v fhirView) reasons() []string {
	var out []string
	for _, e := range v.Extension {
		for _, s := range e.Extension {
			if s.URL == "code" {
				out = append(out, s.ValueCoding.Code)
			}
		}
	}
	return out
}

// TestVerifyCredentialFHIR: Accept: application/fhir+json answers the FHIR
// VerificationResult with the VC-API result's status code; the default
// answers VC-API's JSON; both are recorded in the audit log.
func TestVerifyCredentialFHIR(t *testing.T) {
	env := newVerifyEnv(t)
	tests := []struct {
		name, tenant string
		cred         any
		code         int
		status       string
		reasons      []string
	}{
		{"accept", "hosp-tx", env.license(t, "urn:uuid:0c5a1d2e-0001-4000-8000-000000000001", "active", time.Time{}), http.StatusOK, "validated", nil},
		{"review", "hosp-tx", env.license(t, "urn:uuid:0c5a1d2e-0001-4000-8000-000000000002", "probation", time.Time{}), http.StatusOK, "in-process",
			[]string{verifier.CodeLicenseRestricted}},
		{"reject", "hosp-tx", env.license(t, "urn:uuid:0c5a1d2e-0001-4000-8000-000000000003", "active", verifyNow.AddDate(0, 0, -1)),
			http.StatusUnprocessableEntity, "val-fail", []string{verifier.CodeExpired}},
		{"anonymous", "", env.license(t, "urn:uuid:0c5a1d2e-0001-4000-8000-000000000004", "probation", time.Time{}), http.StatusOK, "validated", nil},
		{"malformed", "", map[string]any{"type": "VerifiableCredential"}, http.StatusBadRequest, "val-fail", []string{verifier.CodeMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"verifiableCredential": tt.cred}
			before := env.recorded()
			def := env.post("/credentials/verify", tt.tenant, "", body)
			fhir := env.post("/credentials/verify", tt.tenant, "application/fhir+json", body)
			if env.recorded() != before+2 {
				t.Errorf("%d decisions recorded for 2 requests", env.recorded()-before)
			}
			if def.Code != tt.code || fhir.Code != tt.code {
				t.Fatalf("status %d (VC-API) and %d (FHIR), want %d: %s", def.Code, fhir.Code, tt.code, def.Body)
			}
			if ct := def.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("default Content-Type %q", ct)
			}
			var res verifier.Result
			if err := json.Unmarshal(def.Body.Bytes(), &res); err != nil || res.Decision == "" || res.Checks == nil {
				t.Errorf("default answer is not the VC-API result: %v %s", err, def.Body)
			}
			if ct := fhir.Header().Get("Content-Type"); ct != verifier.MediaFHIRJSON {
				t.Errorf("FHIR Content-Type %q", ct)
			}
			if !slices.Contains(fhir.Header().Values("Vary"), "Accept") {
				t.Errorf("Vary %q", fhir.Header().Values("Vary"))
			}
			v := decode[fhirView](t, fhir)
			if v.ResourceType != "VerificationResult" || v.Status != tt.status || verifier.FHIRStatus(res.Decision) != tt.status {
				t.Errorf("FHIR %s status %q (VC-API decision %q), want %q", v.ResourceType, v.Status, res.Decision, tt.status)
			}
			if r := v.reasons(); !slices.Equal(r, tt.reasons) {
				t.Errorf("reasons %v, want %v", r, tt.reasons)
			}
			if got := len(v.Validator) > 0 && v.Validator[0].Organization.Identifier.Value == tt.tenant; got != (tt.tenant != "") {
				t.Errorf("validator %+v for tenant %q", v.Validator, tt.tenant)
			}
			if strings.Contains(fhir.Body.String(), env.doc.NPI) || strings.Contains(fhir.Body.String(), env.doc.DID) {
				t.Errorf("the FHIR answer holds the clinician's NPI or DID: %s", fhir.Body)
			}
		})
	}
}

// TestVerifyPresentationFHIR: a presentation answers a Bundle, a replayed
// challenge too; the default stays VC-API's result.
func TestVerifyPresentationFHIR(t *testing.T) {
	env := newVerifyEnv(t)
	holder := vc.Signer{Key: env.doc.Key, VerificationMethod: env.doc.DID + "#" + strings.TrimPrefix(env.doc.DID, "did:key:")}
	lic := env.license(t, "urn:uuid:0c5a1d2e-0002-4000-8000-000000000001", "active", time.Time{})
	vp, err := env.eng.Present(t.Context(), env.doc.DID, []any{lic}, holder, secure.PresentOptions{Format: secure.JWT, Now: verifyNow})
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"verifiablePresentation": vp}

	def := env.post("/presentations/verify", "hosp-tx", "application/json, */*;q=0.1", body)
	var res verifier.PresentationResult
	if err := json.Unmarshal(def.Body.Bytes(), &res); def.Code != http.StatusOK || err != nil || res.Result == nil || len(res.Credentials) != 1 {
		t.Fatalf("VC-API answer %d %s", def.Code, def.Body)
	}
	w := env.post("/presentations/verify", "hosp-tx", "application/fhir+json;q=0.9, application/json;q=0.5", body)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != verifier.MediaFHIRJSON {
		t.Fatalf("FHIR answer %d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	b := decode[fhirView](t, w)
	if b.ResourceType != "Bundle" || b.Type != "collection" || len(b.Entry) != 2 {
		t.Fatalf("bundle %+v", b)
	}
	if p, c := b.Entry[0].Resource, b.Entry[1].Resource; p.Status != "validated" || c.Status != "validated" ||
		!slices.Equal(p.reasons(), []string{verifier.CodeChallengeMissing}) || len(c.reasons()) != 0 {
		t.Errorf("entries %+v", b.Entry)
	}

	// A challenge this verifier never issued: 422 PRESENTATION_REPLAYED, in either form.
	body["options"] = map[string]any{"challenge": "chl_unknown0000000000000000000000000"}
	before := env.recorded()
	def = env.post("/presentations/verify", "hosp-tx", "", body)
	w = env.post("/presentations/verify", "hosp-tx", "application/fhir+json", body)
	if def.Code != http.StatusUnprocessableEntity || w.Code != http.StatusUnprocessableEntity || env.recorded() != before+2 {
		t.Fatalf("replayed: %d and %d, %d recorded", def.Code, w.Code, env.recorded()-before)
	}
	if ct := def.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("replayed, default Content-Type %q", ct)
	}
	b = decode[fhirView](t, w)
	if len(b.Entry) != 1 || b.Entry[0].Resource.Status != "val-fail" || !slices.Equal(b.Entry[0].Resource.reasons(), []string{verifier.CodeReplayed}) {
		t.Errorf("replayed bundle %+v", b)
	}
}

// TestPrefersFHIR: content negotiation between VC-API's JSON (the default)
// and FHIR.
func TestPrefersFHIR(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"application/fhir+json", true},
		{"Application/FHIR+JSON", true},
		{"application/fhir+json; fhirVersion=4.0", true},
		{"application/fhir+json; fhirVersion=4.0.1", true},
		{"application/fhir+json; fhirVersion=5.0", false},
		{"application/fhir+json, */*", true},
		{"application/fhir+json, application/json", false},
		{"application/json, application/fhir+json", false},
		{"application/fhir+json, application/json;q=0.9", true},
		{"application/json, application/fhir+json;q=0.9", false},
		{"application/fhir+json;q=0.5, */*;q=0.1", true},
		{"application/fhir+json;q=0", false},
		{"application/fhir+json;q=0, */*", false},
		{"application/*;q=0.2, application/fhir+json;q=0.3", true},
		{"application/fhir+json;q=0.3, application/*;q=0.4", false},
		{"application/json;q=0.3, application/*;q=0.9", true},
		{"text/html, application/fhir+json;q=0.8", true},
		{"application/fhir+json;q=abc", false},
		{"application/fhir+json;q=1.5", false},
		{"garbage;;;, application/fhir+json", true},
		{"application/fhir+json; fhirVersion=4.0, application/json; fhirVersion=4.0", true},
		{"application/fhir+json; fhirVersion=5.0, application/json", false},
	}
	for _, tt := range tests {
		if got := prefersFHIR(tt.accept); got != tt.want {
			t.Errorf("prefersFHIR(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}
