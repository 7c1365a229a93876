package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier/audit"
)

// TestHospitalVerificationEndToEnd is issue 6's scenario over HTTP, in the
// embedded and the Redis mode: two boards on the ledger (the TX board
// accredited for TX licenses, the CA board for CA), the DEA accredited
// nationally, a clinician holding a TX license, a CA license and a TX DEA
// registration, and a hospital in TX that asks for a license and a DEA
// registration with a presentation request.
func TestHospitalVerificationEndToEnd(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.WebAllowPrivate = true // the webhook receiver is on loopback
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
			}
			_, ts := newServer(t, cfg)
			hospitalScenario(t, ts.URL)
		})
	}
}

type e2e struct {
	t    *testing.T
	base string
	eng  *secure.Engine
	// views are the bodies of GET /verifier/requests/{id} that respond read.
	views [][]byte
}

func (e *e2e) post(path, token string, body any, want int) []byte {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp, out := do(e.t, "POST", e.base+path, token, string(b))
	if resp.StatusCode != want {
		e.t.Fatalf("POST %s: %d, want %d: %s", path, resp.StatusCode, want, out)
	}
	return out
}

func (e *e2e) get(path, token string) []byte {
	e.t.Helper()
	resp, out := do(e.t, "GET", e.base+path, token, "")
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d: %s", path, resp.StatusCode, out)
	}
	return out
}

// issue has tenant iss issue a credential of typ with subject and returns
// the verifiable credential as VC-API returns it.
func (e *e2e) issue(iss tenantOut, typ string, subject map[string]any) any {
	e.t.Helper()
	body := map[string]any{"credential": map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"type":              []any{"VerifiableCredential", typ},
		"credentialSubject": subject,
	}}
	out := e.post("/issuers/"+iss.Issuer.ID+"/credentials/issue", iss.Token, body, http.StatusCreated)
	var r struct{ VerifiableCredential map[string]any }
	if err := json.Unmarshal(out, &r); err != nil {
		e.t.Fatal(err)
	}
	return r.VerifiableCredential
}

type requestOut struct {
	ID, Challenge, Domain, URL string
}

// ask creates a presentation request of the hospital for a license and a
// DEA registration.
func (e *e2e) ask(token string) requestOut {
	e.t.Helper()
	return e.askFor(token, "")
}

// askFor is ask for the holder whose DID is holder ("": anyone).
func (e *e2e) askFor(token, holder string) requestOut {
	e.t.Helper()
	q := map[string]any{"query": map[string]any{"dcql_query": map[string]any{"credentials": []any{
		map[string]any{"id": "license", "format": "ldp_vc", "meta": map[string]any{"type_values": []any{[]any{"MedicalLicenseCredential"}}}},
		map[string]any{"id": "dea", "format": "ldp_vc", "meta": map[string]any{"type_values": []any{[]any{"DEARegistrationCredential"}}}},
	}}}}
	if holder != "" {
		q["holder"] = holder
	}
	var r requestOut
	if err := json.Unmarshal(e.post("/verifier/requests", token, q, http.StatusCreated), &r); err != nil || r.Challenge == "" {
		e.t.Fatalf("request: %v %+v", err, r)
	}
	return r
}

// present has holder present creds for request r.
func (e *e2e) present(holder *synth.Provider, r requestOut, creds ...any) any {
	e.t.Helper()
	s := vc.Signer{Key: holder.Key, VerificationMethod: holder.DID + "#" + strings.TrimPrefix(holder.DID, "did:key:")}
	vp, err := e.eng.Present(context.Background(), holder.DID, creds, s, secure.PresentOptions{Challenge: r.Challenge, Domain: r.Domain})
	if err != nil {
		e.t.Fatal(err)
	}
	return vp
}

// respond posts the holder's presentation and returns the hospital's view
// of the request.
func (e *e2e) respond(token string, r requestOut, vp any, want int) requestView {
	e.t.Helper()
	e.post("/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": vp}, want)
	var got requestView
	b := e.get("/verifier/requests/"+r.ID, token)
	if err := json.Unmarshal(b, &got); err != nil {
		e.t.Fatal(err)
	}
	e.views = append(e.views, b)
	return got
}

// checkViews validates the request views respond read (with attempts, last
// attempts, an expected holder) against openapi.json.
func (e *e2e) checkViews() {
	e.t.Helper()
	samples := make([]responseSample, 0, len(e.views))
	for _, b := range e.views {
		samples = append(samples, responseSample{What: "a hospital's view of its request", Path: "/verifier/requests/{id}",
			Method: "get", Status: "200", Media: "application/json", Body: b})
	}
	file := filepath.Join(e.t.TempDir(), "views.json")
	if err := os.WriteFile(file, []byte(mustJSON(e.t, samples)), 0o600); err != nil {
		e.t.Fatal(err)
	}
	doc, _ := filepath.Abs("openapi.json")
	if got := runOpenAPIValidator(e.t, "--responses", doc, file); len(got) != 1 || !got[0].Valid || got[0].Schemas != len(samples) {
		e.t.Errorf("request views that do not match openapi.json: %+v", got)
	}
}

