package issuer

import (
	"context"
	"strings"
	"testing"

	"github.com/credence/credence/vc/healthcare"
)

var examples = map[string]string{
	"MedicalLicenseCredential":     "medical-license.vc.json",
	"BoardCertificationCredential": "board-certification.vc.json",
	"DEARegistrationCredential":    "dea-registration.vc.json",
	"HospitalPrivilegeCredential":  "hospital-privilege.vc.json",
	"PatientIdentityCredential":    "patient-identity.vc.json",
}

func TestIssueEachHealthcareType(t *testing.T) {
	e := newEnv(t)
	for typ, file := range examples {
		t.Run(typ, func(t *testing.T) {
			subject, validFrom := example(t, file)
			j, ok := healthcare.Jurisdiction(typ, subject)
			if !ok {
				j = "NY"
			}
			tn := e.tenant(t, TenantInput{Name: typ + " issuer", Jurisdictions: []string{j}, Types: []string{typ}})
			e.now = validFrom
			out, err := e.svc.Issue(context.Background(), tn.ID, IssueRequest{Credential: credential(typ, subject)})
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			v := e.verify(t, out.Credential)
			c := v.Credential
			if c.Issuer() != tn.DID || !c.HasType(typ) || v.Format != "eddsa-rdfc-2022" {
				t.Errorf("issuer %s type %v format %s", c.Issuer(), c.Types(), v.Format)
			}
			if exp, ok := healthcare.ExpiresAt(typ, subject); ok {
				if until, _ := c.ValidUntil(); !until.Equal(exp) {
					t.Errorf("validUntil %v, want the subject's expiry %v", until, exp)
				}
			}
			if out.Record.ID != c.ID() || out.Record.Subject != subject["id"] || !strings.HasPrefix(out.Record.Digest, "sha256:") {
				t.Errorf("record %+v", out.Record)
			}
			rec, err := e.svc.Record(context.Background(), tn.ID, c.ID())
			if err != nil || rec.ID != c.ID() {
				t.Errorf("inventory: %+v, %v", rec, err)
			}
		})
	}
}
