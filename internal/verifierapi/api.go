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
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/credence/credence/internal/httpx"
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

// Answer is a holder's response to a presentation request, verified and
// not yet recorded (API.Check).
type Answer struct {
	// Bound is whether the presentation answers the request: its own proof
	// verified with the request's challenge and domain and, when the
	// request names a holder, that holder signed it. Anyone who sees the
	// request could post something else; that is recorded and refused, and
	// the request stays open for its holder. A bound answer completes the
	// request (and consumes its challenge) when its Outcome is accept or
	// review; a rejected one is counted as an attempt.
	Bound bool
	// Status and Body are the HTTP answer to the holder.
	Status int
	Body   any
	// Outcome is what the request stores when Bound: its outcome, or its
	// last attempt.
	Outcome verifier.Outcome
	// Decision, when set, goes to the audit log (Record) before the answer.
	Decision *Decision
}

// Check is verifierapi.Requests' Check: it verifies a holder's response
// to req (proof with the request's challenge and domain, the holder the
// request expects, holder binding, query, rules), without side effects. A
// presentation signed by another holder than req.Holder is rejected with
// verifier.CodeHolderUnexpected and is not Bound.
func (a *API) Check(ctx context.Context, req *verifier.Request, raw json.RawMessage) Answer {
	input, err := secure.ParseInput(raw)
	if err != nil {
		p := httpx.BadRequest("verifiablePresentation: " + err.Error())
		return Answer{Status: p.Status, Body: p}
	}
	policy, err := a.policyOf(ctx, req.Verifier)
	if err != nil {
		a.Log.ErrorContext(ctx, "failed to read a verifier policy", "verifier", req.Verifier, "err", err)
		p := httpx.NewProblem(http.StatusInternalServerError, "internal", "Internal error", "the verifier's policy cannot be read")
		return Answer{Status: p.Status, Body: p}
	}
	res := a.Verifier.VerifyPresentation(ctx, input, verifier.PresentationOptions{Options: verifier.Options{Policy: policy},
		Challenge: req.Challenge, Domain: req.Domain, Query: &req.Query})
	if res.Bound && req.Holder != "" && res.Holder != req.Holder {
		unexpectedHolder(res)
	}
	body, _ := json.Marshal(res)
	return Answer{
		Bound:  res.Bound,
		Status: statusOf(res.Result),
		// The holder learns whether it was accepted, not the verifier's detail.
		Body: gin.H{"verified": res.Verified, "decision": res.Decision},
		Outcome: verifier.Outcome{Verified: res.Verified, Decision: res.Decision, Codes: codes(res.Errors),
			Completed: time.Now().UTC(), Result: body},
		Decision: &Decision{Tenant: req.Verifier, Requester: Anonymous, Request: req.ID, Kind: "presentation", Inputs: [][]byte{raw},
			Result: res.Result, Credentials: res.Credentials, Holder: res.Holder},
	}
}

// unexpectedHolder rejects a presentation signed by another holder than
// the request expects: it does not answer the request.
func unexpectedHolder(res *verifier.PresentationResult) {
	r := res.Result
	r.Errors = append(r.Errors, verifier.Problem{Code: verifier.CodeHolderUnexpected, Check: verifier.CheckHolder,
		Message: res.Holder + " signed the presentation; the request expects another holder"})
	if !slices.Contains(r.Checks, verifier.CheckHolder) {
		r.Checks = append(r.Checks, verifier.CheckHolder)
	}
	i := slices.IndexFunc(r.Results, func(c verifier.CheckResult) bool { return c.Name == verifier.CheckHolder })
	if i < 0 {
		r.Results = append(r.Results, verifier.CheckResult{Name: verifier.CheckHolder})
	} else {
		r.Results[i].Passed = false
	}
	r.Verified, r.Decision, res.Bound = false, verifier.Reject, false
}

// RecordAnswer is verifierapi.Requests' Record: the answer's decision to
// the audit log (none: nothing to record).
func (a *API) RecordAnswer(ctx context.Context, ans Answer) error {
	if a.Record == nil || ans.Decision == nil {
		return nil
	}
	return a.Record(ctx, *ans.Decision)
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

// Digest is the audit log's digest of bytes as received: sha-256, hex.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
