package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/internal/trustapi"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/verifier"
	"github.com/credence/credence/verifier/watch"
	"github.com/credence/credence/wallet-api/wallet"
)

const demoType = "MedicalLicenseCredential"

type demoStepFn struct {
	title string
	fn    func(*demoStep) error
}

// steps is the story; each step needs the ones before it.
func (d *demo) steps() []demoStepFn {
	return []demoStepFn{
		{"The Texas Medical Board becomes an issuer on the ledger and is accredited by the steward", d.boardStep},
		{"The board issues a medical license into a clinician's wallet", d.licenseStep},
		{"A Texas hospital asks for the license and puts it on its watch-list", d.hospitalStep},
		{"The clinician's wallet answers; the hospital's verification accepts", d.acceptStep},
		{"The board revokes the license; the webhook fires; a new presentation is rejected", d.revokeStep},
		{"The hospital's audit log and the ledger verify", d.auditStep},
	}
}

func (d *demo) url(path string) string { return d.base + path }

func (d *demo) boardStep(s *demoStep) error {
	var out struct {
		Issuer issuer.Tenant `json:"issuer"`
		Token  string        `json:"token"`
	}
	in := issuer.TenantInput{ID: "texas-medical-board" + d.suffix, Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{demoType}}
	if err := call(d.ctx, http.MethodPost, d.url("/admin/issuers"), d.admin, in, &out); err != nil {
		return fmt.Errorf("failed to create the issuer: %w", err)
	}
	t := out.Issuer
	d.board = demoTenant{ID: t.ID, DID: t.DID, Token: out.Token}
	s.add("issuer", "issuer tenant", t.ID, t.ID+" ("+t.Name+"), with its own API token")
	s.add("issuerDid", "board DID", t.DID, t.DID+" (did.create on the ledger)")
	if !strings.HasPrefix(t.DID, "did:credence:") {
		return fmt.Errorf("the board's DID %s is not on the ledger", t.DID)
	}
	var res trustapi.Result
	req := trustapi.AccreditRequest{Issuer: t.DID, Types: []string{demoType}, Jurisdictions: []string{"TX"}}
	if err := call(d.ctx, http.MethodPost, d.url("/admin/accreditations"), d.admin, req, &res); err != nil {
		return fmt.Errorf("the steward failed to accredit the board: %w", err)
	}
	a := res.Accreditation
	s.add("accreditation", "accreditation", map[string]any{"id": a.ID, "types": a.Types, "jurisdictions": a.Jurisdictions, "ledgerIndex": res.Receipt.Index}, fmt.Sprintf("%s for %s in %s (trust.accredit signed by the steward, ledger entry %d)",
		a.ID, strings.Join(a.Types, ", "), strings.Join(a.Jurisdictions, ", "), res.Receipt.Index))
	if !a.Active {
		return errors.New("the accreditation is not in force")
	}
	return nil
}

// demoClinician is a synthetic MD (valid NPI check digit) whose TX
// license is active, clean and far from expiry.
func demoClinician(now time.Time) (*synth.Provider, error) {
	g := synth.New(2026)
	for range 1000 {
		p := g.ProviderOf("MD")
		if l := p.License("TX"); l.Status == "active" && len(l.Actions) == 0 && !l.Expired(now.AddDate(0, 6, 0)) {
			return p, nil
		}
	}
	return nil, errors.New("no synthetic clinician with a clean TX license")
}

