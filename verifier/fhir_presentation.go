package verifier

import (
	"fmt"
	"slices"
)

// FHIRPresentation projects a presentation's result as a Bundle of type
// collection: first the presentation's own VerificationResult (its proof
// with the challenge, holder binding, the rules over all credentials, the
// query; status is the whole decision; targets are every credential), then
// one per credential (its own checks and the findings about it; primary
// source its issuer). One VerificationResult with several targets cannot say
// which issuer validated which credential, nor that one credential failed
// while another passed: primarySource and status are not per target.
func FHIRPresentation(pr *PresentationResult, o FHIROptions) *FHIRBundle {
	o = o.withTime()
	labels := labelsOf(pr)
	b := &FHIRBundle{ResourceType: "Bundle", Type: "collection", Timestamp: o.at()}
	b.Entry = append(b.Entry, FHIRBundleEntry{Resource: o.presentation(pr, labels)})
	for i, cr := range pr.Credentials {
		b.Entry = append(b.Entry, FHIRBundleEntry{Resource: o.credential(inPresentation(pr, cr, labels[i]))})
	}
	return b
}

// credLabels are a presentation's two names of a credential without an id:
// VerifyPresentation's "verifiableCredential[i]" (i among all) and the
// rules' "credentials[k]" (k among those whose proof verified).
type credLabels struct{ vp, rules string }

func labelsOf(pr *PresentationResult) []credLabels {
	out := make([]credLabels, len(pr.Credentials))
	k := 0
	for i, cr := range pr.Credentials {
		out[i].vp = fmt.Sprintf("verifiableCredential[%d]", i)
		if cr.Credential == nil {
			continue
		}
		out[i].rules = fmt.Sprintf("credentials[%d]", k)
		k++
		if id := cr.Credential.ID(); id != "" {
			out[i] = credLabels{id, id}
		}
	}
	return out
}

// inPresentation is a presentation's credential: its own checks, the
// presentation's issuer, holder and rules checks as they bear on it, and the
// problems about it (its own are among the presentation's).
func inPresentation(pr *PresentationResult, cr *Result, l credLabels) fhirSubject {
	about := func(ps []Problem) []Problem {
		var out []Problem
		for _, p := range ps {
			if p.Credential != "" && (p.Credential == l.vp || p.Credential == l.rules) {
				p.Credential = ""
				out = append(out, p)
			}
		}
		return out
	}
	errs := about(pr.Errors)
	s := fhirSubject{checks: slices.Clone(cr.Checks), passed: passedOf(cr.Results), cred: cr.Credential, label: l.vp}
	s.reasons = reasonsOf(errs, about(pr.Warnings), func(p Problem) bool { return l.rules != "" && reviewed(pr.Findings, p.Code, l.rules) })
	for _, c := range []string{CheckIssuer, CheckHolder, CheckRules} {
		if cr.Credential == nil || !slices.Contains(pr.Checks, c) || slices.Contains(s.checks, c) {
			continue
		}
		s.checks = append(s.checks, c)
		s.passed[c] = !slices.ContainsFunc(errs, func(p Problem) bool { return p.Check == c })
	}
	s.decision = decisionOf(s.reasons)
	return s
}

func (o FHIROptions) presentation(pr *PresentationResult, labels []credLabels) *FHIRVerificationResult {
	s := fhirSubject{decision: pr.Decision, checks: pr.Checks, passed: passedOf(pr.Results)}
	s.reasons = reasonsOf(pr.Errors, pr.Warnings, func(p Problem) bool { return reviewed(pr.Findings, p.Code, p.Credential) })
	for i := range s.reasons { // one name per credential: the presentation's
		for _, l := range labels {
			if l.rules != "" && s.reasons[i].Credential == l.rules {
				s.reasons[i].Credential = l.vp
			}
		}
	}
	v := o.common(s, "a presentation")
	v.ValidationType = concept(hl7ValidationType, "multiple", "Multiple Sources")
	for i, cr := range pr.Credentials {
		if ref, ok := credentialRef(cr.Credential, labels[i].vp); ok {
			v.Target = append(v.Target, ref)
		}
	}
	if s.passed[CheckProof] && pr.Holder != "" {
		// The holder attested by signing; who it is stays out (privacy).
		v.Attestation = &FHIRAttestation{CommunicationMethod: concept(hl7CommMethod, "push", "Push"), Date: o.at()}
	}
	return v
}
