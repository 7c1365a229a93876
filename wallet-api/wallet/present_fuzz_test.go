package wallet

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzRequest: Request.UnmarshalJSON, then Query.Validate, never panic on
// any input; a request that reads encodes to JSON that reads back as the
// same request.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		// Credence's request object.
		`{"id":"r1","verifier":"Mercy General","query":{"dcql_query":{"credentials":[{"id":"lic","format":"ldp_vc","meta":{"type_values":[["MedicalLicenseCredential"]]},` +
			`"claims":[{"path":["credentialSubject","license","jurisdiction"],"values":["TX"]}]}]}},"challenge":"c1","domain":"verify.mercy.example",` +
			`"purpose":"credentialing","expires":"2025-03-01T12:05:00Z","response_uri":"https://verify.mercy.example/r/r1"}`,
		`{"id":"r2","query":{"presentation_definition":{"id":"pd","input_descriptors":[{"id":"pid","format":{"dc+sd-jwt":{}},` +
			`"constraints":{"limit_disclosure":"required","fields":[{"path":["$.name"]},{"path":["$.gender"],"optional":true}]}}]}},"challenge":"c","domain":"d"}`,
		// OpenID4VP.
		`{"dcql_query":{"credentials":[{"id":"pid","format":"dc+sd-jwt","meta":{"vct_values":["https://credence.dev/vocab#PatientIdentityCredential"]},` +
			`"claims":[{"path":["name"]},{"path":["birthDate"]}]}],"credential_sets":[{"options":[["pid"]]}]},"nonce":"n","client_id":"verifier","response_uri":"https://v.example/cb"}`,
		`{"presentation_definition":{"id":"pd","input_descriptors":[{"id":"a","constraints":{"fields":[{"path":["$.type"],"filter":{"type":"array","contains":{"const":"X"}}}]}}],` +
			`"submission_requirements":[{"rule":"pick","count":1,"from":"A"}]},"nonce":"n","client_id":"c"}`,
		// VC-API Verifiable Presentation Requests.
		`{"query":[{"type":"QueryByExample","credentialQuery":{"reason":"r","example":{"type":["VerifiableCredential","MedicalLicenseCredential"],` +
			`"credentialSubject":{"npi":"1234567893","license":{}},"issuer":{"id":"did:key:z6Mk"}}}}],"challenge":"c","domain":"d"}`,
		`{"query":{"type":"QueryByExample","credentialQuery":[{"example":{"type":"A"}},{"example":{"credentialSubject":{"o'b\\r":""}}}]},"challenge":"c","domain":"d"}`,
		`{"query":[{"type":"DIDAuthentication"},{"type":"DIDAuth"}],"challenge":"c","domain":"d"}`,
		`{"query":{"type":"DIDAuthentication","reason":"presentation_definition"}}`,
		// Malformed.
		`{"query":[{"type":"QueryByFrame"}]}`,
		`{"query":{"type":"QueryByExample","credentialQuery":[null,1]}}`,
		`{"query":["x",null]}`,
		`{"query":"x","expires":"tomorrow"}`,
		`{"dcql_query":null,"presentation_definition":[]}`,
		`{"query":{"dcql_query":`,
		`null`, `[]`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Request
		if err := r.UnmarshalJSON(b); err != nil {
			return
		}
		if len(r.Query.DCQL) > 0 || len(r.Query.PresentationDefinition) > 0 {
			_ = r.Query.Validate()
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("a request read from %q does not encode: %v", b, err)
		}
		var again Request
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("%s, encoded from %q, does not read back: %v", enc, b, err)
		}
		enc2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("%q reads as %s, which reads back as %s (%v)", b, enc, enc2, err)
		}
	})
}
