package verifierapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

type cachedPolicy struct {
	p       verifier.PolicyConfig
	fetched time.Time
}

// policyTTL bounds how long a tenant's policy is used from memory; a
// change through this process's API is seen at once.
const policyTTL = 5 * time.Second

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

// TenantPolicy is the policy of verifier tenant (the zero policy for "",
// or without Tenants), as its verifications use it: cached for policyTTL.
// verifier.ErrTenantNotFound when there is no such tenant.
func (a *API) TenantPolicy(ctx context.Context, tenant string) (verifier.PolicyConfig, error) {
	return a.policyOf(ctx, tenant)
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
