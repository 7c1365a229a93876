package synth

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

// DEA is a provider's DEA registration in one state.
type DEA struct {
	Number         string
	State          string
	RegistrantType string // practitioner or mid_level_practitioner
	Activity       string // business activity code: C practitioner, M mid-level
	Schedules      []string
	OriginalIssue  time.Time
	Expiration     time.Time
	Status         string // active, inactive, surrendered or revoked
	Address        Address
}

// Address is a US postal address.
type Address struct {
	Line, City, State, PostalCode string
}

func (a Address) subject() map[string]any {
	return map[string]any{"line": []any{a.Line}, "city": a.City, "state": a.State,
		"postalCode": a.PostalCode, "country": "US"}
}

// streetAddress draws an address in a state's capital.
func streetAddress(r *rand.Rand, stateCode string) Address {
	s := states[stateIndex[stateCode]]
	line := strconv.Itoa(100+r.IntN(9800)) + " " + streets[r.IntN(len(streets))] + " " + streetKinds[r.IntN(len(streetKinds))]
	return Address{Line: line, City: s.city, State: s.code, PostalCode: s.zip}
}

var deaOutcomes = []struct {
	pct    int
	status string
	lapsed bool
}{{90, "active", false}, {5, "active", true}, {2, "inactive", false}, {2, "surrendered", false}, {1, "revoked", false}}

// practitionerLetters weights the registrant-type letters of practitioner
// DEA numbers: A and B are exhausted, new numbers start with F or G.
const practitionerLetters = "FFFFFGGGBA"

// DEA returns the provider's DEA registration in a state. ok is false for
// a provider who cannot prescribe (RN).
func (p *Provider) DEA(stateCode string) (d DEA, ok bool) {
	if !p.Prescriber() {
		return DEA{}, false
	}
	r := subRand(p.seed, "dea/"+stateCode)
	o := deaOutcomes[weighted(r, len(deaOutcomes), func(i int) int { return deaOutcomes[i].pct })]
	d = DEA{State: stateCode, Status: o.status, RegistrantType: "practitioner", Activity: "C",
		Schedules: []string{"2", "2N", "3", "3N", "4", "5"}, Address: streetAddress(r, stateCode)}
	first := practitionerLetters[r.IntN(len(practitionerLetters))]
	if p.LicenseType == "NP" || p.LicenseType == "PA" {
		first, d.RegistrantType, d.Activity = 'M', "mid_level_practitioner", "M"
		if chance(r, 40) {
			d.Schedules = []string{"3", "3N", "4", "5"}
		}
	}
	second := byte('9')
	if c := p.Family[0]; c >= 'A' && c <= 'Z' {
		second = c
	}
	six := digits(uint64(r.IntN(1_000_000)), 6)
	check, _ := healthcare.DEACheckDigit(six)
	d.Number = string([]byte{first, second}) + six + string(check)
	if o.lapsed {
		d.Expiration = p.now.Add(-days(1 + r.IntN(365)))
	} else {
		d.Expiration = p.now.Add(days(1 + r.IntN(3*365)))
	}
	d.OriginalIssue = d.Expiration.AddDate(-3*(1+r.IntN(5)), 0, 1)
	return d, true
}

// DEASubject returns the credentialSubject of a DEARegistrationCredential
// for the provider's registration in a state, or nil for a provider who
// cannot prescribe (RN).
func (p *Provider) DEASubject(stateCode string) map[string]any {
	d, ok := p.DEA(stateCode)
	if !ok {
		return nil
	}
	sched := make([]any, len(d.Schedules))
	for i, s := range d.Schedules {
		sched[i] = s
	}
	s := p.subject()
	s["registration"] = map[string]any{
		"deaNumber":            d.Number,
		"registrantType":       d.RegistrantType,
		"businessActivityCode": d.Activity,
		"schedules":            sched,
		"state":                d.State,
		"registeredAddress":    d.Address.subject(),
		"originalIssueDate":    date(d.OriginalIssue),
		"expirationDate":       date(d.Expiration),
		"activityStatus":       d.Status,
	}
	return s
}
