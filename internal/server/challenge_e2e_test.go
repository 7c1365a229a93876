package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// TestCallerChallenges: a verifier tenant whose policy says it makes its
// own challenges (VC-API's options.challenge as the caller's nonce) has a
// presentation bound to such a challenge verified, with a warning; every
// other tenant has it rejected as not issued here. Challenges this
// verifier issued keep their rules under either policy.
func TestCallerChallenges(t *testing.T) {
	_, ts := newServer(t, testConfig(t))
	e := &e2e{t: t, base: ts.URL, eng: secure.New(NewProcessor())}
	tx := createTenant(t, ts.URL, `{"name":"Texas Medical Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)
	g := synth.New(11, synth.WithKeys())
	var doc *synth.Provider
	for doc == nil {
		if p := g.Provider(); p.License("TX").Status == "active" && !p.License("TX").Expired(time.Now().AddDate(0, 3, 0)) {
			doc = p
		}
	}
	license := e.issue(tx, "MedicalLicenseCredential", doc.LicenseSubject("TX"))
	verifierToken := func(policy string) string {
		var v struct{ Token string }
		_ = json.Unmarshal(e.post("/admin/verifiers", adminToken, json.RawMessage(`{"name":"Houston General","policy":`+policy+`}`), http.StatusCreated), &v)
		return v.Token
	}
	strict, caller := verifierToken(`{}`), verifierToken(`{"callerChallenges":true}`)
	presentBy := func(holder *synth.Provider, challenge string) any {
		s := vc.Signer{Key: holder.Key, VerificationMethod: holder.DID + "#" + strings.TrimPrefix(holder.DID, "did:key:")}
		vp, err := e.eng.Present(context.Background(), holder.DID, []any{license}, s, secure.PresentOptions{Challenge: challenge, Domain: "hospital.example"})
		if err != nil {
			t.Fatal(err)
		}
		return vp
	}
	present := func(challenge string) any { return presentBy(doc, challenge) }
	type result struct {
		Verified         bool
		Errors, Warnings []struct{ Code string }
	}
	verify := func(token string, vp any, challenge string, status int, code string) result {
		t.Helper()
		resp, b := do(t, "POST", ts.URL+"/presentations/verify", token, mustJSON(t, map[string]any{"verifiablePresentation": vp,
			"options": map[string]any{"challenge": challenge, "domain": "hospital.example"}}))
		var r result
		if err := json.Unmarshal(b, &r); err != nil || resp.StatusCode != status {
			t.Fatalf("challenge %q: %d %s, want %d", challenge, resp.StatusCode, b, status)
		}
		found := code == ""
		for _, p := range append(r.Errors, r.Warnings...) {
			found = found || p.Code == code
		}
		if !found {
			t.Fatalf("challenge %q: %s, want %s", challenge, b, code)
		}
		return r
	}

	own := present("hospital-nonce-7f3a")
	verify(strict, own, "hospital-nonce-7f3a", http.StatusUnprocessableEntity, "PRESENTATION_REPLAYED")
	verify("", own, "hospital-nonce-7f3a", http.StatusUnprocessableEntity, "PRESENTATION_REPLAYED")
	if r := verify(caller, own, "hospital-nonce-7f3a", http.StatusOK, "PRESENTATION_CHALLENGE_UNTRACKED"); !r.Verified || len(r.Errors) > 0 {
		t.Fatalf("the caller's own challenge: %+v", r)
	}
	// The proof must carry the challenge the caller expects.
	verify(caller, own, "hospital-nonce-other", http.StatusUnprocessableEntity, "PRESENTATION_INVALID")

	// A challenge this verifier issued is used once, and only by its tenant.
	challenge := func(token string) string {
		var c struct{ Challenge string }
		_ = json.Unmarshal(e.post("/challenges", token, json.RawMessage(`{}`), http.StatusCreated), &c)
		return c.Challenge
	}
	mine := challenge(caller)
	vp := present(mine)
	if r := verify(caller, vp, mine, http.StatusOK, ""); !r.Verified || len(r.Warnings) > 0 {
		t.Fatalf("a challenge this verifier issued: %+v", r)
	}
	verify(caller, vp, mine, http.StatusUnprocessableEntity, "PRESENTATION_REPLAYED")
	theirs := challenge(strict)
	verify(caller, present(theirs), theirs, http.StatusUnprocessableEntity, "PRESENTATION_REPLAYED")

	// Someone else presents the license: holder binding rejects it, unless
	// the tenant's policy (or the request's options) leaves the check out,
	// as VC 2.0 itself does not bind holders to subjects.
	var other *synth.Provider
	for other == nil {
		if p := g.Provider(); p.DID != doc.DID {
			other = p
		}
	}
	unbound := verifierToken(`{"callerChallenges":true,"checks":["proof","validity","status","schema"]}`)
	verify(caller, presentBy(other, "hospital-nonce-9"), "hospital-nonce-9", http.StatusUnprocessableEntity, "SUBJECT_MISMATCH")
	if r := verify(unbound, presentBy(other, "hospital-nonce-9"), "hospital-nonce-9", http.StatusOK, "PRESENTATION_CHALLENGE_UNTRACKED"); !r.Verified {
		t.Fatalf("holder binding left out by the policy: %+v", r)
	}
}
