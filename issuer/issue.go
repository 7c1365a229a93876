package issuer

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

// IssueRequest is the body of VC-API's issue call.
type IssueRequest struct {
	Credential map[string]any `json:"credential"`
	Options    IssueOptions   `json:"options"`
}

// IssueOptions are the VC-API issue options Credence understands.
type IssueOptions struct {
	// Format: di (eddsa-rdfc-2022, default), di-jcs, ed25519-2020, jwt, sd-jwt.
	Format string `json:"format,omitempty"`
	// CredentialID sets the credential's id (VC-API credentialId).
	CredentialID string `json:"credentialId,omitempty"`
	// MandatoryPointers (sd-jwt): subject claims always disclosed.
	MandatoryPointers []string `json:"mandatoryPointers,omitempty"`
	// CredentialStatus requests status entries: an object or an array of
	// {"type": "BitstringStatusListEntry", "statusPurpose": "revocation" |
	// "suspension"}, or false for none. Absent: license credentials get both,
	// other types none.
	CredentialStatus json.RawMessage `json:"credentialStatus,omitempty"`
	// Supersedes names a credential of this issuer that the new one renews:
	// it is revoked once the new one is issued, in the same call.
	Supersedes string `json:"supersedes,omitempty"`
}

// Issued is an issued credential: the secured form to return (a JSON object:
// a credential with a proof, or an enveloped credential) and its inventory
// record.
type Issued struct {
	Credential any
	Record     Record
	// Superseded reports the revocation of the credential this one renews.
	Superseded *StatusResult
}

// Issue validates, secures and records one credential for a tenant.
func (s *Service) Issue(ctx context.Context, tenantID string, req IssueRequest) (*Issued, error) {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	signer, err := s.signer(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := s.checkSupersedes(ctx, t, req.Options.Supersedes); err != nil {
		return nil, err
	}
	out, err := s.issue(ctx, t, signer, req)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, out.Record); err != nil {
		return nil, err
	}
	if old := req.Options.Supersedes; old != "" {
		res, err := s.UpdateStatus(ctx, t.ID, StatusRequest{CredentialID: old, Action: ActionRevoke, Reason: "superseded by " + out.Record.ID})
		if err != nil {
			return nil, fmt.Errorf("issued %s, but revoking the superseded %s failed: %w", out.Record.ID, old, err)
		}
		out.Superseded = res
	}
	return out, nil
}

// checkSupersedes checks, before anything is issued, that a renewal's
// predecessor can be revoked: it is this tenant's and has a revocation entry.
func (s *Service) checkSupersedes(ctx context.Context, t Tenant, old string) error {
	if old == "" {
		return nil
	}
	r, err := s.loadRecord(ctx, t.ID, old)
	if errors.Is(err, ErrNotFound) {
		return &Rejection{Fields: []vc.FieldError{{Field: "/options/supersedes", Detail: err.Error()}}}
	}
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(r.Status, func(ref StatusRef) bool { return ref.Purpose == status.PurposeRevocation }) {
		return &Rejection{Fields: []vc.FieldError{{Field: "/options/supersedes", Detail: old + " has no revocation status entry, so it cannot be revoked by its renewal"}}}
	}
	return nil
}

// issue prepares and secures without recording (the batch records in chunks).
func (s *Service) issue(ctx context.Context, t Tenant, signer vc.Signer, req IssueRequest) (*Issued, error) {
	format, err := secure.ParseFormat(req.Options.Format)
	if err != nil {
		return nil, &Rejection{Malformed: true, Fields: []vc.FieldError{{Field: "/options/format", Detail: err.Error()}}}
	}
	now := s.now().UTC().Truncate(time.Second)
	cred, refs, err := s.prepare(ctx, t, req, now)
	if err != nil {
		return nil, err
	}
	opts := secure.IssueOptions{Format: format, MandatoryPointers: req.Options.MandatoryPointers, Now: now}
	if format == secure.SDJWT {
		if opts.HolderKey, err = s.holderKey(ctx, cred); err != nil {
			return nil, err
		}
	}
	secured, err := s.sec.Issue(ctx, cred, signer, opts)
	if errors.Is(err, vc.ErrMalformed) || errors.Is(err, vc.ErrUnsupported) {
		// A valid credential this format cannot secure (a VC 1.1 credential
		// as vc+jwt, an SD-JWT VC without its one type): the caller's to fix.
		return nil, &Rejection{Fields: []vc.FieldError{{Field: "/credential", Detail: fmt.Sprintf("cannot be secured as %s: %v", format, err)}}}
	}
	if err != nil {
		return nil, fmt.Errorf("failed to secure the credential: %w", err)
	}
	rec, err := newRecord(t.ID, vc.Credential(cred), format, secured, now)
	if err != nil {
		return nil, err
	}
	rec.Status = refs
	return &Issued{Credential: secured, Record: rec}, nil
}

