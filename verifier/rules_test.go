package verifier

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
)

// ruleDay is the synthetic population's reference date; the rules are
// evaluated at noon that day.
var (
	ruleDay = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	ruleNow = ruleDay.Add(12 * time.Hour)
)

const (
	deaIssuer = "did:web:dea.gov.example"
	idLicense = "urn:test:license-tx"
	idDEA     = "urn:test:dea-tx"
	idBoard   = "urn:test:board-certification"
	idPriv    = "urn:test:privileges"
	idPatient = "urn:test:patient-identity"
)

// clinicianWorld is the issue's scenario: two state boards (TX accredited
// for TX licenses, CA for CA), the DEA, a specialty board, a hospital in TX,
// and an MD with a TX license, TX DEA registration, current certification
// and privileges there, all in good standing.
type clinicianWorld struct {
	p       *synth.Provider
	other   *synth.Provider
	fac     synth.Facility
	otherTX synth.Facility
	txBoard string
	caBoard string
	cert    string // the certifying board's DID
}

func newClinicianWorld(t *testing.T) *clinicianWorld {
	t.Helper()
	g := synth.New(7, synth.WithNow(ruleDay))
	w := &clinicianWorld{fac: g.Facility("TX"), otherTX: g.Facility("TX"),
		txBoard: synth.Board("TX", "MD").ID, caBoard: synth.Board("CA", "MD").ID}
	w.p = findProvider(t, g, func(p *synth.Provider) bool { return inGoodStanding(p, w.fac) })
	w.other = findProvider(t, g, func(p *synth.Provider) bool { return p.NPI != w.p.NPI })
	w.cert = objAt(objAt(w.p.BoardCertificationSubject(), "certification"), "certifyingBoard")["id"].(string)
	return w
}

// findProvider returns the first MD of g satisfying ok (deterministic: g is
// seeded).
func findProvider(t *testing.T, g *synth.Generator, ok func(*synth.Provider) bool) *synth.Provider {
	t.Helper()
	for range 2000 {
		if p := g.ProviderOf("MD"); ok(p) {
			return p
		}
	}
	t.Fatal("no synthetic provider fits")
	return nil
}

// inGoodStanding reads synth's own records (not the rules under test): TX
// and CA licenses active with more than 90 days left, an active TX DEA
// registration as long, a current certification meeting its requirements,
// and a current appointment at fac with every privilege granted.
func inGoodStanding(p *synth.Provider, fac synth.Facility) bool {
	later := ruleDay.AddDate(0, 0, 90)
	for _, st := range []string{"TX", "CA"} {
		if l := p.License(st); l.Status != "active" || l.Expiration.Before(later) {
			return false
		}
	}
	d, ok := p.DEA("TX")
	if !ok || d.Status != "active" || d.Expiration.Before(later) {
		return false
	}
	c := p.Certification()
	if c.Status != "certified" || !c.RequirementsMet || !c.Expiration.IsZero() && c.Expiration.Before(later) ||
		c.NextReverification.Before(later) {
		return false
	}
	s := p.PrivilegeSubject(fac)
	if !covers(objAt(s, "appointment"), "startDate", "endDate", ruleNow.AddDate(0, 0, 30)) {
		return false
	}
	for _, pr := range vc.Objects(s["privileges"]) {
		if pr["status"] != "granted" {
			return false
		}
	}
	return true
}

// testCredential is a credential as an issuer would make it: valid from half
// a year ago until the subject's domain expiry.
func testCredential(id, typ, issuer string, s map[string]any) Credential {
	c := Credential{ID: id, Types: []string{vc.TypeCredential, typ}, Issuer: issuer, Subject: s,
		ValidFrom: ruleNow.AddDate(0, -6, 0), ProofValid: true}
	if t, ok := healthcare.ExpiresAt(typ, s); ok {
		c.ValidUntil = t
	}
	return c
}

