// Package verifierapi serves the verifier over HTTP: VC-API's
// POST /credentials/verify and POST /presentations/verify (whose results are
// also served as FHIR R4 VerificationResults, to a client that prefers
// application/fhir+json), verifier tenants and their policies, presentation
// requests and challenges, the audit log, and watch-lists.
package verifierapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

// Decision is what a verification decided, as handed to the audit log.
type Decision struct {
	Tenant    string
	Requester string
	Request   string // presentation request id
	Kind      string // "credential" or "presentation"
	// Inputs are the credentials as received (for presentations, the
	// presentation first), for their digests.
	Inputs [][]byte
	Result *verifier.Result
	// Credentials are the per-credential results of a presentation.
	Credentials []*verifier.Result
	Holder      string
}

// API serves a verifier.
type API struct {
	Verifier *verifier.Verifier
	Tenants  *verifier.Tenants
	// Requests keeps challenges and presentation requests (nil: a
	// presentation's challenge is not checked for single use).
	Requests *verifier.Requests
	// Record appends a decision to the audit log; a decision that cannot be
	// recorded is not returned (500).
	Record func(ctx context.Context, d Decision) error
	Log    *slog.Logger
	// FHIR configures the FHIR form of results: Base, and Watchable when
	// tenants can watch credentials (Watches is mounted). Validator and At
	// are set per request.
	FHIR verifier.FHIROptions

	policies sync.Map // tenant id → cachedPolicy
}

type cachedPolicy struct {
	p       verifier.PolicyConfig
	fetched time.Time
}

// policyTTL bounds how long a tenant's policy is used from memory; a
// change through this process's API is seen at once.
const policyTTL = 5 * time.Second

// Routes mounts the routes: verify on public (which must run
// OptionalTenant), the tenant's own policy on tenant (RequireTenant), and
// tenant administration on admin (admin scope).
func (a *API) Routes(public, tenant, admin gin.IRoutes) {
	public.POST("/credentials/verify", a.verifyCredential)
	public.POST("/presentations/verify", a.verifyPresentation)
	tenant.GET("/verifier/policy", a.getOwnPolicy)
	tenant.PUT("/verifier/policy", a.putOwnPolicy)
	admin.POST("/admin/verifiers", a.createTenant)
	admin.GET("/admin/verifiers", a.listTenants)
	admin.GET("/admin/verifiers/:id", a.getTenant)
	admin.PUT("/admin/verifiers/:id/policy", a.putPolicy)
}

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

// Respond is verifierapi.Requests' Respond: a holder's answer to a
// presentation request, whose challenge the caller has consumed.
func (a *API) Respond(ctx context.Context, req *verifier.Request, raw json.RawMessage) (int, any, verifier.Outcome) {
	input, err := secure.ParseInput(raw)
	if err != nil {
		p := httpx.BadRequest("verifiablePresentation: " + err.Error())
		return p.Status, p, verifier.Outcome{Decision: verifier.Reject, Codes: []string{verifier.CodeMalformed}, Completed: time.Now().UTC()}
	}
	policy, err := a.policyOf(ctx, req.Verifier)
	if err != nil {
		p := httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "the verifier's policy cannot be read")
		a.Log.ErrorContext(ctx, "failed to read a verifier policy", "verifier", req.Verifier, "err", err)
		return p.Status, p, verifier.Outcome{Decision: verifier.Reject, Completed: time.Now().UTC()}
	}
	res := a.Verifier.VerifyPresentation(ctx, input, verifier.PresentationOptions{Options: verifier.Options{Policy: policy},
		Challenge: req.Challenge, Domain: req.Domain, Query: &req.Query})
	d := Decision{Tenant: req.Verifier, Requester: Anonymous, Request: req.ID, Kind: "presentation", Inputs: [][]byte{raw},
		Result: res.Result, Credentials: res.Credentials, Holder: res.Holder}
	if a.Record != nil {
		if err := a.Record(ctx, d); err != nil {
			a.Log.ErrorContext(ctx, "failed to record a decision in the audit log", "err", err)
			p := httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "the decision could not be recorded")
			return p.Status, p, verifier.Outcome{Decision: verifier.Reject, Completed: time.Now().UTC()}
		}
	}
	body, _ := json.Marshal(res)
	// The holder learns whether it was accepted, not the verifier's detail.
	answer := gin.H{"verified": res.Verified, "decision": res.Decision}
	return statusOf(res.Result), answer, verifier.Outcome{Verified: res.Verified, Decision: res.Decision, Codes: codes(res.Errors),
		Completed: time.Now().UTC(), Result: body}
}