// prepare completes and validates the credential; every problem is reported
// at once, with pointers relative to the request body.
func (s *Service) prepare(ctx context.Context, t Tenant, req IssueRequest, now time.Time) (map[string]any, []StatusRef, error) {
	if req.Credential == nil {
		return nil, nil, &Rejection{Malformed: true, Fields: []vc.FieldError{{Field: "/credential", Detail: "required"}}}
	}
	cred := vc.Clone(req.Credential).(map[string]any)
	var p fields
	_, callerStatus := cred["credentialStatus"]
	if callerStatus {
		refuseManagedStatus(&p, vc.Credential(cred))
	}
	complete(&p, cred, t, req.Options, now)
	if htype := healthType(&p, vc.Credential(cred)); htype != "" {
		s.completeHealth(&p, cred, t, htype)
	}
	malformed := false
	if err := vc.Credential(cred).Validate(); err != nil {
		p.addInvalid("/credential", err)
		malformed = true
	}
	for i, typ := range vc.Credential(cred).Types() {
		if typ != vc.TypeCredential && !t.mayIssue(typ) {
			p.add(fmt.Sprintf("/credential/type/%d", i), fmt.Sprintf("issuer %s may not issue %s credentials", t.ID, typ))
		}
	}
	purposes, ferr := statusPurposes(req.Options, vc.Credential(cred), s.ledger != nil)
	if ferr != nil {
		p = append(p, *ferr)
		malformed = true
	}
	if callerStatus && len(purposes) > 0 {
		p.add("/credential/credentialStatus", "cannot be combined with the status entries this issuer assigns (options.credentialStatus, or a medical license's revocation and suspension entries): leave one out")
	}
	if len(p) > 0 {
		return nil, nil, &Rejection{Malformed: malformed, Fields: p}
	}
	refs, err := s.attachStatus(ctx, t, cred, purposes)
	if err != nil {
		return nil, nil, err
	}
	if err := s.terms.check(cred, s.sec.CheckTerms); err != nil {
		p.addInvalid("/credential", err)
		return nil, nil, &Rejection{Fields: p}
	}
	return cred, refs, nil
}

// refuseManagedStatus refuses a credentialStatus entry of a mechanism this
// issuer runs itself: a BitstringStatusListEntry's list and index are
// allocated by the issuer (options.credentialStatus), so that an entry never
// points at another credential's bit or at a list the issuer cannot update.
// Entries of other mechanisms (a board's own registry, say) are the caller's
// and are signed as given; Credence's verifier fails closed on them
// (STATUS_TYPE_UNSUPPORTED).
func refuseManagedStatus(p *fields, c vc.Credential) {
	items, isArray := c["credentialStatus"].([]any)
	if !isArray {
		items = []any{c["credentialStatus"]}
	}
	for i, it := range items {
		o, _ := it.(map[string]any)
		if !slices.Contains(vc.Strings(o["type"]), status.TypeEntry) {
			continue
		}
		ptr := "/credential/credentialStatus"
		if isArray {
			ptr += "/" + strconv.Itoa(i)
		}
		p.add(ptr, "a "+status.TypeEntry+" is assigned by the issuer: ask for one with options.credentialStatus")
	}
}

// complete fills what an issuer owns: issuer, id, validFrom.
func complete(p *fields, cred map[string]any, t Tenant, o IssueOptions, now time.Time) {
	switch iss, has := cred["issuer"]; {
	case !has:
		cred["issuer"] = t.DID
	case iss == nil:
		// Malformed (null is not a URL): the data model check says so.
	default:
		if got := vc.Credential(cred).Issuer(); got != t.DID {
			p.add("/credential/issuer", fmt.Sprintf("must be this issuer's DID %s, not %q", t.DID, got))
		}
	}
	if o.CredentialID != "" {
		if _, has := cred["id"]; has && cred["id"] != o.CredentialID {
			p.add("/options/credentialId", "differs from the credential's id")
		}
		cred["id"] = o.CredentialID
	}
	if _, has := cred["id"]; !has {
		cred["id"] = "urn:uuid:" + uuid4()
	}
	if _, has := cred["validFrom"]; !has && vc.Credential(cred).Version() == vc.V2 {
		cred["validFrom"] = now.Format(time.RFC3339)
	}
}

