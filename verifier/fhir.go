package verifier

import (
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
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
