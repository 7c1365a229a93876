package verifier

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/status"
)

// The FHIR R4 form of a decision (DOMAIN.md, "FHIR mapping"): a credential's
// Result is one VerificationResult (hl7.org/fhir/R4/verificationresult.html),
// a presentation's a Bundle of them, so a hospital's credentialing system
// imports decisions without custom code.
//
//	Result                          VerificationResult
//	Decision                        status (FHIRStatus); extension verification-decision
//	the verification time (At)      statusDate, lastPerformed, primarySource.validationDate
//	Checks, Results                 validationProcess, coded in <base>/CodeSystem/check, each with extension check-passed
//	Errors, Warnings                extension verification-reason: code (<base>/CodeSystem/reason), severity
//	                                (reject, review, warning), check, credential — never the message
//	credential id and type          target: identifier (system urn:ietf:rfc:3986), display the type
//	credential type                 targetLocation: Practitioner.qualification (license, DEA, board
//	                                certification), PractitionerRole (privileges), Patient (identity)
//	the issuer check ran            validationType primary: an accredited issuer is the primary source
//	issuer DID                      primarySource.who.identifier; type issuer, and lic-board (license)
//	                                or reg-auth (DEA) once the trust registry accredits it as such
//	proof, issuer, status checks    primarySource.validationStatus successful, failed or unknown
//	revocation/suspension entries   primarySource.canPushUpdates yes, pushTypeAvailable specific, when
//	                                the validator can watch the credential (FHIROptions.Watchable); else no
//	verifier tenant                 validator.organization.identifier (<base>/verifier)
//	any error rejects               failureAction fatal
//
// Privacy: a VerificationResult is about a credential, so it names the
// credential (its id and type), its issuer (an organisation's DID) and the
// verifier tenant, and nothing about the person: no subject DID or holder, no
// name, NPI, birth date or license number, and no Problem.Message, which can
// quote them. A hospital links the result to its Practitioner by the
// credential id it imported into Practitioner.qualification.identifier.

// MediaFHIRJSON is the media type of FHIR resources in JSON.
const MediaFHIRJSON = "application/fhir+json"

// DefaultFHIRBase prefixes Credence's own CodeSystems, extensions and naming
// systems in FHIR resources. It is the same for every deployment, so that a
// hospital maps the codes once; override it only to publish them elsewhere.
const DefaultFHIRBase = "https://credence.example/fhir"

// HL7 code systems of VerificationResult's bindings.
const (
	hl7ValidationType   = "http://terminology.hl7.org/CodeSystem/validation-type"
	hl7ValidationStatus = "http://terminology.hl7.org/CodeSystem/validation-status"
	hl7CanPushUpdates   = "http://terminology.hl7.org/CodeSystem/can-push-updates"
	hl7PushType         = "http://terminology.hl7.org/CodeSystem/push-type-available"
	hl7FailureAction    = "http://terminology.hl7.org/CodeSystem/failure-action"
	hl7CommMethod       = "http://terminology.hl7.org/CodeSystem/verificationresult-communication-method"
	hl7SourceType       = "http://terminology.hl7.org/CodeSystem/primary-source-type"
	uriSystem           = "urn:ietf:rfc:3986" // identifiers that are URIs (DIDs, urn:uuid:)
)

// Severities of the verification-reason extension: an error rejects, a
// review finding asks the committee, a warning changes nothing.
const (
	fhirReject  = "reject"
	fhirReview  = "review"
	fhirWarning = "warning"
)

// FHIROptions are what a projection needs besides the result.
type FHIROptions struct {
	// Base prefixes the CodeSystems, extensions and the validator's
	// identifier system (DefaultFHIRBase when empty).
	Base string
	// At is when the verification ran (time.Now when zero).
	At time.Time
	// Validator is the verifier tenant's id, the validator organization;
	// empty for an anonymous request, which then has no validator.
	Validator string
	// Watchable: the validator can put the credential on its watch-list
	// (a verifier tenant of a server serving /verifier/watches), which
	// notifies it of every revocation and suspension. Only then does the
	// result say the primary source can push updates.
	Watchable bool
}

func (o FHIROptions) base() string {
	if o.Base == "" {
		return DefaultFHIRBase
	}
	return strings.TrimSuffix(o.Base, "/")
}