func (d *demo) licenseStep(s *demoStep) error {
	doc, err := demoClinician(time.Now())
	if err != nil {
		return err
	}
	var h struct {
		Holder wallet.Holder `json:"holder"`
		Token  string        `json:"token"`
	}
	if err := call(d.ctx, http.MethodPost, d.url("/wallet/holders"), d.admin, wallet.HolderInput{Label: "clinician (demo)"}, &h); err != nil {
		return fmt.Errorf("failed to create the clinician's wallet holder: %w", err)
	}
	d.holder = demoTenant{ID: h.Holder.ID, DID: h.Holder.DID, Token: h.Token}
	name := "Dr. " + strings.Join(append(slices.Clone(doc.Given), doc.Family), " ")
	s.add("clinician", "clinician", map[string]any{"name": name, "licenseType": doc.LicenseType, "npi": doc.NPI}, fmt.Sprintf("%s, %s, NPI %s (synthetic)", name, doc.LicenseType, doc.NPI))
	s.add("holderDid", "clinician's DID", h.Holder.DID, h.Holder.DID+" (key in the wallet, holder "+h.Holder.ID+")")

	lic := doc.License("TX")
	subject := lic.Subject(doc)
	subject["id"] = h.Holder.DID
	var issued struct {
		VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	}
	u := d.url("/issuers/" + d.board.ID + "/credentials/issue")
	if err := call(d.ctx, http.MethodPost, u, d.board.Token, map[string]any{"credential": newCredential(demoType, subject)}, &issued); err != nil {
		return fmt.Errorf("the board failed to issue the license: %w", err)
	}
	d.credential = issued.VerifiableCredential
	var vc struct {
		ID     string          `json:"id"`
		Status json.RawMessage `json:"credentialStatus"`
	}
	if err := json.Unmarshal(d.credential, &vc); err != nil || vc.ID == "" {
		return fmt.Errorf("the issued license has no id: %v", err)
	}
	d.credID = vc.ID
	s.add("credentialId", "credential", vc.ID, vc.ID+" (VC 2.0, eddsa-rdfc-2022, signed by the board's DID)")
	s.add("license", "license", map[string]any{"number": lic.Number, "jurisdiction": "TX", "status": lic.Status, "expires": lic.Expiration.Format(time.DateOnly)}, fmt.Sprintf("TX %s, %s, expires %s", lic.Number, lic.Status, lic.Expiration.Format(time.DateOnly)))
	s.add("statusEntries", "status entries", demoStatusEntries(vc.Status))

	var st wallet.Stored
	u = d.url("/wallet/holders/" + d.holder.ID + "/credentials")
	if err := call(d.ctx, http.MethodPost, u, d.holder.Token, map[string]any{"verifiableCredential": d.credential}, &st); err != nil {
		return fmt.Errorf("the wallet refused the license: %w", err)
	}
	s.add("walletCredential", "in the wallet", st.ID, st.ID+" (verified on receipt, encrypted at rest)")
	return nil
}

// demoStatusEntries reads "revocation #123" of each status entry.
func demoStatusEntries(raw json.RawMessage) []string {
	type entry struct{ StatusPurpose, StatusListIndex string }
	var list []entry
	if json.Unmarshal(raw, &list) != nil {
		var one entry
		_ = json.Unmarshal(raw, &one)
		list = []entry{one}
	}
	out := []string{}
	for _, e := range list {
		out = append(out, e.StatusPurpose+" #"+e.StatusListIndex)
	}
	return out
}

func (d *demo) hospitalStep(s *demoStep) error {
	var out struct {
		Verifier verifier.Tenant `json:"verifier"`
		Token    string          `json:"token"`
	}
	in := verifier.TenantInput{ID: "houston-general" + d.suffix, Name: "Houston General Hospital",
		Policy: verifier.PolicyConfig{Rules: true, PracticeState: d.opt.practiceState}}
	if err := call(d.ctx, http.MethodPost, d.url("/admin/verifiers"), d.admin, in, &out); err != nil {
		return fmt.Errorf("failed to create the hospital: %w", err)
	}
	d.hospital = demoTenant{ID: out.Verifier.ID, Token: out.Token}
	s.add("verifier", "verifier tenant", map[string]any{"id": out.Verifier.ID, "practiceState": out.Verifier.Policy.PracticeState}, fmt.Sprintf("%s (%s), policy: the hospital's rules, practice state %s",
		out.Verifier.ID, out.Verifier.Name, out.Verifier.Policy.PracticeState))
	r, err := d.ask()
	if err != nil {
		return err
	}
	d.request = r
	s.add("request", "request", r, fmt.Sprintf("%s for a %s (DCQL), challenge %s, domain %s", r.ID, demoType, r.Challenge, r.Domain))

	var w struct {
		ID, State, Secret string
	}
	body := map[string]any{"credential": d.credential, "webhook": d.hook.url}
	if err := call(d.ctx, http.MethodPost, d.url("/verifier/watches"), d.hospital.Token, body, &w); err != nil {
		return fmt.Errorf("failed to watch the license: %w (a server must allow loopback http webhooks, "+
			"--did-web-allow-private, or be given a --webhook-url it may reach)", err)
	}
	if err := d.hook.setSecret(w.Secret); err != nil {
		return err
	}
	s.add("watch", "watch-list", map[string]any{"id": w.ID, "state": w.State, "webhook": d.hook.url}, fmt.Sprintf("%s: license %s is %s; changes go to %s, signed (Standard Webhooks)", w.ID, d.credID, w.State, d.hook.url))
	return nil
}

