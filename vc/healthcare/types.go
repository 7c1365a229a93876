package healthcare

import "slices"

// Names of the credential types, as they appear in a credential's type.
const (
	MedicalLicense     = "MedicalLicenseCredential"
	BoardCertification = "BoardCertificationCredential"
	DEARegistration    = "DEARegistrationCredential"
	HospitalPrivilege  = "HospitalPrivilegeCredential"
	PatientIdentity    = "PatientIdentityCredential"
)

// SchemaBase is the URL under which the subject schemas are published.
const SchemaBase = "https://w3id.org/credence/healthcare/schemas/"

// Type describes one credential type: its name, the URL of the JSON Schema
// of its credential subject (the $id of the schema, for credentialSchema),
// and what it attests.
type Type struct {
	Name        string
	SchemaURL   string
	Description string
}

// types lists the credential types in their stable order.
var types = []Type{
	{MedicalLicense, SchemaBase + "medical-license-credential-subject.schema.json",
		"A state board's license to practise (MD, DO, NP, PA, RN): number, jurisdiction, status, dates, disciplinary actions."},
	{BoardCertification, SchemaBase + "board-certification-credential-subject.schema.json",
		"A specialty board certification (ABMS, AOA, NCCPA, ...) with its NUCC specialty, status and dates."},
	{DEARegistration, SchemaBase + "dea-registration-credential-subject.schema.json",
		"A DEA controlled-substance registration for one state: DEA number, schedules, business activity, expiry."},
	{HospitalPrivilege, SchemaBase + "hospital-privilege-credential-subject.schema.json",
		"A facility's medical staff appointment and delineated clinical privileges."},
	{PatientIdentity, SchemaBase + "patient-identity-credential-subject.schema.json",
		"A patient's identity attributes with the NIST SP 800-63 assurance level and evidence of identity proofing."},
}

// Types returns the five credential types, always in the same order.
func Types() []Type { return slices.Clone(types) }

// Lookup returns the credential type of that name.
func Lookup(name string) (Type, bool) {
	for _, t := range types {
		if t.Name == name {
			return t, true
		}
	}
	return Type{}, false
}

// byName returns the index of the named type in types, or -1.
func byName(name string) int {
	return slices.IndexFunc(types, func(t Type) bool { return t.Name == name })
}
