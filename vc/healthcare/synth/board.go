package synth

import (
	"time"
)

// Certification is a provider's board certification in their specialty.
type Certification struct {
	Board              Ref    // ID and Name of the certifying board
	Abbreviation       string // ABIM, AOBFP, NCCPA, ...
	Umbrella           string // ABMS, AOA, NCCPA, AANPCB, ANCC
	Specialty          Taxonomy
	Number             string
	Status             string // certified, expired, suspended, revoked or inactive
	Initial            time.Time
	Effective          time.Time
	Expiration         time.Time // zero for continuous certification
	Participating      bool      // in continuing certification
	RequirementsMet    bool
	NextReverification time.Time // zero when not participating
}

var certOutcomes = []struct {
	pct    int
	status string
	lapsed bool
	behind bool // continuing-certification requirements not met
}{{86, "certified", false, false}, {4, "certified", false, true}, {5, "expired", true, false},
	{2, "suspended", false, false}, {1, "revoked", false, false}, {2, "inactive", false, false}}

// Certification returns the provider's board certification.
func (p *Provider) Certification() Certification {
	r := subRand(p.seed, "board")
	o := certOutcomes[weighted(r, len(certOutcomes), func(i int) int { return certOutcomes[i].pct })]
	b := p.spec.board
	c := Certification{
		Board:        Ref{ID: "did:web:" + lower(b.abbr) + ".certification.example", Name: b.name},
		Abbreviation: b.abbr, Umbrella: b.umbrella, Specialty: p.Specialty, Status: o.status,
		Number: digits(uint64(r.IntN(1_000_000)), 6),
	}
	c.Initial = p.licensed.AddDate(1+r.IntN(3), r.IntN(12), 0)
	if latest := p.now.Add(-days(30)); c.Initial.After(latest) {
		c.Initial = latest
	}
	c.Effective = c.Initial
	switch {
	case o.lapsed:
		c.Expiration = p.now.Add(-days(1 + r.IntN(700)))
		if c.Effective.After(c.Expiration) {
			c.Effective, c.Initial = c.Expiration, c.Expiration
		}
	case b.timeLimited:
		// Ten-year cycles from the initial certification; the current
		// one ends in the future.
		for !c.Effective.AddDate(10, 0, 0).After(p.now) {
			c.Effective = c.Effective.AddDate(10, 0, 0)
		}
		c.Expiration = c.Effective.AddDate(10, 0, -1)
	}
	if o.status == "certified" {
		c.Participating, c.RequirementsMet = true, !o.behind
		c.NextReverification = p.now.Add(days(30 + r.IntN(900)))
		if !c.Expiration.IsZero() && c.NextReverification.After(c.Expiration) {
			c.NextReverification = c.Expiration
		}
	}
	return c
}

// BoardCertificationSubject returns the credentialSubject of a
// BoardCertificationCredential for the provider's certification.
func (p *Provider) BoardCertificationSubject() map[string]any {
	c := p.Certification()
	cert := map[string]any{
		"certifyingBoard": map[string]any{
			"id": c.Board.ID, "name": c.Board.Name, "abbreviation": c.Abbreviation, "umbrella": c.Umbrella,
		},
		"specialty":                c.Specialty.coding(),
		"certificateNumber":        c.Number,
		"status":                   c.Status,
		"initialCertificationDate": date(c.Initial),
		"effectiveDate":            date(c.Effective),
	}
	if !c.Expiration.IsZero() {
		cert["expirationDate"] = date(c.Expiration)
	}
	if c.Participating {
		cc := map[string]any{"participating": true, "requirementsMet": c.RequirementsMet}
		if !c.NextReverification.IsZero() {
			cc["nextReverificationDate"] = date(c.NextReverification)
		}
		cert["continuingCertification"] = cc
	}
	s := p.subject()
	s["certification"] = cert
	return s
}
