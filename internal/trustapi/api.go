// Package trustapi serves the trust registry over HTTP: stewards accredit
// issuers, amend and withdraw accreditations (admin routes; each is a
// trust.* op on the ledger signed with the server's steward key), and anyone
// reads the accreditations and the registry's governance (public routes).
//
// Reads come from a registry.TrustIndex. A write waits until the index has
// the op it appended (TrustIndex.WaitFor), so the writer reads its own write.
package trustapi

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc/healthcare"
	"github.com/gin-gonic/gin"
)

// Routes.
const (
	AdminRoute    = "/admin/accreditations"
	PublicRoute   = "/trust/accreditations"
	GovernanceURL = "/registry/governance"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 16 << 10

// waitIndex bounds how long a write waits for the index to have its op.
const waitIndex = 5 * time.Second

// Signer signs ledger ops as a steward: it appends a proof by a steward key
// ("#" + Multikey kid), e.g. with registry.AddProof. KeySigner is one.
type Signer interface {
	Sign(ctx context.Context, op *registry.Op) error
}

// API serves the trust registry. Log and Index (a TrustIndex of Log) are
// required.
type API struct {
	Log   *registry.Log
	Index *registry.TrustIndex
	// Steward signs the ops of the admin routes; its key must be one of the
	// Log's stewards (registry.WithStewards). Without it the admin routes
	// answer 503.
	Steward Signer
	Logger  *slog.Logger
}

// Routes mounts the read routes on public and the write routes on admin
// (which must already require the admin scope).
func (a *API) Routes(public, admin gin.IRoutes) {
	admin.POST(AdminRoute, a.accredit)
	admin.PUT(AdminRoute+"/:id", a.amend)
	admin.POST(AdminRoute+"/:id/withdraw", a.withdraw)
	public.GET(PublicRoute, a.list)
	public.GET(PublicRoute+"/:id", a.get)
	public.GET(GovernanceURL, a.governance)
}

// AccreditRequest is the body of POST /admin/accreditations and of PUT
// /admin/accreditations/{id} (which replaces the grant: Types,
// Jurisdictions and ValidUntil as given; ID and Issuer may be omitted, and
// must be the accreditation's when given; an omitted ValidFrom keeps the
// current one). Times are RFC 3339, stored in UTC to the second.
type AccreditRequest struct {
	// ID is the accreditation's id ([a-z0-9-]{1,64}); random when omitted.
	ID            string   `json:"id,omitempty"`
	Issuer        string   `json:"issuer,omitempty"`
	Types         []string `json:"types"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	// ValidFrom defaults to now (to the current one for an amendment).
	ValidFrom  string `json:"validFrom,omitempty"`
	ValidUntil string `json:"validUntil,omitempty"`
}

// WithdrawRequest is the optional body of POST
// /admin/accreditations/{id}/withdraw.
type WithdrawRequest struct {
	// Reason is a short explanation recorded on the public ledger: never
	// personal data.
	Reason string `json:"reason,omitempty"`
}

// Accreditation is an accreditation as the API serves it.
type Accreditation struct {
	registry.AccreditationState
	// Subject is the ledger subject (registry.AccreditationPrefix + ID).
	Subject string `json:"subject"`
	// Active says whether the grant is in force now: not withdrawn, and now
	// within its window.
	Active bool `json:"active"`
}

// Result is the answer to a write: the accreditation after it, and where
// its op landed on the ledger.
type Result struct {
	Accreditation Accreditation    `json:"accreditation"`
	Receipt       registry.Receipt `json:"receipt"`
}

func view(st registry.AccreditationState, now time.Time) Accreditation {
	ts := now.UTC().Format(registry.TimeLayout) // byte order is time order
	active := st.Withdrawn == "" && st.ValidFrom <= ts && (st.ValidUntil == "" || ts <= st.ValidUntil)
	return Accreditation{AccreditationState: st, Subject: registry.AccreditationSubject(st.ID), Active: active}
}

func (a *API) accredit(c *gin.Context) {
	var req AccreditRequest
	if !a.ready(c) || !bindStrict(c, a.logger(), &req, false) {
		return
	}
	if req.ID == "" {
		req.ID = newID()
	}
	if !registry.ValidAccreditationID(req.ID) {
		httpx.WriteProblem(c, httpx.BadRequest(fmt.Sprintf("id %q is not 1..%d of [a-z0-9-]", req.ID, registry.MaxAccreditationIDBytes)))
		return
	}
	now := time.Now()
	acc, ok := grant(c, req, now.UTC().Format(registry.TimeLayout))
	if !ok {
		return
	}
	a.submit(c, http.StatusCreated, "accreditation granted", registry.SubjectState{}, now,
		registry.NewTrustOp(registry.TrustAccredit, registry.AccreditationSubject(req.ID), 1, "", "", acc))
}

func (a *API) amend(c *gin.Context) {
	var req AccreditRequest
	if !a.ready(c) || !bindStrict(c, a.logger(), &req, false) {
		return
	}
	st, ok := a.current(c)
	if !ok {
		return
	}
	cur := st.Accreditation
	switch {
	case req.ID != "" && req.ID != cur.ID:
		httpx.WriteProblem(c, httpx.BadRequest(fmt.Sprintf("the body's id %q is not the accreditation's %q", req.ID, cur.ID)))
		return
	case req.Issuer == "":
		req.Issuer = cur.Issuer
	}
	acc, ok := grant(c, req, cur.ValidFrom)
	if !ok {
		return
	}
	a.submit(c, http.StatusOK, "accreditation amended", st, time.Now(),
		registry.NewTrustOp(registry.TrustAccredit, st.Subject, st.Seq+1, st.Hash, "", acc))
}

func (a *API) withdraw(c *gin.Context) {
	var req WithdrawRequest
	if !a.ready(c) || !bindStrict(c, a.logger(), &req, true) {
		return
	}
	st, ok := a.current(c)
	if !ok {
		return
	}
	var acc *registry.Accreditation
	if req.Reason != "" {
		acc = &registry.Accreditation{Reason: req.Reason}
	}
	a.submit(c, http.StatusOK, "accreditation withdrawn", st, time.Now(),
		registry.NewTrustOp(registry.TrustWithdraw, st.Subject, st.Seq+1, st.Hash, "", acc))
}

// ready answers 503 when the server holds no steward key.
func (a *API) ready(c *gin.Context) bool {
	if a.Steward == nil {
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusServiceUnavailable, "trust:no-steward", "No steward key",
			"this server holds no steward key: it cannot sign trust registry operations"))
		return false
	}
	return true
}

// current returns the ledger state of the accreditation in the path, in
// force (404 when unknown, 409 when withdrawn).
func (a *API) current(c *gin.Context) (registry.SubjectState, bool) {
	id := c.Param("id")
	if !registry.ValidAccreditationID(id) {
		httpx.WriteProblem(c, httpx.NotFound("no accreditation "+id))
		return registry.SubjectState{}, false
	}
	st, err := a.Log.State(c.Request.Context(), registry.AccreditationSubject(id), 0)
	if err != nil {
		a.fail(c, err)
		return registry.SubjectState{}, false
	}
	switch {
	case st.Accreditation == nil:
		httpx.WriteProblem(c, httpx.NotFound("no accreditation "+id))
		return registry.SubjectState{}, false
	case st.Deactivated:
		httpx.WriteProblem(c, httpx.Conflict(fmt.Sprintf("accreditation %s was withdrawn at %s", id, st.Accreditation.Withdrawn)))
		return registry.SubjectState{}, false
	}
	return st, true
}

// grant builds the grant of req, validFrom defaulting to from; it answers 400
// itself.
func grant(c *gin.Context, req AccreditRequest, from string) (*registry.Accreditation, bool) {
	acc := &registry.Accreditation{Issuer: req.Issuer, Types: req.Types, Jurisdictions: req.Jurisdictions, ValidFrom: from}
	for _, t := range []struct {
		name, in string
		out      *string
	}{{"validFrom", req.ValidFrom, &acc.ValidFrom}, {"validUntil", req.ValidUntil, &acc.ValidUntil}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.in)
		if err != nil {
			httpx.WriteProblem(c, httpx.BadRequest(t.name+" is not an RFC 3339 time"))
			return nil, false
		}
		*t.out = v.UTC().Truncate(time.Second).Format(registry.TimeLayout)
	}
	if err := acc.CheckGrant(); err != nil {
		p, _ := registryapi.Problem(err)
		httpx.WriteProblem(c, p)
		return nil, false
	}
	return acc, true
}

// submit stamps op's time (now, or the head's time if that is later), has
// the steward sign it, appends it, waits for the index and answers with the
// accreditation and the receipt.
func (a *API) submit(c *gin.Context, status int, what string, st registry.SubjectState, now time.Time, op *registry.Op) {
	ctx := c.Request.Context()
	op.Time = now.UTC().Format(registry.TimeLayout)
	if op.Time < st.Time {
		op.Time = st.Time
	}
	if err := a.Steward.Sign(ctx, op); err != nil {
		a.fail(c, fmt.Errorf("failed to sign the %s op: %w", op.Type, err))
		return
	}
	raw, err := json.Marshal(op)
	if err != nil {
		a.fail(c, err)
		return
	}
	rec, err := a.Log.Submit(ctx, raw)
	if err != nil {
		a.fail(c, err)
		return
	}
	after, err := a.Log.State(ctx, op.Subject, rec.Seq)
	if err != nil || after.Accreditation == nil {
		a.fail(c, fmt.Errorf("accreditation %s after its op %d: %w", op.Subject, rec.Index, err))
		return
	}
	wctx, cancel := context.WithTimeout(ctx, waitIndex)
	defer cancel()
	if err := a.Index.WaitFor(wctx, rec.Index); err != nil {
		a.logger().WarnContext(ctx, "trust index has not caught up with a write", "index", rec.Index, "err", err)
	}
	tokenID := ""
	if t, ok := httpx.TokenOf(c); ok {
		tokenID = t.ID
	}
	a.logger().InfoContext(ctx, what, "request_id", httpx.RequestID(c), "token", tokenID,
		"accreditation", after.Accreditation.ID, "issuer", after.Accreditation.Issuer, "index", rec.Index, "seq", rec.Seq)
	if status == http.StatusCreated {
		c.Header("Location", PublicRoute+"/"+after.Accreditation.ID)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(status, Result{Accreditation: view(*after.Accreditation, now), Receipt: rec})
}

func (a *API) list(c *gin.Context) {
	issuer, typ, juris := c.Query("issuer"), c.Query("type"), c.Query("jurisdiction")
	if juris != "" && !healthcare.ValidState(juris) {
		httpx.WriteProblem(c, httpx.BadRequest("jurisdiction must be a USPS state or territory code"))
		return
	}
	now := time.Now()
	out := []Accreditation{}
	for _, st := range a.Index.List() {
		if issuer != "" && st.Issuer != issuer || typ != "" && !contains(st.Types, typ) ||
			juris != "" && len(st.Jurisdictions) > 0 && !contains(st.Jurisdictions, juris) {
			continue
		}
		out = append(out, view(st, now))
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, gin.H{"accreditations": out})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (a *API) get(c *gin.Context) {
	st, ok := a.Index.Get(c.Param("id"))
	if !ok {
		httpx.WriteProblem(c, httpx.NotFound("no accreditation "+c.Param("id")))
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, view(st, time.Now()))
}

func (a *API) governance(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.JSON(http.StatusOK, a.Log.Governance())
}

func (a *API) fail(c *gin.Context, err error) {
	if p, ok := registryapi.Problem(err); ok {
		httpx.WriteProblem(c, p)
		return
	}
	httpx.Error(c, a.logger(), err)
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// newID returns a random accreditation id (16 characters of [a-z2-7]).
func newID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}