// requestView is the hospital's view of a request.
type requestView struct {
	State, Holder        string
	Attempts             int
	Outcome, LastAttempt *outcome
}

// answered is the request's outcome (the zero outcome when it has none).
func (v requestView) answered() outcome {
	if v.Outcome == nil {
		return outcome{}
	}
	return *v.Outcome
}

// attempted reports whether the request is pending after one rejected
// attempt with code.
func (v requestView) attempted(code string) bool {
	return v.State == "pending" && v.Outcome == nil && v.Attempts == 1 && v.LastAttempt != nil &&
		v.LastAttempt.Decision == "reject" && !v.LastAttempt.Verified && v.LastAttempt.has(code)
}

type outcome struct {
	Verified bool
	Decision string
	Codes    []string
}

func (o outcome) has(code string) bool {
	for _, c := range o.Codes {
		if c == code {
			return true
		}
	}
	return false
}

func hospitalScenario(t *testing.T, base string) {
	e := &e2e{t: t, base: base, eng: secure.New(NewProcessor())}
	tx := createTenant(t, base, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	// The CA board's tenant may sign TX licenses (a misconfiguration, or a
	// compromised board): only the trust registry stops them.
	ca := createTenant(t, base, `{"name":"Medical Board of California","jurisdictions":["CA","TX"],"types":["MedicalLicenseCredential"]}`)
	dea := createTenant(t, base, `{"name":"Drug Enforcement Administration","jurisdictions":["TX"],"types":["DEARegistrationCredential"]}`)
	for _, a := range []map[string]any{
		{"issuer": tx.Issuer.DID, "types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"TX"}},
		{"issuer": ca.Issuer.DID, "types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"CA"}},
		{"issuer": dea.Issuer.DID, "types": []string{"DEARegistrationCredential"}},
	} {
		e.post("/admin/accreditations", adminToken, a, http.StatusCreated)
	}

	g := synth.New(7, synth.WithKeys())
	now := time.Now()
	var doc *synth.Provider
	for doc == nil {
		p := g.Provider()
		d, ok := p.DEA("TX")
		if p.License("TX").Status == "active" && !p.License("TX").Expired(now.AddDate(0, 3, 0)) &&
			p.License("CA").Status == "active" && !p.License("CA").Expired(now.AddDate(0, 3, 0)) &&
			ok && d.Status == "active" && d.Expiration.After(now.AddDate(0, 3, 0)) {
			doc = p
		}
	}
	txLicense := e.issue(tx, "MedicalLicenseCredential", doc.LicenseSubject("TX"))
	caLicense := e.issue(ca, "MedicalLicenseCredential", doc.LicenseSubject("CA"))
	forged := e.issue(ca, "MedicalLicenseCredential", doc.LicenseSubject("TX")) // TX license, CA board
	deaReg := e.issue(dea, "DEARegistrationCredential", doc.DEASubject("TX"))

	out := e.post("/admin/verifiers", adminToken, map[string]any{"name": "Houston General", "policy": map[string]any{
		"rules": true, "practiceState": "TX", "controlledSubstances": true}}, http.StatusCreated)
	var hosp struct{ Token string }
	_ = json.Unmarshal(out, &hosp)

	// The clinician answers with the TX license and the DEA registration: accept.
	r := e.ask(hosp.Token)
	// Before that, anyone who saw the request's URL posts something that
	// does not answer it (garbage; a presentation bound to another domain):
	// refused, and the request stays open for the clinician.
	e.post("/verifier/requests/"+r.ID+"/response", "", map[string]any{"verifiablePresentation": "x"}, http.StatusBadRequest)
	elsewhere := r
	elsewhere.Domain = "attacker.example"
	if v := e.respond(hosp.Token, r, e.present(doc, elsewhere, txLicense, deaReg), http.StatusUnprocessableEntity); v.State != "pending" || v.Outcome != nil || v.Attempts != 0 {
		t.Fatalf("a presentation bound to another domain answered the request: %+v", v)
	}
	// An attacker signs a presentation bound to the request (the
	// clinician's credentials, copied) with a did:key of their own: it is
	// rejected and counted as an attempt, and the request stays open for
	// the clinician, with its challenge unused.
	attacker := g.Provider()
	if v := e.respond(hosp.Token, r, e.present(attacker, r, txLicense, deaReg), http.StatusUnprocessableEntity); !v.attempted("SUBJECT_MISMATCH") {
		t.Fatalf("the attacker's own presentation: %+v (last attempt %+v)", v, v.LastAttempt)
	}
	vp := e.present(doc, r, txLicense, deaReg)
	if v := e.respond(hosp.Token, r, vp, http.StatusOK); v.State != "completed" || v.answered().Decision != "accept" || !v.answered().Verified || v.Attempts != 1 {
		t.Fatalf("the TX clinician: %+v (outcome %+v)", v, v.Outcome)
	}
	// The same presentation again: its challenge was used.
	resp, b := do(t, "POST", base+"/verifier/requests/"+r.ID+"/response", "", mustJSON(t, map[string]any{"verifiablePresentation": vp}))
	if resp.StatusCode < 400 || !strings.Contains(string(b), "PRESENTATION_REPLAYED") {
		t.Fatalf("a replayed presentation: %d %s", resp.StatusCode, b)
	}
	// ... and replayed through VC-API's verify with its challenge.
	resp, b = do(t, "POST", base+"/presentations/verify", hosp.Token, mustJSON(t, map[string]any{"verifiablePresentation": vp,
		"options": map[string]any{"challenge": r.Challenge, "domain": r.Domain}}))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "PRESENTATION_REPLAYED") {
		t.Fatalf("a replayed presentation through /presentations/verify: %d %s", resp.StatusCode, b)
	}

	// A CA license presented in TX: a rejected attempt, the request stays
	// open.
	r = e.ask(hosp.Token)
	if v := e.respond(hosp.Token, r, e.present(doc, r, caLicense, deaReg), http.StatusUnprocessableEntity); !v.attempted("NO_LICENSE_IN_PRACTICE_STATE") {
		t.Fatalf("a CA license in TX: %+v (last attempt %+v)", v, v.LastAttempt)
	}
	// A TX license signed by the CA board.
	r = e.ask(hosp.Token)
	if v := e.respond(hosp.Token, r, e.present(doc, r, forged, deaReg), http.StatusUnprocessableEntity); !v.attempted("ISSUER_NOT_RECOGNIZED") {
		t.Fatalf("a TX license by the CA board: %+v (last attempt %+v)", v, v.LastAttempt)
	}
	// The front desk expects the clinician: someone else's presentation is
	// not an answer (not even an attempt), and the clinician's is.
	other := g.Provider()
	r = e.askFor(hosp.Token, doc.DID)
	if v := e.respond(hosp.Token, r, e.present(other, r, txLicense, deaReg), http.StatusUnprocessableEntity); v.State != "pending" || v.Attempts != 0 ||
		v.Outcome != nil || v.Holder != doc.DID {
		t.Fatalf("a presentation by someone else than the expected holder: %+v", v)
	}
	if object := e.get("/verifier/requests/"+r.ID+"/object", ""); strings.Contains(string(object), doc.DID) {
		t.Errorf("the request object names the expected holder: %s", object)
	}
	if v := e.respond(hosp.Token, r, e.present(doc, r, txLicense, deaReg), http.StatusOK); v.State != "completed" || v.answered().Decision != "accept" {
		t.Fatalf("the expected holder: %+v (outcome %+v)", v, v.Outcome)
	}

	// The hospital watches the TX license; the board revokes it.
	hook := newWebhookReceiver(t)
	out = e.post("/verifier/watches", hosp.Token, map[string]any{"credential": txLicense, "webhook": hook.URL}, http.StatusCreated)
	var w struct{ Secret string }
	if err := json.Unmarshal(out, &w); err != nil || !strings.HasPrefix(w.Secret, "whsec_") {
		t.Fatalf("watch: %v %s", err, out)
	}
	hook.secret = w.Secret
	id, _ := txLicense.(map[string]any)["id"].(string)
	e.post("/issuers/"+tx.Issuer.ID+"/credentials/status", tx.Token, map[string]any{"credentialId": id, "action": "revoke", "reason": "board order"}, http.StatusOK)
	ev := hook.wait(t, 20*time.Second)
	data, _ := ev["data"].(map[string]any)
	if ev["type"] != "credential.revoked" || data["credentialId"] != id {
		t.Fatalf("webhook event %v", ev)
	}
	r = e.ask(hosp.Token)
	if v := e.respond(hosp.Token, r, e.present(doc, r, txLicense, deaReg), http.StatusUnprocessableEntity); !v.attempted("CREDENTIAL_REVOKED") {
		t.Fatalf("the revoked license: %+v (last attempt %+v)", v, v.LastAttempt)
	}
	// Every decision is in the hospital's audit chain, and the chain verifies.
	chain := e.get("/verifier/audit", hosp.Token)
	rep, err := audit.Verify(bytes.NewReader(chain), nil)
	if err != nil || rep.Signed.IsZero() || rep.Size < 10 {
		t.Fatalf("the hospital's audit export: %+v, %v", rep, err)
	}
	if !strings.Contains(string(chain), "PRESENTATION_HOLDER_UNEXPECTED") {
		t.Error("the audit log does not record the presentation by someone else than the expected holder")
	}
	e.checkViews()
	if strings.Contains(string(chain), doc.NPI) || strings.Contains(string(chain), doc.Family) {
		t.Error("the audit log holds the clinician's NPI or name")
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// webhookReceiver accepts Standard Webhooks deliveries whose signature
// verifies and hands their payloads to wait.
type webhookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	events chan map[string]any
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{events: make(chan map[string]any, 16)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		secret := w.secret
		w.mu.Unlock()
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		ok := false
		for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
			ok = ok || hmac.Equal([]byte(sig), []byte(want))
		}
		if !ok {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		w.events <- ev
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhookReceiver) wait(t *testing.T, d time.Duration) map[string]any {
	t.Helper()
	select {
	case ev := <-w.events:
		return ev
	case <-time.After(d):
		t.Fatal("no webhook delivery")
		return nil
	}
}
