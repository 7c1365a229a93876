package issuer

import (
	"context"
	"fmt"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// checkTemplate runs the checks of Issue that do not depend on the holder
// (with a placeholder subject DID) and allocate nothing, and returns the
// credential's type: exactly one besides VerifiableCredential, listed by
// name in the tenant's types (the configurations the metadata publishes).
func (s *Service) checkTemplate(ctx context.Context, t Tenant, req IssueRequest, format secure.Format, now time.Time) (string, error) {
	if req.Credential == nil {
		return "", &Rejection{Malformed: true, Fields: []vc.FieldError{{Field: "/credential", Detail: "required"}}}
	}
	cred := vc.Clone(req.Credential).(map[string]any)
	var p fields
	subjects := vc.Credential(cred).Subjects()
	if _, isArray := cred["credentialSubject"].([]any); isArray || len(subjects) != 1 {
		p.add("/credential/credentialSubject", "an offered credential has one subject object")
	} else if _, has := subjects[0]["id"]; has {
		p.add("/credential/credentialSubject/id", "the holder's DID is bound when the offer is claimed: leave it out")
	} else {
		subjects[0]["id"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	}
	typ := offerType(&p, t, vc.Credential(cred))
	if _, has := cred["credentialStatus"]; has {
		p.add("/credential/credentialStatus", "status entries are assigned by the issuer: ask for them with options.credentialStatus")
	}
	complete(&p, cred, t, req.Options, now)
	if htype := healthType(&p, vc.Credential(cred)); htype != "" {
		s.completeHealth(&p, cred, t, htype)
	}
	if err := vc.Credential(cred).Validate(); err != nil {
		p.addInvalid("/credential", err)
	}
	if _, ferr := statusPurposes(req.Options, vc.Credential(cred), s.ledger != nil); ferr != nil {
		p = append(p, *ferr)
	}
	if len(p) == 0 {
		if err := s.terms.check(cred, s.sec.CheckTerms); err != nil {
			p.addInvalid("/credential", err)
		}
	}
	if len(p) == 0 {
		if err := s.checkFormatKey(ctx, t, format); err != nil {
			p.add("/options/format", err.Error())
		}
	}
	if len(p) > 0 {
		return "", &Rejection{Fields: p}
	}
	return typ, nil
}

// offerType is the credential's one type besides VerifiableCredential,
// which the tenant must list by name.
func offerType(p *fields, t Tenant, c vc.Credential) string {
	var types []string
	for _, typ := range c.Types() {
		if typ != vc.TypeCredential {
			types = append(types, typ)
		}
	}
	if len(types) != 1 {
		p.add("/credential/type", fmt.Sprintf("an offered credential has one type besides VerifiableCredential, not %v", types))
		return ""
	}
	if !t.listsType(types[0]) {
		p.add("/credential/type", fmt.Sprintf("issuer %s does not list %s among its types, so its metadata does not offer it", t.ID, types[0]))
	}
	return types[0]
}

func (t Tenant) listsType(typ string) bool {
	for _, x := range t.Types {
		if x == typ && x != AnyType {
			return true
		}
	}
	return false
}

// checkFormatKey refuses di for a tenant whose key is not Ed25519 (the
// Data Integrity suites Credence signs with are EdDSA).
func (s *Service) checkFormatKey(ctx context.Context, t Tenant, f secure.Format) error {
	if f != secure.DataIntegrity {
		return nil
	}
	alg, err := s.signingAlg(ctx, t)
	if err != nil {
		return err
	}
	if alg != "EdDSA" {
		return fmt.Errorf("issuer %s signs with %s: di needs an Ed25519 key; offer jwt or sd-jwt", t.ID, alg)
	}
	return nil
}

func (s *Service) signingAlg(ctx context.Context, t Tenant) (string, error) {
	signer, err := s.signer(ctx, t)
	if err != nil {
		return "", err
	}
	return signer.Algorithm()
}
