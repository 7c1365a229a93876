package server

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"

	"encoding/base64"
	"encoding/json"
	"github.com/credence/credence/internal/config"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// TestWalletEndToEnd is issue 7's scenario over HTTP, in the embedded and
// the Redis mode: a patient's wallet receives an identity SD-JWT VC and
// answers a front desk that asks for name and birth date; a clinician's
// wallet receives a license and a DEA registration and answers a hospital.
func TestWalletEndToEnd(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.WebAllowPrivate = true // the wallet reaches the verifier on loopback
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
			}
			s, base := newPublicServer(t, cfg)
			e := &e2e{t: t, base: base, eng: secure.New(NewProcessor())}
			patientScenario(t, e)
			clinicianScenario(t, e)
			walletIsolation(t, e, s)
		})
	}
}

// newPublicServer serves on a loopback port known before the server starts,
// so that its public URL (in presentation requests' URLs) is its own.
func newPublicServer(t *testing.T, cfg config.Config) (*Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + l.Addr().String()
	s, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Listener.Close()
	ts.Listener = l
	ts.Start()
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts.URL
}

type holderOut struct {
	Holder struct{ ID, DID string } `json:"holder"`
	Token  string                   `json:"token"`
}

func (e *e2e) newHolder(body string) holderOut {
	e.t.Helper()
	resp, b := do(e.t, "POST", e.base+"/wallet/holders", adminToken, body)
	var h holderOut
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &h) != nil || h.Token == "" || h.Holder.DID == "" {
		e.t.Fatalf("create holder: %d %s", resp.StatusCode, b)
	}
	return h
}

// issueAs issues a credential in format to subject.
func (e *e2e) issueAs(iss tenantOut, typ, format string, subject map[string]any) any {
	e.t.Helper()
	body := map[string]any{"credential": map[string]any{
		"@context":          []any{"https://www.w3.org/ns/credentials/v2", healthcare.ContextURL},
		"type":              []any{"VerifiableCredential", typ},
		"credentialSubject": subject,
	}, "options": map[string]any{"format": format}}
	var r struct{ VerifiableCredential any }
	if err := json.Unmarshal(e.post("/issuers/"+iss.Issuer.ID+"/credentials/issue", iss.Token, body, http.StatusCreated), &r); err != nil {
		e.t.Fatal(err)
	}
	return r.VerifiableCredential
}

func (e *e2e) receive(h holderOut, cred any) string {
	e.t.Helper()
	var st struct{ ID string }
	if err := json.Unmarshal(e.post("/wallet/holders/"+h.Holder.ID+"/credentials", h.Token, map[string]any{"verifiableCredential": cred}, http.StatusCreated), &st); err != nil || st.ID == "" {
		e.t.Fatalf("receive: %v", err)
	}
	return st.ID
}

type presented struct {
	Presentation any
	Format       string
	Disclosure   struct {
		ID, RequestID string
		Delivered     bool
		Outcome       string
		Credentials   []struct {
			Types     []string
			Disclosed []string
		}
	}
	Response struct {
		Status int
		Body   json.RawMessage
	}
}