func (o FHIROptions) at() string { return o.At.UTC().Format(time.RFC3339) }

func (o FHIROptions) withTime() FHIROptions {
	if o.At.IsZero() {
		o.At = time.Now()
	}
	return o
}

// FHIRStatus maps a decision to VerificationResult.status (required binding
// http://hl7.org/fhir/ValueSet/verificationresult-status):
//
//   - accept → validated: every check passed against the primary source.
//   - review → in-process: nothing failed, but the rules ask a credentialing
//     committee (LICENSE_RESTRICTED, BOARD_CERT_*), so the validation is not
//     complete until it decides. Not validated, which would let an importer
//     rely on the credential, and not val-fail: the committee may accept.
//   - reject → val-fail. reval-fail is for a target validated before and
//     failing re-validation, which one verify request cannot know.
//
// Any other decision is val-fail: fail closed.
func FHIRStatus(decision string) string {
	switch decision {
	case Accept:
		return "validated"
	case Review:
		return "in-process"
	}
	return "val-fail"
}

// FHIRCredential projects a credential's result.
func FHIRCredential(r *Result, o FHIROptions) *FHIRVerificationResult {
	o = o.withTime()
	s := fhirSubject{decision: r.Decision, checks: r.Checks, passed: passedOf(r.Results), cred: r.Credential}
	// A single credential's problems name no credential; its findings do.
	s.reasons = reasonsOf(r.Errors, r.Warnings, func(p Problem) bool { return reviewed(r.Findings, p.Code, "") })
	return o.credential(s)
}

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

// fhirSubject is what one VerificationResult says.
type fhirSubject struct {
	decision string
	checks   []string
	passed   map[string]bool // by check; absent when the check has no result
	reasons  []fhirReason
	cred     vc.Credential
	label    string // names a credential of a presentation that has no id
}

type fhirReason struct {
	Problem
	severity string
}

func passedOf(rs []CheckResult) map[string]bool {
	out := map[string]bool{}
	for _, r := range rs {
		p, seen := out[r.Name]
		out[r.Name] = r.Passed && (p || !seen)
	}
	return out
}

func reasonsOf(errs, warns []Problem, review func(Problem) bool) []fhirReason {
	out := make([]fhirReason, 0, len(errs)+len(warns))
	for _, p := range errs {
		out = append(out, fhirReason{p, fhirReject})
	}
	for _, p := range warns {
		sev := fhirWarning
		if review(p) {
			sev = fhirReview
		}
		out = append(out, fhirReason{p, sev})
	}
	return out
}

// reviewed reports whether a review finding has code (and is about cred,
// unless cred is empty).
func reviewed(fs []Finding, code, cred string) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool {
		return f.Severity == SeverityReview && f.Code == code && (cred == "" || f.Credential == cred)
	})
}

