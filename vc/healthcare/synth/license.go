package synth

import (
	"math/rand/v2"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

// License is a provider's license in one state, as its board records it.
type License struct {
	Number        string
	State         string
	Type          string // MD, DO, NP, PA or RN
	Status        string // as the schema enumerates: active, probation, suspended, ...
	OriginalIssue time.Time
	Issue         time.Time // start of the current renewal period
	Expiration    time.Time
	Board         Ref
	Compact       string // IMLC or NLC when obtained through a compact
	Actions       []Action
}

// Action is a disciplinary action on a license.
type Action struct {
	Type      string
	Effective time.Time
	End       time.Time // zero when open-ended
	Basis     string
	Public    bool
}

// Expired reports whether the license's expiration date is before at's
// date. A lapsed license may still say "active": the credential was issued
// while it was.
func (l License) Expired(at time.Time) bool { return l.Expiration.Before(day(at)) }

// licenseOutcome is one way a license can stand, with its share in
// percent: most are active and current; some lapsed (still saying
// "active"), expired, on probation, restricted, suspended, revoked,
// inactive or surrendered.
var licenseOutcomes = []struct {
	pct    int
	status string
	lapsed bool
	action string
}{
	{78, "active", false, ""},
	{6, "active", true, ""},
	{2, "expired", true, ""},
	{4, "probation", false, "probation"},
	{2, "restricted", false, "restriction"},
	{3, "suspended", false, "suspension"},
	{1, "revoked", false, "revocation"},
	{2, "inactive", false, ""},
	{2, "surrendered", false, "surrender"},
}

var actionBasis = map[string]string{
	"probation":         "Inadequate medical records; practice monitor required",
	"restriction":       "Prescribing restricted pending completion of a controlled-substance course",
	"suspension":        "Summary suspension pending investigation",
	"revocation":        "Conviction related to the practice of medicine",
	"surrender":         "Voluntary surrender while under investigation",
	"letter_of_concern": "Delayed response to a records request",
	"fine":              "Failure to complete continuing medical education",
}

// License returns the provider's license in a state (any state, licensed
// there or not: the provider's States are where a test should look first).
func (p *Provider) License(stateCode string) License {
	r := subRand(p.seed, "license/"+stateCode)
	o := licenseOutcomes[weighted(r, len(licenseOutcomes), func(i int) int { return licenseOutcomes[i].pct })]
	l := License{State: stateCode, Type: p.LicenseType, Status: o.status, Board: Board(stateCode, p.LicenseType)}
	l.Number = p.LicenseType + digits((p.index*7919+uint64(stateIndex[stateCode])*104729)%1_000_000, 6)
	if o.lapsed {
		l.Expiration = p.now.Add(-days(1 + r.IntN(365)))
	} else {
		l.Expiration = p.now.Add(days(1 + r.IntN(729)))
	}
	l.Issue = l.Expiration.AddDate(-2, 0, 1)
	l.OriginalIssue = p.licensed
	if stateCode != p.States[0] {
		l.OriginalIssue = p.licensed.AddDate(1+r.IntN(8), r.IntN(12), 0)
		if p.LicenseType == "MD" || p.LicenseType == "DO" {
			if chance(r, 40) {
				l.Compact = "IMLC"
			}
		} else if p.LicenseType == "RN" {
			l.Compact = "NLC"
		}
	}
	if l.OriginalIssue.After(l.Issue) {
		l.OriginalIssue = l.Issue
	}
	if o.action != "" {
		l.Actions = append(l.Actions, action(r, o.action, l.Issue, p.now, true))
	} else if o.status == "active" && chance(r, 8) {
		l.Actions = append(l.Actions, action(r, pick(r, []string{"letter_of_concern", "fine"}), l.OriginalIssue, p.now, chance(r, 50)))
	}
	return l
}

// action is a disciplinary action effective between from and to.
func action(r *rand.Rand, typ string, from, to time.Time, public bool) Action {
	span := int(to.Sub(from).Hours() / 24)
	if span < 1 {
		span = 1
	}
	a := Action{Type: typ, Effective: from.Add(days(r.IntN(span))), Basis: actionBasis[typ], Public: public}
	if typ == "probation" || typ == "restriction" {
		a.End = a.Effective.AddDate(1+r.IntN(3), 0, 0)
	}
	return a
}

// LicenseSubject returns the credentialSubject of a MedicalLicenseCredential
// for the provider's license in a state.
func (p *Provider) LicenseSubject(stateCode string) map[string]any {
	return p.License(stateCode).Subject(p)
}

// Subject returns the credentialSubject of the license, held by p.
func (l License) Subject(p *Provider) map[string]any {
	lt := licenseTypes[l.Type]
	lic := map[string]any{
		"licenseNumber": l.Number,
		"jurisdiction":  l.State,
		"licenseType": map[string]any{
			"system": healthcare.SystemV2_0360, "code": l.Type, "display": lt.display,
		},
		"profession":        lt.profession,
		"status":            l.Status,
		"originalIssueDate": date(l.OriginalIssue),
		"issueDate":         date(l.Issue),
		"expirationDate":    date(l.Expiration),
		"issuingBoard":      l.Board.subject(),
	}
	if l.Compact != "" {
		lic["compact"] = l.Compact
	}
	actions := make([]any, len(l.Actions))
	for i, a := range l.Actions {
		m := map[string]any{"actionType": a.Type, "effectiveDate": date(a.Effective), "public": a.Public}
		if !a.End.IsZero() {
			m["endDate"] = date(a.End)
		}
		if a.Basis != "" {
			m["basis"] = a.Basis
		}
		actions[i] = m
	}
	s := p.subject()
	s["birthDate"] = date(p.BirthDate)
	s["license"] = lic
	s["disciplinaryActions"] = actions
	return s
}