func (w *clinicianWorld) accreditations() StaticAccreditations {
	return StaticAccreditations{
		{Issuer: w.txBoard, Type: healthcare.MedicalLicense, Jurisdictions: []string{"TX"}},
		{Issuer: w.caBoard, Type: healthcare.MedicalLicense, Jurisdictions: []string{"CA"}},
		{Issuer: deaIssuer, Type: healthcare.DEARegistration},
		{Issuer: w.cert, Type: healthcare.BoardCertification},
		{Issuer: w.fac.ID, Type: healthcare.HospitalPrivilege, Jurisdictions: []string{"TX"}},
		{Issuer: w.otherTX.ID, Type: healthcare.HospitalPrivilege, Jurisdictions: []string{"TX"}},
	}
}

func (w *clinicianWorld) license(st string) Credential {
	return testCredential("urn:test:license-"+strings.ToLower(st), healthcare.MedicalLicense,
		synth.Board(st, "MD").ID, w.p.LicenseSubject(st))
}

// evidence is a fresh copy of the scenario (new subject maps each time).
func (w *clinicianWorld) evidence() (Evidence, Policy) {
	ev := Evidence{
		Credentials: []Credential{
			w.license("TX"),
			testCredential(idDEA, healthcare.DEARegistration, deaIssuer, w.p.DEASubject("TX")),
			testCredential(idBoard, healthcare.BoardCertification, w.cert, w.p.BoardCertificationSubject()),
			testCredential(idPriv, healthcare.HospitalPrivilege, w.fac.ID, w.p.PrivilegeSubject(w.fac)),
		},
		Holder: w.p.DID, HolderProof: true, Now: ruleNow,
	}
	p := Policy{PracticeState: "TX", ControlledSubstances: true, RequireBoardCertification: true,
		Facility: w.fac.ID, Accreditations: w.accreditations(), Exclusions: StaticExclusions{}}
	return ev, p
}

// cred returns the credential with that id.
func cred(t *testing.T, ev *Evidence, id string) *Credential {
	for i := range ev.Credentials {
		if ev.Credentials[i].ID == id {
			return &ev.Credentials[i]
		}
	}
	t.Fatalf("no credential %s", id)
	return nil
}

func drop(ev *Evidence, id string) {
	var keep []Credential
	for _, c := range ev.Credentials {
		if c.ID != id {
			keep = append(keep, c)
		}
	}
	ev.Credentials = keep
}

func dateIn(days int) string { return ruleDay.AddDate(0, 0, days).Format(time.DateOnly) }

// summary renders findings as "rule CODE severity credential".
func summary(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, strings.TrimSpace(fmt.Sprintf("%d %s %s %s", f.Rule, f.Code, f.Severity, f.Credential)))
	}
	return out
}

type ruleCase struct {
	name     string
	mod      func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy)
	want     []string
	decision string
}

