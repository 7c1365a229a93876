package secure

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
	"github.com/credence/credence/vc/jose"
)

const (
	challenge = "c0ffee-7b1d"
	domain    = "https://hospital.example/hire"
)

var bound = PresentationOptions{Now: now, Challenge: challenge, Domain: domain}

// present secures a presentation and returns it as a verifier receives it:
// parsed from bytes.
func present(t *testing.T, f Format, holder party, creds []any, o PresentOptions) any {
	t.Helper()
	o.Format, o.Now = f, now
	out, err := engine.Present(context.Background(), holder.did, creds, holder.signer, o)
	if err != nil {
		t.Fatalf("Present %s: %v", f, err)
	}
	return reparse(t, out)
}

func reparse(t testing.TB, v any) any {
	t.Helper()
	b, err := vc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ParseInput(b)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func verifyVP(in any, o PresentationOptions) (*VerifiedPresentation, error) {
	return engine.VerifyPresentation(context.Background(), in, resolver, o)
}

// TestPresentationRoundTrip: a presentation in every format, carrying a
// credential of every format, verifies with and without the verifier
// asking for a challenge and domain, and hands back the credentials as
// presented, each verifying on its own.
func TestPresentationRoundTrip(t *testing.T) {
	iss, holder := edParty(t), edParty(t)
	var creds []any
	for _, f := range []Format{DataIntegrity, JWT, SDJWT} {
		creds = append(creds, issue(t, f, iss, holder))
	}
	for f, want := range map[Format]string{DataIntegrity: "eddsa-rdfc-2022", DataIntegrityJCS: "eddsa-jcs-2022",
		Ed25519Signature2020: "Ed25519Signature2020", JWT: "vp+jwt"} {
		t.Run(string(f), func(t *testing.T) {
			in := present(t, f, holder, creds, PresentOptions{Challenge: challenge, Domain: domain})
			for _, o := range []PresentationOptions{bound, {Now: now}} {
				v, err := verifyVP(in, o)
				if err != nil {
					t.Fatalf("verify (%+v): %v", o, err)
				}
				if v.Format != want || v.Holder != holder.did || !v.HolderProof || controller(v.VerificationMethod) != holder.did {
					t.Errorf("got %s holder %s (%v) key %s, want %s by %s", v.Format, v.Holder, v.HolderProof, v.VerificationMethod, want, holder.did)
				}
				if v.Presentation.Holder() != holder.did {
					t.Errorf("presentation holder %q", v.Presentation.Holder())
				}
				if !reflect.DeepEqual(v.Credentials, creds) {
					t.Fatalf("credentials differ from those presented:\n got %v\nwant %v", v.Credentials, creds)
				}
			}
			v, _ := verifyVP(in, bound)
			for i, c := range v.Credentials {
				got, err := verify(c)
				if err != nil || got.Credential.SubjectIDs()[0] != holder.did {
					t.Errorf("credential %d: %v", i, err)
				}
			}
		})
	}
}

// TestPresentationFailures: every way a presentation can be wrong fails
// with the sentinel a verifier maps to a reason code.
func TestPresentationFailures(t *testing.T) {
	ctx := context.Background()
	iss, holder, mallory := edParty(t), edParty(t), edParty(t)
	diCred, jwtCred := issue(t, DataIntegrity, iss, holder), issue(t, JWT, iss, holder)
	creds := []any{diCred, jwtCred}
	withBinding := PresentOptions{Challenge: challenge, Domain: domain}
	diVP := present(t, DataIntegrity, holder, creds, withBinding)
	jwtVP := present(t, JWT, holder, creds, withBinding)
	unbound := present(t, DataIntegrity, holder, creds, PresentOptions{})
	unboundJWT := present(t, JWT, holder, creds, PresentOptions{})

	// signDI secures a hand-made VP with a DI proof by s.
	signDI := func(vp map[string]any, s vc.Signer, purpose string) any {
		out, err := engine.di.Sign(ctx, vp, s, di.Options{Purpose: purpose, Created: now, Challenge: challenge, Domain: domain})
		if err != nil {
			t.Fatal(err)
		}
		return reparse(t, out)
	}
	unsigned := func() map[string]any {
		return map[string]any{"@context": []any{vc.ContextV2}, "type": []any{vc.TypePresentation},
			"holder": holder.did, "verifiableCredential": []any{diCred}}
	}
	// diMutated changes a copy of the DI VP.
	diMutated := func(f func(vp map[string]any)) any {
		vp := vc.Clone(diVP).(map[string]any)
		f(vp)
		return vp
	}
	// jwtMutated changes the payload of the vp+jwt and keeps its signature.
	jwtMutated := func(f func(claims map[string]any)) any {
		parts := strings.Split(tokenOf(jwtVP), ".")
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		claims, err := vc.DecodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		f(claims)
		b, _ = vc.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(parts, ".")
	}
	otherCred := issue(t, DataIntegrity, iss, mallory)

	tests := []struct {
		name string
		in   any
		o    PresentationOptions
		want error
	}{
		{"di/wrong challenge", diVP, PresentationOptions{Now: now, Challenge: "replayed"}, ErrChallenge},
		{"di/wrong domain", diVP, PresentationOptions{Now: now, Domain: "https://other.example"}, ErrChallenge},
		{"di/no challenge when asked", unbound, PresentationOptions{Now: now, Challenge: challenge}, ErrChallenge},
		{"di/no domain when asked", unbound, PresentationOptions{Now: now, Domain: domain}, ErrChallenge},
		{"jwt/wrong nonce", jwtVP, PresentationOptions{Now: now, Challenge: "replayed"}, ErrChallenge},
		{"jwt/wrong aud", jwtVP, PresentationOptions{Now: now, Domain: "https://other.example"}, ErrChallenge},
		{"jwt/no nonce when asked", unboundJWT, PresentationOptions{Now: now, Challenge: challenge}, ErrChallenge},
		{"jwt/no aud when asked", unboundJWT, PresentationOptions{Now: now, Domain: domain}, ErrChallenge},

		{"di/changed holder", diMutated(func(vp map[string]any) { vp["holder"] = mallory.did }), bound, vc.ErrKey},
		{"di/removed credential", diMutated(func(vp map[string]any) {
			vp["verifiableCredential"] = vp["verifiableCredential"].([]any)[:1]
		}), bound, vc.ErrSignature},
		{"di/added credential", diMutated(func(vp map[string]any) {
			vp["verifiableCredential"] = append(vp["verifiableCredential"].([]any), otherCred)
		}), bound, vc.ErrSignature},
		{"di/changed credential", diMutated(func(vp map[string]any) {
			c := vp["verifiableCredential"].([]any)[0].(map[string]any)
			c["credentialSubject"].(map[string]any)["npi"] = "1234567893"
		}), bound, vc.ErrSignature},
		{"di/swapped credential", diMutated(func(vp map[string]any) {
			vp["verifiableCredential"].([]any)[0] = otherCred
		}), bound, vc.ErrSignature},
		{"jwt/changed holder", jwtMutated(func(c map[string]any) { c["holder"] = mallory.did }), bound, vc.ErrKey},
		{"jwt/removed credential", jwtMutated(func(c map[string]any) {
			c["verifiableCredential"] = c["verifiableCredential"].([]any)[1:]
		}), bound, vc.ErrSignature},
		{"jwt/changed nonce", jwtMutated(func(c map[string]any) { c["nonce"] = "fresh" }), PresentationOptions{Now: now, Challenge: "fresh"}, vc.ErrSignature},

		{"di/key of another DID", signDI(unsigned(), mallory.signer, vc.PurposeAuthentication), bound, vc.ErrKey},
		{"jwt/key of another DID", func() any {
			payload, _ := vc.Marshal(unsigned())
			tok, err := jose.Sign(ctx, jose.Header{Typ: jose.FormatVP, Kid: mallory.signer.VerificationMethod}, payload, mallory.signer)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}(), PresentationOptions{Now: now}, vc.ErrKey},
		{"di/purpose assertionMethod", signDI(unsigned(), holder.signer, vc.PurposeAssertion), bound, vc.ErrProofOptions},
		{"di/no proof", diMutated(func(vp map[string]any) { delete(vp, "proof") }), PresentationOptions{Now: now}, vc.ErrMalformed},
		{"di/too many credentials", diMutated(func(vp map[string]any) {
			// Enveloped copies: identical embedded credentials would make
			// RDF canonicalization refuse the dataset before the count.
			vp["verifiableCredential"] = slices.Repeat([]any{jwtCred}, MaxCredentials+1)
		}), PresentationOptions{Now: now}, vc.ErrMalformed},

		{"di/oversized", diMutated(func(vp map[string]any) {
			vp["description"] = strings.Repeat("x", vc.MaxDocumentBytes)
		}), bound, vc.ErrMalformed},
		{"credential, not a presentation", diCred, PresentationOptions{Now: now}, vc.ErrMalformed},
		{"enveloped credential", jwtCred, PresentationOptions{Now: now}, vc.ErrMalformed},
		{"vc+jwt token", tokenOf(jwtCred), PresentationOptions{Now: now}, vc.ErrMalformed},
		{"vc+jwt in an enveloped presentation", jose.Envelope(tokenOf(jwtCred), true), PresentationOptions{Now: now}, vc.ErrMalformed},
		{"oversized token", strings.Repeat("a", vc.MaxDocumentBytes+1), PresentationOptions{Now: now}, vc.ErrMalformed},
		{"not JSON", 42, PresentationOptions{Now: now}, vc.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifyVP(tt.in, tt.o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v (%+v), want %v", err, v, tt.want)
			}
			if tt.want != ErrChallenge && errors.Is(err, ErrChallenge) {
				t.Errorf("got a challenge mismatch, want %v: %v", tt.want, err)
			}
		})
	}

	// A VP without holder is the signer's.
	noHolder := unsigned()
	delete(noHolder, "holder")
	if v, err := verifyVP(signDI(noHolder, holder.signer, vc.PurposeAuthentication), bound); err != nil || v.Holder != holder.did {
		t.Errorf("VP without holder: %v, %+v", err, v)
	}
}

