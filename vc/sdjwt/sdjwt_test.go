package sdjwt_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/sdjwt"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			p := newParties(t, alg)
			issued := p.issue(t)
			if !strings.HasSuffix(issued, "~") || strings.Count(issued, "~") != len(disclose)+1 {
				t.Fatalf("issued SD-JWT has %d parts", strings.Count(issued, "~"))
			}
			// The holder checks what it received: everything is there.
			all, err := sdjwt.Verify(ctx, issued, p.keys, sdjwt.VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			want := patient(t)
			for k, v := range want {
				if !reflect.DeepEqual(all.Claims[k], v) {
					t.Errorf("claim %s = %v, want %v", k, all.Claims[k], v)
				}
			}
			if d := slices.Sorted(slices.Values(disclose)); !slices.Equal(all.Disclosed, d) {
				t.Errorf("disclosed %v, want %v", all.Disclosed, d)
			}
			if all.VCT != vct || all.Issuer != issuerDID || all.KeyBound || all.Header.Typ != "dc+sd-jwt" || all.Header.Alg != alg {
				t.Errorf("verified %+v", all)
			}
			for _, c := range []string{"iss", "iat", "exp", "vct", "cnf", "status"} {
				if _, ok := all.Claims[c]; !ok {
					t.Errorf("claim %s missing", c)
				}
			}
			// The holder presents two claims to a verifier.
			pres := p.present(t, issued, "/given_name", "/allergies/1")
			got, err := sdjwt.Verify(ctx, pres, p.keys, kbOptions())
			if err != nil {
				t.Fatal(err)
			}
			if !got.KeyBound || !slices.Equal(got.Disclosed, []string{"/allergies/1", "/given_name"}) {
				t.Errorf("key bound %v, disclosed %v", got.KeyBound, got.Disclosed)
			}
			if !reflect.DeepEqual(got.Claims["allergies"], []any{"latex"}) || got.Claims["given_name"] != "Maria" {
				t.Errorf("claims %v", got.Claims)
			}
		})
	}
}

// TestFrontDeskGetsNoAddress: a front desk asking for the patient's name
// and birth date receives exactly those; the address, phone, insurance and
// the rest never leave the wallet.
func TestFrontDeskGetsNoAddress(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := p.issue(t)
	pres := p.present(t, issued, "/given_name", "/family_name", "/birthdate")
	got, err := sdjwt.Verify(context.Background(), pres, p.keys, kbOptions())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/birthdate", "/family_name", "/given_name"}; !slices.Equal(got.Disclosed, want) {
		t.Errorf("disclosed %v, want %v", got.Disclosed, want)
	}
	for _, hidden := range []string{"address", "phone_number", "email", "mrn", "insurance", "gender"} {
		if _, ok := got.Claims[hidden]; ok {
			t.Errorf("%s was disclosed", hidden)
		}
	}
	if got.Claims["allergies"] == nil || len(got.Claims["allergies"].([]any)) != 0 {
		t.Errorf("allergies = %v, want the visible empty array", got.Claims["allergies"])
	}
	// Nor is it in the bytes sent: no disclosure other than the three.
	if n := strings.Count(pres, "~"); n != 4 {
		t.Errorf("presentation has %d tildes, want 4", n)
	}
	if strings.Contains(decodeAll(t, pres), "Elm Street") {
		t.Error("the street address is in the presentation")
	}
}

// decodeAll decodes every base64url part of a presentation.
func decodeAll(t *testing.T, s string) string {
	var sb strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '~' || r == '.' }) {
		b, _ := json.Marshal(part)
		sb.Write(b)
		if raw, err := b64.DecodeString(part); err == nil {
			sb.Write(raw)
		}
	}
	return sb.String()
}

func TestSelect(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := p.issue(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		paths []string
		want  []string // disclosed
	}{
		{"nested claim pulls its parent", []string{"/address/postal_code"}, []string{"/address", "/address/postal_code"}},
		{"parent pulls everything below", []string{"/address"}, []string{"/address", "/address/postal_code", "/address/street_address"}},
		{"visible claim inside a hidden one", []string{"/address/locality"}, []string{"/address"}},
		{"always visible claim", []string{"/preferred_language"}, []string{}},
		{"nothing", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := sdjwt.Select(issued, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sdjwt.Verify(ctx, sel, p.keys, sdjwt.VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Disclosed, tt.want) {
				t.Errorf("disclosed %v, want %v", got.Disclosed, tt.want)
			}
		})
	}
	for _, bad := range []string{"/blood_type", "/allergies/2", "/allergies/01", "given_name"} {
		if _, err := sdjwt.Select(issued, []string{bad}); err == nil {
			t.Errorf("Select %s: no error", bad)
		}
	}
	if _, err := sdjwt.Select(p.present(t, issued), nil); err == nil {
		t.Error("Select accepted a presentation")
	}
}

func TestPresentRefuses(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := p.issue(t)
	ctx := context.Background()
	other := vc.Signer{Key: edKey(9), VerificationMethod: holderDID + "#key-9"}
	_, err := sdjwt.Present(ctx, issued, nil, other, verifier, nonce)
	wantErr(t, err, vc.ErrKey)
	_, err = sdjwt.Present(ctx, issued, nil, p.holder, "", nonce)
	wantErr(t, err, vc.ErrProofOptions)
}

func TestIssueRefuses(t *testing.T) {
	p := newParties(t, "EdDSA")
	tests := []struct {
		name string
		edit func(c *sdjwt.Credential)
	}{
		{"no vct", func(c *sdjwt.Credential) { c.VCT = "" }},
		{"iss among the claims", func(c *sdjwt.Credential) { c.Claims["iss"] = "x" }},
		{"_sd among the claims", func(c *sdjwt.Credential) { c.Claims["address"].(map[string]any)["_sd"] = []any{} }},
		{"... among the claims", func(c *sdjwt.Credential) { c.Claims["x"] = map[string]any{"...": "y"} }},
		{"disclosable exp", func(c *sdjwt.Credential) { c.Disclose = []string{"/exp"} }},
		{"disclosable cnf", func(c *sdjwt.Credential) { c.Disclose = []string{"/cnf/jwk"} }},
		{"disclosable vct", func(c *sdjwt.Credential) { c.Disclose = []string{"/vct"} }},
		{"missing claim", func(c *sdjwt.Credential) { c.Disclose = []string{"/blood_type"} }},
		{"path twice", func(c *sdjwt.Credential) { c.Disclose = []string{"/mrn", "/mrn"} }},
		{"not a pointer", func(c *sdjwt.Credential) { c.Disclose = []string{"mrn"} }},
		{"below a string", func(c *sdjwt.Credential) { c.Disclose = []string{"/mrn/x"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sdjwt.Credential{VCT: vct, Claims: patient(t), Disclose: disclose}
			tt.edit(&c)
			_, err := sdjwt.Issue(context.Background(), c, p.issuer)
			wantErr(t, err, vc.ErrMalformed)
		})
	}
}

func TestIssueDecoys(t *testing.T) {
	p := newParties(t, "EdDSA")
	issued := p.issue(t, sdjwt.WithDecoys(5))
	payload := jwtPayload(t, issued)
	if n := len(payload["_sd"].([]any)); n != 9+5 { // 9 top-level disclosable claims, 5 decoys
		t.Errorf("top-level _sd has %d digests", n)
	}
	sd := payload["_sd"].([]any)
	if !slices.IsSortedFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
		t.Error("_sd is not sorted")
	}
	if _, err := sdjwt.Verify(context.Background(), issued, p.keys, sdjwt.VerifyOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
}
