package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc/healthcare"
	"github.com/gowebpki/jcs"
)

// AccreditationPrefix starts the subject of every accreditation: the subject
// is AccreditationPrefix + id, id being 1..MaxAccreditationIDBytes of
// [a-z0-9-] chosen by the steward.
const AccreditationPrefix = "urn:credence:accreditation:"

// Accreditation bounds.
const (
	MaxAccreditationIDBytes = 64
	// MaxAccreditationTypes bounds the credential types of one grant.
	MaxAccreditationTypes = 32
	// MaxTypeNameBytes bounds one credential type name.
	MaxTypeNameBytes = 128
	// MaxJurisdictions bounds the jurisdictions of one grant (there are 56
	// USPS state and territory codes).
	MaxJurisdictions = 64
	// MaxIssuerBytes bounds the accredited issuer's DID.
	MaxIssuerBytes = 512
	// MaxReasonBytes bounds a withdrawal's reason.
	MaxReasonBytes = 256
	// MaxStewards bounds the governance's steward keys.
	MaxStewards = 64
)

// Accreditation is the accreditation member of a trust op. trust.accredit
// states a grant (Issuer, Types, Jurisdictions, ValidFrom, optional
// ValidUntil); trust.withdraw carries at most a Reason. See CheckGrant.
type Accreditation struct {
	// Issuer is the accredited issuer's DID.
	Issuer string `json:"issuer,omitempty"`
	// Types are the credential type names the issuer is accredited for.
	Types []string `json:"types,omitempty"`
	// Jurisdictions are USPS state and territory codes; none means every
	// jurisdiction (a national body: a specialty board, the DEA).
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	// ValidFrom and ValidUntil bound the grant, in TimeLayout.
	ValidFrom  string `json:"validFrom,omitempty"`
	ValidUntil string `json:"validUntil,omitempty"`
	// Reason is a withdrawal's short explanation (never personal data).
	Reason string `json:"reason,omitempty"`
}