func TestRulesClinician(t *testing.T) {
	w := newClinicianWorld(t)
	lic := func(ev *Evidence, t *testing.T) map[string]any {
		return objAt(cred(t, ev, idLicense).Subject, "license")
	}
	reg := func(ev *Evidence, t *testing.T) map[string]any {
		return objAt(cred(t, ev, idDEA).Subject, "registration")
	}
	certOf := func(ev *Evidence, t *testing.T) map[string]any {
		return objAt(cred(t, ev, idBoard).Subject, "certification")
	}
	status := func(code string, warning bool) []StatusResult {
		return []StatusResult{{Purpose: "revocation", List: "https://registry.example/status/1", Index: 7, Set: code != "",
			Code: code, Warning: warning}}
	}
	cases := []ruleCase{
		{"all rules pass", nil, nil, Accept},

		// Rules 1 and 2: proof, accreditation for the type and jurisdiction.
		{"1 proof invalid", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).ProofValid = false
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idLicense}, Reject},
		{"1 issuer not in the registry", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idBoard).Issuer = "did:web:diploma-mill.example"
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idBoard}, Reject},
		{"1 board accredited for licenses, not DEA", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idDEA).Issuer = w.txBoard
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idDEA}, Reject},
		{"1 second healthcare type not accredited", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			c := cred(t, ev, idLicense)
			c.Types = append(c.Types, healthcare.DEARegistration)
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idLicense}, Reject},
		{"1 no trust registry", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Accreditations = nil
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idLicense, "1 ISSUER_NOT_RECOGNIZED R " + idDEA,
			"1 ISSUER_NOT_RECOGNIZED R " + idBoard, "1 ISSUER_NOT_RECOGNIZED R " + idPriv}, Reject},
		{"1 accreditation ended", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			a := w.accreditations()
			a[3].Until = ruleNow.AddDate(0, -1, 0)
			p.Accreditations = a
		}, []string{"1 ISSUER_NOT_RECOGNIZED R " + idBoard}, Reject},
		{"2 TX license signed by the CA board", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).Issuer = w.caBoard
		}, []string{"2 ISSUER_NOT_RECOGNIZED R " + idLicense}, Reject},
		{"2 DEA registrar accredited for other states only", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			a := w.accreditations()
			a[2].Jurisdictions = []string{"CA", "NY"}
			p.Accreditations = a
		}, []string{"2 ISSUER_NOT_RECOGNIZED R " + idDEA}, Reject},
		{"2 license without jurisdiction", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			delete(lic(ev, t), "jurisdiction")
		}, []string{"2 ISSUER_NOT_RECOGNIZED R " + idLicense, "7 NO_LICENSE_IN_PRACTICE_STATE R"}, Reject},

		// Rule 3: status lists.
		{"3 revoked", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).Status = status(CodeRevoked, false)
		}, []string{"3 CREDENTIAL_REVOKED R " + idLicense}, Reject},
		{"3 suspended", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idDEA).Status = status(CodeSuspended, false)
		}, []string{"3 CREDENTIAL_SUSPENDED R " + idDEA}, Reject},
		{"3 status unavailable", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).Status = status(CodeStatusUnavailable, false)
		}, []string{"3 STATUS_UNAVAILABLE R " + idLicense}, Reject},
		{"3 status warning", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).Status = status(CodeNotOnLedger, true)
		}, []string{"3 STATUS_LIST_NOT_ON_LEDGER W " + idLicense}, Accept},
		{"3 status clear", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).Status = status("", false)
		}, nil, Accept},

		// Rule 4: validity window.
		{"4 not yet valid", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idLicense).ValidFrom = ruleNow.Add(time.Hour)
		}, []string{"4 CREDENTIAL_NOT_YET_VALID R " + idLicense}, Reject},
		{"4 expired", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idBoard).ValidUntil = ruleNow.Add(-time.Hour)
		}, []string{"4 CREDENTIAL_EXPIRED R " + idBoard}, Reject},
		{"4 no validity dates", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			c := cred(t, ev, idBoard)
			c.ValidFrom, c.ValidUntil = time.Time{}, time.Time{}
		}, nil, Accept},

		// Rule 5: holder binding.
		{"5 presented by someone else", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			ev.Holder = w.other.DID
		}, []string{"5 SUBJECT_MISMATCH R " + idLicense, "5 SUBJECT_MISMATCH R " + idDEA,
			"5 SUBJECT_MISMATCH R " + idBoard, "5 SUBJECT_MISMATCH R " + idPriv}, Reject},
		{"5 holder did not sign the challenge", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			ev.HolderProof = false
		}, []string{"5 SUBJECT_MISMATCH R"}, Reject},
		{"5 someone else's DEA registration", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			s := w.other.DEASubject("TX")
			s["registration"].(map[string]any)["activityStatus"] = "active"
			s["registration"].(map[string]any)["expirationDate"] = dateIn(365)
			*cred(t, ev, idDEA) = testCredential(idDEA, healthcare.DEARegistration, deaIssuer, s)
		}, []string{"5 SUBJECT_MISMATCH R " + idDEA, "5 SUBJECT_MISMATCH R " + idDEA}, Reject},
		{"5 NPIs disagree", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idBoard).Subject["npi"] = w.other.NPI
		}, []string{"5 SUBJECT_MISMATCH R " + idBoard}, Reject},
		{"5 no holder, subjects disagree", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			ev.Holder, ev.HolderProof = "", false
			cred(t, ev, idPriv).Subject["id"] = w.other.DID
		}, []string{"5 SUBJECT_MISMATCH R " + idPriv}, Reject},
		{"5 no holder, subjects agree", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			ev.Holder, ev.HolderProof = "", false
		}, nil, Accept},

		// Rule 6: NPI check digit.
		{"6 NPI check digit wrong everywhere", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			for i := range ev.Credentials {
				ev.Credentials[i].Subject["npi"] = "1234567890" // 1234567893 is valid
			}
		}, []string{"6 NPI_INVALID R " + idLicense, "6 NPI_INVALID R " + idDEA, "6 NPI_INVALID R " + idBoard,
			"6 NPI_INVALID R " + idPriv}, Reject},
		{"6 license without NPI", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			delete(cred(t, ev, idLicense).Subject, "npi")
		}, []string{"6 NPI_INVALID R " + idLicense}, Reject},

		// Rule 7: a license in the state of practice.
		{"7 CA license presented in TX", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			*cred(t, ev, idLicense) = w.license("CA")
		}, []string{"7 NO_LICENSE_IN_PRACTICE_STATE R"}, Reject},
		{"7 CA and TX licenses presented in TX", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			ev.Credentials = append(ev.Credentials, w.license("CA"))
		}, nil, Accept},
		{"7 telehealth to a patient in CA", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Telehealth, p.PatientState = true, "CA"
		}, []string{"7 NO_LICENSE_IN_PRACTICE_STATE R", "10 DEA_STATE_MISMATCH R"}, Reject},
		{"7 telehealth from CA to a patient in TX", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.PracticeState, p.Telehealth, p.PatientState = "CA", true, "TX"
		}, nil, Accept},
		{"7 telehealth without the patient's state", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Telehealth, p.PatientState, p.ControlledSubstances = true, "", false
		}, []string{"7 NO_LICENSE_IN_PRACTICE_STATE R"}, Reject},

		// Rule 8: the license unexpired, warned 60 days ahead.
		{"8 license lapsed, credential without validUntil", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(-10)
			cred(t, ev, idLicense).ValidUntil = time.Time{}
		}, []string{"8 LICENSE_EXPIRED R " + idLicense}, Reject},
		{"8 license lapsed, credential expired with it", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(-10)
			c := cred(t, ev, idLicense)
			c.ValidUntil, _ = healthcare.ExpiresAt(healthcare.MedicalLicense, c.Subject)
		}, []string{"4 CREDENTIAL_EXPIRED R " + idLicense, "8 LICENSE_EXPIRED R " + idLicense}, Reject},
		{"8 license expires today", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(0)
		}, []string{"8 LICENSE_EXPIRING W " + idLicense}, Accept},
		{"8 license expires in 60 days", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(60)
		}, []string{"8 LICENSE_EXPIRING W " + idLicense}, Accept},
		{"8 license expires in 61 days", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(61)
		}, nil, Accept},
		{"8 shorter warning window", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["expirationDate"] = dateIn(30)
			p.ExpiryWarning = 14 * 24 * time.Hour
		}, nil, Accept},
		{"8 an old lapsed TX license beside the renewed one", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			old := w.license("TX")
			old.ID, old.ValidUntil = "urn:test:license-tx-old", time.Time{}
			objAt(old.Subject, "license")["expirationDate"] = dateIn(-400)
			ev.Credentials = append(ev.Credentials, old)
		}, nil, Accept},

		// Rule 10: DEA registration for controlled substances.
		{"10 no DEA registration", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idDEA)
		}, []string{"10 DEA_MISSING R"}, Reject},
		{"10 no DEA registration, none needed", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idDEA)
			p.ControlledSubstances = false
		}, nil, Accept},
		{"10 DEA registration in another state", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			reg(ev, t)["state"] = "CA"
		}, []string{"10 DEA_STATE_MISMATCH R"}, Reject},
		{"10 DEA check digit wrong", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			n := reg(ev, t)["deaNumber"].(string)
			reg(ev, t)["deaNumber"] = n[:8] + string('0'+(n[8]-'0'+1)%10)
		}, []string{"10 DEA_INVALID R " + idDEA}, Reject},
		{"10 DEA registration expired", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			reg(ev, t)["expirationDate"] = dateIn(-5)
			cred(t, ev, idDEA).ValidUntil = time.Time{}
		}, []string{"10 DEA_EXPIRED R " + idDEA}, Reject},
		{"10 DEA registration expiring", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			reg(ev, t)["expirationDate"] = dateIn(20)
		}, []string{"10 DEA_EXPIRING W " + idDEA}, Accept},
		{"10 DEA registration surrendered", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			reg(ev, t)["activityStatus"] = "surrendered"
		}, []string{"10 DEA_INVALID R " + idDEA}, Reject},

		// Rule 11: board certification (review, never reject).
		{"11 no board certification", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idBoard)
		}, []string{"11 BOARD_CERT_MISSING V"}, Review},
		{"11 no board certification, none required", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idBoard)
			p.RequireBoardCertification = false
		}, nil, Accept},
		{"11 certification expired", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			certOf(ev, t)["status"] = "expired"
		}, []string{"11 BOARD_CERT_NOT_CURRENT V " + idBoard}, Review},
		{"11 continuing certification requirements unmet", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			objAt(certOf(ev, t), "continuingCertification")["requirementsMet"] = false
		}, []string{"11 BOARD_CERT_NOT_CURRENT V " + idBoard}, Review},
		{"11 certification past its dates", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			certOf(ev, t)["expirationDate"] = dateIn(-1)
			cred(t, ev, idBoard).ValidUntil = time.Time{}
		}, []string{"11 BOARD_CERT_NOT_CURRENT V " + idBoard}, Review},

		// Rule 12: exclusion list.
		{"12 excluded", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Exclusions = StaticExclusions{w.p.NPI: true}
		}, []string{"12 OIG_EXCLUDED R " + idLicense}, Reject},
		{"12 no exclusion list loaded", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Exclusions = nil
		}, nil, Accept},

		// Rule 14: privileges at the facility.
		{"14 no privileges presented", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idPriv)
		}, []string{"14 PRIVILEGES_NOT_CURRENT R"}, Reject},
		{"14 no privileges, none required", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			drop(ev, idPriv)
			p.Facility = ""
		}, nil, Accept},
		{"14 facility named by NPI", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Facility = w.fac.NPI
		}, nil, Accept},
		{"14 privileges at another facility", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			p.Facility = w.otherTX.ID
		}, []string{"14 PRIVILEGES_NOT_CURRENT R"}, Reject},
		{"14 privileges issued by another facility", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			cred(t, ev, idPriv).Issuer = w.otherTX.ID
		}, []string{"14 PRIVILEGES_NOT_CURRENT R " + idPriv}, Reject},
		{"14 appointment ended", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			objAt(cred(t, ev, idPriv).Subject, "appointment")["endDate"] = dateIn(-1)
			cred(t, ev, idPriv).ValidUntil = time.Time{}
		}, []string{"14 PRIVILEGES_NOT_CURRENT R " + idPriv}, Reject},
		{"14 every privilege suspended", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			for _, pr := range vc.Objects(cred(t, ev, idPriv).Subject["privileges"]) {
				pr["status"] = "suspended"
			}
		}, []string{"14 PRIVILEGES_NOT_CURRENT R " + idPriv}, Reject},
		{"14 one privilege suspended", func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			vc.Objects(cred(t, ev, idPriv).Subject["privileges"])[0]["status"] = "suspended"
		}, nil, Accept},
	}
	// Rule 9: every license status of the schema.
	for _, s := range []struct{ status, want, decision string }{
		{"active", "", Accept},
		{"probation", "9 LICENSE_RESTRICTED V " + idLicense, Review},
		{"restricted", "9 LICENSE_RESTRICTED V " + idLicense, Review},
		{"suspended", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"revoked", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"surrendered", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"inactive", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"expired", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"retired", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
		{"deceased", "9 LICENSE_NOT_ACTIVE R " + idLicense, Reject},
	} {
		var want []string
		if s.want != "" {
			want = []string{s.want}
		}
		cases = append(cases, ruleCase{"9 license " + s.status, func(t *testing.T, w *clinicianWorld, ev *Evidence, p *Policy) {
			lic(ev, t)["status"] = s.status
		}, want, s.decision})
	}
	runRuleCases(t, w, cases)
}

