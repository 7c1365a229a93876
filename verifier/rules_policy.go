package verifier

import (
	"slices"
	"time"
)

// Accreditations answers whether an issuer is accredited for a credential
// type in a jurisdiction at a time. An empty jurisdiction asks whether the
// issuer is accredited for the type in any jurisdiction.
type Accreditations interface {
	Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool
}

// Accreditation is one entry of StaticAccreditations: Issuer is accredited
// for Type in Jurisdictions (empty: in every one, as a national body such as
// a specialty board or the DEA) from From until Until (zero: unbounded).
type Accreditation struct {
	Issuer        string
	Type          string
	Jurisdictions []string
	From, Until   time.Time
}

// StaticAccreditations is an in-memory trust registry, for tests and fixed
// policies.
type StaticAccreditations []Accreditation

// Accredited implements Accreditations.
func (s StaticAccreditations) Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool {
	for _, a := range s {
		if a.Issuer != issuer || a.Type != credentialType ||
			!a.From.IsZero() && at.Before(a.From) || !a.Until.IsZero() && at.After(a.Until) {
			continue
		}
		if jurisdiction == "" || len(a.Jurisdictions) == 0 || slices.Contains(a.Jurisdictions, jurisdiction) {
			return true
		}
	}
	return false
}

// Exclusions answers whether an NPI is on an exclusion list (OIG LEIE).
type Exclusions interface {
	Excluded(npi string) bool
}

// StaticExclusions is an in-memory exclusion list: the NPIs mapped to true.
type StaticExclusions map[string]bool

// Excluded implements Exclusions.
func (s StaticExclusions) Excluded(npi string) bool { return s[npi] }

// Policy is what a verifier requires of a presentation.
type Policy struct {
	// PracticeState is the facility's state (USPS code). For telehealth the
	// practice state is PatientState instead. Licensure (rules 7–9) is only
	// judged when there is a practice state, or Telehealth is set (then a
	// missing PatientState fails rule 7).
	PracticeState string
	Telehealth    bool
	PatientState  string
	// ControlledSubstances requires a DEA registration (rule 10).
	ControlledSubstances bool
	// RequireBoardCertification requires a current certification (rule 11).
	RequireBoardCertification bool
	// Facility is the DID or NPI of the facility whose privileges are
	// required (rule 14); "" when privileges are not required.
	Facility string
	// RequiredIAL, in patient flows, is the identity assurance level needed
	// (2: IAL2 or higher); 0 is not a patient flow.
	RequiredIAL int
	// Accreditations is the trust registry; nil recognises no issuer.
	Accreditations Accreditations
	// Exclusions is the exclusion list; nil skips rule 12.
	Exclusions Exclusions
	// ExpiryWarning: 0 is DefaultExpiryWarning; negative gives no warnings.
	ExpiryWarning time.Duration
}

// practiceState is where the clinician practises: the patient's state for
// telehealth, else the facility's.
func (p Policy) practiceState() string {
	if p.Telehealth {
		return p.PatientState
	}
	return p.PracticeState
}

func (p Policy) expiryWarning() time.Duration {
	if p.ExpiryWarning == 0 {
		return DefaultExpiryWarning
	}
	return p.ExpiryWarning
}
