package verifier

import (
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

// boardCertification: rule 11. A certification is current when its
// certification.status is certified, its effectiveDate has come, its end
// (expirationDate or continuingCertification.nextReverificationDate, see
// healthcare.ExpiresAt; none for lifetime certificates) has not passed, and
// continuing-certification requirements are not reported unmet.
func (e *eval) boardCertification() {
	if !e.p.RequireBoardCertification {
		return
	}
	certs := e.of(healthcare.BoardCertification)
	if len(certs) == 0 {
		e.add(11, CodeBoardCertMissing, SeverityReview, "", "no board certification presented")
		return
	}
	var cands [][]Finding
	for _, i := range certs {
		if why := e.notCurrent(e.ev.Credentials[i].Subject); why != "" {
			cands = append(cands, []Finding{{11, CodeBoardCertNotCurrent, SeverityReview, why, e.label(i)}})
		} else {
			cands = append(cands, nil)
		}
	}
	e.out = append(e.out, best(cands)...)
}

func (e *eval) notCurrent(s map[string]any) string {
	c := objAt(s, "certification")
	if st := strAt(c, "status"); st != "certified" {
		return fmt.Sprintf("the certification status is %q", st)
	}
	if d, ok := dateAt(c, "effectiveDate"); ok && e.ev.Now.Before(d) {
		return "the certification is effective from " + d.Format(time.DateOnly)
	}
	if end, ok := healthcare.ExpiresAt(healthcare.BoardCertification, s); ok && e.ev.Now.After(end) {
		return "the certification lapsed on " + end.Format(time.DateOnly)
	}
	if met, ok := objAt(c, "continuingCertification")["requirementsMet"].(bool); ok && !met {
		return "continuing-certification requirements are not met"
	}
	return ""
}

// exclusions: rule 12, each distinct NPI once.
func (e *eval) exclusions() {
	if e.p.Exclusions == nil {
		return
	}
	var seen []string
	for i, c := range e.ev.Credentials {
		npi := strAt(c.Subject, "npi")
		if !clinician(kindOf(c)) || npi == "" || slices.Contains(seen, npi) {
			continue
		}
		seen = append(seen, npi)
		if e.p.Exclusions.Excluded(npi) {
			e.add(12, CodeOIGExcluded, SeverityReject, e.label(i), "NPI %s is on the exclusion list", npi)
		}
	}
}

// privileges: rule 14. A HospitalPrivilegeCredential counts for the
// policy's facility when facility.id or facility.npi is Policy.Facility. It
// is current when its issuer is that facility.id, the appointment
// (startDate..endDate) covers now, and at least one privileges[] entry is
// granted or provisional with grantedDate..expirationDate covering now.
func (e *eval) privileges() {
	f := e.p.Facility
	if f == "" {
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.HospitalPrivilege) {
		s := e.ev.Credentials[i].Subject
		fac := objAt(s, "facility")
		if strAt(fac, "id") != f && strAt(fac, "npi") != f {
			continue
		}
		if why := e.privilegeProblem(e.ev.Credentials[i]); why != "" {
			cands = append(cands, []Finding{{14, CodePrivilegesNotCurrent, SeverityReject, why, e.label(i)}})
		} else {
			cands = append(cands, nil)
		}
	}
	if len(cands) == 0 {
		e.add(14, CodePrivilegesNotCurrent, SeverityReject, "", "no privileges at %s presented", f)
		return
	}
	e.out = append(e.out, best(cands)...)
}

func (e *eval) privilegeProblem(c Credential) string {
	fac := strAt(objAt(c.Subject, "facility"), "id")
	if fac == "" || c.Issuer != fac {
		return fmt.Sprintf("privileges at %q are issued by %s, not by the facility", fac, c.Issuer)
	}
	a, now := objAt(c.Subject, "appointment"), e.ev.Now
	if !covers(a, "startDate", "endDate", now) {
		return fmt.Sprintf("the appointment (%s to %s) is not current", strAt(a, "startDate"), strAt(a, "endDate"))
	}
	for _, p := range vc.Objects(c.Subject["privileges"]) {
		if s := strAt(p, "status"); (s == "granted" || s == "provisional") && covers(p, "grantedDate", "expirationDate", now) {
			return ""
		}
	}
	return "no privilege is granted and current"
}

// covers reports whether the dates o[from] .. o[to] (the whole of that
// day, UTC) are real and include now.
func covers(o map[string]any, from, to string, now time.Time) bool {
	a, ok1 := dateAt(o, from)
	b, ok2 := dateAt(o, to)
	return ok1 && ok2 && !now.Before(a) && now.Before(b.Add(24*time.Hour))
}

// ialRank orders the identityAssurance.level values (SMART Health Cards'
// IAL codes: IAL1.2 and IAL1.4 lie between IAL1 and IAL2), in tenths.
var ialRank = map[string]int{"IAL1": 10, "IAL1.2": 12, "IAL1.4": 14, "IAL2": 20, "IAL3": 30}

// assurance: rule 15, in patient flows. Any PatientIdentityCredential whose
// identityAssurance.level reaches RequiredIAL passes.
func (e *eval) assurance() {
	need := e.p.RequiredIAL
	if need <= 0 {
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.PatientIdentity) {
		lvl := strAt(objAt(e.ev.Credentials[i].Subject, "identityAssurance"), "level")
		if r, ok := ialRank[lvl]; ok && r >= need*10 {
			cands = append(cands, nil)
			continue
		}
		cands = append(cands, []Finding{{15, CodeInsufficientAssurance, SeverityReject,
			fmt.Sprintf("identity assurance %q is below IAL%d", lvl, need), e.label(i)}})
	}
	if len(cands) == 0 {
		e.add(15, CodeInsufficientAssurance, SeverityReject, "", "no patient identity credential presented (IAL%d required)", need)
		return
	}
	e.out = append(e.out, best(cands)...)
}
