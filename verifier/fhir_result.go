package verifier

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/status"
)

func (o FHIROptions) credential(s fhirSubject) *FHIRVerificationResult {
	kind := kindOfVC(s.cred)
	what := "a credential"
	if kind != "" {
		what = "a " + kind
	}
	v := o.common(s, what)
	if ref, ok := credentialRef(s.cred, s.label); ok {
		v.Target = []FHIRReference{ref}
	}
	if loc := fhirLocations[kind]; loc != "" {
		v.TargetLocation = []string{loc}
	}
	if slices.Contains(s.checks, CheckIssuer) {
		v.ValidationType = concept(hl7ValidationType, "primary", "Primary Source")
	}
	if s.cred != nil && s.cred.Issuer() != "" {
		v.PrimarySource = []FHIRPrimarySource{o.primarySource(s, kind)}
	}
	return v
}

// common fills what every VerificationResult has.
func (o FHIROptions) common(s fhirSubject, what string) *FHIRVerificationResult {
	base, at := o.base(), o.at()
	v := &FHIRVerificationResult{ResourceType: "VerificationResult", Text: narrative(what, s),
		Status: FHIRStatus(s.decision), StatusDate: at, LastPerformed: at,
		FailureAction: concept(hl7FailureAction, "fatal", "Fatal")}
	v.Extension = append(v.Extension, FHIRExtension{URL: base + "/StructureDefinition/verification-decision", ValueCode: decisionCode(s.decision)})
	for _, r := range s.reasons {
		v.Extension = append(v.Extension, o.reason(r))
	}
	for _, c := range s.checks {
		cc := concept(base+"/CodeSystem/check", c, checkDisplay[c])
		if p, ok := s.passed[c]; ok {
			cc.Extension = []FHIRExtension{{URL: base + "/StructureDefinition/check-passed", ValueBoolean: &p}}
		}
		v.ValidationProcess = append(v.ValidationProcess, *cc)
	}
	if o.Validator != "" {
		v.Validator = []FHIRValidator{{Organization: FHIRReference{Type: "Organization",
			Identifier: &FHIRIdentifier{System: base + "/verifier", Value: o.Validator}}}}
	}
	return v
}

func (o FHIROptions) reason(r fhirReason) FHIRExtension {
	base := o.base()
	e := FHIRExtension{URL: base + "/StructureDefinition/verification-reason", Extension: []FHIRExtension{
		{URL: "code", ValueCoding: &FHIRCoding{System: base + "/CodeSystem/reason", Code: r.Code}},
		{URL: "severity", ValueCode: r.severity},
	}}
	if r.Check != "" {
		e.Extension = append(e.Extension, FHIRExtension{URL: "check", ValueCoding: &FHIRCoding{System: base + "/CodeSystem/check", Code: r.Check}})
	}
	if r.Credential != "" {
		e.Extension = append(e.Extension, FHIRExtension{URL: "credential", ValueString: r.Credential})
	}
	return e
}

func (o FHIROptions) primarySource(s fhirSubject, kind string) FHIRPrimarySource {
	ps := FHIRPrimarySource{
		Who:                 &FHIRReference{Identifier: uriIdentifier(s.cred.Issuer())},
		Type:                []FHIRCodeableConcept{*concept(hl7SourceType, "issuer", "Issuing source")},
		CommunicationMethod: []FHIRCodeableConcept{*concept(hl7CommMethod, "pull", "Pull")},
		ValidationStatus:    sourceStatus(s.reasons),
		ValidationDate:      o.at(),
		CanPushUpdates:      concept(hl7CanPushUpdates, "no", "No"),
	}
	if kind != "" { // the healthcare issuers are organisations (DOMAIN.md)
		ps.Who.Type = "Organization"
	}
	if s.passed[CheckIssuer] {
		switch kind {
		case healthcare.MedicalLicense:
			ps.Type = append(ps.Type, *concept(hl7SourceType, "lic-board", "License Board"))
		case healthcare.DEARegistration:
			ps.Type = append(ps.Type, *concept(hl7SourceType, "reg-auth", "Registration Authority"))
		}
	}
	if o.Watchable && pushable(s.cred) {
		ps.CanPushUpdates = concept(hl7CanPushUpdates, "yes", "Yes")
		ps.PushTypeAvailable = []FHIRCodeableConcept{*concept(hl7PushType, "specific", "Specific requested changes")}
	}
	return ps
}

// sourceStatus: failed when the proof, the issuer's accreditation or its
// status list says no; unknown when the status list could not be read;
// else successful. A credential that is merely expired was still validated
// against its source.
func sourceStatus(rs []fhirReason) *FHIRCodeableConcept {
	code, display := "successful", "Successful"
	for _, r := range rs {
		switch {
		case r.severity != fhirReject:
		case r.Check == CheckProof, r.Check == CheckIssuer, r.Code == CodeRevoked, r.Code == CodeSuspended:
			return concept(hl7ValidationStatus, "failed", "Failed")
		case r.Check == CheckStatus:
			code, display = "unknown", "Unknown"
		}
	}
	return concept(hl7ValidationStatus, code, display)
}

// pushable reports whether the credential has a revocation or suspension
// entry, which the watch-lists follow.
func pushable(c vc.Credential) bool {
	if c == nil {
		return false
	}
	entries, err := status.Entries(c)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(entries, func(e status.Entry) bool {
		return (e.Purpose == status.PurposeRevocation || e.Purpose == status.PurposeSuspension) && e.StatusSize() == 1
	})
}

// kindOfVC is the credential's first healthcare type, or "".
func kindOfVC(c vc.Credential) string {
	for _, t := range c.Types() {
		if _, ok := healthcare.Lookup(t); ok {
			return t
		}
	}
	return ""
}

// credentialRef names a credential: by its id, else by the label a
// presentation gives it.
func credentialRef(c vc.Credential, label string) (FHIRReference, bool) {
	display := kindOfVC(c)
	for _, t := range c.Types() {
		if display == "" && t != vc.TypeCredential {
			display = t
		}
	}
	if id := c.ID(); id != "" {
		return FHIRReference{Identifier: uriIdentifier(id), Display: display}, true
	}
	display = strings.TrimSpace(display + " " + label)
	return FHIRReference{Display: display}, display != ""
}

// narrative is the generated text: the decision and the reason codes.
func narrative(what string, s fhirSubject) *FHIRNarrative {
	var b strings.Builder
	fmt.Fprintf(&b, `<div xmlns="http://www.w3.org/1999/xhtml"><p>Credence verification of %s: %s (%s).</p>`,
		html.EscapeString(what), decisionCode(s.decision), FHIRStatus(s.decision))
	if len(s.reasons) > 0 {
		b.WriteString("<ul>")
		for _, r := range s.reasons {
			fmt.Fprintf(&b, "<li>%s: %s</li>", html.EscapeString(r.Code), r.severity)
		}
		b.WriteString("</ul>")
	}
	b.WriteString("</div>")
	return &FHIRNarrative{Status: "generated", Div: b.String()}
}