func runRuleCases(t *testing.T, w *clinicianWorld, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, p := w.evidence()
			if tc.mod != nil {
				tc.mod(t, w, &ev, &p)
			}
			fs := EvaluateRules(ev, p)
			got, want := summary(fs), tc.want
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings\n got %q\nwant %q\n%+v", got, want, fs)
			}
			if d := Decide(fs); d != tc.decision {
				t.Errorf("decision %s, want %s", d, tc.decision)
			}
			for _, f := range fs {
				if f.Message == "" {
					t.Errorf("%s has no message", f.Code)
				}
			}
		})
	}
}

// TestRulesIssueScenario is the issue's scenario, decision by decision.
func TestRulesIssueScenario(t *testing.T) {
	w := newClinicianWorld(t)
	for _, tc := range []struct {
		name     string
		mod      func(ev *Evidence)
		decision string
		code     string
	}{
		{"TX license and DEA at a TX hospital", func(ev *Evidence) {}, Accept, ""},
		{"CA license presented in TX", func(ev *Evidence) { ev.Credentials[0] = w.license("CA") }, Reject, CodeNoLicenseInState},
		{"TX license signed by the CA board", func(ev *Evidence) { ev.Credentials[0].Issuer = w.caBoard }, Reject, CodeIssuerNotRecognized},
		{"presented by someone who is not the subject", func(ev *Evidence) { ev.Holder = w.other.DID }, Reject, CodeSubjectMismatch},
		{"revoked license", func(ev *Evidence) {
			ev.Credentials[0].Status = []StatusResult{{Purpose: "revocation", Set: true, Code: CodeRevoked}}
		}, Reject, CodeRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, p := w.evidence()
			ev.Credentials = ev.Credentials[:2] // the license and the DEA registration
			p.RequireBoardCertification, p.Facility = false, ""
			tc.mod(&ev)
			fs := EvaluateRules(ev, p)
			if d := Decide(fs); d != tc.decision {
				t.Errorf("decision %s, want %s (%q)", d, tc.decision, summary(fs))
			}
			if tc.code == "" && len(fs) != 0 || tc.code != "" && !hasCode(fs, tc.code) {
				t.Errorf("findings %q, want %s", summary(fs), tc.code)
			}
		})
	}
}

