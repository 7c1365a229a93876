package verifierapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

type verifyOptions struct {
	Checks    []string `json:"checks,omitempty"`
	Challenge string   `json:"challenge,omitempty"`
	Domain    string   `json:"domain,omitempty"`
}

type verifyCredentialRequest struct {
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	Options              verifyOptions   `json:"options"`
}

type verifyPresentationRequest struct {
	VerifiablePresentation json.RawMessage `json:"verifiablePresentation"`
	Options                verifyOptions   `json:"options"`
}

// UnmarshalStrict reads the body in one pass (httpx.StrictUnmarshaler).
func (r *verifyCredentialRequest) UnmarshalStrict(raw []byte) error {
	return unmarshalVerify(raw, "verifiableCredential", &r.VerifiableCredential, &r.Options)
}

// UnmarshalStrict reads the body in one pass (httpx.StrictUnmarshaler).
func (r *verifyPresentationRequest) UnmarshalStrict(raw []byte) error {
	return unmarshalVerify(raw, "verifiablePresentation", &r.VerifiablePresentation, &r.Options)
}

func unmarshalVerify(raw []byte, field string, value *json.RawMessage, o *verifyOptions) error {
	return httpx.DecodeMembers(raw, func(name string, v []byte) error {
		switch name {
		case field:
			*value = v
			return nil
		case "options":
			return httpx.UnmarshalMember(name, v, o)
		}
		return fmt.Errorf("json: unknown field %q", name)
	})
}

// verifyCredential answers 200 with the result when the credential verifies,
// 422 with the result when it does not, 400 when the request is malformed.
func (a *API) verifyCredential(c *gin.Context) {
	var req verifyCredentialRequest
	if !httpx.BindStrict(c, a.Log, &req, false) || !checksValid(c, req.Options.Checks) {
		return
	}
	if req.Options.Challenge != "" || req.Options.Domain != "" {
		httpx.WriteProblem(c, httpx.BadRequest("challenge and domain apply to presentations"))
		return
	}
	if len(req.VerifiableCredential) == 0 {
		httpx.WriteProblem(c, httpx.BadRequest("verifiableCredential is required"))
		return
	}
	input, err := secure.ParseInput(req.VerifiableCredential)
	if err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("verifiableCredential: "+err.Error()))
		return
	}
	policy, ok := a.policy(c)
	if !ok {
		return
	}
	res := a.Verifier.VerifyCredential(c.Request.Context(), input, verifier.Options{Checks: req.Options.Checks, Policy: policy})
	d := Decision{Tenant: Tenant(c), Requester: Requester(c), Kind: "credential", Inputs: [][]byte{req.VerifiableCredential}, Result: res}
	if !a.record(c, d) {
		return
	}
	a.render(c, statusOf(res), res, func(o verifier.FHIROptions) any { return verifier.FHIRCredential(res, o) })
}

// verifyPresentation verifies a presentation. A challenge in the options
// must be one this verifier issued (POST /challenges, or a presentation
// request's) and is consumed: the same challenge never verifies twice. A
// request's challenge also brings the request's query and domain, and the
// outcome is stored on the request.
func (a *API) verifyPresentation(c *gin.Context) {
	var req verifyPresentationRequest
	if !httpx.BindStrict(c, a.Log, &req, false) || !checksValid(c, req.Options.Checks) {
		return
	}
	if len(req.VerifiablePresentation) == 0 {
		httpx.WriteProblem(c, httpx.BadRequest("verifiablePresentation is required"))
		return
	}
	input, err := secure.ParseInput(req.VerifiablePresentation)
	if err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("verifiablePresentation: "+err.Error()))
		return
	}
	policy, ok := a.policy(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	o := verifier.PresentationOptions{Options: verifier.Options{Checks: req.Options.Checks, Policy: policy},
		Challenge: req.Options.Challenge, Domain: req.Options.Domain}
	var request *verifier.Request
	untracked := false
	if o.Challenge != "" && a.Requests != nil {
		requestID, err := a.Requests.UseChallengeOf(ctx, o.Challenge, Tenant(c))
		switch {
		case errors.Is(err, verifier.ErrChallengeUnknown) && policy.CallerChallenges:
			untracked = true // the tenant's own nonce: the proof must carry it
		case errors.Is(err, verifier.ErrReplay):
			a.replayed(c, req.VerifiablePresentation, "the challenge was used before: a presentation answers its challenge once")
			return
		case errors.Is(err, verifier.ErrChallengeUnknown), errors.Is(err, verifier.ErrChallengeExpired):
			a.replayed(c, req.VerifiablePresentation, "the challenge was not issued by this verifier or has expired")
			return
		case errors.Is(err, verifier.ErrChallengeForeign):
			a.replayed(c, req.VerifiablePresentation, "the challenge was issued to another verifier")
			return
		case err != nil:
			httpx.Error(c, a.Log, err)
			return
		}
		if requestID != "" {
			if request, err = a.Requests.Get(ctx, requestID); err != nil {
				httpx.Error(c, a.Log, err)
				return
			}
			o.Query = &request.Query
			if o.Domain == "" {
				o.Domain = request.Domain
			}
		}
	}
	res := a.Verifier.VerifyPresentation(ctx, input, o)
	switch {
	case o.Challenge == "" && res.Verified:
		res.Warnings = append(res.Warnings, verifier.Problem{Code: verifier.CodeChallengeMissing, Check: verifier.CheckProof,
			Message: "no challenge was asked: this presentation could be a replay of an earlier one"})
	case untracked && res.Verified:
		res.Warnings = append(res.Warnings, verifier.Problem{Code: verifier.CodeChallengeUntracked, Check: verifier.CheckProof,
			Message: "the challenge is the caller's, not one this verifier issued: the caller must make sure it is used once"})
	}
	d := Decision{Tenant: Tenant(c), Requester: Requester(c), Kind: "presentation", Inputs: [][]byte{req.VerifiablePresentation},
		Result: res.Result, Credentials: res.Credentials, Holder: res.Holder}
	if request != nil {
		d.Request = request.ID
	}
	if !a.record(c, d) {
		return
	}
	if request != nil {
		body, _ := json.Marshal(res)
		oc := verifier.Outcome{Verified: res.Verified, Decision: res.Decision, Codes: codes(res.Errors), Completed: time.Now().UTC(), Result: body}
		if err := a.Requests.Complete(ctx, request.ID, oc); err != nil {
			a.Log.WarnContext(ctx, "failed to store a request's outcome", "request", request.ID, "err", err)
		}
	}
	a.render(c, statusOf(res.Result), res, func(o verifier.FHIROptions) any { return verifier.FHIRPresentation(res, o) })
}

