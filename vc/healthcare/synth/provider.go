package synth

import (
	"crypto/ed25519"
	"math/rand/v2"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

// Provider is a synthetic clinician. Its fields are read-only; its subject
// methods are deterministic: asking twice for the license in a state gives
// the same license.
type Provider struct {
	DID         string
	Key         ed25519.PrivateKey // nil unless the generator has WithKeys
	Family      string
	Given       []string // first name, sometimes a middle initial
	LicenseType string   // HL7 v2-0360 degree: MD, DO, NP, PA or RN
	NPI         string
	BirthDate   time.Time
	Specialty   Taxonomy
	States      []string // where licensed; States[0] is the home state

	spec     specialty
	licensed time.Time // first licensed, anywhere
	seed     uint64    // for the per-state facets
	index    uint64    // distinct per generator, for license numbers
	now      time.Time
}

// Taxonomy is a NUCC Health Care Provider Taxonomy code.
type Taxonomy struct{ Code, Display string }

// mix is the share, in percent, of each degree among generated providers:
// the prescribers who hold DEA registrations. Nurses (RN) come from
// ProviderOf.
var mix = []struct {
	typ string
	pct int
}{{"MD", 58}, {"DO", 12}, {"NP", 20}, {"PA", 10}}

// Provider makes the next provider: an MD, DO, NP or PA.
func (g *Generator) Provider() *Provider {
	roll, typ := g.r.IntN(100), "MD"
	for _, m := range mix {
		if roll < m.pct {
			typ = m.typ
			break
		}
		roll -= m.pct
	}
	return g.ProviderOf(typ)
}

// ProviderOf makes the next provider of a degree: MD, DO, NP, PA or RN.
// It panics on any other, a bug in the caller.
func (g *Generator) ProviderOf(licenseType string) *Provider {
	specs, ok := specialties[licenseType]
	if !ok {
		panic("synth: unknown license type " + licenseType)
	}
	g.n++
	r := g.r
	p := &Provider{LicenseType: licenseType, NPI: g.npi(2 * g.n), seed: r.Uint64(), index: g.n, now: g.now}
	p.DID, p.Key = g.identity("provider")
	p.Family = pick(r, familyNames)
	p.Given = []string{pick(r, givenNames)}
	if chance(r, 40) {
		p.Given = append(p.Given, string(rune('A'+r.IntN(26)))+".")
	}
	age := 29 + r.IntN(40)
	p.BirthDate = g.now.AddDate(-age, 0, -r.IntN(365))
	p.licensed = p.BirthDate.AddDate(26+r.IntN(4), r.IntN(12), 0)
	p.spec = pick(r, specs)
	p.Specialty = Taxonomy{p.spec.code, p.spec.display}
	p.States = p.drawStates(r)
	return p
}

// drawStates picks a home state and, for a quarter of providers, one to
// three more.
func (p *Provider) drawStates(r *rand.Rand) []string {
	s := []string{pickState(r)}
	if chance(r, 25) {
		for n := 1 + r.IntN(3); len(s) <= n; {
			if c := pickState(r); !contains(s, c) {
				s = append(s, c)
			}
		}
	}
	return s
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// subject starts a subject with the members every provider subject has.
func (p *Provider) subject() map[string]any {
	return map[string]any{"id": p.DID, "name": p.Name(), "npi": p.NPI}
}

// Name returns the provider's name as a FHIR HumanName subset.
func (p *Provider) Name() map[string]any {
	given := make([]any, len(p.Given))
	for i, s := range p.Given {
		given[i] = s
	}
	n := map[string]any{"use": "official", "family": p.Family, "given": given,
		"suffix": []any{licenseTypes[p.LicenseType].suffix}}
	if p.LicenseType == "MD" || p.LicenseType == "DO" {
		n["prefix"] = []any{"Dr."}
	}
	return n
}

// Prescriber reports whether the provider's degree carries prescriptive
// authority for controlled substances (all but RN).
func (p *Provider) Prescriber() bool { return p.LicenseType != "RN" }

// nucc is the subject form of a taxonomy code.
func (t Taxonomy) coding() map[string]any {
	return map[string]any{"system": healthcare.SystemNUCC, "code": t.Code, "display": t.Display}
}
