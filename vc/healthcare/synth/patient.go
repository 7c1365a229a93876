package synth

import (
	"crypto/ed25519"
	"math/rand/v2"
	"time"
)

// Patient is a synthetic patient, identity-proofed by a facility.
type Patient struct {
	DID       string
	Key       ed25519.PrivateKey // nil unless the generator has WithKeys
	Family    string
	Given     []string
	Gender    string // FHIR administrative gender
	BirthDate time.Time
	Address   Address
	Phone     string
	Email     string // empty for some
	MRN       string // medical record number at Facility
	Facility  Facility
	Proofing  Proofing

	now time.Time
}

// Proofing is how a patient's identity was proofed (NIST SP 800-63).
type Proofing struct {
	Level     string // IAL1, IAL1.2, IAL1.4, IAL2 or IAL3
	Method    string // in_person, remote_supervised or remote_unsupervised
	ProofedOn time.Time
	Evidence  []Evidence
}

// Evidence is one piece of identity evidence examined.
type Evidence struct {
	Type, Jurisdiction, Strength, Validation string
	NumberHash                               string // sha256:<hex> of the document number
	Expiration                               time.Time
}

// levels is the assurance-level mix: most patients are proofed at IAL2.
var levels = []struct {
	pct   int
	level string
}{{8, "IAL1"}, {5, "IAL1.2"}, {7, "IAL1.4"}, {75, "IAL2"}, {5, "IAL3"}}

// Patient makes the next patient, proofed by a new facility in their state.
func (g *Generator) Patient() *Patient {
	g.n++
	r := g.r
	st := pickState(r)
	pt := &Patient{Family: pick(r, familyNames), now: g.now}
	pt.DID, pt.Key = g.identity("patient")
	switch roll := r.IntN(100); {
	case roll < 49:
		pt.Gender, pt.Given = "female", []string{pick(r, femaleNames)}
	case roll < 98:
		pt.Gender, pt.Given = "male", []string{pick(r, maleNames)}
	default:
		pt.Gender, pt.Given = pick(r, []string{"other", "unknown"}), []string{pick(r, givenNames)}
	}
	if chance(r, 50) {
		pt.Given = append(pt.Given, pick(r, givenNames))
	}
	age := 18 + r.IntN(78)
	if chance(r, 5) {
		age = r.IntN(18)
	}
	pt.BirthDate = g.now.AddDate(-age, 0, -r.IntN(365))
	pt.Address = streetAddress(r, st)
	s := states[stateIndex[st]]
	pt.Phone = "+1-" + s.area + "-555-01" + digits(uint64(r.IntN(100)), 2)
	if chance(r, 80) {
		pt.Email = lower(pt.Given[0]) + "." + lower(asciiLetters(pt.Family)) + digits(uint64(r.IntN(100)), 2) + "@example.com"
	}
	pt.Facility = g.facility(st, g.n, r)
	pt.MRN = "MRN" + digits(uint64(r.IntN(100_000_000)), 8)
	pt.Proofing = proofing(r, g.now, st)
	return pt
}

func asciiLetters(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			b = append(b, c)
		}
	}
	return string(b)
}

// proofing draws how a patient living in a state was proofed.
func proofing(r *rand.Rand, now time.Time, st string) Proofing {
	p := Proofing{Level: levels[weighted(r, len(levels), func(i int) int { return levels[i].pct })].level}
	p.ProofedOn = now.Add(-days(r.IntN(1000)))
	strong := func() Evidence {
		e := Evidence{Strength: "STRONG", Validation: pick(r, []string{"issuing_source", "authoritative_source"})}
		switch r.IntN(4) {
		case 0:
			e.Type, e.Jurisdiction, e.Strength = "passport", "US", "SUPERIOR"
		case 1:
			e.Type, e.Jurisdiction = "mdl", "US-"+st
		case 2:
			e.Type, e.Jurisdiction = "state_id", "US-"+st
		default:
			e.Type, e.Jurisdiction = "drivers_license", "US-"+st
		}
		return e
	}
	switch p.Level {
	case "IAL3":
		p.Method = "in_person"
		p.Evidence = []Evidence{strong(), strong()}
	case "IAL2":
		p.Method = pick(r, []string{"in_person", "in_person", "remote_unsupervised", "remote_supervised"})
		p.Evidence = []Evidence{strong()}
	default:
		p.Method = "remote_unsupervised"
		p.Evidence = []Evidence{{Type: pick(r, []string{"financial_account", "phone_account", "utility_account"}),
			Jurisdiction: "US", Strength: pick(r, []string{"WEAK", "FAIR"}),
			Validation: pick(r, []string{"none", "automated_document_check"})}}
	}
	for i := range p.Evidence {
		p.Evidence[i].NumberHash = "sha256:" + hex64(r)
		if p.Evidence[i].Strength != "WEAK" && p.Evidence[i].Strength != "FAIR" {
			p.Evidence[i].Expiration = p.ProofedOn.Add(days(30 + r.IntN(8*365)))
		}
	}
	return p
}

// hex64 draws 64 hex digits: the shape of a SHA-256 digest.
func hex64(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 64)
	for i := 0; i < 64; i += 16 {
		v := r.Uint64()
		for j := range 16 {
			b[i+j] = hex[v>>(4*j)&0xf]
		}
	}
	return string(b)
}

// Age returns the patient's age in whole years on the reference date.
func (pt *Patient) Age() int {
	y := pt.now.Year() - pt.BirthDate.Year()
	if m, d := pt.now.Month(), pt.now.Day(); m < pt.BirthDate.Month() || m == pt.BirthDate.Month() && d < pt.BirthDate.Day() {
		y--
	}
	return y
}

// IdentitySubject returns the credentialSubject of a
// PatientIdentityCredential for the patient.
func (pt *Patient) IdentitySubject() map[string]any {
	given := make([]any, len(pt.Given))
	for i, g := range pt.Given {
		given[i] = g
	}
	telecom := []any{map[string]any{"system": "phone", "value": pt.Phone, "use": "mobile"}}
	if pt.Email != "" {
		telecom = append(telecom, map[string]any{"system": "email", "value": pt.Email, "use": "home"})
	}
	age := pt.Age()
	return map[string]any{
		"id":        pt.DID,
		"name":      map[string]any{"use": "official", "family": pt.Family, "given": given},
		"birthDate": date(pt.BirthDate),
		"gender":    pt.Gender,
		"address":   pt.Address.subject(),
		"telecom":   telecom,
		"identifier": []any{map[string]any{
			"use": "usual",
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number",
			}}},
			"system": "https://" + pt.Facility.host + "/fhir/sid/mrn",
			"value":  pt.MRN,
		}},
		"ageOver":           map[string]any{"18": age >= 18, "21": age >= 21, "65": age >= 65},
		"identityAssurance": pt.Proofing.subject(pt.Facility.Ref),
	}
}

func (p Proofing) subject(by Ref) map[string]any {
	ev := make([]any, len(p.Evidence))
	for i, e := range p.Evidence {
		m := map[string]any{"type": e.Type, "issuingJurisdiction": e.Jurisdiction, "documentNumberHash": e.NumberHash,
			"strength": e.Strength, "validation": e.Validation}
		if !e.Expiration.IsZero() {
			m["expirationDate"] = date(e.Expiration)
		}
		ev[i] = m
	}
	return map[string]any{"level": p.Level, "framework": "NIST SP 800-63-3", "method": p.Method,
		"proofedOn": date(p.ProofedOn), "proofedBy": by.subject(), "evidence": ev}
}
