package verifier

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
)

// Credentials the query tests match against.

// ldpExample is OpenID4VP 1.0 examples/credentials/ldp_vc.json.
const ldpExample = `{
  "@context": ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/2018/credentials/examples/v1",
    "https://w3id.org/security/data-integrity/v2"],
  "id": "https://example.com/credentials/1872",
  "type": ["VerifiableCredential", "IDCredential"],
  "issuer": {"id": "did:example:issuer"},
  "issuanceDate": "2025-03-19T00:00:00Z",
  "credentialSubject": {
    "given_name": "Max", "family_name": "Mustermann", "birthdate": "1998-01-11",
    "address": {"street_address": "Sandanger 25", "locality": "Musterstadt", "postal_code": "123456", "country": "DE"}
  },
  "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2025-03-19T15:30:15Z",
    "proofValue": "z5C5b...EtszK", "proofPurpose": "assertionMethod", "verificationMethod": "did:example:issuer#keys-1"}
}`

// licenseExample is the subject of ../shared/examples/medical-license.vc.json
// in a credential using the healthcare context.
const licenseExample = `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/credence/healthcare/v1"],
  "id": "urn:uuid:288038af-eee4-4f44-aa9c-86bc36e95221",
  "type": ["VerifiableCredential", "MedicalLicenseCredential"],
  "issuer": {"id": "did:web:medicalboard.az.gov.example", "name": "Arizona Medical Board (synthetic)"},
  "validFrom": "2023-07-17T00:00:00Z",
  "validUntil": "2025-07-16T23:59:59Z",
  "credentialSchema": [{"id": "https://example.org/schemas/medical-license-credential-subject.schema.json", "type": "JsonSchema"}],
  "credentialSubject": {
    "id": "did:key:z6MkrA2xftzmrUNE18PwUKy2E4UkTRykKTg53Vn96n9WExYY",
    "name": {"use": "official", "family": "Anderson", "given": ["Priya", "E."]},
    "npi": "1952183238",
    "license": {"licenseNumber": "DO045033", "jurisdiction": "AZ", "status": "active", "yearsActive": 18,
      "licenseType": {"system": "http://terminology.hl7.org/CodeSystem/v2-0360", "code": "DO"}}
  }
}`

// identityExample is the VC view vc/secure gives the SD-JWT VC of
// OpenID4VP 1.0 examples/credentials/sd_jwt_vc_unsecured.json, with the
// address and postal code of the query examples added. Its vct is
// urn:credence:type:IdentityCredential.
const identityExample = `{
  "@context": ["https://www.w3.org/ns/credentials/v2"],
  "type": ["VerifiableCredential", "IdentityCredential"],
  "issuer": "did:example:issuer",
  "validFrom": "2025-01-01T00:00:00Z",
  "credentialSubject": {
    "id": "did:example:holder",
    "given_name": "John", "family_name": "Doe", "birthdate": "1940-01-01",
    "address": {"street_address": "123 Main St"}, "postal_code": "90210"
  }
}`

const identityVCT = "urn:credence:type:IdentityCredential"

func candidate(t testing.TB, index int, format, doc string) Candidate {
	t.Helper()
	m, err := vc.DecodeObject([]byte(doc))
	if err != nil {
		t.Fatalf("test credential: %v", err)
	}
	return Candidate{Index: index, Format: format, Credential: vc.Credential(m)}
}

