package healthcare

import "time"

// ExpiresAt returns when the subject's domain validity ends: the last
// second (23:59:59 UTC) of its expiry date, which an issuer uses as the
// credential's validUntil. That date is
//
//   - MedicalLicenseCredential: license.expirationDate;
//   - BoardCertificationCredential: certification.expirationDate or, for a
//     certificate without an end date, continuingCertification's
//     nextReverificationDate (the earlier when both are given);
//   - DEARegistrationCredential: registration.expirationDate;
//   - HospitalPrivilegeCredential: appointment.endDate.
//
// A PatientIdentityCredential has none, nor has a subject whose date is
// missing or malformed: ok is false.
func ExpiresAt(typeName string, subject map[string]any) (t time.Time, ok bool) {
	var d time.Time
	switch typeName {
	case MedicalLicense:
		d, ok = date(obj(subject, "license"), "expirationDate")
	case BoardCertification:
		c := obj(subject, "certification")
		d, ok = date(c, "expirationDate")
		if r, ok2 := date(obj(c, "continuingCertification"), "nextReverificationDate"); ok2 && (!ok || r.Before(d)) {
			d, ok = r, true
		}
	case DEARegistration:
		d, ok = date(obj(subject, "registration"), "expirationDate")
	case HospitalPrivilege:
		d, ok = date(obj(subject, "appointment"), "endDate")
	}
	if !ok {
		return time.Time{}, false
	}
	return endOfDay(d), true
}

// endOfDay is the last second of the UTC day d starts.
func endOfDay(d time.Time) time.Time { return d.Add(24*time.Hour - time.Second) }

// Jurisdiction returns the USPS code of the state a credential applies to,
// which an issuer must be accredited for:
//
//   - MedicalLicenseCredential: license.jurisdiction;
//   - DEARegistrationCredential: registration.state;
//   - HospitalPrivilegeCredential: the facility's address state.
//
// Board certifications are national and patient identities are not tied to
// a state: ok is false for them, and for a subject without a valid code.
func Jurisdiction(typeName string, subject map[string]any) (string, bool) {
	var s string
	switch typeName {
	case MedicalLicense:
		s, _ = obj(subject, "license")["jurisdiction"].(string)
	case DEARegistration:
		s, _ = obj(subject, "registration")["state"].(string)
	case HospitalPrivilege:
		s, _ = obj(obj(subject, "facility"), "address")["state"].(string)
	}
	return s, ValidState(s)
}