// AccreditationState is what the ledger knows about an accreditation: the
// grant of its latest trust.accredit and, once withdrawn, when and why.
type AccreditationState struct {
	// ID is the subject without AccreditationPrefix.
	ID            string   `json:"id"`
	Issuer        string   `json:"issuer"`
	Types         []string `json:"types"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	ValidFrom     string   `json:"validFrom"`
	ValidUntil    string   `json:"validUntil,omitempty"`
	// Withdrawn is the time of the trust.withdraw ("" while in force).
	Withdrawn string `json:"withdrawn,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Clone returns a deep copy of a.
func (a AccreditationState) Clone() AccreditationState {
	a.Types = slices.Clone(a.Types)
	a.Jurisdictions = slices.Clone(a.Jurisdictions)
	return a
}

// The rules of the trust.* operations. Summary:
//
//   - The subject is AccreditationPrefix + an id of 1..MaxAccreditationIDBytes
//     of [a-z0-9-] (ErrMalformed; Decode checks it).
//   - The op carries nothing of the other families: no doc, updateKeys,
//     recoveryKeys, nextKeyHashes or statusList (ErrMalformed).
//   - Authorization is by governance, not by the subject: every proof must be
//     by a steward key ("#" + Multikey kid) in Env.Stewards; without stewards
//     every trust op is ErrUnauthorizedKey.
//   - trust.accredit at seq 1 creates the accreditation; at a later seq it
//     replaces the grant (an amendment), whose issuer must stay the same
//     (ErrMalformed). The grant is checked by CheckGrant (ErrMalformed).
//   - trust.withdraw is terminal (the state is Deactivated: any later op is
//     ErrDeactivated); its accreditation member is omitted or holds only a
//     reason. The withdrawal time is the op's time.
//
// Checks run in this order: members, authorization and signatures, content.

// AccreditationSubject is the subject of the accreditation id.
func AccreditationSubject(id string) string { return AccreditationPrefix + id }

// AccreditationID returns the id of an accreditation subject; ok is false when
// subject is not one.
func AccreditationID(subject string) (id string, ok bool) {
	id, ok = strings.CutPrefix(subject, AccreditationPrefix)
	return id, ok && ValidAccreditationID(id)
}

// ValidAccreditationID reports whether id is 1..MaxAccreditationIDBytes of
// [a-z0-9-].
func ValidAccreditationID(id string) bool {
	if id == "" || len(id) > MaxAccreditationIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isTrustOp reports whether t is a trust op.
func isTrustOp(t OpType) bool { return t == TrustAccredit || t == TrustWithdraw }

// checkAccreditationSubject checks a trust op's subject.
func checkAccreditationSubject(s string) error {
	if _, ok := AccreditationID(s); !ok {
		return reject(ErrMalformed, "accreditation subject %q is not %s followed by 1..%d of [a-z0-9-]", s, AccreditationPrefix, MaxAccreditationIDBytes)
	}
	return nil
}

// accreditationShape is the accreditation member, for the strict walk: every
// member optional, none explicitly empty.
var accreditationShape = &shape{kind: kObject, members: map[string]*shape{
	"issuer": optStrShape, "types": strListShape, "jurisdictions": strListShape,
	"validFrom": optStrShape, "validUntil": optStrShape, "reason": optStrShape,
}, name: "the accreditation"}

// ParseAccreditation decodes an accreditation member strictly: one JSON
// object of the members of Accreditation, no unknown or duplicate members, no
// null, wrongly typed or explicitly empty ones ("types":[] or "reason":"":
// omit them), no trailing data, valid UTF-8 without lone surrogates, at most
// MaxOpBytes. Failures are *RuleError
// wrapping ErrMalformed. It does not check the content (CheckGrant does).
func ParseAccreditation(raw []byte) (*Accreditation, error) {
	if len(raw) > MaxOpBytes {
		return nil, reject(ErrMalformed, "accreditation is %d bytes, max %d", len(raw), MaxOpBytes)
	}
	if !utf8.Valid(raw) {
		return nil, reject(ErrMalformed, "accreditation is not valid UTF-8")
	}
	if err := checkStrict(raw, accreditationShape); err != nil {
		return nil, reject(ErrMalformed, "%v", err)
	}
	if _, err := jcs.Transform(raw); err != nil { // lone surrogates, as Decode
		return nil, reject(ErrMalformed, "accreditation is not canonicalizable JSON: %v", err)
	}
	var a Accreditation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, reject(ErrMalformed, "accreditation: %v", err)
	}
	return &a, nil
}

// CheckGrant checks the grant of a trust.accredit: Issuer a DID of at most
// MaxIssuerBytes; Types 1..MaxAccreditationTypes distinct names (a letter, then
// letters, digits and ._:/#- , at most MaxTypeNameBytes); Jurisdictions at most
// MaxJurisdictions distinct USPS state or territory codes; ValidFrom in
// TimeLayout; ValidUntil, when set, in TimeLayout and after ValidFrom; no
// Reason. Failures are *RuleError wrapping ErrMalformed.
func (a *Accreditation) CheckGrant() error {
	switch {
	case a.Issuer == "":
		return reject(ErrMalformed, "accreditation.issuer is missing")
	case len(a.Issuer) > MaxIssuerBytes:
		return reject(ErrMalformed, "accreditation.issuer is %d bytes, max %d", len(a.Issuer), MaxIssuerBytes)
	}
	if d, err := did.Parse(a.Issuer); err != nil || d.String() != a.Issuer {
		return reject(ErrMalformed, "accreditation.issuer %q is not a DID", a.Issuer)
	}
	if err := checkTypeNames(a.Types); err != nil {
		return err
	}
	if err := checkJurisdictions(a.Jurisdictions); err != nil {
		return err
	}
	if a.ValidFrom == "" {
		return reject(ErrMalformed, "accreditation.validFrom is missing")
	}
	if _, err := parseTime(a.ValidFrom); err != nil {
		return reject(ErrMalformed, "accreditation.validFrom: %v", err)
	}
	if a.ValidUntil != "" {
		if _, err := parseTime(a.ValidUntil); err != nil {
			return reject(ErrMalformed, "accreditation.validUntil: %v", err)
		}
		// Both in TimeLayout: byte order is time order.
		if a.ValidUntil <= a.ValidFrom {
			return reject(ErrMalformed, "accreditation.validUntil %s is not after validFrom %s", a.ValidUntil, a.ValidFrom)
		}
	}
	if a.Reason != "" {
		return reject(ErrMalformed, "trust.accredit carries accreditation.reason; only trust.withdraw has one")
	}
	return nil
}

func checkTypeNames(types []string) error {
	if len(types) == 0 || len(types) > MaxAccreditationTypes {
		return reject(ErrMalformed, "accreditation.types has %d names, want 1..%d", len(types), MaxAccreditationTypes)
	}
	for i, t := range types {
		if !validTypeName(t) {
			return reject(ErrMalformed, "accreditation.types[%d] %q is not a credential type name", i, t)
		}
		if slices.Index(types, t) != i {
			return reject(ErrMalformed, "accreditation.types lists %s twice", t)
		}
	}
	return nil
}

// validTypeName accepts a term (MedicalLicenseCredential) or an IRI.
func validTypeName(t string) bool {
	if t == "" || len(t) > MaxTypeNameBytes || !('a' <= t[0] && t[0] <= 'z' || 'A' <= t[0] && t[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._:/#-", c) >= 0) {
			return false
		}
	}
	return true
}

func checkJurisdictions(js []string) error {
	if len(js) > MaxJurisdictions {
		return reject(ErrMalformed, "accreditation.jurisdictions has %d codes, max %d", len(js), MaxJurisdictions)
	}
	for i, j := range js {
		if !healthcare.ValidState(j) {
			return reject(ErrMalformed, "accreditation.jurisdictions[%d] %q is not a USPS state or territory code", i, j)
		}
		if slices.Index(js, j) != i {
			return reject(ErrMalformed, "accreditation.jurisdictions lists %s twice", j)
		}
	}
	return nil
}

// checkWithdrawal checks a withdrawal's accreditation member: only a
// reason, of at most MaxReasonBytes, without control characters.
func (a *Accreditation) checkWithdrawal() error {
	if a.Issuer != "" || len(a.Types) > 0 || len(a.Jurisdictions) > 0 || a.ValidFrom != "" || a.ValidUntil != "" {
		return reject(ErrMalformed, "trust.withdraw carries a grant; its accreditation holds only a reason")
	}
	switch {
	case a.Reason == "":
		return reject(ErrMalformed, "trust.withdraw carries an empty accreditation; omit it")
	case len(a.Reason) > MaxReasonBytes:
		return reject(ErrMalformed, "accreditation.reason is %d bytes, max %d", len(a.Reason), MaxReasonBytes)
	case strings.IndexFunc(a.Reason, unicode.IsControl) >= 0:
		return reject(ErrMalformed, "accreditation.reason contains a control character")
	}
	return nil
}

// NewTrustOp returns an unsigned trust.accredit or trust.withdraw op on
// subject (AccreditationSubject(id)) at seq after prev ("" for seq 1) at time
// (TimeLayout), carrying acc (nil: no accreditation member, as a withdrawal
// without a reason). Sign it with AddProof by a steward key ("#" + Multikey
// kid).
func NewTrustOp(typ OpType, subject string, seq uint64, prev, time string, acc *Accreditation) *Op {
	op := &Op{V: OpVersion, Type: typ, Subject: subject, Seq: seq, Prev: prev, Time: time}
	if acc != nil {
		b, _ := json.Marshal(acc) // strings and string slices: cannot fail
		if c, err := jcs.Transform(b); err == nil {
			b = c
		}
		op.Accreditation = b
	}
	return op
}

// CheckStewards checks a governance's steward keys: 1..MaxStewards distinct
// Ed25519 or P-256 Multikeys in canonical form. Configuration should run it;
// the Log does not (a key it cannot decode never authorizes anything).
func CheckStewards(keys []string) error {
	if len(keys) == 0 || len(keys) > MaxStewards {
		return fmt.Errorf("registry: %d steward keys, want 1..%d", len(keys), MaxStewards)
	}
	for i, k := range keys {
		if slices.Index(keys, k) != i {
			return fmt.Errorf("registry: steward key %s is listed twice", k)
		}
		pub, err := did.DecodeMultikey(k)
		if err != nil {
			return fmt.Errorf("registry: steward key %d %q: %w", i, k, err)
		}
		if !allowedKey(pub) {
			return fmt.Errorf("registry: steward key %d %s is a %T key; only Ed25519 and P-256 keys may sign", i, k, pub)
		}
		if enc, err := did.EncodeMultikey(pub); err != nil || enc != k {
			return fmt.Errorf("registry: steward key %d %q is not in canonical Multikey form (%s)", i, k, enc)
		}
	}
	return nil
}

// trustMembers rejects members of other op families on a trust op.
func trustMembers(op *Op) error {
	for _, m := range []struct {
		name    string
		present bool
	}{
		{"doc", len(op.Doc) > 0},
		{"updateKeys", len(op.UpdateKeys) > 0},
		{"recoveryKeys", len(op.RecoveryKeys) > 0},
		{"nextKeyHashes", len(op.NextKeyHashes) > 0},
		{"statusList", op.StatusList != nil},
	} {
		if m.present {
			return reject(ErrMalformed, "%s carries %s; it takes accreditation only", op.Type, m.name)
		}
	}
	return nil
}

// authorizeSteward checks that every proof of op is by a steward key.
func authorizeSteward(op *Op, env Env) error {
	if len(env.Stewards) == 0 {
		return reject(ErrUnauthorizedKey, "%s must be signed by a steward key of the registry's governance, and none is configured", op.Type)
	}
	_, err := checkProofs(op, string(op.Type), func(mk string) bool {
		return slices.Contains(env.Stewards, mk)
	}, "a steward key of the registry's governance")
	return err
}

// applyAccredit checks a trust.accredit against st (the zero state for the
// create) and returns the accreditation's new state.
func applyAccredit(st SubjectState, op *Op, env Env) (SubjectState, error) {
	if err := trustMembers(op); err != nil {
		return SubjectState{}, err
	}
	if len(op.Accreditation) == 0 {
		return SubjectState{}, reject(ErrMalformed, "trust.accredit must carry accreditation")
	}
	if err := authorizeSteward(op, env); err != nil {
		return SubjectState{}, err
	}
	a, err := ParseAccreditation(op.Accreditation)
	if err != nil {
		return SubjectState{}, err
	}
	if err := a.CheckGrant(); err != nil {
		return SubjectState{}, err
	}
	if st.Accreditation != nil && a.Issuer != st.Accreditation.Issuer {
		return SubjectState{}, reject(ErrMalformed, "accreditation.issuer %s differs from the accreditation's %s: an amendment keeps the issuer", a.Issuer, st.Accreditation.Issuer)
	}
	id, _ := AccreditationID(op.Subject)
	return SubjectState{Accreditation: &AccreditationState{
		ID: id, Issuer: a.Issuer, Types: slices.Clone(a.Types), Jurisdictions: slices.Clone(a.Jurisdictions),
		ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil,
	}}, nil
}

// applyWithdraw checks a trust.withdraw against st.
func applyWithdraw(st SubjectState, op *Op, env Env) (SubjectState, error) {
	if err := trustMembers(op); err != nil {
		return SubjectState{}, err
	}
	if err := authorizeSteward(op, env); err != nil {
		return SubjectState{}, err
	}
	next := st.Accreditation.Clone()
	if len(op.Accreditation) > 0 {
		a, err := ParseAccreditation(op.Accreditation)
		if err != nil {
			return SubjectState{}, err
		}
		if err := a.checkWithdrawal(); err != nil {
			return SubjectState{}, err
		}
		next.Reason = a.Reason
	}
	next.Withdrawn = op.Time
	return SubjectState{Deactivated: true, Accreditation: &next}, nil
}