func decisionOf(rs []fhirReason) string {
	d := Accept
	for _, r := range rs {
		switch r.severity {
		case fhirReject:
			return Reject
		case fhirReview:
			d = Review
		}
	}
	return d
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

// fhirLocations are where DOMAIN.md maps each credential type in FHIR.
var fhirLocations = map[string]string{
	healthcare.MedicalLicense:     "Practitioner.qualification",
	healthcare.BoardCertification: "Practitioner.qualification",
	healthcare.DEARegistration:    "Practitioner.qualification",
	healthcare.HospitalPrivilege:  "PractitionerRole",
	healthcare.PatientIdentity:    "Patient",
}

var checkDisplay = map[string]string{
	CheckProof:    "Proof (securing mechanism)",
	CheckValidity: "Validity period",
	CheckStatus:   "Status lists (revocation, suspension)",
	CheckSchema:   "Credential subject schema",
	CheckIssuer:   "Issuer accreditation (trust registry)",
	CheckHolder:   "Holder binding",
	CheckRules:    "Credentialing rules",
	CheckQuery:    "Presentation request",
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

func decisionCode(d string) string {
	if d == Accept || d == Review {
		return d
	}
	return Reject
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

func uriIdentifier(s string) *FHIRIdentifier {
	id := &FHIRIdentifier{Value: s}
	if vc.IsURL(s) {
		id.System = uriSystem
	}
	return id
}

func concept(system, code, display string) *FHIRCodeableConcept {
	return &FHIRCodeableConcept{Coding: []FHIRCoding{{System: system, Code: code, Display: display}}}
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

// FHIR R4 data types and resources, as far as the projection uses them.
// Empty elements are left out: FHIR JSON has no empty strings or arrays.

// FHIRVerificationResult is a VerificationResult resource.
type FHIRVerificationResult struct {
	ResourceType      string                `json:"resourceType"`
	Text              *FHIRNarrative        `json:"text,omitempty"`
	Extension         []FHIRExtension       `json:"extension,omitempty"`
	Target            []FHIRReference       `json:"target,omitempty"`
	TargetLocation    []string              `json:"targetLocation,omitempty"`
	Status            string                `json:"status"`
	StatusDate        string                `json:"statusDate,omitempty"`
	ValidationType    *FHIRCodeableConcept  `json:"validationType,omitempty"`
	ValidationProcess []FHIRCodeableConcept `json:"validationProcess,omitempty"`
	LastPerformed     string                `json:"lastPerformed,omitempty"`
	FailureAction     *FHIRCodeableConcept  `json:"failureAction,omitempty"`
	PrimarySource     []FHIRPrimarySource   `json:"primarySource,omitempty"`
	Attestation       *FHIRAttestation      `json:"attestation,omitempty"`
	Validator         []FHIRValidator       `json:"validator,omitempty"`
}

// FHIRPrimarySource is VerificationResult.primarySource.
type FHIRPrimarySource struct {
	Who                 *FHIRReference        `json:"who,omitempty"`
	Type                []FHIRCodeableConcept `json:"type,omitempty"`
	CommunicationMethod []FHIRCodeableConcept `json:"communicationMethod,omitempty"`
	ValidationStatus    *FHIRCodeableConcept  `json:"validationStatus,omitempty"`
	ValidationDate      string                `json:"validationDate,omitempty"`
	CanPushUpdates      *FHIRCodeableConcept  `json:"canPushUpdates,omitempty"`
	PushTypeAvailable   []FHIRCodeableConcept `json:"pushTypeAvailable,omitempty"`
}

// FHIRAttestation is VerificationResult.attestation.
type FHIRAttestation struct {
	CommunicationMethod *FHIRCodeableConcept `json:"communicationMethod,omitempty"`
	Date                string               `json:"date,omitempty"`
}

// FHIRValidator is VerificationResult.validator.
type FHIRValidator struct {
	Organization FHIRReference `json:"organization"`
}

// FHIRBundle is a Bundle resource.
type FHIRBundle struct {
	ResourceType string            `json:"resourceType"`
	Type         string            `json:"type"`
	Timestamp    string            `json:"timestamp,omitempty"`
	Entry        []FHIRBundleEntry `json:"entry,omitempty"`
}

// FHIRBundleEntry is Bundle.entry.
type FHIRBundleEntry struct {
	Resource *FHIRVerificationResult `json:"resource"`
}

// FHIRNarrative is a resource's text.
type FHIRNarrative struct {
	Status string `json:"status"`
	Div    string `json:"div"`
}

// FHIRCodeableConcept is a CodeableConcept.
type FHIRCodeableConcept struct {
	Extension []FHIRExtension `json:"extension,omitempty"`
	Coding    []FHIRCoding    `json:"coding,omitempty"`
	Text      string          `json:"text,omitempty"`
}

// FHIRCoding is a Coding.
type FHIRCoding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// FHIRIdentifier is an Identifier.
type FHIRIdentifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value,omitempty"`
}

// FHIRReference is a Reference (by identifier: Credence holds no FHIR
// server the reference could resolve on).
type FHIRReference struct {
	Type       string          `json:"type,omitempty"`
	Identifier *FHIRIdentifier `json:"identifier,omitempty"`
	Display    string          `json:"display,omitempty"`
}

// FHIRExtension is an Extension: a value, or sub-extensions (a complex
// extension), never both.
type FHIRExtension struct {
	URL          string          `json:"url"`
	Extension    []FHIRExtension `json:"extension,omitempty"`
	ValueBoolean *bool           `json:"valueBoolean,omitempty"`
	ValueCode    string          `json:"valueCode,omitempty"`
	ValueCoding  *FHIRCoding     `json:"valueCoding,omitempty"`
	ValueString  string          `json:"valueString,omitempty"`
}
