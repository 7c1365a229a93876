package verifier

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// Reason codes of presentations.
const (
	// CodePresentationInvalid: the presentation's own proof failed (a
	// wrong key, a tampered presentation, a wrong challenge or domain).
	CodePresentationInvalid = "PRESENTATION_INVALID"
	// CodeQueryUnsatisfied: the presentation does not hold what the
	// request asked for.
	CodeQueryUnsatisfied = "PRESENTATION_QUERY_UNSATISFIED"
	// CodeReplayed: the presentation's challenge was used before (or was
	// never issued by this verifier).
	CodeReplayed = "PRESENTATION_REPLAYED"
	// CodeChallengeMissing (warning): no challenge was asked, so nothing
	// shows the presentation is not a replay.
	CodeChallengeMissing = "PRESENTATION_CHALLENGE_MISSING"
	// CodeChallengeUntracked (warning): the challenge was the caller's own
	// (PolicyConfig.CallerChallenges), not one this verifier issued: the
	// proof is bound to it, and its single use is the caller's to enforce.
	CodeChallengeUntracked = "PRESENTATION_CHALLENGE_UNTRACKED"
	// CodeHolderUnexpected: the presentation answers a request that names
	// the holder it expects (Request.Holder), and another DID signed it.
	// It does not answer the request, which stays open for that holder.
	CodeHolderUnexpected = "PRESENTATION_HOLDER_UNEXPECTED"
)

// PresentationOptions are one presentation's verification options.
type PresentationOptions struct {
	Options
	// Challenge and Domain are what the presentation's proof must carry
	// (the request's, or a challenge from POST /challenges).
	Challenge, Domain string
	// Query, when set, is what the presentation must answer.
	Query *Query
}

// PresentationResult is a presentation's outcome: the presentation's own
// checks and decision, with each credential's result.
type PresentationResult struct {
	*Result
	Holder      string    `json:"holder,omitempty"`
	Credentials []*Result `json:"credentialResults"`
	Match       *Match    `json:"match,omitempty"`
	// Bound is whether the presentation's own proof verified, with the
	// challenge and domain asked: the holder's key answered this challenge,
	// whatever is decided of the credentials.
	Bound bool `json:"-"`
}

// VerifyPresentation verifies a presentation (a parsed JSON object or a
// compact token): its proof with the challenge and domain, every credential
// it holds (proof, validity, status, schema), that the holder is their
// subject, the policy's rules over all of them together, and the query.
// The decision covers everything: one failing credential rejects.
func (v *Verifier) VerifyPresentation(ctx context.Context, input any, o PresentationOptions) *PresentationResult {
	out := &PresentationResult{Result: newResult(), Credentials: []*Result{}}
	r := out.Result
	now := v.now()
	vp, err := v.Engine.VerifyPresentation(ctx, input, v.Keys, secure.PresentationOptions{Now: now, Skew: v.Skew, Challenge: o.Challenge, Domain: o.Domain})
	r.Checks = append(r.Checks, CheckProof)
	if err != nil {
		code := CodePresentationInvalid
		if errors.Is(err, vc.ErrMalformed) {
			code = CodeMalformed
		}
		r.fail(CheckProof, code, err.Error())
		r.finish()
		return out
	}
	r.pass(CheckProof)
	out.Bound = true
	r.Format, r.VerificationMethod, out.Holder = vp.Format, vp.VerificationMethod, vp.Holder

	ev := Evidence{Holder: vp.Holder, HolderProof: vp.HolderProof, Now: now}
	var cands []Candidate
	for i, in := range vp.Credentials {
		cr := v.credential(ctx, in, o.Options, now)
		cr.finish()
		out.Credentials = append(out.Credentials, cr)
		label := fmt.Sprintf("verifiableCredential[%d]", i)
		if cr.Credential != nil && cr.Credential.ID() != "" {
			label = cr.Credential.ID()
		}
		for _, p := range cr.Errors {
			p.Credential = label
			r.Errors = append(r.Errors, p)
		}
		for _, p := range cr.Warnings {
			p.Credential = label
			r.Warnings = append(r.Warnings, p)
		}
		if cr.Credential == nil {
			continue
		}
		ev.Credentials = append(ev.Credentials, CredentialFromVC(cr.Credential, true, cr.status))
		cands = append(cands, Candidate{Index: i, Format: cr.Format, Credential: cr.Credential})
	}
	v.judgePresentation(r, ev, o.Options)
	if o.Query != nil && o.wants(CheckQuery) {
		r.Checks = append(r.Checks, CheckQuery)
		m, err := o.Query.Match(cands)
		switch {
		case err != nil:
			r.fail(CheckQuery, CodeQueryUnsatisfied, err.Error())
		case !m.Satisfied:
			out.Match = &m
			r.fail(CheckQuery, CodeQueryUnsatisfied, fmt.Sprintf("the presentation does not answer %v of the request", m.Missing))
		default:
			out.Match = &m
			r.pass(CheckQuery)
		}
	}
	r.finish()
	return out
}

// judgePresentation runs the rules over a presentation's credentials:
// holder binding (rule 5) always, unless the policy's or the caller's check
// list leaves it out; the others when the policy runs them.
func (v *Verifier) judgePresentation(r *Result, ev Evidence, o Options) {
	if !o.Policy.Rules {
		leftOut := func(checks []string) bool { return len(checks) > 0 && !slices.Contains(checks, CheckHolder) }
		if leftOut(o.Policy.Checks) || leftOut(o.Checks) {
			return
		}
		o.Policy.Checks, o.Checks = []string{CheckHolder}, nil
	}
	v.judge(r, ev, o, "")
}