// Refused is verifierapi.Requests' Refused: a presentation answering a
// request that was already answered is recorded as rejected.
func (a *API) Refused(ctx context.Context, req *verifier.Request, raw json.RawMessage, code string) error {
	if a.Record == nil {
		return nil
	}
	res := &verifier.Result{Checks: []string{verifier.CheckProof}, Warnings: []verifier.Problem{},
		Errors:  []verifier.Problem{{Code: code, Check: verifier.CheckProof}},
		Results: []verifier.CheckResult{{Name: verifier.CheckProof}}, Decision: verifier.Reject}
	return a.Record(ctx, Decision{Tenant: req.Verifier, Requester: Anonymous, Request: req.ID, Kind: "presentation", Inputs: [][]byte{raw}, Result: res})
}

func codes(ps []verifier.Problem) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if !slices.Contains(out, p.Code) {
			out = append(out, p.Code)
		}
	}
	return out
}

// record appends d to the audit log; false when it failed (answered 500).
func (a *API) record(c *gin.Context, d Decision) bool {
	if a.Record == nil {
		return true
	}
	if err := a.Record(c.Request.Context(), d); err != nil {
		a.Log.ErrorContext(c.Request.Context(), "failed to record a decision in the audit log", "err", err)
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "the decision could not be recorded"))
		return false
	}
	return true
}

// statusOf: 200 when verified, 400 for a malformed input, else 422.
func statusOf(res *verifier.Result) int {
	switch {
	case res.Has(verifier.CodeMalformed):
		return http.StatusBadRequest
	case !res.Verified:
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
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

// policy is the request's tenant's policy (the default for anonymous and
// admin requests); false when it was answered with an error.
func (a *API) policy(c *gin.Context) (verifier.PolicyConfig, bool) {
	p, err := a.policyOf(c.Request.Context(), Tenant(c))
	if err != nil {
		if errors.Is(err, verifier.ErrTenantNotFound) {
			httpx.WriteProblem(c, httpx.Forbidden("the token's verifier tenant does not exist"))
			return p, false
		}
		httpx.Error(c, a.Log, err)
		return p, false
	}
	return p, true
}

func (a *API) policyOf(ctx context.Context, tenant string) (verifier.PolicyConfig, error) {
	if tenant == "" || a.Tenants == nil {
		return verifier.PolicyConfig{}, nil
	}
	if v, ok := a.policies.Load(tenant); ok {
		if cp := v.(cachedPolicy); time.Since(cp.fetched) < policyTTL {
			return cp.p, nil
		}
	}
	t, err := a.Tenants.Get(ctx, tenant)
	if err != nil {
		return verifier.PolicyConfig{}, err
	}
	a.policies.Store(tenant, cachedPolicy{p: t.Policy, fetched: time.Now()})
	return t.Policy, nil
}

func (a *API) createTenant(c *gin.Context) {
	var in verifier.TenantInput
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	t, token, err := a.Tenants.Create(c.Request.Context(), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/admin/verifiers/"+t.ID)
	c.JSON(http.StatusCreated, gin.H{"verifier": t, "token": token})
}

func (a *API) listTenants(c *gin.Context) {
	ts, err := a.Tenants.List(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"verifiers": ts})
}

func (a *API) getTenant(c *gin.Context) {
	t, err := a.Tenants.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (a *API) putPolicy(c *gin.Context) { a.setPolicy(c, c.Param("id")) }

func (a *API) putOwnPolicy(c *gin.Context) {
	if Tenant(c) == "" {
		httpx.WriteProblem(c, httpx.Forbidden("an admin token has no policy of its own: use PUT /admin/verifiers/{id}/policy"))
		return
	}
	a.setPolicy(c, Tenant(c))
}

func (a *API) setPolicy(c *gin.Context, id string) {
	var p verifier.PolicyConfig
	if !httpx.BindStrict(c, a.Log, &p, false) {
		return
	}
	t, err := a.Tenants.SetPolicy(c.Request.Context(), id, p)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.policies.Delete(id)
	c.JSON(http.StatusOK, t)
}

func (a *API) getOwnPolicy(c *gin.Context) {
	p, ok := a.policy(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, p)
}

func (a *API) fail(c *gin.Context, err error) {
	var inv *vc.InvalidError
	switch {
	case errors.As(err, &inv):
		p := httpx.NewProblem(http.StatusBadRequest, "invalid-request", "Invalid request", inv.Error())
		for _, f := range inv.Fields {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Detail: f.Detail})
		}
		httpx.WriteProblem(c, p)
	case errors.Is(err, verifier.ErrTenantNotFound):
		httpx.WriteProblem(c, httpx.NotFound(err.Error()))
	case errors.Is(err, verifier.ErrTenantExists):
		httpx.WriteProblem(c, httpx.Conflict(err.Error()))
	default:
		httpx.Error(c, a.Log, err)
	}
}

// Digest is the audit log's digest of bytes as received: sha-256, hex.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