// healthType finds the healthcare type of a credential ("" for none).
func healthType(p *fields, c vc.Credential) string {
	var found []string
	for _, t := range c.Types() {
		if _, ok := healthcare.Lookup(t); ok {
			found = append(found, t)
		}
	}
	if len(found) > 1 {
		p.add("/credential/type", fmt.Sprintf("one healthcare type per credential, not %v", found))
	}
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

// completeHealth applies the rules of a healthcare type: its context, its
// schema, one subject that validates, the tenant's jurisdictions, and a
// validity that ends no later than the subject's own expiry.
func (s *Service) completeHealth(p *fields, cred map[string]any, t Tenant, typ string) {
	ht, _ := healthcare.Lookup(typ)
	if !slices.Contains(vc.Strings(cred["@context"]), healthcare.ContextURL) {
		p.add("/credential/@context", fmt.Sprintf("a %s needs the context %s", typ, healthcare.ContextURL))
	}
	if _, has := cred["credentialSchema"]; !has {
		cred["credentialSchema"] = map[string]any{"id": ht.SchemaURL, "type": "JsonSchema"}
	}
	subjects := vc.Credential(cred).Subjects()
	if _, isArray := cred["credentialSubject"].([]any); isArray || len(subjects) != 1 {
		p.add("/credential/credentialSubject", fmt.Sprintf("a %s has exactly one subject object", typ))
		return
	}
	subject := subjects[0]
	if err := healthcare.ValidateSubject(typ, subject); err != nil {
		p.addInvalid("/credential", err)
		return
	}
	if j, ok := healthcare.Jurisdiction(typ, subject); ok && !slices.Contains(t.Jurisdictions, j) {
		p.add("/credential/credentialSubject", fmt.Sprintf("the credential applies to %s, but issuer %s is recognized for %v only", j, t.ID, t.Jurisdictions))
	}
	exp, ok := healthcare.ExpiresAt(typ, subject)
	if !ok {
		return
	}
	if _, has := cred["validUntil"]; !has {
		if from, ok := vc.Credential(cred).ValidFrom(); ok && exp.Before(from) {
			p.add("/credential/credentialSubject", fmt.Sprintf("the subject's own expiry %s is before validFrom: a %s cannot be issued for something already expired", exp.UTC().Format(time.RFC3339), typ))
			return
		}
		cred["validUntil"] = exp.UTC().Format(time.RFC3339)
		return
	}
	if until, ok := vc.Credential(cred).ValidUntil(); ok && until.After(exp) {
		p.add("/credential/validUntil", fmt.Sprintf("is after the subject's own expiry %s", exp.UTC().Format(time.RFC3339)))
	}
}

func (s *Service) holderKey(ctx context.Context, cred map[string]any) (crypto.PublicKey, error) {
	ids := vc.Credential(cred).SubjectIDs()
	if len(ids) != 1 || s.holders == nil {
		return nil, &Rejection{Fields: []vc.FieldError{{Field: "/credential/credentialSubject/id", Detail: "an sd-jwt credential is bound to its holder: the subject needs one DID"}}}
	}
	k, err := s.holders.HolderKey(ctx, ids[0])
	if err != nil {
		return nil, &Rejection{Fields: []vc.FieldError{{Field: "/credential/credentialSubject/id", Detail: "cannot find the holder's key: " + err.Error()}}}
	}
	return k, nil
}

// Rejection is an issue request that cannot be honoured, with every reason.
// Malformed means the credential breaks the data model or the request is
// not well-formed (HTTP 400); otherwise it is well-formed but breaks a rule
// of the issuer or the credential type (HTTP 422). It wraps a
// *vc.InvalidError, so errors.Is(err, vc.ErrMalformed) holds.
type Rejection struct {
	Malformed bool
	Fields    []vc.FieldError
}

func (r *Rejection) Error() string { return r.Unwrap().Error() }

// Unwrap returns the fields as a *vc.InvalidError.
func (r *Rejection) Unwrap() error { return &vc.InvalidError{Fields: r.Fields} }

// fields collects field errors.
type fields []vc.FieldError

func (p *fields) add(field, detail string) {
	*p = append(*p, vc.FieldError{Field: field, Detail: detail})
}

// addInvalid adds the fields of an InvalidError under prefix, or the error
// itself.
func (p *fields) addInvalid(prefix string, err error) {
	var inv *vc.InvalidError
	if errors.As(err, &inv) {
		for _, f := range inv.Fields {
			p.add(prefix+f.Field, f.Detail)
		}
		return
	}
	p.add(prefix, err.Error())
}

func uuid4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