// edit returns doc with fn applied to its decoded object.
func edit(t testing.TB, doc string, fn func(m map[string]any)) string {
	t.Helper()
	m, err := vc.DecodeObject([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func subject(m map[string]any) map[string]any { return m["credentialSubject"].(map[string]any) }

func dcql(s string) Query     { return Query{DCQL: json.RawMessage(s)} }
func pexQuery(s string) Query { return Query{PresentationDefinition: json.RawMessage(s)} }
func specVCT(s string) string {
	return strings.ReplaceAll(s, "https://credentials.example.com/identity_credential", identityVCT)
}

func mustMatch(t *testing.T, q Query, cands ...Candidate) Match {
	t.Helper()
	m, err := q.Match(cands)
	if err != nil {
		t.Fatalf("Match: %v", err)
	}
	return m
}

func TestQueryNeedsExactlyOne(t *testing.T) {
	for _, q := range []Query{{}, {DCQL: json.RawMessage(`{}`), PresentationDefinition: json.RawMessage(`{}`)}} {
		err := q.Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "query" || !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Validate(%+v) = %v, want an InputError on query", q, err)
		}
		if _, err := q.Match(nil); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("Match(%+v) = %v", q, err)
		}
	}
}

func TestQueryRejectsMalformedJSON(t *testing.T) {
	for name, raw := range map[string]string{
		"duplicate member": `{"credentials": [], "credentials": []}`,
		"not an object":    `[1]`,
		"trailing data":    `{} {}`,
		"too large":        `{"x":"` + strings.Repeat("a", MaxQueryBytes) + `"}`,
	} {
		err := dcql(raw).Validate()
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "dcql_query" {
			t.Errorf("%s: Validate = %v, want an InputError on dcql_query", name, err)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, c := range []struct {
		claim, want any
		same        bool
	}{
		{"90210", "90210", true},
		{json.Number("90210"), "90210", false},
		{"90210", json.Number("90210"), false},
		{json.Number("18"), json.Number("18"), true},
		{json.Number("18.0"), json.Number("18"), true},
		{json.Number("1.8e1"), json.Number("18"), true},
		{json.Number("19"), json.Number("18"), false},
		{float64(18), json.Number("18"), true},
		{true, true, true},
		{"true", true, false},
		{map[string]any{}, "x", false},
		{json.Number("1e999999999"), json.Number("1"), false},
	} {
		if got := sameValue(c.claim, c.want); got != c.same {
			t.Errorf("sameValue(%#v, %#v) = %v, want %v", c.claim, c.want, got, c.same)
		}
	}
}

func TestClaimsViews(t *testing.T) {
	sd := candidate(t, 0, "dc+sd-jwt", edit(t, identityExample, func(m map[string]any) {
		m["id"] = "urn:uuid:1"
		m["validUntil"] = "2026-01-01T00:00:00Z"
	}))
	got := claimsOf(sd, false).(map[string]any)
	want := map[string]any{
		"iss": "did:example:issuer", "sub": "did:example:holder", "jti": "urn:uuid:1", "vct": identityVCT,
		"nbf": json.Number("1735689600"), "exp": json.Number("1767225600"),
		"given_name": "John", "family_name": "Doe", "birthdate": "1940-01-01",
		"address": map[string]any{"street_address": "123 Main St"}, "postal_code": "90210",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SD-JWT view = %v\nwant %v", got, want)
	}
	lic := candidate(t, 0, "dc+sd-jwt", licenseExample)
	if v := claimsOf(lic, false).(map[string]any)["vct"]; v != healthcare.Vocab+"MedicalLicenseCredential" {
		t.Errorf("vct of a healthcare type = %v", v)
	}
	jwt11 := candidate(t, 0, "jwt-vc-1.1", ldpExample)
	if v := claimsOf(jwt11, true).(map[string]any)["vc"].(map[string]any)["id"]; v != "https://example.com/credentials/1872" {
		t.Errorf("VC 1.1 JWT JSONPath view has vc.id %v", v)
	}
	if _, ok := claimsOf(jwt11, false).(map[string]any)["vc"]; ok {
		t.Error("the DCQL view of a VC 1.1 JWT has a vc member")
	}
}

func TestExpandedTypes(t *testing.T) {
	lic := candidate(t, 0, "eddsa-rdfc-2022", licenseExample).Credential
	got := expandedTypes(lic)
	for _, want := range []string{"VerifiableCredential", "https://www.w3.org/2018/credentials#VerifiableCredential",
		"MedicalLicenseCredential", healthcare.Vocab + "MedicalLicenseCredential"} {
		if !got[want] {
			t.Errorf("types of the license lack %s: %v", want, got)
		}
	}
	noCtx := vc.Credential{"@context": []any{vc.ContextV2}, "type": []any{"VerifiableCredential", "MedicalLicenseCredential"}}
	if expandedTypes(noCtx)[healthcare.Vocab+"MedicalLicenseCredential"] {
		t.Error("a healthcare type without the healthcare context expanded to the healthcare vocabulary")
	}
}

// fuzzCandidates are what FuzzQuery matches valid queries against.
func fuzzCandidates(t testing.TB) []Candidate {
	return []Candidate{
		candidate(t, 0, "eddsa-rdfc-2022", licenseExample),
		candidate(t, 1, "dc+sd-jwt", identityExample),
		candidate(t, 2, "jwt-vc-1.1", ldpExample),
		candidate(t, 3, "vc+jwt", licenseExample),
	}
}

// FuzzQuery: a query is rejected with an InputError, or it matches
// deterministically and its result refers only to real candidates and ids.
func FuzzQuery(f *testing.F) {
	for _, s := range dcqlSeeds {
		f.Add(true, []byte(s))
	}
	for _, s := range pexSeeds {
		f.Add(false, []byte(s))
	}
	cands := fuzzCandidates(f)
	f.Fuzz(func(t *testing.T, isDCQL bool, b []byte) {
		q := pexQuery(string(b))
		if isDCQL {
			q = dcql(string(b))
		}
		if err := q.Validate(); err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field == "" {
				t.Fatalf("Validate failed without a field: %v", err)
			}
			return
		}
		m, err := q.Match(cands)
		if err != nil {
			t.Fatalf("a valid query failed to match: %v", err)
		}
		again, _ := q.Match(cands)
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("Match is not deterministic:\n%+v\n%+v", m, again)
		}
		checkMatchShape(t, m, len(cands))
	})
}

func checkMatchShape(t *testing.T, m Match, n int) {
	t.Helper()
	if len(m.Items) == 0 {
		t.Fatal("a valid query has no items")
	}
	requested := map[int]bool{}
	for _, it := range m.Items {
		for _, i := range it.Candidates {
			if i < 0 || i >= n {
				t.Fatalf("item %s names candidate %d of %d", it.ID, i, n)
			}
			requested[i] = true
		}
		if it.Required && len(it.Candidates) == 0 && !slices.Contains(m.Missing, it.ID) {
			t.Fatalf("required item %s has no candidate but is not missing", it.ID)
		}
	}
	for _, i := range m.Unrequested {
		if requested[i] {
			t.Fatalf("candidate %d is both requested and unrequested", i)
		}
	}
	if len(requested)+len(m.Unrequested) != n {
		t.Fatalf("requested %v + unrequested %v do not cover %d candidates", requested, m.Unrequested, n)
	}
	if m.Satisfied && len(m.Missing) > 0 {
		t.Fatalf("satisfied with missing %v", m.Missing)
	}
}