// replayed answers a presentation whose challenge cannot be used: 422 with
// the VC-API result shape and PRESENTATION_REPLAYED, recorded like any
// decision.
func (a *API) replayed(c *gin.Context, raw json.RawMessage, msg string) {
	res := &verifier.Result{Checks: []string{verifier.CheckProof}, Warnings: []verifier.Problem{},
		Errors:  []verifier.Problem{{Code: verifier.CodeReplayed, Check: verifier.CheckProof, Message: msg}},
		Results: []verifier.CheckResult{{Name: verifier.CheckProof}}, Decision: verifier.Reject}
	d := Decision{Tenant: Tenant(c), Requester: Requester(c), Kind: "presentation", Inputs: [][]byte{raw}, Result: res}
	if !a.record(c, d) {
		return
	}
	a.render(c, http.StatusUnprocessableEntity, res, func(o verifier.FHIROptions) any {
		return verifier.FHIRPresentation(&verifier.PresentationResult{Result: res}, o)
	})
}

// render answers a verify result: the VC-API JSON, or its FHIR R4 form when
// the request's Accept header prefers application/fhir+json. The status
// code is the same either way.
func (a *API) render(c *gin.Context, status int, res any, fhir func(verifier.FHIROptions) any) {
	c.Writer.Header().Add("Vary", "Accept")
	if !prefersFHIR(c.GetHeader("Accept")) {
		httpx.JSON(c, status, "application/json", res)
		return
	}
	o := a.FHIR
	o.Validator, o.At = Tenant(c), time.Now()
	if a.Verifier.Now != nil {
		o.At = a.Verifier.Now()
	}
	o.Watchable = o.Watchable && o.Validator != "" // an anonymous or admin request has no watch-list
	httpx.JSON(c, status, verifier.MediaFHIRJSON, fhir(o))
}

// prefersFHIR reports whether an Accept header gives application/fhir+json
// (R4: no fhirVersion, or 4.0) a higher quality than application/json, or
// the same through a more specific range ("application/fhir+json, */*").
// An equal preference, an empty header and any header without FHIR keep the
// default, VC-API's JSON.
func prefersFHIR(accept string) bool {
	fq, fs := httpx.AcceptQ(accept, verifier.MediaFHIRJSON, fhirRange)
	jq, js := httpx.AcceptQ(accept, "application/json", nil)
	return fq > jq || fq > 0 && fq == jq && fs > js
}

// fhirRange is the specificity of an Accept range naming
// application/fhir+json: 4 with a fhirVersion of R4 (4.0, 4.0.x), 3 without
// one; another FHIR version does not match.
func fhirRange(params map[string]string) (int, bool) {
	ver, versioned := params["fhirversion"]
	switch {
	case !versioned:
		return 3, true
	case ver == "4.0" || strings.HasPrefix(ver, "4.0."):
		return 4, true
	}
	return 0, false
}

func checksValid(c *gin.Context, checks []string) bool {
	for _, name := range checks {
		if !slices.Contains(verifier.AllChecks(), name) {
			httpx.WriteProblem(c, httpx.BadRequest("unknown check "+name))
			return false
		}
	}
	return true
}
