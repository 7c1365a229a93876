package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

// Facility is a synthetic hospital.
type Facility struct {
	Ref             // ID (a did:web), Name, Jurisdiction (its state)
	NPI     string  // organisation NPI
	CCN     string  // CMS Certification Number
	Address Address //
	host    string  // DNS name of its did:web, for MRN systems
}

func (f Facility) subject() map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "npi": f.NPI, "ccn": f.CCN, "address": f.Address.subject()}
}

// Facility makes a new hospital in a state.
func (g *Generator) Facility(stateCode string) Facility {
	g.n++
	return g.facility(stateCode, g.n, g.r)
}

// facility makes the hospital number n, drawing its details from r.
func (g *Generator) facility(stateCode string, n uint64, r *rand.Rand) Facility {
	s := states[stateIndex[stateCode]]
	kind := pick(r, hospitalKinds)
	host := strings.ToLower(strings.ReplaceAll(s.city+" "+kind, " ", "-")) + "-" + strconv.FormatUint(n, 36) + ".hospital.example"
	return Facility{
		Ref:     Ref{ID: "did:web:" + host, Name: s.city + " " + kind + " (synthetic)", Jurisdiction: s.code},
		NPI:     g.npi(2*n + 1),
		CCN:     s.ccn + "0" + digits(uint64(1+r.IntN(879)), 3),
		Address: streetAddress(r, stateCode),
		host:    host,
	}
}

var staffCategories = []struct {
	pct      int
	category string
}{{70, "active"}, {10, "provisional"}, {8, "courtesy"}, {5, "telemedicine"}, {4, "consulting"}, {3, "affiliate"}}

// PrivilegeSubject returns the credentialSubject of a
// HospitalPrivilegeCredential: the provider's appointment to the facility's
// medical staff and the privileges it delineates. One appointment in
// twelve has lapsed; a provisional one has its privileges under FPPE.
func (p *Provider) PrivilegeSubject(f Facility) map[string]any {
	r := subRand(p.seed, "privileges/"+f.ID)
	cat := staffCategories[weighted(r, len(staffCategories), func(i int) int { return staffCategories[i].pct })].category
	start := p.now.Add(-days(r.IntN(729)))
	if chance(r, 8) {
		start = p.now.Add(-days(730 + r.IntN(365)))
	}
	end := start.AddDate(2, 0, -1)
	dept := p.spec.department
	names := append([]string{p.spec.display + " core privileges"}, p.spec.privileges...)
	if p.Prescriber() {
		names = append(names, "Prescribe controlled substances (DEA Schedules II-V)")
	}
	privs := make([]any, len(names))
	for i, n := range names {
		status := "granted"
		if cat == "provisional" {
			status = "provisional"
		} else if chance(r, 2) {
			status = "suspended"
		}
		privs[i] = map[string]any{
			"code": privilegeCode(dept, i+1), "description": n, "status": status,
			"grantedDate": date(start), "expirationDate": date(end), "fppeRequired": cat == "provisional",
		}
	}
	s := p.subject()
	s["facility"] = f.subject()
	s["appointment"] = map[string]any{"staffCategory": cat, "department": dept, "startDate": date(start), "endDate": date(end)}
	s["specialty"] = p.Specialty.coding()
	s["privileges"] = privs
	s["verifiedCredentials"] = p.verified(r, start.Add(-days(7+r.IntN(60))))
	return s
}

// privilegeCode is a facility's code for a privilege: the first six
// letters of the department and a number, e.g. HOSPIT-01.
func privilegeCode(dept string, n int) string {
	var b strings.Builder
	for i := 0; i < len(dept) && b.Len() < 6; i++ {
		if c := dept[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteByte(c &^ 0x20)
		}
	}
	return b.String() + "-" + digits(uint64(n), 2)
}

// verified lists what the medical staff office verified at appointment.
func (p *Provider) verified(r *rand.Rand, on time.Time) []any {
	v := func(typ, source string, id bool) any {
		m := map[string]any{"credentialType": typ, "source": source, "verifiedOn": date(on)}
		if id {
			m["credentialId"] = uuid(r)
		}
		return m
	}
	out := []any{v(healthcare.MedicalLicense, "verifiable_credential", true)}
	if p.Prescriber() {
		out = append(out, v(healthcare.DEARegistration, "verifiable_credential", true))
	}
	return append(out,
		v(healthcare.BoardCertification, "verifiable_credential", true),
		v("NPDBQuery", "primary_source", false),
		v("OIGLEIECheck", "primary_source", false))
}

// uuid draws a version 4 UUID URN.
func uuid(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	b := make([]byte, 0, 45)
	b = append(b, "urn:uuid:"...)
	for i := 15; i >= 0; i-- {
		v := hi
		if i < 8 {
			v = lo
		}
		x := byte(v >> (8 * (i % 8)))
		b = append(b, hex[x>>4], hex[x&0xf])
		if i == 12 || i == 10 || i == 8 || i == 6 {
			b = append(b, '-')
		}
	}
	return string(b)
}