type demoRequest struct {
	ID        string `json:"id"`
	Challenge string `json:"challenge"`
	Domain    string `json:"domain"`
	URL       string `json:"url"`
}

// ask creates the hospital's presentation request for a license.
func (d *demo) ask() (demoRequest, error) {
	q := map[string]any{"purpose": "credentialing at hire", "query": map[string]any{"dcql_query": map[string]any{"credentials": []any{
		map[string]any{"id": "license", "format": "ldp_vc", "meta": map[string]any{"type_values": []any{[]any{demoType}}}},
	}}}}
	var r demoRequest
	if err := call(d.ctx, http.MethodPost, d.url("/verifier/requests"), d.hospital.Token, q, &r); err != nil {
		return r, fmt.Errorf("the hospital failed to create a presentation request: %w", err)
	}
	return r, nil
}

// answer has the wallet fetch the request, present and send.
func (d *demo) answer(r demoRequest) (wallet.Presentation, error) {
	var p wallet.Presentation
	u := d.url("/wallet/holders/" + d.holder.ID + "/presentations")
	status, b, err := rawCall(d.ctx, http.MethodPost, u, d.holder.Token, map[string]any{"requestUri": r.URL})
	if err != nil {
		return p, err
	}
	if status != http.StatusCreated {
		return p, fmt.Errorf("the wallet did not deliver a presentation: %w", responseError(status, b))
	}
	return p, json.Unmarshal(b, &p)
}

// outcome reads the hospital's decision on request id: its outcome or,
// when the answer was rejected (which leaves the request pending), its last
// attempt.
func (d *demo) outcome(id string) (*verifier.Outcome, verifier.PresentationResult, error) {
	var req verifier.Request
	var res verifier.PresentationResult
	if err := call(d.ctx, http.MethodGet, d.url("/verifier/requests/"+id), d.hospital.Token, nil, &req); err != nil {
		return nil, res, fmt.Errorf("failed to read the hospital's decision: %w", err)
	}
	o := req.Outcome
	if o == nil {
		o = req.LastAttempt
	}
	if o == nil {
		return nil, res, fmt.Errorf("request %s has no decision (%s)", id, req.State)
	}
	if len(o.Result) > 0 {
		if err := json.Unmarshal(o.Result, &res); err != nil {
			return nil, res, err
		}
	}
	return o, res, nil
}

type demoCheck struct {
	Of     string `json:"of"` // "presentation" or "credentials[i]"
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
}

// addDecision records a decision with its checks (the presentation's, then
// each credential's) and reason codes.
func addDecision(s *demoStep, o *verifier.Outcome, res verifier.PresentationResult) {
	codes := slices.Clone(o.Codes)
	if codes == nil {
		codes = []string{}
	}
	s.add("decision", "decision", o.Decision, fmt.Sprintf("%s (verified: %t)", strings.ToUpper(o.Decision), o.Verified))
	text := "none"
	if len(codes) > 0 {
		text = strings.Join(codes, ", ")
	}
	s.add("reasonCodes", "reason codes", codes, text)
	checks, lines := []demoCheck{}, []string{}
	results := append([]*verifier.Result{res.Result}, res.Credentials...)
	for i, r := range results {
		if r == nil {
			continue
		}
		of, marks := "presentation", []string{}
		if i > 0 {
			of = "credentials[" + strconv.Itoa(i-1) + "]"
		}
		for _, c := range r.Results {
			checks = append(checks, demoCheck{of, c.Name, c.Passed})
			marks = append(marks, c.Name+map[bool]string{true: " ✓", false: " ✗"}[c.Passed])
		}
		lines = append(lines, fmt.Sprintf("%-13s %s", map[bool]string{true: "presentation", false: "license"}[i == 0], strings.Join(marks, "  ")))
	}
	s.add("checks", "checks", checks, strings.Join(lines, "\n"+strings.Repeat(" ", 22)))
	for _, w := range res.Warnings {
		s.add("warning", "warning", w.Code, w.Code+": "+w.Message)
	}
}

