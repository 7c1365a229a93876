package issuer

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
)

func TestOfferCreateRefuses(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	withID := template(t, "MedicalLicenseCredential", "di")
	withID.Credential["credentialSubject"].(map[string]any)["id"] = "did:key:z6MkrA2xftzmrUNE18PwUKy2E4UkTRykKTg53Vn96n9WExYY"
	invalid := template(t, "MedicalLicenseCredential", "di")
	delete(invalid.Credential["credentialSubject"].(map[string]any), "npi")
	anyType := OfferInput{Credential: map[string]any{"@context": []any{vc.ContextV2}, "type": []any{vc.TypeCredential, "LibraryCard"},
		"credentialSubject": map[string]any{"name": "x"}}}
	edit := func(f func(*OfferInput)) OfferInput {
		in := template(t, "MedicalLicenseCredential", "di")
		f(&in)
		return in
	}
	for _, c := range []struct {
		name   string
		tenant Tenant
		in     OfferInput
		field  string
	}{
		{"subject id", e.board, withID, "/credential/credentialSubject/id"},
		{"schema", e.board, invalid, "/credential/credentialSubject"},
		{"type not listed", e.board, template(t, "PatientIdentityCredential", "sd-jwt"), "/credential/type"},
		{"type allowed by * only", e.identity, anyType, "/credential/type"},
		{"format di-jcs", e.board, edit(func(in *OfferInput) { in.Options.Format = "di-jcs" }), "/options/format"},
		{"expiry too long", e.board, edit(func(in *OfferInput) { in.ExpiresIn = 2 * 86400 }), "/expiresIn"},
		{"expiry too short", e.board, edit(func(in *OfferInput) { in.ExpiresIn = 5 }), "/expiresIn"},
		{"tx_code letters", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Value: "12ab56"} }), "/txCode/value"},
		{"tx_code short", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Value: "1234"} }), "/txCode/value"},
		{"tx_code length", e.board, edit(func(in *OfferInput) { in.TxCode = &TxCodeInput{Length: 40} }), "/txCode/length"},
	} {
		_, err := e.offers.Create(ctx, c.tenant.ID, c.in)
		var rej *Rejection
		if !errors.As(err, &rej) || !hasField(rej.Fields, c.field) {
			t.Errorf("%s: %v, want a rejection of %s", c.name, err, c.field)
		}
	}
	if _, err := e.offers.Create(ctx, "no-such-issuer", template(t, "MedicalLicenseCredential", "di")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

func hasField(fs []vc.FieldError, prefix string) bool {
	for _, f := range fs {
		if strings.HasPrefix(f.Field, prefix) {
			return true
		}
	}
	return false
}
