// Package issuerapi serves the issuer over HTTP: tenant administration
// (/admin/issuers), VC-API issuance (/issuers/{issuer}/credentials/issue),
// streamed bulk issuance (/issuers/{issuer}/credentials/batch), the
// inventory, and the JSON-LD contexts and JSON Schemas credentials refer to.
package issuerapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
)

// BatchRoute is the bulk issuance route template; its body limit is
// MaxBatchBytes rather than the server-wide one.
const BatchRoute = "/issuers/:issuer/credentials/batch"

// StatusRoute is the status change route; its body limit is MaxStatusBytes
// (a bulk change lists up to issuer.MaxStatusIDs credential ids).
const StatusRoute = "/issuers/:issuer/credentials/status"

// MaxStatusBytes bounds one status change request body.
const MaxStatusBytes = 16 << 20

// MaxBatchBytes bounds one bulk request body (NDJSON, one request per line).
// A batch streams: what it holds at once is bounded by MaxBatchLineBytes,
// issuer.MaxChunkBytes and MaxBatches, not by this.
const MaxBatchBytes = 1 << 30

// MaxBatchLineBytes bounds one line of a bulk request (one issue request,
// before its newline). A license request is about 2 KB and the largest
// sample credential about 4 KB; a longer line fails its item
// (line-too-large), and such a credential is issued alone through
// /credentials/issue, whose body may be as large as the server's
// --max-body-bytes (1 MiB by default).
const MaxBatchLineBytes = 64 << 10

// MaxBatches bounds the batches that run at once on one mounting of the
// routes (one per process); another is refused with 503 batch-busy and
// Retry-After (BatchRetryAfter seconds) before its body is read.
const MaxBatches = 2

// BatchRetryAfter is the Retry-After, in seconds, of a batch refused because
// MaxBatches are running.
const BatchRetryAfter = 30

// API serves the issuer.
type API struct {
	Issuer *issuer.Service
	Log    *slog.Logger
	// Ledger serves the ledger proof of status lists (optional).
	Ledger *registry.Log
	// Offers serves OpenID4VCI credential offers (optional; oid4vci.go).
	Offers *issuer.Offers
}

// Routes mounts the admin routes on admin (which must require the admin
// scope) and the tenant routes on tenant (which must require the scope
// issuer.Scope(c.Param("issuer"))).
func (a *API) Routes(admin, tenant gin.IRoutes) {
	admin.POST("/admin/issuers", a.createTenant)
	admin.GET("/admin/issuers", a.listTenants)
	admin.GET("/admin/issuers/:issuer", a.getTenant)
	tenant.POST("/issuers/:issuer/credentials/issue", a.issue)
	tenant.POST(BatchRoute, limitBatches(MaxBatches), a.batch)
	tenant.GET("/issuers/:issuer/credentials", a.inventory)
	tenant.GET("/issuers/:issuer/credentials/:id", a.record)
	tenant.POST(StatusRoute, a.updateStatus)
	if a.Offers != nil {
		a.offerRoutes(tenant)
	}
}

// PublicRoutes mounts the routes anyone may call: StatusRoutes and
// ProtocolRoutes.
func (a *API) PublicRoutes(r gin.IRoutes) {
	a.StatusRoutes(r)
	a.ProtocolRoutes(r)
}

// StatusRoutes mounts the status lists and their ledger proofs.
func (a *API) StatusRoutes(r gin.IRoutes) {
	r.GET("/status/:issuer/:list", a.statusList)
	r.GET("/status/:issuer/:list/proof", a.statusListProof)
}

// ProtocolRoutes mounts the public OpenID4VCI endpoints (when Offers is set).
func (a *API) ProtocolRoutes(r gin.IRoutes) {
	if a.Offers != nil {
		a.oid4vciRoutes(r)
	}
}

// TenantScope is the scope function for the tenant routes.
func TenantScope(c *gin.Context) string { return issuer.Scope(c.Param("issuer")) }

func (a *API) createTenant(c *gin.Context) {
	var in issuer.TenantInput
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	t, token, err := a.Issuer.CreateTenant(c.Request.Context(), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/admin/issuers/"+t.ID)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"issuer": t, "token": token})
}

func (a *API) listTenants(c *gin.Context) {
	ts, err := a.Issuer.Tenants(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	if ts == nil {
		ts = []issuer.Tenant{}
	}
	c.JSON(http.StatusOK, gin.H{"issuers": ts})
}

func (a *API) getTenant(c *gin.Context) {
	t, err := a.Issuer.Tenant(c.Request.Context(), c.Param("issuer"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (a *API) issue(c *gin.Context) {
	var req issuer.IssueRequest
	if !httpx.BindStrict(c, a.Log, &req, false) {
		return
	}
	out, err := a.Issuer.Issue(c.Request.Context(), c.Param("issuer"), req)
	if err != nil {
		a.fail(c, err)
		return
	}
	body := gin.H{"verifiableCredential": out.Credential}
	if out.Superseded != nil {
		body["superseded"] = out.Superseded
	}
	httpx.JSON(c, http.StatusCreated, "application/json", body)
}

func (a *API) inventory(c *gin.Context) {
	q := issuer.Query{Type: c.Query("type"), Subject: c.Query("subject"), After: c.Query("after")}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > issuer.MaxPage {
			httpx.WriteProblem(c, httpx.BadRequest(fmt.Sprintf("limit must be 1..%d", issuer.MaxPage)))
			return
		}
		q.Limit = n
	}
	recs, next, err := a.Issuer.Inventory(c.Request.Context(), c.Param("issuer"), q)
	if err != nil {
		a.fail(c, err)
		return
	}
	if recs == nil {
		recs = []issuer.Record{}
	}
	body := gin.H{"credentials": recs}
	if next != "" {
		body["next"] = next
	}
	c.JSON(http.StatusOK, body)
}

func (a *API) record(c *gin.Context) {
	r, err := a.Issuer.Record(c.Request.Context(), c.Param("issuer"), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

// Problem maps issuer errors to problems; ok is false for other errors.
func Problem(err error) (*httpx.Problem, bool) {
	var rej *issuer.Rejection
	var inv *vc.InvalidError
	switch {
	case errors.As(err, &rej):
		status, name, title := http.StatusUnprocessableEntity, "credential-rejected", "The credential cannot be issued"
		if rej.Malformed {
			status, name, title = http.StatusBadRequest, "invalid-credential", "The credential is not valid"
		}
		return withFields(httpx.NewProblem(status, name, title, rej.Error()), rej.Fields), true
	case errors.As(err, &inv):
		return withFields(httpx.NewProblem(http.StatusBadRequest, "invalid-request", "Invalid request", inv.Error()), inv.Fields), true
	case errors.Is(err, issuer.ErrNotFound):
		return httpx.NotFound(err.Error()), true
	case errors.Is(err, issuer.ErrExists):
		return httpx.Conflict(err.Error()), true
	}
	return registryapi.Problem(err)
}

func withFields(p *httpx.Problem, fs []vc.FieldError) *httpx.Problem {
	for _, f := range fs {
		p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Detail: f.Detail})
	}
	return p
}

func (a *API) fail(c *gin.Context, err error) {
	if p, ok := Problem(err); ok {
		httpx.WriteProblem(c, p)
		return
	}
	httpx.Error(c, a.Log, err)
}