func hasCode(fs []Finding, code string) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

// TestRulesPatient covers rule 15 and that patient flows skip licensure.
func TestRulesPatient(t *testing.T) {
	g := synth.New(9, synth.WithNow(ruleDay))
	var pt *synth.Patient
	for range 200 {
		if pt = g.Patient(); pt.Proofing.Level == "IAL2" {
			break
		}
	}
	if pt.Proofing.Level != "IAL2" {
		t.Fatal("no IAL2 patient")
	}
	base := func() (Evidence, Policy) {
		c := testCredential(idPatient, healthcare.PatientIdentity, pt.Facility.ID, pt.IdentitySubject())
		return Evidence{Credentials: []Credential{c}, Holder: pt.DID, HolderProof: true, Now: ruleNow},
			Policy{RequiredIAL: 2, PracticeState: "TX", Accreditations: StaticAccreditations{
				{Issuer: pt.Facility.ID, Type: healthcare.PatientIdentity}}}
	}
	level := func(l string) func(*Evidence, *Policy) {
		return func(ev *Evidence, _ *Policy) {
			objAt(ev.Credentials[0].Subject, "identityAssurance")["level"] = l
		}
	}
	for _, tc := range []struct {
		name     string
		mod      func(*Evidence, *Policy)
		want     []string
		decision string
	}{
		{"IAL2", nil, nil, Accept},
		{"IAL3", level("IAL3"), nil, Accept},
		{"IAL1", level("IAL1"), []string{"15 INSUFFICIENT_ASSURANCE R " + idPatient}, Reject},
		{"IAL1.4", level("IAL1.4"), []string{"15 INSUFFICIENT_ASSURANCE R " + idPatient}, Reject},
		{"no level", level(""), []string{"15 INSUFFICIENT_ASSURANCE R " + idPatient}, Reject},
		{"no identity credential", func(ev *Evidence, _ *Policy) { ev.Credentials = nil }, []string{"15 INSUFFICIENT_ASSURANCE R"}, Reject},
		{"IAL1 outside a patient flow", func(ev *Evidence, p *Policy) {
			level("IAL1")(ev, p)
			p.RequiredIAL, p.PracticeState = 0, ""
		}, nil, Accept},
		{"presented by someone else", func(ev *Evidence, _ *Policy) { ev.Holder = "did:example:someone-else" },
			[]string{"5 SUBJECT_MISMATCH R " + idPatient}, Reject},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, p := base()
			if tc.mod != nil {
				tc.mod(&ev, &p)
			}
			fs := EvaluateRules(ev, p)
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if got := summary(fs); !reflect.DeepEqual(got, want) {
				t.Errorf("findings %q, want %q", got, want)
			}
			if d := Decide(fs); d != tc.decision {
				t.Errorf("decision %s, want %s", d, tc.decision)
			}
		})
	}
}

