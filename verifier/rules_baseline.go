package verifier

import (
	"fmt"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

// accreditedTypes are the types an issuer must be accredited for: the
// healthcare types the credential declares (all of them, so a second type
// cannot smuggle claims past the registry), else its own types.
func accreditedTypes(c Credential) []string {
	var hc, other []string
	for _, t := range c.Types {
		if _, ok := healthcare.Lookup(t); ok {
			hc = append(hc, t)
		} else if t != vc.TypeCredential {
			other = append(other, t)
		}
	}
	switch {
	case len(hc) > 0:
		return hc
	case len(other) > 0:
		return other
	}
	return []string{vc.TypeCredential}
}

// issuers: rules 1 and 2, at most one finding per credential.
func (e *eval) issuers() {
	var r2 []Finding
	a, now := e.p.Accreditations, e.ev.Now
	for i, c := range e.ev.Credentials {
		l := e.label(i)
		switch {
		case !c.ProofValid:
			e.add(1, CodeIssuerNotRecognized, SeverityReject, l, "the proof does not verify")
			continue
		case c.Issuer == "":
			e.add(1, CodeIssuerNotRecognized, SeverityReject, l, "the credential names no issuer")
			continue
		case a == nil:
			e.add(1, CodeIssuerNotRecognized, SeverityReject, l, "no trust registry is configured: %s cannot be recognised", c.Issuer)
			continue
		}
	types:
		for _, t := range accreditedTypes(c) {
			if !a.Accredited(c.Issuer, t, "", now) {
				e.add(1, CodeIssuerNotRecognized, SeverityReject, l, "%s is not accredited to issue %s", c.Issuer, t)
				break
			}
			if t != healthcare.MedicalLicense && t != healthcare.DEARegistration {
				continue
			}
			j, ok := healthcare.Jurisdiction(t, c.Subject)
			switch {
			case !ok:
				r2 = append(r2, Finding{2, CodeIssuerNotRecognized, SeverityReject, fmt.Sprintf("the %s names no valid jurisdiction", t), l})
				break types
			case !a.Accredited(c.Issuer, t, j, now):
				r2 = append(r2, Finding{2, CodeIssuerNotRecognized, SeverityReject,
					fmt.Sprintf("%s is not accredited to issue %s in %s", c.Issuer, t, j), l})
				break types
			}
		}
	}
	e.out = append(e.out, r2...)
}

// status: rule 3, from the StatusChecker's results.
func (e *eval) status() {
	for i, c := range e.ev.Credentials {
		for _, s := range c.Status {
			msg := s.Detail
			if msg == "" {
				msg = fmt.Sprintf("%s status entry %d of %s", s.Purpose, s.Index, s.List)
			}
			switch {
			case s.Code == "":
			case s.Warning:
				e.add(3, s.Code, SeverityWarning, e.label(i), "%s", msg)
			default:
				e.add(3, s.Code, SeverityReject, e.label(i), "%s", msg)
			}
		}
	}
}

// validity: rule 4.
func (e *eval) validity() {
	now := e.ev.Now
	for i, c := range e.ev.Credentials {
		if !c.ValidFrom.IsZero() && now.Before(c.ValidFrom) {
			e.add(4, CodeNotYetValid, SeverityReject, e.label(i), "valid from %s", c.ValidFrom.UTC().Format(time.RFC3339))
		}
		if !c.ValidUntil.IsZero() && now.After(c.ValidUntil) {
			e.add(4, CodeExpired, SeverityReject, e.label(i), "expired at %s", c.ValidUntil.UTC().Format(time.RFC3339))
		}
	}
}

// subjects: rule 5. Each credential gets at most one finding for its
// subject id and one for its NPI.
func (e *eval) subjects() {
	want, firstNPI := e.ev.Holder, ""
	for i, c := range e.ev.Credentials {
		id := strAt(c.Subject, "id")
		switch {
		case want == "" && id != "":
			want = id // no holder: the subjects must agree with each other
		case e.ev.Holder != "" && id != want:
			e.add(5, CodeSubjectMismatch, SeverityReject, e.label(i), "subject %q is not the holder %s", id, want)
		case e.ev.Holder == "" && id != "" && id != want:
			e.add(5, CodeSubjectMismatch, SeverityReject, e.label(i), "subject %s is not %s, the subject of the other credentials", id, want)
		}
		if !clinician(kindOf(c)) {
			continue
		}
		npi := strAt(c.Subject, "npi")
		switch {
		case npi == "":
		case firstNPI == "":
			firstNPI = npi
		case npi != firstNPI:
			e.add(5, CodeSubjectMismatch, SeverityReject, e.label(i), "NPI %s is not %s, the NPI of the other credentials", npi, firstNPI)
		}
	}
	if e.ev.Holder != "" && !e.ev.HolderProof {
		e.add(5, CodeSubjectMismatch, SeverityReject, "", "the presentation is not signed by %s with the requested challenge and domain", e.ev.Holder)
	}
}

// npis: rule 6.
func (e *eval) npis() {
	for i, c := range e.ev.Credentials {
		if !clinician(kindOf(c)) {
			continue
		}
		switch npi := strAt(c.Subject, "npi"); {
		case npi == "":
			e.add(6, CodeNPIInvalid, SeverityReject, e.label(i), "the subject has no NPI")
		case !healthcare.ValidNPI(npi):
			e.add(6, CodeNPIInvalid, SeverityReject, e.label(i), "%q is not a valid NPI", npi)
		}
	}
}
