// Package healthcare owns the credential types of the healthcare domain:
// MedicalLicenseCredential, BoardCertificationCredential,
// DEARegistrationCredential, HospitalPrivilegeCredential and
// PatientIdentityCredential. It holds their JSON-LD context, the JSON
// Schemas their credential subjects must satisfy, and the identifier rules
// a schema cannot express.
//
// # Context
//
// Context is the JSON-LD 1.1 context published at ContextURL and used after
// https://www.w3.org/ns/credentials/v2. It is protected and defines every
// term a subject uses, so nothing falls back to the VC 2.0 issuer-dependent
// vocabulary. FHIR datatypes (HumanName, Address, Coding, CodeableConcept,
// ContactPoint, Identifier, Period) map to their FHIR RDF predicates
// (http://hl7.org/fhir/HumanName.family, ...), a few generic properties to
// schema.org (name, description, birthDate, address, startDate, endDate),
// and the rest to https://w3id.org/credence/healthcare#. Dates are
// xsd:date. Terms the VC 1.1 and 2.0 contexts define inside their
// VerifiableCredential scope (expirationDate, evidence) are only defined
// where a subject uses them, so the context works after either.
//
// # Validation
//
// ValidateSubject checks a subject against its type's JSON Schema (2020-12,
// formats asserted) and then against the rules of DOMAIN.md: NPI and DEA
// check digits, the DEA registrant-type letter, NUCC taxonomy codes, real
// calendar dates in order. It reports every problem at once as a
// *vc.InvalidError whose fields are JSON Pointers from the credential root
// ("/credentialSubject/license/jurisdiction").
//
// # Synthetic data
//
// Package synth generates realistic, valid subjects from a seed for tests
// and benchmarks.
package healthcare
