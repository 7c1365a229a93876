package verifier

import (
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

// licensure: rules 7, 8 and 9, in clinician flows with a practice state.
func (e *eval) licensure() {
	st := e.p.practiceState()
	if e.p.RequiredIAL > 0 || st == "" && !e.p.Telehealth {
		return
	}
	if st == "" {
		e.add(7, CodeNoLicenseInState, SeverityReject, "", "telehealth: the policy names no patient state")
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.MedicalLicense) {
		if j, _ := healthcare.Jurisdiction(healthcare.MedicalLicense, e.ev.Credentials[i].Subject); j == st {
			cands = append(cands, e.license(i))
		}
	}
	if len(cands) == 0 {
		e.add(7, CodeNoLicenseInState, SeverityReject, "", "no license in %s, the state of practice", st)
		return
	}
	e.out = append(e.out, best(cands)...)
}

// license judges one license (rules 8 and 9) by license.expirationDate and
// license.status. A status the table does not list (retired, deceased, or
// none) is not active.
func (e *eval) license(i int) []Finding {
	c, l := e.ev.Credentials[i], e.label(i)
	fs := e.expiry(8, healthcare.MedicalLicense, c.Subject, l, CodeLicenseExpired, CodeLicenseExpiring, "license")
	switch s := strAt(objAt(c.Subject, "license"), "status"); s {
	case "active":
	case "probation", "restricted":
		fs = append(fs, Finding{9, CodeLicenseRestricted, SeverityReview, "the license is on " + restrictedWord(s) + ": committee review", l})
	default:
		if s == "" {
			s = "not given"
		}
		fs = append(fs, Finding{9, CodeLicenseNotActive, SeverityReject, "the license status is " + s, l})
	}
	return fs
}

func restrictedWord(s string) string {
	if s == "restricted" {
		return "restriction"
	}
	return s
}

// expiry judges the domain expiry date (healthcare.ExpiresAt: valid to the
// end of that day, UTC): past or missing is expired; a warning when the
// expiry date is at most ExpiryWarning after today's date (calendar days:
// a license expiring 60 days from today is warned of).
func (e *eval) expiry(rule int, kind string, s map[string]any, l, expired, expiring, what string) []Finding {
	at, ok := healthcare.ExpiresAt(kind, s)
	today := e.ev.Now.UTC().Truncate(24 * time.Hour)
	switch {
	case !ok:
		return []Finding{{rule, expired, SeverityReject, "the " + what + " has no valid expiration date", l}}
	case e.ev.Now.After(at):
		return []Finding{{rule, expired, SeverityReject, "the " + what + " expired on " + at.Format(time.DateOnly), l}}
	case e.p.expiryWarning() > 0 && at.Truncate(24*time.Hour).Sub(today) <= e.p.expiryWarning():
		return []Finding{{rule, expiring, SeverityWarning, "the " + what + " expires on " + at.Format(time.DateOnly), l}}
	}
	return nil
}

// dea: rule 10. Of the registrations in the practice state, the one in best
// standing is judged: its registration.deaNumber (healthcare.ValidDEA),
// registration.expirationDate and registration.activityStatus. A
// registration that is not active (inactive, surrendered, revoked) is
// DEA_INVALID: the table has no code of its own for it.
func (e *eval) dea() {
	if !e.p.ControlledSubstances {
		return
	}
	regs := e.of(healthcare.DEARegistration)
	if len(regs) == 0 {
		e.add(10, CodeDEAMissing, SeverityReject, "", "controlled substances: no DEA registration presented")
		return
	}
	st := e.p.practiceState()
	var cands [][]Finding
	var states []string
	for _, i := range regs {
		c, l := e.ev.Credentials[i], e.label(i)
		j, _ := healthcare.Jurisdiction(healthcare.DEARegistration, c.Subject)
		if j != st || st == "" {
			states = append(states, j)
			continue
		}
		r := objAt(c.Subject, "registration")
		var fs []Finding
		if n := strAt(r, "deaNumber"); !healthcare.ValidDEA(n) {
			fs = append(fs, Finding{10, CodeDEAInvalid, SeverityReject, fmt.Sprintf("%q is not a valid DEA number", n), l})
		}
		fs = append(fs, e.expiry(10, healthcare.DEARegistration, c.Subject, l, CodeDEAExpired, CodeDEAExpiring, "DEA registration")...)
		if s := strAt(r, "activityStatus"); s != "active" {
			fs = append(fs, Finding{10, CodeDEAInvalid, SeverityReject, fmt.Sprintf("the DEA registration is %q, not active", s), l})
		}
		cands = append(cands, fs)
	}
	switch {
	case len(cands) == 0 && st == "":
		e.add(10, CodeDEAStateMismatch, SeverityReject, "", "the policy names no state of practice to match the DEA registration against")
		return
	case len(cands) == 0:
		e.add(10, CodeDEAStateMismatch, SeverityReject, "", "no DEA registration in %s, the state of practice (registered in %s)", st, strings.Join(states, ", "))
		return
	}
	e.out = append(e.out, best(cands)...)
}