func (e *e2e) answer(h holderOut, requestURL string, want int) presented {
	e.t.Helper()
	var p presented
	if err := json.Unmarshal(e.post("/wallet/holders/"+h.Holder.ID+"/presentations", h.Token, map[string]any{"requestUri": requestURL}, want), &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func patientScenario(t *testing.T, e *e2e) {
	clinic := createTenant(t, e.base, `{"name":"Mercy Clinic identity desk","jurisdictions":["NY"],"types":["PatientIdentityCredential"]}`)
	e.post("/admin/accreditations", adminToken, map[string]any{"issuer": clinic.Issuer.DID,
		"types": []string{"PatientIdentityCredential"}, "jurisdictions": []string{"NY"}}, http.StatusCreated)

	patient := e.newHolder(`{"label":"patient"}`)
	pt := synth.New(11).Patient()
	subject := pt.IdentitySubject()
	subject["id"] = patient.Holder.DID
	idCred := e.issueAs(clinic, "PatientIdentityCredential", "sd-jwt", subject)
	e.receive(patient, idCred)

	out := e.post("/admin/verifiers", adminToken, map[string]any{"name": "Front desk"}, http.StatusCreated)
	var desk struct{ Token string }
	_ = json.Unmarshal(out, &desk)
	var r requestOut
	q := map[string]any{"purpose": "check-in", "query": map[string]any{"dcql_query": map[string]any{"credentials": []any{
		map[string]any{"id": "pid", "format": "dc+sd-jwt", "meta": map[string]any{"vct_values": []any{healthcare.Vocab + "PatientIdentityCredential"}},
			"claims": []any{map[string]any{"path": []any{"name"}}, map[string]any{"path": []any{"birthDate"}}}},
	}}}}
	if err := json.Unmarshal(e.post("/verifier/requests", desk.Token, q, http.StatusCreated), &r); err != nil {
		t.Fatal(err)
	}

	p := e.answer(patient, r.URL, http.StatusCreated)
	if p.Response.Status != http.StatusOK || p.Disclosure.Outcome != "accept" || !p.Disclosure.Delivered {
		t.Fatalf("the front desk's answer: %d %s (disclosure %+v)", p.Response.Status, p.Response.Body, p.Disclosure)
	}
	var got struct{ Outcome outcome }
	if err := json.Unmarshal(e.get("/verifier/requests/"+r.ID, desk.Token), &got); err != nil || got.Outcome.Decision != "accept" {
		t.Fatalf("the front desk's outcome: %+v %v", got.Outcome, err)
	}

	// The presentation discloses the name and the birth date, nothing else.
	token, ok := p.Presentation.(string)
	if !ok || p.Format != string(secure.SDJWT) {
		t.Fatalf("presentation %T in format %q", p.Presentation, p.Format)
	}
	names := disclosedNames(t, token)
	if !slices.Equal(names, []string{"birthDate", "name"}) {
		t.Errorf("disclosed claims %q, want birthDate and name", names)
	}
	plain := decodedParts(t, token)
	for _, secret := range []string{pt.Address.Line, pt.MRN, pt.Phone, "address", "identifier", "telecom"} {
		if secret != "" && strings.Contains(plain, secret) {
			t.Errorf("the presentation reveals %q", secret)
		}
	}
	if !strings.Contains(plain, pt.Family) {
		t.Error("the presentation lacks the family name it was asked for")
	}

	// The disclosure log shows who received what.
	var log struct {
		Disclosures []struct {
			RequestID, Verifier, Outcome string
			Credentials                  []struct{ Disclosed []string }
		}
	}
	if err := json.Unmarshal(e.get("/wallet/holders/"+patient.Holder.ID+"/disclosures", patient.Token), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Disclosures) != 1 {
		t.Fatalf("disclosure log: %+v", log)
	}
	d := log.Disclosures[0]
	want := []string{"/credentialSubject/birthDate", "/credentialSubject/name"}
	if d.RequestID != r.ID || d.Outcome != "accept" || len(d.Credentials) != 1 || !slices.Equal(d.Credentials[0].Disclosed, want) {
		t.Errorf("disclosure entry %+v, want request %s disclosing %q", d, r.ID, want)
	}

	// The request is answered: the wallet refuses to answer it again, and
	// nothing more is disclosed.
	resp, b := do(t, "POST", e.base+"/wallet/holders/"+patient.Holder.ID+"/presentations", patient.Token, mustJSON(t, map[string]any{"requestUri": r.URL}))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "closed") {
		t.Errorf("answering a completed request: %d %s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(e.get("/wallet/holders/"+patient.Holder.ID+"/disclosures", patient.Token), &log); err != nil || len(log.Disclosures) != 1 {
		t.Errorf("disclosure log after a refused answer: %+v %v", log, err)
	}
}

// disclosedNames lists the claim names of an SD-JWT+KB's disclosures.
func disclosedNames(t *testing.T, sdjwt string) []string {
	t.Helper()
	parts := strings.Split(sdjwt, "~")
	var names []string
	for _, d := range parts[1 : len(parts)-1] {
		b, err := base64.RawURLEncoding.DecodeString(d)
		if err != nil {
			t.Fatalf("disclosure %q: %v", d, err)
		}
		var arr []any
		if err := json.Unmarshal(b, &arr); err != nil || len(arr) != 3 {
			t.Fatalf("disclosure %s: %v", b, err)
		}
		names = append(names, arr[1].(string))
	}
	slices.Sort(names)
	return names
}

// decodedParts is every base64url part of an SD-JWT+KB, decoded.
func decodedParts(t *testing.T, sdjwt string) string {
	var sb strings.Builder
	for _, part := range strings.Split(sdjwt, "~") {
		for _, seg := range strings.Split(part, ".") {
			if b, err := base64.RawURLEncoding.DecodeString(seg); err == nil {
				sb.Write(b)
			}
		}
	}
	return sb.String()
}

func clinicianScenario(t *testing.T, e *e2e) {
	tx := createTenant(t, e.base, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	dea := createTenant(t, e.base, `{"name":"Drug Enforcement Administration","jurisdictions":["TX"],"types":["DEARegistrationCredential"]}`)
	for _, a := range []map[string]any{
		{"issuer": tx.Issuer.DID, "types": []string{"MedicalLicenseCredential"}, "jurisdictions": []string{"TX"}},
		{"issuer": dea.Issuer.DID, "types": []string{"DEARegistrationCredential"}},
	} {
		e.post("/admin/accreditations", adminToken, a, http.StatusCreated)
	}
	g := synth.New(7)
	now := time.Now()
	var doc *synth.Provider
	for doc == nil {
		p := g.Provider()
		d, ok := p.DEA("TX")
		if p.License("TX").Status == "active" && !p.License("TX").Expired(now.AddDate(0, 3, 0)) &&
			ok && d.Status == "active" && d.Expiration.After(now.AddDate(0, 3, 0)) {
			doc = p
		}
	}
	clinician := e.newHolder(`{}`)
	license, reg := doc.LicenseSubject("TX"), doc.DEASubject("TX")
	license["id"], reg["id"] = clinician.Holder.DID, clinician.Holder.DID
	e.receive(clinician, e.issueAs(tx, "MedicalLicenseCredential", "di", license))
	e.receive(clinician, e.issueAs(dea, "DEARegistrationCredential", "di", reg))

	out := e.post("/admin/verifiers", adminToken, map[string]any{"name": "Houston General", "policy": map[string]any{
		"rules": true, "practiceState": "TX", "controlledSubstances": true}}, http.StatusCreated)
	var hosp struct{ Token string }
	_ = json.Unmarshal(out, &hosp)
	r := e.ask(hosp.Token)
	p := e.answer(clinician, r.URL, http.StatusCreated)
	if p.Response.Status != http.StatusOK || p.Disclosure.Outcome != "accept" {
		t.Fatalf("the hospital's answer: %d %s", p.Response.Status, p.Response.Body)
	}
	var got struct{ Outcome outcome }
	if err := json.Unmarshal(e.get("/verifier/requests/"+r.ID, hosp.Token), &got); err != nil || got.Outcome.Decision != "accept" || !got.Outcome.Verified {
		t.Fatalf("the hospital's decision: %+v %v", got.Outcome, err)
	}
	if len(p.Disclosure.Credentials) != 2 {
		t.Errorf("the disclosure names %d credentials, want the license and the DEA registration", len(p.Disclosure.Credentials))
	}
}

// walletIsolation: with holder A's token, every route of holder B answers
// exactly what a missing holder answers, and B's data is nowhere in it; an
// admin token reads no wallet either; the store holds no plaintext.
func walletIsolation(t *testing.T, e *e2e, s *Server) {
	a, b := e.newHolder(`{"label":"Alice Example"}`), e.newHolder(`{"label":"Bob Example"}`)
	clinic := createTenant(t, e.base, `{"name":"Isolation clinic","jurisdictions":["NY"],"types":["PatientIdentityCredential"]}`)
	pt := synth.New(23).Patient()
	subject := pt.IdentitySubject()
	subject["id"] = b.Holder.DID
	bCred := e.receive(b, e.issueAs(clinic, "PatientIdentityCredential", "jwt", subject))

	routes := []struct{ method, path, body string }{
		{"GET", "", ""},
		{"DELETE", "", ""},
		{"GET", "/credentials", ""},
		{"POST", "/credentials", `{"verifiableCredential":{}}`},
		{"GET", "/credentials/" + bCred, ""},
		{"DELETE", "/credentials/" + bCred, ""},
		{"POST", "/presentations", `{"request":{"challenge":"c","domain":"d","dcql_query":{"credentials":[{"id":"x","format":"jwt_vc_json","meta":{"type_values":[["PatientIdentityCredential"]]}}]}}}`},
		{"GET", "/disclosures", ""},
	}
	_, missing := do(t, "GET", e.base+"/wallet/holders/hnosuchholder", a.Token, "")
	for _, r := range routes {
		for name, token := range map[string]string{"holder A": a.Token, "admin": adminToken} {
			resp, body := do(t, r.method, e.base+"/wallet/holders/"+b.Holder.ID+r.path, token, r.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s with %s's token: %d %s", r.method, r.path, name, resp.StatusCode, body)
			}
			// The problem's instance echoes the caller's own path; the rest
			// must not hold anything of B's.
			var p map[string]any
			_ = json.Unmarshal(body, &p)
			delete(p, "instance")
			rest, _ := json.Marshal(p)
			for _, leak := range []string{b.Holder.DID, pt.Family, bCred, "Bob"} {
				if strings.Contains(string(rest), leak) {
					t.Errorf("%s %s with %s's token leaks %q: %s", r.method, r.path, name, leak, body)
				}
			}
			if got, want := problemType(body), problemType(missing); got != want {
				t.Errorf("%s %s with %s's token: problem %q, a missing holder gets %q", r.method, r.path, name, got, want)
			}
		}
		if resp, _ := do(t, r.method, e.base+"/wallet/holders/"+b.Holder.ID+r.path, "", r.body); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", r.method, r.path, resp.StatusCode)
		}
	}
	// A's own routes do not reach B's credential by its id either.
	if resp, body := do(t, "GET", e.base+"/wallet/holders/"+a.Holder.ID+"/credentials/"+bCred, a.Token, ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("B's credential id under A: %d %s", resp.StatusCode, body)
	}
	// B still has everything.
	var list struct{ Credentials []struct{ ID string } }
	if err := json.Unmarshal(e.get("/wallet/holders/"+b.Holder.ID+"/credentials", b.Token), &list); err != nil || len(list.Credentials) != 1 || list.Credentials[0].ID != bCred {
		t.Errorf("B's credentials after A's attempts: %+v %v", list, err)
	}

	// No plaintext of B's credential or label in the wallet's buckets.
	ctx := t.Context()
	leaks := []string{pt.Family, pt.MRN, pt.Address.Line, "PatientIdentityCredential", clinic.Issuer.DID, "Bob Example"}
	for _, bucket := range []string{"wallet-holders", "wallet-credentials/" + b.Holder.ID, "wallet-disclosures/" + b.Holder.ID} {
		n := 0
		err := s.store.List(ctx, bucket, "", func(key string, value []byte) error {
			n++
			for _, l := range leaks {
				if l != "" && (strings.Contains(string(value), l) || strings.Contains(key, l)) {
					t.Errorf("bucket %s key %s holds %q in clear", bucket, key, l)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if bucket != "wallet-disclosures/"+b.Holder.ID && n == 0 {
			t.Errorf("bucket %s is empty: the scan would prove nothing", bucket)
		}
	}
}

func problemType(body []byte) string {
	var p struct{ Type string }
	_ = json.Unmarshal(body, &p)
	return p.Type
}