// TestRulesLicenseVariants judges the licenses of a synthetic population
// (active, lapsed, probation, restricted, suspended, ...) against synth's
// own record of each.
func TestRulesLicenseVariants(t *testing.T) {
	g := synth.New(11, synth.WithNow(ruleDay))
	seen := map[string]int{}
	for range 600 {
		p := g.Provider()
		st := p.States[0]
		l := p.License(st)
		c := testCredential("urn:test:l", healthcare.MedicalLicense, l.Board.ID, l.Subject(p))
		c.ValidUntil = time.Time{} // rule 8 alone judges the expiry
		ev := Evidence{Credentials: []Credential{c}, Holder: p.DID, HolderProof: true, Now: ruleNow}
		pol := Policy{PracticeState: st, ExpiryWarning: -1, Accreditations: StaticAccreditations{
			{Issuer: synth.Board(st, p.LicenseType).ID, Type: healthcare.MedicalLicense, Jurisdictions: []string{st}}}}
		var want []string
		if l.Expired(ruleNow) {
			want = append(want, "8 LICENSE_EXPIRED R urn:test:l")
		}
		switch l.Status {
		case "active":
		case "probation", "restricted":
			want = append(want, "9 LICENSE_RESTRICTED V urn:test:l")
		default:
			want = append(want, "9 LICENSE_NOT_ACTIVE R urn:test:l")
		}
		if want == nil {
			want = []string{}
		}
		if got := summary(EvaluateRules(ev, pol)); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s license %+v: findings %q, want %q", st, l, got, want)
		}
		seen[l.Status]++
		if l.Expired(ruleNow) {
			seen["lapsed"]++
		}
	}
	for _, s := range []string{"active", "lapsed", "probation", "restricted", "suspended", "revoked", "inactive", "expired", "surrendered"} {
		if seen[s] == 0 {
			t.Errorf("no %s license in the population: %v", s, seen)
		}
	}
}

