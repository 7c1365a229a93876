package secure

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/vctest"
)

var engine = New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))

type party struct {
	did    string
	signer vc.Signer
}

func newParty(t testing.TB, key crypto.Signer) party {
	t.Helper()
	d, s := vctest.KeySigner(t, key)
	return party{did: d, signer: s}
}

func edParty(t testing.TB) party {
	t.Helper()
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return newParty(t, k)
}

func p256Party(t testing.TB) party {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return newParty(t, k)
}

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func licenseCredential(issuer, subject string) map[string]any {
	g := synth.New(7, synth.WithNow(now))
	s := g.Provider().LicenseSubject("TX")
	s["id"] = subject
	return map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"id":                "urn:uuid:0b5d4e2c-8f6a-4d51-9b39-2a1c7e0f9a11",
		"type":              []any{vc.TypeCredential, "MedicalLicenseCredential"},
		"issuer":            issuer,
		"validFrom":         "2025-01-01T00:00:00Z",
		"credentialSubject": s,
	}
}

var resolver = vc.DIDKeys{Resolver: did.NewResolver()}

func issue(t *testing.T, f Format, iss, holder party) any {
	t.Helper()
	o := IssueOptions{Format: f, Now: now}
	if f == SDJWT {
		o.HolderKey = holder.signer.Key.Public()
	}
	out, err := engine.Issue(context.Background(), licenseCredential(iss.did, holder.did), iss.signer, o)
	if err != nil {
		t.Fatalf("Issue %s: %v", f, err)
	}
	b, _ := vc.Marshal(out)
	in, err := ParseInput(b) // what a verifier receives: bytes
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func verify(in any) (*Verified, error) {
	return engine.VerifyCredential(context.Background(), in, resolver, VerifyOptions{Now: now})
}

// TestRoundTrip: every format Credence issues verifies in Credence, with the
// credential's content intact.
func TestRoundTrip(t *testing.T) {
	holder := edParty(t)
	for _, f := range Formats() {
		for _, iss := range []party{edParty(t), p256Party(t)} {
			name := string(f) + "/" + strings.SplitN(iss.did, ":", 3)[2][:5]
			t.Run(name, func(t *testing.T) {
				_, isEC := iss.signer.Key.(*ecdsa.PrivateKey)
				if isEC && (f == DataIntegrity || f == DataIntegrityJCS || f == Ed25519Signature2020) {
					_, err := engine.Issue(context.Background(), licenseCredential(iss.did, holder.did), iss.signer, IssueOptions{Format: f, Now: now})
					if !errors.Is(err, vc.ErrUnsupported) {
						t.Fatalf("an EdDSA suite with a P-256 key: got %v, want ErrUnsupported", err)
					}
					return
				}
				v, err := verify(issue(t, f, iss, holder))
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				c := v.Credential
				lic, _ := c.Subjects()[0]["license"].(map[string]any)
				if c.Issuer() != iss.did || c.SubjectIDs()[0] != holder.did || lic["jurisdiction"] != "TX" || !c.HasType("MedicalLicenseCredential") {
					t.Errorf("verified credential differs: %v", c)
				}
				if controller(v.VerificationMethod) != iss.did {
					t.Errorf("verification method %s", v.VerificationMethod)
				}
			})
		}
	}
}

// TestTamper: changing any claim, swapping the key or the proof purpose
// makes every format fail.
func TestTamper(t *testing.T) {
	holder := edParty(t)
	iss := edParty(t)
	mallory := edParty(t)
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			good := issue(t, f, iss, holder)
			for name, mutate := range tamperings(t, f, iss, mallory, holder) {
				bad := mutate(vc.Clone(good))
				if _, err := verify(bad); err == nil {
					t.Errorf("%s: a tampered credential verified", name)
				}
			}
		})
	}
}

func tamperings(t *testing.T, f Format, iss, mallory, holder party) map[string]func(any) any {
	switch f {
	case JWT, SDJWT:
		swapped := issue(t, f, mallory, holder) // a valid token by another key
		return map[string]func(any) any{
			"payload byte": func(in any) any { return flipToken(in, 1, 10) },
			"signature":    func(in any) any { return flipToken(in, 2, 5) },
			"other signer claims the issuer": func(any) any {
				tok := tokenOf(swapped)
				parts := strings.SplitN(tokenOf(issue(t, f, iss, holder)), ".", 3)
				mparts := strings.SplitN(tok, ".", 3)
				return parts[0] + "." + parts[1] + "." + mparts[2]
			},
		}
	}
	return map[string]func(any) any{
		"subject claim": func(in any) any {
			in.(map[string]any)["credentialSubject"].(map[string]any)["npi"] = "1234567893"
			return in
		},
		"issuer": func(in any) any { in.(map[string]any)["issuer"] = mallory.did; return in },
		"validFrom": func(in any) any {
			in.(map[string]any)["validFrom"] = "2024-01-01T00:00:00Z"
			return in
		},
		"added member": func(in any) any { in.(map[string]any)["name"] = "extra"; return in },
		"proof purpose": func(in any) any {
			in.(map[string]any)["proof"].(map[string]any)["proofPurpose"] = vc.PurposeAuthentication
			return in
		},
		"key swapped": func(in any) any {
			p := in.(map[string]any)["proof"].(map[string]any)
			p["verificationMethod"] = mallory.signer.VerificationMethod
			return in
		},
		"re-signed by another key": func(in any) any {
			m := in.(map[string]any)
			delete(m, "proof")
			out, err := engine.Issue(context.Background(), m, mallory.signer, IssueOptions{Format: f, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return out
		},
	}
}

// tokenOf returns the compact token of an enveloped credential.
func tokenOf(in any) string {
	id := in.(map[string]any)["id"].(string)
	_, tok, _ := strings.Cut(id, ",")
	return tok
}

// flipToken changes one character of part n of the token's JWT.
func flipToken(in any, part, at int) any {
	tok := tokenOf(in)
	jwt, rest, _ := strings.Cut(tok, "~")
	parts := strings.Split(jwt, ".")
	b := []byte(parts[part])
	if b[at] == 'A' {
		b[at] = 'B'
	} else {
		b[at] = 'A'
	}
	parts[part] = string(b)
	out := strings.Join(parts, ".")
	if rest != "" || strings.Contains(tok, "~") {
		out += "~" + rest
	}
	return out
}

func marshal(v any) ([]byte, error) { return vc.Marshal(v) }
