package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// TestCallerStatusEntries: a credentialStatus the caller brings is signed as
// given when it is of a mechanism the issuer does not run (VC 2.0 §4.10 lets
// an issuer use any status mechanism; the W3C VC 2.0 suite issues
// CredentialStatusList2017 entries), with and without an id. A
// BitstringStatusListEntry is the issuer's to allocate, and a caller's entry
// cannot be combined with the entries the issuer assigns; entries the data
// model refuses stay malformed.
func TestCallerStatusEntries(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	ctx := context.Background()
	plain := func(st any) IssueRequest {
		return IssueRequest{Credential: map[string]any{
			"@context":          []any{vc.ContextV2, map[string]any{"CredentialStatusList2017": "https://example.org/examples#CredentialStatusList2017"}},
			"type":              []any{"VerifiableCredential"},
			"credentialSubject": map[string]any{"id": "did:example:subject"},
			"credentialStatus":  st,
		}}
	}
	for name, st := range map[string]any{
		"with id":    map[string]any{"id": "did:example:status", "type": "CredentialStatusList2017"},
		"without id": map[string]any{"type": "CredentialStatusList2017"},
	} {
		out := issueOne(t, e, tx, plain(st))
		c := out.Credential.(map[string]any)
		if !reflect.DeepEqual(c["credentialStatus"], st) {
			t.Errorf("%s: issued credentialStatus %v, want %v as given", name, c["credentialStatus"], st)
		}
		if out.Record.Status != nil {
			t.Errorf("%s: the inventory records issuer-run status %+v", name, out.Record.Status)
		}
		if _, err := e.eng.VerifyCredential(ctx, out.Credential, e.keys, secure.VerifyOptions{}); err != nil {
			t.Errorf("%s: does not verify: %v", name, err)
		}
	}

	other := map[string]any{"id": "did:example:status", "type": "CredentialStatusList2017"}
	bitstring := map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "7", "statusListCredential": "https://evil.example/list"}
	withOptions := plain(other)
	withOptions.Options.CredentialStatus = json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}`)
	license := synthLicense(synth.New(9), "di")
	license.Credential["credentialStatus"] = other
	for _, bad := range []struct {
		name      string
		req       IssueRequest
		field     string
		malformed bool
	}{
		{"a BitstringStatusListEntry", plain(bitstring), "/credential/credentialStatus", false},
		{"a BitstringStatusListEntry in an array", plain([]any{other, bitstring}), "/credential/credentialStatus/1", false},
		{"with options.credentialStatus", withOptions, "/credential/credentialStatus", false},
		{"on a license, which gets the issuer's entries", license, "/credential/credentialStatus", false},
		{"without a type", plain(map[string]any{"id": "did:example:status"}), "/credential/credentialStatus/type", true},
		{"with two ids", plain(map[string]any{"id": []any{"did:example:1", "did:example:2"}, "type": "CredentialStatusList2017"}), "/credential/credentialStatus/id", true},
	} {
		_, err := e.svc.Issue(ctx, tx.ID, bad.req)
		var rej *Rejection
		if !errors.As(err, &rej) || !slices.ContainsFunc(rej.Fields, func(f vc.FieldError) bool { return f.Field == bad.field }) {
			t.Errorf("%s: %v, want a rejection at %s", bad.name, err, bad.field)
			continue
		}
		if rej.Malformed != bad.malformed {
			t.Errorf("%s: malformed %v, want %v (%v)", bad.name, rej.Malformed, bad.malformed, err)
		}
	}
}

// TestFormatRefusesCredential: a well-formed credential that the asked
// format cannot secure is the caller's to fix (a Rejection, HTTP 422), not
// an internal error: VC-JOSE-COSE secures VC 2.0 documents only, and an
// SD-JWT VC names one type besides VerifiableCredential.
func TestFormatRefusesCredential(t *testing.T) {
	e := newEnv(t)
	tx := e.tenant(t, TenantInput{Name: "W3C suites", Jurisdictions: []string{"TX"}, Types: []string{"*"}})
	v11 := IssueRequest{Credential: map[string]any{
		"@context":          []any{vc.ContextV1},
		"type":              []any{"VerifiableCredential"},
		"issuanceDate":      "2026-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": "did:example:subject"},
	}, Options: IssueOptions{Format: "jwt"}}
	untyped := IssueRequest{Credential: map[string]any{
		"@context":          []any{vc.ContextV2},
		"type":              []any{"VerifiableCredential"},
		"credentialSubject": map[string]any{"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"},
	}, Options: IssueOptions{Format: "sd-jwt"}}
	for name, req := range map[string]IssueRequest{"VC 1.1 as vc+jwt": v11, "SD-JWT VC without a type": untyped} {
		_, err := e.svc.Issue(context.Background(), tx.ID, req)
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Malformed || len(rej.Fields) != 1 || rej.Fields[0].Field != "/credential" {
			t.Errorf("%s: %v, want a 422 rejection at /credential", name, err)
		}
	}
	// The same VC 1.1 credential is issued with a Data Integrity proof.
	v11.Options.Format = "di"
	if _, err := e.svc.Issue(context.Background(), tx.ID, v11); err != nil {
		t.Errorf("VC 1.1 with a Data Integrity proof: %v", err)
	}
}
