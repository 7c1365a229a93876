package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// TestInteropNPMPresentation: a presentation the subject signed with
// @digitalbazaar/vc (eddsa-rdfc-2022, proofPurpose authentication, bound to
// the hospital's challenge and domain) verifies in Credence with the subject
// as holder, and its license is accepted for that holder; a presentation for
// another challenge or domain, or altered, does not verify.
func TestInteropNPMPresentation(t *testing.T) {
	out := npmIssuedCredentials(t)
	verify := func(t *testing.T, vp []byte, challenge, domain string) (*secure.VerifiedPresentation, error) {
		t.Helper()
		o := secure.PresentationOptions{Now: npmNow, Skew: time.Minute, Challenge: challenge, Domain: domain}
		return npmEngine().VerifyPresentation(context.Background(), npmInput(t, vp), npmKeys(), o)
	}

	t.Run("bound", func(t *testing.T) {
		got, err := verify(t, out.Presentation, npmChallenge, npmDomain)
		if err != nil {
			t.Fatalf("VerifyPresentation: %v", err)
		}
		if got.Format != "eddsa-rdfc-2022" || got.Holder != out.Subject || !got.HolderProof ||
			got.VerificationMethod != out.SubjectMethod || len(got.Credentials) != 1 {
			t.Fatalf("format %q holder %q (proof %v) method %q, %d credentials; want the subject %s holding one",
				got.Format, got.Holder, got.HolderProof, got.VerificationMethod, len(got.Credentials), out.Subject)
		}
		r := npmVerifier().VerifyCredential(context.Background(), got.Credentials[0], Options{})
		if !r.Verified || r.Credential.Issuer() != out.Issuer {
			t.Fatalf("the presented credential: verified=%v issuer %q errors=%v", r.Verified, r.Credential.Issuer(), r.Errors)
		}
		ev := Evidence{Credentials: []Credential{CredentialFromVC(r.Credential, r.Verified, nil)},
			Holder: got.Holder, HolderProof: got.HolderProof, Now: npmNow}
		if fs := EvaluateRules(ev, npmPolicy(out.Issuer, npmPractice)); len(fs) != 0 || Decide(fs) != Accept {
			t.Errorf("trusted issuer: decision %s, findings %v; want accept without findings", Decide(fs), fs)
		}
		if fs := EvaluateRules(ev, npmPolicy(npmOtherBoard, npmPractice)); !hasCode(fs, CodeIssuerNotRecognized) || Decide(fs) != Reject {
			t.Errorf("untrusted issuer: decision %s, findings %v; want reject with %s", Decide(fs), fs, CodeIssuerNotRecognized)
		}
		ev.Holder = out.Issuer // the license is not the holder's
		if fs := EvaluateRules(ev, npmPolicy(out.Issuer, npmPractice)); !hasCode(fs, CodeSubjectMismatch) || Decide(fs) != Reject {
			t.Errorf("another holder: decision %s, findings %v; want reject with %s", Decide(fs), fs, CodeSubjectMismatch)
		}
	})

	changed := func(t *testing.T, mutate func(vp, proof map[string]any)) []byte {
		m, err := vc.DecodeObject(out.Presentation)
		if err != nil {
			t.Fatal(err)
		}
		proof, _ := m["proof"].(map[string]any)
		mutate(m, proof)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	presented := func(m map[string]any) map[string]any { return vc.Objects(m["verifiableCredential"])[0] }
	cases := []struct {
		name              string
		vp                func(t *testing.T) []byte
		challenge, domain string
		want              error
	}{
		{"wrong challenge", nil, "another-challenge", npmDomain, secure.ErrChallenge},
		{"wrong domain", nil, npmChallenge, "other-hospital.example", secure.ErrChallenge},
		{"proof challenge replaced", func(t *testing.T) []byte {
			return changed(t, func(_, p map[string]any) { p["challenge"] = "another-challenge" })
		}, "another-challenge", npmDomain, vc.ErrSignature},
		{"holder replaced", func(t *testing.T) []byte {
			return changed(t, func(m, _ map[string]any) { m["holder"] = out.Issuer })
		}, npmChallenge, npmDomain, vc.ErrKey},
		{"presented license altered", func(t *testing.T) []byte {
			return changed(t, func(m, _ map[string]any) {
				vc.Objects(presented(m)["credentialSubject"])[0]["npi"] = "1234567893"
			})
		}, npmChallenge, npmDomain, vc.ErrSignature},
		{"signature byte", func(t *testing.T) []byte {
			return changed(t, func(_, p map[string]any) { p["proofValue"] = npmFlipMultibase(t, p["proofValue"]) })
		}, npmChallenge, npmDomain, vc.ErrSignature},
		{"assertion instead of authentication", func(t *testing.T) []byte {
			return changed(t, func(_, p map[string]any) { p["proofPurpose"] = vc.PurposeAssertion })
		}, npmChallenge, npmDomain, vc.ErrProofOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vp := []byte(out.Presentation)
			if c.vp != nil {
				vp = c.vp(t)
			}
			got, err := verify(t, vp, c.challenge, c.domain)
			if !errors.Is(err, c.want) {
				t.Fatalf("VerifyPresentation = %+v, %v; want an error wrapping %v", got, err, c.want)
			}
			t.Logf("%v", err)
		})
	}
}
