package verifier

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
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

// Accreditations answers whether an issuer is accredited for a credential
// type in a jurisdiction at a time. An empty jurisdiction asks whether the
// issuer is accredited for the type in any jurisdiction.
type Accreditations interface {
	Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool
}

// Accreditation is one entry of StaticAccreditations: Issuer is accredited
// for Type in Jurisdictions (empty: in every one, as a national body such as
// a specialty board or the DEA) from From until Until (zero: unbounded).
type Accreditation struct {
	Issuer        string
	Type          string
	Jurisdictions []string
	From, Until   time.Time
}

// StaticAccreditations is an in-memory trust registry, for tests and fixed
// policies.
type StaticAccreditations []Accreditation

// Accredited implements Accreditations.
func (s StaticAccreditations) Accredited(issuer, credentialType, jurisdiction string, at time.Time) bool {
	for _, a := range s {
		if a.Issuer != issuer || a.Type != credentialType ||
			!a.From.IsZero() && at.Before(a.From) || !a.Until.IsZero() && at.After(a.Until) {
			continue
		}
		if jurisdiction == "" || len(a.Jurisdictions) == 0 || slices.Contains(a.Jurisdictions, jurisdiction) {
			return true
		}
	}
	return false
}

// Exclusions answers whether an NPI is on an exclusion list (OIG LEIE).
type Exclusions interface {
	Excluded(npi string) bool
}

// StaticExclusions is an in-memory exclusion list: the NPIs mapped to true.
type StaticExclusions map[string]bool

// Excluded implements Exclusions.
func (s StaticExclusions) Excluded(npi string) bool { return s[npi] }

// Policy is what a verifier requires of a presentation.
type Policy struct {
	// PracticeState is the facility's state (USPS code). For telehealth the
	// practice state is PatientState instead. Licensure (rules 7–9) is only
	// judged when there is a practice state, or Telehealth is set (then a
	// missing PatientState fails rule 7).
	PracticeState string
	Telehealth    bool
	PatientState  string
	// ControlledSubstances requires a DEA registration (rule 10).
	ControlledSubstances bool
	// RequireBoardCertification requires a current certification (rule 11).
	RequireBoardCertification bool
	// Facility is the DID or NPI of the facility whose privileges are
	// required (rule 14); "" when privileges are not required.
	Facility string
	// RequiredIAL, in patient flows, is the identity assurance level needed
	// (2: IAL2 or higher); 0 is not a patient flow.
	RequiredIAL int
	// Accreditations is the trust registry; nil recognises no issuer.
	Accreditations Accreditations
	// Exclusions is the exclusion list; nil skips rule 12.
	Exclusions Exclusions
	// ExpiryWarning: 0 is DefaultExpiryWarning; negative gives no warnings.
	ExpiryWarning time.Duration
}

// practiceState is where the clinician practises: the patient's state for
// telehealth, else the facility's.
func (p Policy) practiceState() string {
	if p.Telehealth {
		return p.PatientState
	}
	return p.PracticeState
}