func TestDecide(t *testing.T) {
	f := func(sev ...Severity) []Finding {
		var fs []Finding
		for _, s := range sev {
			fs = append(fs, Finding{Code: "X", Severity: s})
		}
		return fs
	}
	for _, tc := range []struct {
		name string
		fs   []Finding
		want string
	}{
		{"none", nil, Accept},
		{"warnings only", f(SeverityWarning, SeverityWarning), Accept},
		{"review", f(SeverityReview), Review},
		{"review and warning", f(SeverityWarning, SeverityReview, SeverityWarning), Review},
		{"reject", f(SeverityReject), Reject},
		{"reject beats review", f(SeverityReview, SeverityReject, SeverityWarning), Reject},
		{"reject last", f(SeverityWarning, SeverityReview, SeverityReject), Reject},
		{"unknown severity fails closed", f(SeverityWarning, Severity("?")), Reject},
	} {
		if got := Decide(tc.fs); got != tc.want {
			t.Errorf("%s: Decide = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestRulesOrderDeterministic: findings come in rule order, the same every
// time.
func TestRulesOrderDeterministic(t *testing.T) {
	w := newClinicianWorld(t)
	ev, p := w.evidence()
	ev.Holder = w.other.DID
	ev.Credentials[0].Issuer = w.caBoard
	ev.Credentials[2].ProofValid = false
	ev.Credentials[1].Status = []StatusResult{{Code: CodeSuspended}}
	objAt(ev.Credentials[0].Subject, "license")["status"] = "probation"
	p.Exclusions = StaticExclusions{w.p.NPI: true}
	first := EvaluateRules(ev, p)
	for range 20 {
		if got := EvaluateRules(ev, p); !reflect.DeepEqual(got, first) {
			t.Fatalf("findings changed:\n%q\n%q", summary(got), summary(first))
		}
	}
	for i := 1; i < len(first); i++ {
		if first[i].Rule < first[i-1].Rule {
			t.Errorf("finding %d (rule %d) after rule %d: %q", i, first[i].Rule, first[i-1].Rule, summary(first))
		}
	}
	want := []string{
		"1 ISSUER_NOT_RECOGNIZED R " + idBoard, "2 ISSUER_NOT_RECOGNIZED R " + idLicense,
		"3 CREDENTIAL_SUSPENDED R " + idDEA,
		"5 SUBJECT_MISMATCH R " + idLicense, "5 SUBJECT_MISMATCH R " + idDEA,
		"5 SUBJECT_MISMATCH R " + idBoard, "5 SUBJECT_MISMATCH R " + idPriv,
		"9 LICENSE_RESTRICTED V " + idLicense, "12 OIG_EXCLUDED R " + idLicense,
	}
	if got := summary(first); !reflect.DeepEqual(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
}

func TestStaticAccreditations(t *testing.T) {
	may1 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	a := StaticAccreditations{
		{Issuer: "did:web:tmb", Type: healthcare.MedicalLicense, Jurisdictions: []string{"TX"}, From: may1},
		{Issuer: "did:web:dea", Type: healthcare.DEARegistration, Until: may1},
	}
	for _, tc := range []struct {
		issuer, typ, j string
		at             time.Time
		want           bool
	}{
		{"did:web:tmb", healthcare.MedicalLicense, "TX", ruleNow, true},
		{"did:web:tmb", healthcare.MedicalLicense, "", ruleNow, true}, // any jurisdiction
		{"did:web:tmb", healthcare.MedicalLicense, "CA", ruleNow, false},
		{"did:web:tmb", healthcare.MedicalLicense, "TX", may1.Add(-time.Second), false},
		{"did:web:tmb", healthcare.DEARegistration, "TX", ruleNow, false},
		{"did:web:dea", healthcare.DEARegistration, "CA", may1, true}, // national, until may1
		{"did:web:dea", healthcare.DEARegistration, "CA", may1.Add(time.Second), false},
		{"did:web:other", healthcare.MedicalLicense, "TX", ruleNow, false},
	} {
		if got := a.Accredited(tc.issuer, tc.typ, tc.j, tc.at); got != tc.want {
			t.Errorf("Accredited(%s, %s, %q, %s) = %v", tc.issuer, tc.typ, tc.j, tc.at, got)
		}
	}
}

func TestCredentialFromVC(t *testing.T) {
	subject := map[string]any{"id": "did:example:dr", "npi": "1234567893"}
	st := []StatusResult{{Purpose: "revocation", Code: CodeRevoked}}
	c := vc.Credential{
		"@context":          []any{vc.ContextV2},
		"id":                "urn:uuid:1",
		"type":              []any{vc.TypeCredential, healthcare.MedicalLicense},
		"issuer":            map[string]any{"id": "did:web:tmb", "name": "Texas Medical Board"},
		"validFrom":         "2025-01-01T00:00:00Z",
		"validUntil":        "2027-01-01T23:59:59Z",
		"credentialSubject": subject,
	}
	got := CredentialFromVC(c, true, st)
	want := Credential{ID: "urn:uuid:1", Types: []string{vc.TypeCredential, healthcare.MedicalLicense}, Issuer: "did:web:tmb",
		Subject: subject, ValidFrom: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ValidUntil: time.Date(2027, 1, 1, 23, 59, 59, 0, time.UTC), ProofValid: true, Status: st}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	// Several subjects: none is judged, and none binds to the holder.
	c["credentialSubject"] = []any{subject, map[string]any{"id": "did:example:other"}}
	delete(c, "validUntil")
	got = CredentialFromVC(c, false, nil)
	if got.Subject != nil || got.ProofValid || !got.ValidUntil.IsZero() {
		t.Errorf("two subjects: %+v", got)
	}
	fs := EvaluateRules(Evidence{Credentials: []Credential{got}, Holder: "did:example:dr", HolderProof: true, Now: ruleNow}, Policy{})
	if want := []string{"1 ISSUER_NOT_RECOGNIZED R urn:uuid:1", "5 SUBJECT_MISMATCH R urn:uuid:1", "6 NPI_INVALID R urn:uuid:1"}; !reflect.DeepEqual(summary(fs), want) {
		t.Errorf("findings %q, want %q", summary(fs), want)
	}
}