// TestPresentRejects: Present refuses what VerifyPresentation would.
func TestPresentRejects(t *testing.T) {
	iss, holder, mallory := edParty(t), edParty(t), edParty(t)
	cred := issue(t, DataIntegrity, iss, holder)
	tests := []struct {
		name   string
		holder string
		creds  []any
		signer vc.Signer
		f      Format
		want   error
	}{
		{"key of another DID", holder.did, []any{cred}, mallory.signer, DataIntegrity, vc.ErrKey},
		{"too many credentials", holder.did, slices.Repeat([]any{cred}, MaxCredentials+1), holder.signer, DataIntegrity, vc.ErrMalformed},
		{"token, not an object", holder.did, []any{tokenOf(issue(t, JWT, iss, holder))}, holder.signer, JWT, vc.ErrMalformed},
		{"invalid credential", holder.did, []any{map[string]any{"type": "VerifiableCredential"}}, holder.signer, DataIntegrity, vc.ErrMalformed},
		{"unknown format", holder.did, []any{cred}, holder.signer, "cose", vc.ErrUnsupported},
		{"sd-jwt of a DI credential", holder.did, []any{cred}, holder.signer, SDJWT, vc.ErrUnsupported},
		{"ecdsa key for eddsa", "", []any{cred}, p256Party(t).signer, DataIntegrity, vc.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := PresentOptions{Format: tt.f, Now: now, Challenge: challenge, Domain: domain}
			if _, err := engine.Present(context.Background(), tt.holder, tt.creds, tt.signer, o); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	// No holder: the signer's DID is the holder; a P-256 holder signs vp+jwt.
	p := p256Party(t)
	out, err := engine.Present(context.Background(), "", []any{cred}, p.signer, PresentOptions{Format: JWT, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := verifyVP(reparse(t, out), PresentationOptions{Now: now}); err != nil || v.Holder != p.did {
		t.Fatalf("P-256 vp+jwt: %v, %+v", err, v)
	}
}

// TestSDJWTPresentation: an SD-JWT+KB is a presentation of one credential,
// bound to the verifier's nonce and audience by the holder's cnf key.
func TestSDJWTPresentation(t *testing.T) {
	ctx := context.Background()
	iss, holder := edParty(t), edParty(t)
	cred := issue(t, SDJWT, iss, holder)
	o := PresentOptions{Format: SDJWT, Now: now, Challenge: challenge, Domain: domain, Disclose: []string{"/credentialSubject/license"}}
	out, err := engine.Present(ctx, holder.did, []any{cred}, holder.signer, o)
	if err != nil {
		t.Fatal(err)
	}
	kb := reparse(t, out)
	other, err := engine.Present(ctx, holder.did, []any{issue(t, SDJWT, iss, holder)}, holder.signer, o)
	if err != nil {
		t.Fatal(err)
	}
	spliced := kb.(string)[:strings.LastIndexByte(kb.(string), '~')+1] + other.(string)[strings.LastIndexByte(other.(string), '~')+1:]

	tests := []struct {
		name string
		in   any
		o    PresentationOptions
		want error
	}{
		{"bound", kb, bound, nil},
		{"not asked", kb, PresentationOptions{Now: now}, nil},
		{"wrong nonce", kb, PresentationOptions{Now: now, Challenge: "replayed", Domain: domain}, ErrChallenge},
		{"wrong aud", kb, PresentationOptions{Now: now, Challenge: challenge, Domain: "https://other.example"}, ErrChallenge},
		{"wrong nonce only asked", kb, PresentationOptions{Now: now, Challenge: "replayed"}, ErrChallenge},
		{"no key binding", tokenOf(cred), bound, vc.ErrProofOptions},
		{"no key binding, not asked", tokenOf(cred), PresentationOptions{Now: now}, vc.ErrProofOptions},
		{"KB-JWT of another presentation", spliced, bound, vc.ErrSignature},
		{"stale KB-JWT", kb, PresentationOptions{Now: now.Add(time.Hour), Challenge: challenge, Domain: domain}, vc.ErrProofOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifyVP(tt.in, tt.o)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			if v.Format != "dc+sd-jwt" || v.Holder != holder.did || !v.HolderProof || v.Presentation != nil ||
				!strings.HasPrefix(v.VerificationMethod, "urn:ietf:params:oauth:jwk-thumbprint:sha-256:") ||
				!reflect.DeepEqual(v.Credentials, []any{kb}) {
				t.Fatalf("got %+v", v)
			}
			c, err := verify(v.Credentials[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.Disclosed {
				if !strings.HasPrefix(p, "/credentialSubject/license") {
					t.Errorf("disclosed %s, only the license was asked", p)
				}
			}
			if len(c.Disclosed) == 0 {
				t.Error("nothing disclosed")
			}
		})
	}
	mallory := edParty(t)
	if _, err := engine.Present(ctx, mallory.did, []any{cred}, mallory.signer, o); !errors.Is(err, vc.ErrKey) {
		t.Errorf("presenting another holder's SD-JWT: got %v, want ErrKey", err)
	}
	o.Disclose = []string{"/issuer"}
	if _, err := engine.Present(ctx, holder.did, []any{cred}, holder.signer, o); !errors.Is(err, vc.ErrMalformed) {
		t.Errorf("disclosing a non-subject claim: got %v, want ErrMalformed", err)
	}
}

// TestPresentationV11: VC 1.1 presentations from legacy wallets verify: a
// Linked Data VP with Ed25519Signature2020 and a JWT VP with a vp claim,
// each carrying a 1.1 credential.
func TestPresentationV11(t *testing.T) {
	ctx := context.Background()
	iss, holder := edParty(t), edParty(t)
	cred11 := map[string]any{
		"@context": []any{vc.ContextV1}, "id": "urn:uuid:3f1e3c58-4c7f-4c0e-9d0a-6a3f1b2c9d11",
		"type": []any{vc.TypeCredential}, "issuer": iss.did, "issuanceDate": "2025-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": holder.did},
	}
	signed, err := engine.di.Sign(ctx, cred11, iss.signer, di.Options{Suite: di.Ed25519Signature2020, Created: now})
	if err != nil {
		t.Fatal(err)
	}
	vp := map[string]any{"@context": []any{vc.ContextV1}, "type": []any{vc.TypePresentation},
		"holder": holder.did, "verifiableCredential": []any{signed}}
	ldVP, err := engine.di.Sign(ctx, vp, holder.signer, di.Options{Suite: di.Ed25519Signature2020,
		Purpose: vc.PurposeAuthentication, Created: now, Challenge: challenge, Domain: domain})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(s party, claims map[string]any) string {
		payload, _ := vc.Marshal(claims)
		tok, err := jose.Sign(ctx, jose.Header{Typ: "JWT", Kid: s.signer.VerificationMethod}, payload, s.signer)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	vcJWT := sign(iss, map[string]any{"iss": iss.did, "sub": holder.did, "nbf": now.Unix(),
		"vc": map[string]any{"@context": []any{vc.ContextV1}, "type": []any{vc.TypeCredential}, "credentialSubject": map[string]any{}}})
	vpJWT := sign(holder, map[string]any{"iss": holder.did, "aud": domain, "nonce": challenge, "iat": now.Unix(),
		"vp": map[string]any{"@context": []any{vc.ContextV1}, "type": []any{vc.TypePresentation}, "verifiableCredential": []any{vcJWT}}})

	for _, tt := range []struct {
		name, format string
		in           any
	}{
		{"ld", "Ed25519Signature2020", reparse(t, ldVP)},
		{"jwt", jose.FormatVP11, vpJWT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verifyVP(tt.in, bound)
			if err != nil {
				t.Fatal(err)
			}
			if v.Format != tt.format || v.Holder != holder.did || v.Presentation.Version() != vc.V1 || len(v.Credentials) != 1 {
				t.Fatalf("got %+v", v)
			}
			c, err := verify(v.Credentials[0])
			if err != nil || c.Credential.Issuer() != iss.did {
				t.Fatalf("embedded 1.1 credential: %v", err)
			}
			if _, err := verifyVP(tt.in, PresentationOptions{Now: now, Challenge: "replayed"}); !errors.Is(err, ErrChallenge) {
				t.Errorf("wrong challenge: got %v, want ErrChallenge", err)
			}
		})
	}
}
