package verifierapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/verifier/watch"
	"github.com/gin-gonic/gin"
)

// Watch-lists over HTTP. A verifier tenant posts a credential it relies on
// with a webhook URL; the credential is verified first (only verified
// credentials are watched), and the answer carries the webhook signing
// secret, once. GET lists, reads and DELETE removes the tenant's watches;
// another tenant's watch is 404, as an unknown one.

// Body limit of POST WatchesRoute: mount httpx.LimitBody with
// WatchesRoute: MaxWatchBytes when the server default is smaller.
const (
	WatchesRoute  = "/verifier/watches"
	MaxWatchBytes = vc.MaxDocumentBytes + 4<<10
)

// ErrNotVerified is wrapped by the error of Watches.Verify for a credential
// that did not verify (answered 422 with the error's text).
var ErrNotVerified = errors.New("the credential did not verify")

// Watches serves the watch-lists of verifier tenants.
type Watches struct {
	Service *watch.Service
	// Verify verifies a credential (its JSON or a token, as posted) for
	// the verifier tenant that wants to watch it, and returns it: a tenant
	// watches only what it could rely on. Errors: one wrapping
	// ErrNotVerified (422) or vc.ErrMalformed (400), or a *httpx.Problem
	// answered as is; any other is a 500.
	Verify func(ctx context.Context, tenant string, raw json.RawMessage) (vc.Credential, error)
	Log    *slog.Logger
}

// Routes mounts the watch routes on tenant (behind RequireTenant).
func (a *Watches) Routes(tenant gin.IRoutes) {
	tenant.POST(WatchesRoute, a.create)
	tenant.GET(WatchesRoute, a.list)
	tenant.GET(WatchesRoute+"/:id", a.get)
	tenant.DELETE(WatchesRoute+"/:id", a.remove)
	tenant.GET(WatchesRoute+"/:id/deliveries", a.deliveries)
}

type watchRequest struct {
	Credential json.RawMessage `json:"credential"`
	Webhook    string          `json:"webhook"`
}

// watchView is a watch as answered; Secret only by the create.
type watchView struct {
	ID           string       `json:"id"`
	CredentialID string       `json:"credentialId"`
	State        string       `json:"state"`
	Webhook      string       `json:"webhook"`
	ValidUntil   time.Time    `json:"validUntil,omitzero"`
	Created      time.Time    `json:"created"`
	Entries      []watchEntry `json:"entries"`
	Secret       string       `json:"secret,omitempty"`
}

type watchEntry struct {
	Purpose string `json:"statusPurpose"`
	List    string `json:"statusListCredential"`
	Index   string `json:"statusListIndex"`
	Set     bool   `json:"set"`
}

func viewWatch(w *watch.Watch) watchView {
	v := watchView{ID: w.ID, CredentialID: w.CredentialID, State: w.State, Webhook: w.Webhook,
		ValidUntil: w.ValidUntil, Created: w.Created, Entries: []watchEntry{}}
	for _, e := range w.Entries {
		v.Entries = append(v.Entries, watchEntry{Purpose: e.Purpose, List: e.ListCredential,
			Index: strconv.Itoa(e.Index), Set: w.Last[watch.EntryKey(e)]})
	}
	return v
}

// watchTenant answers 403 for a token that names no verifier (an admin's).
func watchTenant(c *gin.Context) (string, bool) {
	id := Tenant(c)
	if id == "" {
		httpx.WriteProblem(c, httpx.Forbidden("watch-lists belong to a verifier tenant: use a verifier token"))
	}
	return id, id != ""
}

// create verifies the credential, watches it and answers 201 with the watch
// and its webhook secret (shown only here).
func (a *Watches) create(c *gin.Context) {
	tenant, ok := watchTenant(c)
	if !ok {
		return
	}
	in, ok := a.readWatchRequest(c)
	if !ok {
		return
	}
	cred, err := a.Verify(c.Request.Context(), tenant, in.Credential)
	if err != nil {
		a.fail(c, err)
		return
	}
	w, secret, err := a.Service.Add(c.Request.Context(), tenant, cred, in.Webhook)
	if err != nil {
		a.fail(c, err)
		return
	}
	v := viewWatch(w)
	v.Secret = secret
	c.Header("Location", WatchesRoute+"/"+w.ID)
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", v)
}

func (a *Watches) readWatchRequest(c *gin.Context) (watchRequest, bool) {
	var in watchRequest
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxWatchBytes))
	if err != nil {
		httpx.Error(c, a.Log, err)
		return in, false
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("the body is not a JSON object: "+err.Error()))
		return in, false
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&in); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("invalid request: "+err.Error()))
		return in, false
	}
	switch {
	case len(in.Credential) == 0 || string(in.Credential) == "null":
		httpx.WriteProblem(c, httpx.BadRequest("credential is required"))
		return in, false
	case in.Webhook == "":
		httpx.WriteProblem(c, httpx.BadRequest("webhook is required"))
		return in, false
	}
	return in, true
}

func (a *Watches) list(c *gin.Context) {
	tenant, ok := watchTenant(c)
	if !ok {
		return
	}
	ws, err := a.Service.List(c.Request.Context(), tenant)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]watchView, 0, len(ws))
	for i := range ws {
		out = append(out, viewWatch(&ws[i]))
	}
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"watches": out})
}

func (a *Watches) get(c *gin.Context) {
	tenant, ok := watchTenant(c)
	if !ok {
		return
	}
	w, err := a.Service.Get(c.Request.Context(), tenant, c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", viewWatch(w))
}

func (a *Watches) remove(c *gin.Context) {
	tenant, ok := watchTenant(c)
	if !ok {
		return
	}
	if err := a.Service.Remove(c.Request.Context(), tenant, c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// deliveries answers the watch's latest delivery attempts, newest first.
func (a *Watches) deliveries(c *gin.Context) {
	tenant, ok := watchTenant(c)
	if !ok {
		return
	}
	log, err := a.Service.Deliveries(c.Request.Context(), tenant, c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"deliveries": log})
}

// fail maps the errors of watches and of Verify to problems.
func (a *Watches) fail(c *gin.Context, err error) {
	var p *httpx.Problem
	switch {
	case errors.As(err, &p):
		httpx.Error(c, a.Log, err)
	case errors.Is(err, watch.ErrNotFound):
		httpx.WriteProblem(c, httpx.NotFound("no such watch"))
	case errors.Is(err, watch.ErrInvalidWebhook):
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusBadRequest, "invalid-webhook", "Invalid webhook URL", err.Error()))
	case errors.Is(err, ErrNotVerified):
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusUnprocessableEntity, "credential-not-verified", "Credential not verified", err.Error()))
	case errors.Is(err, vc.ErrMalformed):
		httpx.WriteProblem(c, httpx.BadRequest("credential: "+err.Error()))
	case errors.Is(err, watch.ErrNothingToWatch), errors.Is(err, watch.ErrTooManyEntries):
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusUnprocessableEntity, "not-watchable", "Credential cannot be watched", err.Error()))
	case errors.Is(err, watch.ErrLimit):
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusConflict, "watch-limit", "Watch limit reached", err.Error()))
	case errors.Is(err, watch.ErrStatusUnavailable):
		a.Log.WarnContext(c.Request.Context(), "watch: status list unavailable", "request_id", httpx.RequestID(c), "err", err)
		c.Header("Retry-After", "30")
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusServiceUnavailable, "status-unavailable", "Status unavailable",
			"a status list of the credential could not be read; try again later"))
	default:
		httpx.Error(c, a.Log, err)
	}
}
