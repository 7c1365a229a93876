package vc

import (
	"errors"
	"strings"
	"testing"
)

const validV2 = `{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  "type": ["VerifiableCredential", "AlumniCredential"],
  "issuer": {"id": "did:example:issuer", "name": "Example University"},
  "validFrom": "2023-01-01T00:00:00Z",
  "validUntil": "2033-01-01T00:00:00+01:00",
  "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
  "credentialSchema": {"id": "https://example.org/schema.json", "type": "JsonSchema"},
  "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
  "relatedResource": [{"id": "https://example.org/a.png", "digestSRI": "sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0YbeV7shwhCS88G8SCXeFq82PafhCrW"},
    {"id": "https://example.org/b.json", "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"}]
}`

func TestValidCredentials(t *testing.T) {
	for name, doc := range map[string]string{
		"v2": validV2,
		"v1": `{"@context":["https://www.w3.org/2018/credentials/v1"],"type":"VerifiableCredential",
		  "issuer":"https://example.edu/issuers/14","issuanceDate":"2010-01-01T19:23:24",
		  "credentialSubject":[{"id":"did:example:1","degree":"BSc"},{"name":"x"}]}`,
		"string context, 24:00": `{"@context":"https://www.w3.org/ns/credentials/v2","type":"VerifiableCredential",
		  "issuer":"did:key:z6Mk","validFrom":"2023-01-01T24:00:00Z","credentialSubject":{"name":"x"}}`,
	} {
		c, err := ParseCredential([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if c.Issuer() == "" || len(c.Types()) == 0 || len(c.Subjects()) == 0 {
			t.Errorf("%s: accessors read nothing: %v %v %v", name, c.Issuer(), c.Types(), c.Subjects())
		}
		if _, ok := c.ValidFrom(); !ok {
			t.Errorf("%s: no validFrom", name)
		}
	}
}

func TestInvalidCredentials(t *testing.T) {
	tests := []struct {
		name, from, to, field string
	}{
		{"first context", `"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"`, `"https://www.w3.org/ns/credentials/examples/v2"`, "/@context/0"},
		{"no type", `"type": ["VerifiableCredential", "AlumniCredential"],`, ``, "/type"},
		{"missing base type", `["VerifiableCredential", "AlumniCredential"]`, `["AlumniCredential"]`, "/type"},
		{"type not string", `["VerifiableCredential", "AlumniCredential"]`, `["VerifiableCredential", 7]`, "/type/1"},
		{"id not URL", `"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"`, `"not a url"`, "/id"},
		{"id array", `"urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"`, `["urn:a", "urn:b"]`, "/id"},
		{"issuer not URL", `{"id": "did:example:issuer", "name": "Example University"}`, `"Example University"`, "/issuer"},
		{"issuer object without id", `{"id": "did:example:issuer", "name": "Example University"}`, `{"name": "x"}`, "/issuer/id"},
		{"no subject", `"credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},`, ``, "/credentialSubject"},
		{"empty subject", `{"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"}`, `{}`, "/credentialSubject"},
		{"subject id", `"did:example:abcdefgh"`, `"abc"`, "/credentialSubject/id"},
		{"validFrom no zone", `"2023-01-01T00:00:00Z"`, `"2023-01-01T00:00:00"`, "/validFrom"},
		{"validUntil date only", `"2033-01-01T00:00:00+01:00"`, `"2033-01-01"`, "/validUntil"},
		{"until before from", `"2033-01-01T00:00:00+01:00"`, `"2022-01-01T00:00:00Z"`, "/validUntil"},
		{"schema needs type", `{"id": "https://example.org/schema.json", "type": "JsonSchema"}`, `{"id": "https://example.org/schema.json"}`, "/credentialSchema/type"},
		{"schema needs id", `{"id": "https://example.org/schema.json", "type": "JsonSchema"}`, `{"type": "JsonSchema"}`, "/credentialSchema/id"},
		{"status needs type", `{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}`, `{"statusPurpose": "revocation"}`, "/credentialStatus/type"},
		{"related bad SRI", `sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0YbeV7shwhCS88G8SCXeFq82PafhCrW`, `sha384-AAAA`, "/relatedResource/0/digestSRI"},
		{"related bad multibase", `uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA`, `uEiBZlVz`, "/relatedResource/1/digestMultibase"},
		{"related duplicate id", `https://example.org/b.json`, `https://example.org/a.png`, "/relatedResource/1/id"},
		{"related no digest", `, "digestSRI": "sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0YbeV7shwhCS88G8SCXeFq82PafhCrW"`, ``, "/relatedResource/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(validV2, tt.from, tt.to, 1)
			if doc == validV2 {
				t.Fatalf("test case does not change the document")
			}
			_, err := ParseCredential([]byte(doc))
			var inv *InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want an InvalidError", err)
			}
			for _, f := range inv.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Errorf("fields %+v do not name %s", inv.Fields, tt.field)
		})
	}
}

func TestDecodeObjectStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"duplicate":        `{"a":1,"a":2}`,
		"nested duplicate": `{"a":{"b":1,"b":1}}`,
		"trailing":         `{"a":1} {}`,
		"array":            `[1]`,
		"deep":             strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1),
		"huge":             `{"a":"` + strings.Repeat("x", MaxDocumentBytes) + `"}`,
		"truncated":        `{"a":`,
	} {
		if _, err := DecodeObject([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	m, err := DecodeObject([]byte(`{"n":12345678901234567890,"s":"<&>"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Marshal(m)
	if string(b) != `{"n":12345678901234567890,"s":"<&>"}` {
		t.Errorf("round trip changed the document: %s", b)
	}
}

func TestPresentation(t *testing.T) {
	vp := `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiablePresentation"],
	  "holder":"did:example:holder","verifiableCredential":[` + validV2 + `,
	  {"@context":"https://www.w3.org/ns/credentials/v2","type":"EnvelopedVerifiableCredential","id":"data:application/vc+jwt,eyJ"}]}`
	p, err := ParsePresentation([]byte(vp))
	if err != nil {
		t.Fatal(err)
	}
	if p.Holder() != "did:example:holder" || len(p.Credentials()) != 2 {
		t.Errorf("holder %q, %d credentials", p.Holder(), len(p.Credentials()))
	}
	bad := strings.Replace(vp, `"did:example:issuer"`, `"nope"`, 1)
	_, err = ParsePresentation([]byte(bad))
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Fields[0].Field != "/verifiableCredential/0/issuer/id" {
		t.Errorf("got %v, want the embedded credential's issuer named", err)
	}
}

func FuzzParseCredential(f *testing.F) {
	f.Add([]byte(validV2))
	f.Add([]byte(`{"@context":"https://www.w3.org/2018/credentials/v1","type":"VerifiableCredential"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCredential(b)
		if err != nil {
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCredential(out); err != nil {
			t.Fatalf("a valid credential does not survive re-encoding: %v", err)
		}
	})
}