func (p Policy) expiryWarning() time.Duration {
	if p.ExpiryWarning == 0 {
		return DefaultExpiryWarning
	}
	return p.ExpiryWarning
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

type eval struct {
	ev  Evidence
	p   Policy
	out []Finding
}

func (e *eval) add(rule int, code string, sev Severity, cred, format string, args ...any) {
	e.out = append(e.out, Finding{Rule: rule, Code: code, Severity: sev, Credential: cred, Message: fmt.Sprintf(format, args...)})
}

// label names credential i in findings.
func (e *eval) label(i int) string {
	if id := e.ev.Credentials[i].ID; id != "" {
		return id
	}
	return fmt.Sprintf("credentials[%d]", i)
}

// of returns the indexes of the credentials of a kind.
func (e *eval) of(kind string) []int {
	var out []int
	for i, c := range e.ev.Credentials {
		if kindOf(c) == kind {
			out = append(out, i)
		}
	}
	return out
}

// kindOf is the credential's first healthcare type, or "".
func kindOf(c Credential) string {
	for _, t := range c.Types {
		if _, ok := healthcare.Lookup(t); ok {
			return t
		}
	}
	return ""
}

func clinician(kind string) bool {
	switch kind {
	case healthcare.MedicalLicense, healthcare.DEARegistration, healthcare.BoardCertification, healthcare.HospitalPrivilege:
		return true
	}
	return false
}

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

// licensure: rules 7, 8 and 9, in clinician flows with a practice state.
func (e *eval) licensure() {
	st := e.p.practiceState()
	if e.p.RequiredIAL > 0 || st == "" && !e.p.Telehealth {
		return
	}
	if st == "" {
		e.add(7, CodeNoLicenseInState, SeverityReject, "", "telehealth: the policy names no patient state")
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.MedicalLicense) {
		if j, _ := healthcare.Jurisdiction(healthcare.MedicalLicense, e.ev.Credentials[i].Subject); j == st {
			cands = append(cands, e.license(i))
		}
	}
	if len(cands) == 0 {
		e.add(7, CodeNoLicenseInState, SeverityReject, "", "no license in %s, the state of practice", st)
		return
	}
	e.out = append(e.out, best(cands)...)
}

// license judges one license (rules 8 and 9) by license.expirationDate and
// license.status. A status the table does not list (retired, deceased, or
// none) is not active.
func (e *eval) license(i int) []Finding {
	c, l := e.ev.Credentials[i], e.label(i)
	fs := e.expiry(8, healthcare.MedicalLicense, c.Subject, l, CodeLicenseExpired, CodeLicenseExpiring, "license")
	switch s := strAt(objAt(c.Subject, "license"), "status"); s {
	case "active":
	case "probation", "restricted":
		fs = append(fs, Finding{9, CodeLicenseRestricted, SeverityReview, "the license is on " + restrictedWord(s) + ": committee review", l})
	default:
		if s == "" {
			s = "not given"
		}
		fs = append(fs, Finding{9, CodeLicenseNotActive, SeverityReject, "the license status is " + s, l})
	}
	return fs
}

func restrictedWord(s string) string {
	if s == "restricted" {
		return "restriction"
	}
	return s
}

// expiry judges the domain expiry date (healthcare.ExpiresAt: valid to the
// end of that day, UTC): past or missing is expired; a warning when the
// expiry date is at most ExpiryWarning after today's date (calendar days:
// a license expiring 60 days from today is warned of).
func (e *eval) expiry(rule int, kind string, s map[string]any, l, expired, expiring, what string) []Finding {
	at, ok := healthcare.ExpiresAt(kind, s)
	today := e.ev.Now.UTC().Truncate(24 * time.Hour)
	switch {
	case !ok:
		return []Finding{{rule, expired, SeverityReject, "the " + what + " has no valid expiration date", l}}
	case e.ev.Now.After(at):
		return []Finding{{rule, expired, SeverityReject, "the " + what + " expired on " + at.Format(time.DateOnly), l}}
	case e.p.expiryWarning() > 0 && at.Truncate(24*time.Hour).Sub(today) <= e.p.expiryWarning():
		return []Finding{{rule, expiring, SeverityWarning, "the " + what + " expires on " + at.Format(time.DateOnly), l}}
	}
	return nil
}

// dea: rule 10. Of the registrations in the practice state, the one in best
// standing is judged: its registration.deaNumber (healthcare.ValidDEA),
// registration.expirationDate and registration.activityStatus. A
// registration that is not active (inactive, surrendered, revoked) is
// DEA_INVALID: the table has no code of its own for it.
func (e *eval) dea() {
	if !e.p.ControlledSubstances {
		return
	}
	regs := e.of(healthcare.DEARegistration)
	if len(regs) == 0 {
		e.add(10, CodeDEAMissing, SeverityReject, "", "controlled substances: no DEA registration presented")
		return
	}
	st := e.p.practiceState()
	var cands [][]Finding
	var states []string
	for _, i := range regs {
		c, l := e.ev.Credentials[i], e.label(i)
		j, _ := healthcare.Jurisdiction(healthcare.DEARegistration, c.Subject)
		if j != st || st == "" {
			states = append(states, j)
			continue
		}
		r := objAt(c.Subject, "registration")
		var fs []Finding
		if n := strAt(r, "deaNumber"); !healthcare.ValidDEA(n) {
			fs = append(fs, Finding{10, CodeDEAInvalid, SeverityReject, fmt.Sprintf("%q is not a valid DEA number", n), l})
		}
		fs = append(fs, e.expiry(10, healthcare.DEARegistration, c.Subject, l, CodeDEAExpired, CodeDEAExpiring, "DEA registration")...)
		if s := strAt(r, "activityStatus"); s != "active" {
			fs = append(fs, Finding{10, CodeDEAInvalid, SeverityReject, fmt.Sprintf("the DEA registration is %q, not active", s), l})
		}
		cands = append(cands, fs)
	}
	switch {
	case len(cands) == 0 && st == "":
		e.add(10, CodeDEAStateMismatch, SeverityReject, "", "the policy names no state of practice to match the DEA registration against")
		return
	case len(cands) == 0:
		e.add(10, CodeDEAStateMismatch, SeverityReject, "", "no DEA registration in %s, the state of practice (registered in %s)", st, strings.Join(states, ", "))
		return
	}
	e.out = append(e.out, best(cands)...)
}

// boardCertification: rule 11. A certification is current when its
// certification.status is certified, its effectiveDate has come, its end
// (expirationDate or continuingCertification.nextReverificationDate, see
// healthcare.ExpiresAt; none for lifetime certificates) has not passed, and
// continuing-certification requirements are not reported unmet.
func (e *eval) boardCertification() {
	if !e.p.RequireBoardCertification {
		return
	}
	certs := e.of(healthcare.BoardCertification)
	if len(certs) == 0 {
		e.add(11, CodeBoardCertMissing, SeverityReview, "", "no board certification presented")
		return
	}
	var cands [][]Finding
	for _, i := range certs {
		if why := e.notCurrent(e.ev.Credentials[i].Subject); why != "" {
			cands = append(cands, []Finding{{11, CodeBoardCertNotCurrent, SeverityReview, why, e.label(i)}})
		} else {
			cands = append(cands, nil)
		}
	}
	e.out = append(e.out, best(cands)...)
}

func (e *eval) notCurrent(s map[string]any) string {
	c := objAt(s, "certification")
	if st := strAt(c, "status"); st != "certified" {
		return fmt.Sprintf("the certification status is %q", st)
	}
	if d, ok := dateAt(c, "effectiveDate"); ok && e.ev.Now.Before(d) {
		return "the certification is effective from " + d.Format(time.DateOnly)
	}
	if end, ok := healthcare.ExpiresAt(healthcare.BoardCertification, s); ok && e.ev.Now.After(end) {
		return "the certification lapsed on " + end.Format(time.DateOnly)
	}
	if met, ok := objAt(c, "continuingCertification")["requirementsMet"].(bool); ok && !met {
		return "continuing-certification requirements are not met"
	}
	return ""
}

// exclusions: rule 12, each distinct NPI once.
func (e *eval) exclusions() {
	if e.p.Exclusions == nil {
		return
	}
	var seen []string
	for i, c := range e.ev.Credentials {
		npi := strAt(c.Subject, "npi")
		if !clinician(kindOf(c)) || npi == "" || slices.Contains(seen, npi) {
			continue
		}
		seen = append(seen, npi)
		if e.p.Exclusions.Excluded(npi) {
			e.add(12, CodeOIGExcluded, SeverityReject, e.label(i), "NPI %s is on the exclusion list", npi)
		}
	}
}

// privileges: rule 14. A HospitalPrivilegeCredential counts for the
// policy's facility when facility.id or facility.npi is Policy.Facility. It
// is current when its issuer is that facility.id, the appointment
// (startDate..endDate) covers now, and at least one privileges[] entry is
// granted or provisional with grantedDate..expirationDate covering now.
func (e *eval) privileges() {
	f := e.p.Facility
	if f == "" {
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.HospitalPrivilege) {
		s := e.ev.Credentials[i].Subject
		fac := objAt(s, "facility")
		if strAt(fac, "id") != f && strAt(fac, "npi") != f {
			continue
		}
		if why := e.privilegeProblem(e.ev.Credentials[i]); why != "" {
			cands = append(cands, []Finding{{14, CodePrivilegesNotCurrent, SeverityReject, why, e.label(i)}})
		} else {
			cands = append(cands, nil)
		}
	}
	if len(cands) == 0 {
		e.add(14, CodePrivilegesNotCurrent, SeverityReject, "", "no privileges at %s presented", f)
		return
	}
	e.out = append(e.out, best(cands)...)
}

func (e *eval) privilegeProblem(c Credential) string {
	fac := strAt(objAt(c.Subject, "facility"), "id")
	if fac == "" || c.Issuer != fac {
		return fmt.Sprintf("privileges at %q are issued by %s, not by the facility", fac, c.Issuer)
	}
	a, now := objAt(c.Subject, "appointment"), e.ev.Now
	if !covers(a, "startDate", "endDate", now) {
		return fmt.Sprintf("the appointment (%s to %s) is not current", strAt(a, "startDate"), strAt(a, "endDate"))
	}
	for _, p := range vc.Objects(c.Subject["privileges"]) {
		if s := strAt(p, "status"); (s == "granted" || s == "provisional") && covers(p, "grantedDate", "expirationDate", now) {
			return ""
		}
	}
	return "no privilege is granted and current"
}

// covers reports whether the dates o[from] .. o[to] (the whole of that
// day, UTC) are real and include now.
func covers(o map[string]any, from, to string, now time.Time) bool {
	a, ok1 := dateAt(o, from)
	b, ok2 := dateAt(o, to)
	return ok1 && ok2 && !now.Before(a) && now.Before(b.Add(24*time.Hour))
}

// ialRank orders the identityAssurance.level values (SMART Health Cards'
// IAL codes: IAL1.2 and IAL1.4 lie between IAL1 and IAL2), in tenths.
var ialRank = map[string]int{"IAL1": 10, "IAL1.2": 12, "IAL1.4": 14, "IAL2": 20, "IAL3": 30}

// assurance: rule 15, in patient flows. Any PatientIdentityCredential whose
// identityAssurance.level reaches RequiredIAL passes.
func (e *eval) assurance() {
	need := e.p.RequiredIAL
	if need <= 0 {
		return
	}
	var cands [][]Finding
	for _, i := range e.of(healthcare.PatientIdentity) {
		lvl := strAt(objAt(e.ev.Credentials[i].Subject, "identityAssurance"), "level")
		if r, ok := ialRank[lvl]; ok && r >= need*10 {
			cands = append(cands, nil)
			continue
		}
		cands = append(cands, []Finding{{15, CodeInsufficientAssurance, SeverityReject,
			fmt.Sprintf("identity assurance %q is below IAL%d", lvl, need), e.label(i)}})
	}
	if len(cands) == 0 {
		e.add(15, CodeInsufficientAssurance, SeverityReject, "", "no patient identity credential presented (IAL%d required)", need)
		return
	}
	e.out = append(e.out, best(cands)...)
}

// best returns the findings of the candidate in best standing: the fewest
// rejections, then the fewest reviews, then the fewest warnings, then the
// first presented.
func best(cands [][]Finding) []Finding {
	score := func(fs []Finding) (r, v, w int) {
		for _, f := range fs {
			switch f.Severity {
			case SeverityWarning:
				w++
			case SeverityReview:
				v++
			default:
				r++
			}
		}
		return
	}
	bi := 0
	br, bv, bw := score(cands[0])
	for i, c := range cands[1:] {
		r, v, w := score(c)
		if r < br || r == br && (v < bv || v == bv && w < bw) {
			bi, br, bv, bw = i+1, r, v, w
		}
	}
	return cands[bi]
}

func objAt(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func strAt(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// dateAt parses o[k] as a calendar date (YYYY-MM-DD, UTC).
func dateAt(o map[string]any, k string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strAt(o, k))
	return t, err == nil
}
