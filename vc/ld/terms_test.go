package ld

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/credence/credence/vc"
)

func TestCheckTerms(t *testing.T) {
	p := testProcessor(t)
	tests := []struct {
		name string
		doc  string
		want []vc.FieldError // nil: no error
	}{
		{"vector", string(readFile(t, "unsigned.json")), nil},
		{"employment", string(readFile(t, "employmentAuth.json")), nil},
		{"large", string(readFile(t, "large.json")), nil},
		{"signed", string(readFile(t, "equivalence/signed-rdfc.json")), nil},
		{"v2 without the examples context", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","AlumniCredential"],"issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2","alumniOf":"x"}}`,
			[]vc.FieldError{
				{Field: "/credentialSubject/alumniOf", Detail: `property "alumniOf" is not defined by any context`},
				{Field: "/type/1", Detail: `type "AlumniCredential" is not defined by any context`},
			}},
		{"escaped pointer", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"a/b~c":{"deep":1}}}`,
			[]vc.FieldError{
				{Field: "/credentialSubject/a~1b~0c", Detail: `property "a/b~c" is not defined by any context`},
				{Field: "/credentialSubject/a~1b~0c/deep", Detail: `property "deep" is not defined by any context`},
			}},
		{"v1.1", `{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiableCredential","Foo"],"issuer":"did:ex:1","issuanceDate":"2020-01-01T00:00:00Z","credentialSubject":{"id":"did:ex:2"},"bar":[]}`,
			[]vc.FieldError{
				{Field: "/bar", Detail: `property "bar" is not defined by any context`},
				{Field: "/type/1", Detail: `type "Foo" is not defined by any context`},
			}},
		{"in a proof", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2"},"proof":{"type":"DataIntegrityProof","cryptosuite":"x","foo":"y"}}`,
			[]vc.FieldError{{Field: "/proof/foo", Detail: `property "foo" is not defined by any context`}}},
		{"issuer-dependent vocab", `{"@context":["https://www.w3.org/ns/credentials/v2",{"@vocab":"https://www.w3.org/ns/credentials/issuer-dependent#"}],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2","x":1}}`,
			[]vc.FieldError{{Field: "/credentialSubject/x", Detail: `property "x" is only defined by the issuer-dependent @vocab`}}},
		{"undefined-terms context", `{"@context":["https://www.w3.org/ns/credentials/v2","https://www.w3.org/ns/credentials/undefined-terms/v2"],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2","x":1}}`,
			[]vc.FieldError{{Field: "/credentialSubject/x", Detail: `property "x" is only defined by the undefined-term @vocab`}}},
		{"null vocab", `{"@context":["https://www.w3.org/ns/credentials/v2",{"@vocab":null}],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2","zz":1}}`,
			[]vc.FieldError{{Field: "", Detail: "a property does not expand to an IRI (@vocab is null)"}}},
		{"own vocab is fine", `{"@context":["https://www.w3.org/ns/credentials/v2",{"@vocab":"https://example.org/#"}],"type":"VerifiableCredential","issuer":"did:ex:1","credentialSubject":{"id":"did:ex:2","x":1}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(tt.doc), &doc); err != nil {
				t.Fatal(err)
			}
			err := p.CheckTerms(doc)
			var got []vc.FieldError
			var ie *vc.InvalidError
			if errors.As(err, &ie) {
				got = ie.Fields
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if err != nil && !errors.Is(err, vc.ErrMalformed) {
				t.Errorf("%v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestCheckTermsUnknownContext(t *testing.T) {
	err := New().CheckTerms(map[string]any{"@context": "https://example.org/nope"})
	if !errors.Is(err, vc.ErrUnsupported) {
		t.Errorf("got %v, want ErrUnsupported", err)
	}
}
