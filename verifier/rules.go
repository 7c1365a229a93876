package verifier

import (
	"time"

	"github.com/credence/credence/vc"
)

// The hospital's rules of DOMAIN.md as a pure evaluator. Proof and status
// are checked elsewhere (VerifyCredential, StatusChecker) and handed in as
// Evidence; EvaluateRules only reads it, so every rule is table-testable
// without keys, ledgers or clocks.
//
// Rules and the credentials they apply to (the credential's kind is the
// first healthcare type among its types):
//
//	1, 2  every credential: ProofValid, and its issuer accredited for each
//	      healthcare type it declares (for a credential without one: each
//	      type but VerifiableCredential); licenses and DEA registrations also
//	      for their jurisdiction (license.jurisdiction, registration.state).
//	      Accreditation is asked as of Evidence.Now, not validFrom: an issuer
//	      can backdate validFrom, and a source that is no longer accredited
//	      is no longer a primary source.
//	3     every credential: each failing StatusResult (R with its own code:
//	      CREDENTIAL_REVOKED, CREDENTIAL_SUSPENDED, STATUS_UNAVAILABLE, ...);
//	      a StatusResult marked Warning becomes a W finding.
//	4     every credential: ValidFrom ≤ Now ≤ ValidUntil (zero = absent).
//	5     every credential's subject id equals Holder (or, without a holder,
//	      every subject id agrees with the first); the npi of every clinician
//	      credential agrees with the first; HolderProof when Holder is set.
//	6     every clinician credential (license, DEA, board certification,
//	      privileges): npi present and passes healthcare.ValidNPI.
//	7–9   clinician flows (RequiredIAL == 0) with a practice state:
//	      MedicalLicenseCredentials whose license.jurisdiction is the
//	      practice state; of several, the one in best standing is judged.
//	10    Policy.ControlledSubstances: DEARegistrationCredentials.
//	11    Policy.RequireBoardCertification: BoardCertificationCredentials.
//	12    Policy.Exclusions set: every distinct npi of clinician credentials.
//	14    Policy.Facility set: HospitalPrivilegeCredentials.
//	15    Policy.RequiredIAL > 0: PatientIdentityCredentials.

// Severity is how a finding bears on the decision.
type Severity string

// Severities. A finding of any other severity rejects (fail closed).
const (
	SeverityReject  Severity = "R"
	SeverityReview  Severity = "V"
	SeverityWarning Severity = "W" // never changes the decision
)

// Reason codes of the domain rules (DOMAIN.md). Rules 3 and 4 use the codes
// of the status and validity checks (CodeRevoked, CodeSuspended, ...,
// CodeNotYetValid, CodeExpired).
const (
	CodeIssuerNotRecognized   = "ISSUER_NOT_RECOGNIZED"        // rules 1, 2
	CodeSubjectMismatch       = "SUBJECT_MISMATCH"             // rule 5
	CodeNPIInvalid            = "NPI_INVALID"                  // rule 6
	CodeNoLicenseInState      = "NO_LICENSE_IN_PRACTICE_STATE" // rule 7
	CodeLicenseExpired        = "LICENSE_EXPIRED"              // rule 8
	CodeLicenseExpiring       = "LICENSE_EXPIRING"             // rule 8, W
	CodeLicenseNotActive      = "LICENSE_NOT_ACTIVE"           // rule 9, R
	CodeLicenseRestricted     = "LICENSE_RESTRICTED"           // rule 9, V
	CodeDEAMissing            = "DEA_MISSING"                  // rule 10
	CodeDEAStateMismatch      = "DEA_STATE_MISMATCH"           // rule 10
	CodeDEAInvalid            = "DEA_INVALID"                  // rule 10
	CodeDEAExpired            = "DEA_EXPIRED"                  // rule 10
	CodeDEAExpiring           = "DEA_EXPIRING"                 // rule 10, W
	CodeBoardCertNotCurrent   = "BOARD_CERT_NOT_CURRENT"       // rule 11, V
	CodeBoardCertMissing      = "BOARD_CERT_MISSING"           // rule 11, V
	CodeOIGExcluded           = "OIG_EXCLUDED"                 // rule 12
	CodePrivilegesNotCurrent  = "PRIVILEGES_NOT_CURRENT"       // rule 14
	CodeInsufficientAssurance = "INSUFFICIENT_ASSURANCE"       // rule 15
)

// DefaultExpiryWarning is how long before a license (or DEA registration)
// expires that a warning is given.
const DefaultExpiryWarning = 60 * 24 * time.Hour

// Finding is one outcome of a rule.
type Finding struct {
	Rule     int      `json:"rule"`
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Credential is the id of the credential the finding is about
	// ("credentials[i]" for one without an id); empty when about none.
	Credential string `json:"credential,omitempty"`
}

// Evidence is what the earlier checks established.
type Evidence struct {
	Credentials []Credential
	Holder      string // DID that signed the presentation ("" if none)
	HolderProof bool   // the presentation was signed by Holder with the requested challenge and domain
	Now         time.Time
}

// Credential is a credential as the rules see it.
type Credential struct {
	ID         string
	Types      []string
	Issuer     string
	Subject    map[string]any
	ValidFrom  time.Time // zero: absent
	ValidUntil time.Time // zero: absent
	ProofValid bool
	Status     []StatusResult // from StatusChecker
}

// CredentialFromVC builds the rules' view of a verified credential. The
// rules judge one subject: a credential with several subjects (none of the
// healthcare types has) gets a nil Subject, so it binds to no holder and
// proves nothing about anyone.
func CredentialFromVC(c vc.Credential, proofValid bool, status []StatusResult) Credential {
	cr := Credential{ID: c.ID(), Types: c.Types(), Issuer: c.Issuer(), ProofValid: proofValid, Status: status}
	if s := c.Subjects(); len(s) == 1 {
		cr.Subject = s[0]
	}
	cr.ValidFrom, _ = c.ValidFrom()
	cr.ValidUntil, _ = c.ValidUntil()
	return cr
}

// EvaluateRules applies every rule of DOMAIN.md to the evidence and returns
// every finding, in rule order, then credential order.
func EvaluateRules(ev Evidence, p Policy) []Finding {
	e := &eval{ev: ev, p: p}
	e.issuers()
	e.status()
	e.validity()
	e.subjects()
	e.npis()
	e.licensure()
	e.dea()
	e.boardCertification()
	e.exclusions()
	e.privileges()
	e.assurance()
	return e.out
}

// Decide: reject if any finding rejects, else review if any asks for
// review, else accept. Warnings never change the decision; an unknown
// severity rejects.
func Decide(fs []Finding) string {
	review := false
	for _, f := range fs {
		switch f.Severity {
		case SeverityWarning:
		case SeverityReview:
			review = true
		default:
			return Reject
		}
	}
	if review {
		return Review
	}
	return Accept
}
