package verifier

import (
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

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

func decisionCode(d string) string {
	if d == Accept || d == Review {
		return d
	}
	return Reject
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
