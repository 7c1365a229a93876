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