func (d *demo) acceptStep(s *demoStep) error {
	t := time.Now()
	p, err := d.answer(d.request)
	if err != nil {
		return err
	}
	d.accepted = time.Since(t)
	s.add("presented", "the wallet sent", len(p.Disclosure.Credentials), fmt.Sprintf("%d credential (%s) in a presentation signed by %s for the request's challenge",
		len(p.Disclosure.Credentials), p.Format, d.holder.DID))
	o, res, err := d.outcome(d.request.ID)
	if err != nil {
		return err
	}
	addDecision(s, o, res)
	s.add("decisionMs", "answer to decision", d.accepted.Milliseconds(), fmtMillis(d.accepted.Milliseconds())+" (fetch request, present, verify, decide)")
	if o.Decision != "accept" || !o.Verified {
		return fmt.Errorf("the hospital decided %q with %v; expected accept", o.Decision, o.Codes)
	}
	return nil
}

func (d *demo) revokeStep(s *demoStep) error {
	t := time.Now()
	var res issuer.StatusResult
	body := map[string]any{"credentialId": d.credID, "action": "revoke", "reason": "board order"}
	if err := call(d.ctx, http.MethodPost, d.url("/issuers/"+d.board.ID+"/credentials/status"), d.board.Token, body, &res); err != nil {
		return fmt.Errorf("the board failed to revoke the license: %w", err)
	}
	text := d.credID + " revoked (reason: board order)"
	for _, op := range res.Ops {
		text += fmt.Sprintf("; statuslist.update of %s, ledger entry %d", op.List, op.Index)
	}
	s.add("revocation", "revocation", res, text)
	ev, err := d.hook.wait(d.ctx, watch.TypeRevoked, d.credID, 30*time.Second)
	if err != nil {
		return err
	}
	d.notified = ev.At.Sub(t)
	s.add("webhook", "webhook received", map[string]any{"type": ev.Type, "deliveryId": ev.ID, "credentialId": ev.Data.CredentialID}, fmt.Sprintf("%s (delivery %s) %s after the revocation was sent; signature verified",
		ev.Type, ev.ID, fmtMillis(d.notified.Milliseconds())))
	s.add("webhookMs", "revoke to webhook", d.notified.Milliseconds(), fmtMillis(d.notified.Milliseconds()))

	r, err := d.ask()
	if err != nil {
		return err
	}
	if _, err := d.answer(r); err != nil {
		return err
	}
	o, vr, err := d.outcome(r.ID)
	if err != nil {
		return err
	}
	s.add("request", "new request", r, r.ID+", answered by the wallet with the same license")
	addDecision(s, o, vr)
	d.rejectCodes = o.Codes
	if o.Decision != "reject" || !slices.Contains(o.Codes, "CREDENTIAL_REVOKED") {
		return fmt.Errorf("the hospital decided %q with %v; expected reject with CREDENTIAL_REVOKED", o.Decision, o.Codes)
	}
	return nil
}

// demoAuditFile is where --keep writes the hospital's audit export.
func demoAuditFile(dir string) string { return filepath.Join(dir, "houston-general-audit.jsonl") }

func (d *demo) auditStep(s *demoStep) error {
	file := ""
	if d.rec.InProcess && d.opt.keep {
		file = demoAuditFile(d.rec.DataDir)
	}
	a, err := downloadAudit(d.ctx, d.url("/verifier/audit"), d.hospital.Token, file, io.Discard)
	if err != nil {
		return fmt.Errorf("failed to export the hospital's audit log: %w", err)
	}
	r := a.Report
	d.auditKey = r.Key
	s.add("audit", "audit log", a, fmt.Sprintf("chain %s: %d decisions, hash-chained, intact", r.Chain, r.Size))
	s.add("auditHead", "signed head", r.Hash, fmt.Sprintf("%s signed by the service's audit key %s", r.Hash, r.Key))
	if file != "" {
		s.add("auditFile", "export written to", file)
	}
	switch {
	case !a.Intact:
		return fmt.Errorf("the audit export does not verify: %v", a.Error)
	case r.Size < 2:
		return fmt.Errorf("the audit log has %d decisions, expected the acceptance and the rejection", r.Size)
	}
	v, err := verifyRemote(d.ctx, d.base, "", witnessCheck{})
	if err != nil {
		return fmt.Errorf("the ledger does not verify: %w", err)
	}
	l := v.AuditReport
	s.add("ledger", "ledger", v, fmt.Sprintf("%d ops over %d subjects replayed under the rules; root %s matches the checkpoint signed by %s",
		l.Ops, l.Subjects, l.Root, l.Origin))
	return nil
}
