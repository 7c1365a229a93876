package jose_test

import (
	"testing"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, presentation := range []bool{false, true} {
		env := jose.Envelope("h.p.s", presentation)
		// Through JSON, as a peer would send it.
		m, err := vc.DecodeObject(mustMarshal(t, env))
		if err != nil {
			t.Fatal(err)
		}
		tok, p, err := jose.Unenvelope(m)
		if err != nil || tok != "h.p.s" || p != presentation {
			t.Errorf("presentation %v: got %q %v %v", presentation, tok, p, err)
		}
	}
	env := jose.Envelope("h.p.s", false)
	if string(mustMarshal(t, env["@context"])) != `["https://www.w3.org/ns/credentials/v2"]` ||
		env["id"] != "data:application/vc+jwt,h.p.s" || env["type"] != "EnvelopedVerifiableCredential" {
		t.Errorf("envelope %v", env)
	}
	// A peer's envelope may give the context as a string.
	m, err := vc.DecodeObject([]byte(`{"@context":"https://www.w3.org/ns/credentials/v2","id":"data:application/vc+jwt,h.p.s","type":"EnvelopedVerifiableCredential"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tok, _, err := jose.Unenvelope(m); err != nil || tok != "h.p.s" {
		t.Errorf("an envelope with a string context: %q %v", tok, err)
	}
}

func TestUnenvelopeRejects(t *testing.T) {
	obj := func(typ any, id string) map[string]any {
		return map[string]any{"@context": vc.ContextV2, "type": typ, "id": id}
	}
	tests := []struct {
		name string
		obj  map[string]any
		want error
	}{
		{"type array", obj([]any{"EnvelopedVerifiableCredential"}, "data:application/vc+jwt,a.b.c"), nil},
		{"sd-jwt", obj("EnvelopedVerifiableCredential", "data:application/vc+sd-jwt,a.b.c~"), vc.ErrUnsupported},
		{"cose", obj("EnvelopedVerifiableCredential", "data:application/vc+cose;base64,AAAA"), vc.ErrUnsupported},
		{"base64 flag", obj("EnvelopedVerifiableCredential", "data:application/vc+jwt;base64,YS5iLmM"), vc.ErrUnsupported},
		{"vp in a credential envelope", obj("EnvelopedVerifiableCredential", "data:application/vp+jwt,a.b.c"), vc.ErrMalformed},
		{"vc in a presentation envelope", obj("EnvelopedVerifiablePresentation", "data:application/vc+jwt,a.b.c"), vc.ErrMalformed},
		{"two types", obj([]any{"EnvelopedVerifiableCredential", "X"}, "data:application/vc+jwt,a.b.c"), vc.ErrMalformed},
		{"not enveloped", obj("VerifiableCredential", "data:application/vc+jwt,a.b.c"), vc.ErrMalformed},
		{"not a data URL", obj("EnvelopedVerifiableCredential", "https://example.com/a.b.c"), vc.ErrMalformed},
		{"no comma", obj("EnvelopedVerifiableCredential", "data:application/vc+jwt"), vc.ErrMalformed},
		{"empty token", obj("EnvelopedVerifiableCredential", "data:application/vc+jwt,"), vc.ErrMalformed},
		{"v1 context", map[string]any{"@context": vc.ContextV1, "type": "EnvelopedVerifiableCredential", "id": "data:application/vc+jwt,a.b.c"}, vc.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := jose.Unenvelope(tt.obj)
			wantErr(t, err, tt.want)
		})
	}
}
