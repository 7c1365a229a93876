// Package walletapi is the HTTP face of the holder wallet (package
// wallet-api/wallet): holders, their encrypted credentials, presentations
// answering verifiers' requests, and each holder's disclosure log.
//
// # Who may call what
//
// POST /wallet/holders needs a token with scope "wallet" (a wallet app's
// provisioning token) or an admin token; it answers the new holder and its
// token, shown once. Every route under /wallet/holders/{holder} needs that
// holder's own token (scope holder:{holder}). Any other token, an admin's
// included, gets 404 "no such holder", exactly as for a holder that does not
// exist: a token of holder A learns nothing about holder B, not even that B
// exists. The operator runs the service but does not read wallets through
// it.
package walletapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/gin-gonic/gin"
)

// ScopeProvision is the scope of tokens that may create holders.
const ScopeProvision = "wallet"

// Routes with their own body limits.
const (
	CredentialsRoute   = "/wallet/holders/:holder/credentials"
	PresentationsRoute = "/wallet/holders/:holder/presentations"
	// MaxCredentialBytes bounds a received credential with its envelope.
	MaxCredentialBytes = 512 << 10
	// MaxPresentBytes bounds a presentation request body.
	MaxPresentBytes = wallet.MaxRequestBytes + 16<<10
)

// API serves the wallet.
type API struct {
	Wallet    *wallet.Service
	Presenter *wallet.Presenter
	Tokens    httpx.Authenticator
	Log       *slog.Logger
	// Claimer claims OpenID4VCI credential offers (claim.go).
	Claimer *wallet.Claimer
}

// Routes mounts the wallet routes on r.
func (a *API) Routes(r gin.IRouter) {
	r.POST("/wallet/holders", httpx.Require(a.Tokens, a.Log, ScopeProvision), a.createHolder)
	h := r.Group("/wallet/holders/:holder", a.holderOnly)
	h.GET("", a.getHolder)
	h.DELETE("", a.deleteHolder)
	h.POST("/credentials", a.addCredential)
	h.GET("/credentials", a.listCredentials)
	h.GET("/credentials/:id", a.getCredential)
	h.DELETE("/credentials/:id", a.deleteCredential)
	h.POST("/presentations", a.present)
	h.POST("/offers", a.claim)
	h.GET("/disclosures", a.disclosures)
}

// noHolder is the one answer for a holder that does not exist and for a
// token that is not that holder's.
func noHolder() *httpx.Problem {
	return httpx.NewProblem(http.StatusNotFound, "holder-not-found", "No such holder",
		"no holder with this id is visible to this token")
}

// holderOnly admits the holder's own token only.
func (a *API) holderOnly(c *gin.Context) {
	secret, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(secret) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="credence"`)
		httpx.WriteProblem(c, httpx.Unauthorized("wallet routes require the holder's bearer token"))
		return
	}
	tok, err := a.Tokens.Authenticate(c.Request.Context(), strings.TrimSpace(secret))
	if errors.Is(err, auth.ErrInvalidToken) {
		c.Header("WWW-Authenticate", `Bearer realm="credence", error="invalid_token"`)
		httpx.WriteProblem(c, httpx.Unauthorized("the bearer token is not valid"))
		return
	}
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	if id, ok := wallet.HolderOf(tok); !ok || id != c.Param("holder") {
		httpx.WriteProblem(c, noHolder())
		return
	}
	c.Set("credence.requester", tok.ID)
	c.Next()
}

func (a *API) createHolder(c *gin.Context) {
	var in wallet.HolderInput
	if !httpx.BindStrict(c, a.Log, &in, true) {
		return
	}
	h, token, err := a.Wallet.CreateHolder(c.Request.Context(), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/wallet/holders/"+h.ID)
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", gin.H{"holder": h, "token": token})
}

func (a *API) getHolder(c *gin.Context) {
	h, err := a.Wallet.Holder(c.Request.Context(), c.Param("holder"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", h)
}

func (a *API) deleteHolder(c *gin.Context) {
	if err := a.Wallet.DeleteHolder(c.Request.Context(), c.Param("holder")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// addRequest is the body of POST .../credentials: the credential as an
// issuer answered it (a JSON object, or a string holding a compact JWT or
// SD-JWT).
type addRequest struct {
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
}

func (a *API) addCredential(c *gin.Context) {
	var in addRequest
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	if len(in.VerifiableCredential) == 0 || string(in.VerifiableCredential) == "null" {
		httpx.WriteProblem(c, httpx.BadRequest("verifiableCredential is required"))
		return
	}
	st, err := a.Wallet.AddCredential(c.Request.Context(), c.Param("holder"), in.VerifiableCredential)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/wallet/holders/"+c.Param("holder")+"/credentials/"+st.ID)
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", st)
}

// summary is a stored credential without its bytes and claims, for lists.
type summary struct {
	wallet.Stored
	Claims     any `json:"claims,omitempty"`
	Credential any `json:"credential,omitempty"`
}

func (a *API) listCredentials(c *gin.Context) {
	f := wallet.Filter{Type: c.Query("type"), Issuer: c.Query("issuer"), Format: c.Query("format")}
	list, err := a.Wallet.Credentials(c.Request.Context(), c.Param("holder"), f)
	if err != nil {
		a.fail(c, err)
		return
	}
	out := make([]summary, len(list))
	for i, s := range list {
		out[i] = summary{Stored: s}
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"credentials": out})
}

func (a *API) getCredential(c *gin.Context) {
	st, err := a.Wallet.Credential(c.Request.Context(), c.Param("holder"), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", st)
}

func (a *API) deleteCredential(c *gin.Context) {
	if err := a.Wallet.DeleteCredential(c.Request.Context(), c.Param("holder"), c.Param("id")); err != nil {
		a.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// presentRequest is the body of POST .../presentations: the verifier's
// request, inline or by URI, and the holder's choices.
type presentRequest struct {
	// Request is the presentation request (wallet.Request's forms).
	Request *wallet.Request `json:"request,omitempty"`
	// RequestURI is where to fetch it (a Credence request's url or qr).
	RequestURI string `json:"requestUri,omitempty"`
	// Credentials restricts the selection to these wallet credential ids.
	Credentials []string `json:"credentials,omitempty"`
	// Format secures a W3C presentation (di, di-jcs, ed25519-2020, jwt).
	Format string `json:"format,omitempty"`
	// Send posts the presentation to the request's response_uri; default
	// true when the request has one.
	Send *bool `json:"send,omitempty"`
}

func (a *API) present(c *gin.Context) {
	var in presentRequest
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	ctx := c.Request.Context()
	req := in.Request
	switch {
	case (req == nil) == (in.RequestURI == ""):
		httpx.WriteProblem(c, httpx.BadRequest("give exactly one of request and requestUri"))
		return
	case req == nil:
		var err error
		if req, err = a.Presenter.FetchRequest(ctx, in.RequestURI); err != nil {
			a.fail(c, err)
			return
		}
	}
	send := req.ResponseURI != ""
	if in.Send != nil {
		send = *in.Send
	}
	p, err := a.Presenter.Present(ctx, c.Param("holder"), req, wallet.PresentOptions{
		Credentials: in.Credentials, Format: in.Format, Send: send})
	if err != nil && p == nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	if err != nil { // made and recorded, but not delivered
		httpx.JSON(c, http.StatusBadGateway, "application/json", gin.H{"presentation": p, "error": a.deliveryProblem(c, err)})
		return
	}
	httpx.JSON(c, http.StatusCreated, "application/json", p)
}

// deliveryProblem is an ErrDelivery as holders see it: its category only
// (reachFailure).
func (a *API) deliveryProblem(c *gin.Context, err error) *httpx.Problem {
	detail, _ := a.reachFailure(c, "verifier", err, true)
	return httpx.NewProblem(http.StatusBadGateway, "verifier-unreachable", "Verifier unreachable", detail)
}

// issuerProblem is an ErrIssuer: the issuer's own error answer as it is,
// a failure to reach it by its category only (reachFailure).
func (a *API) issuerProblem(c *gin.Context, err error) *httpx.Problem {
	detail, ok := a.reachFailure(c, "credential issuer", err, false)
	if !ok {
		detail = err.Error()
	}
	return httpx.NewProblem(http.StatusBadGateway, "issuer-failed", "Credential issuer failed", detail)
}

func (a *API) disclosures(c *gin.Context) {
	list, err := a.Wallet.Disclosures(c.Request.Context(), c.Param("holder"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"disclosures": list})
}

// fail maps the wallet's errors to problems; anything else is a 500.
func (a *API) fail(c *gin.Context, err error) {
	var p *httpx.Problem
	switch {
	case errors.Is(err, wallet.ErrHolderNotFound):
		p = noHolder()
	case errors.Is(err, wallet.ErrCredentialNotFound):
		p = httpx.NewProblem(http.StatusNotFound, "credential-not-found", "No such credential", "the wallet holds no credential with this id")
	case errors.Is(err, wallet.ErrNotBound):
		p = httpx.NewProblem(http.StatusUnprocessableEntity, "credential-not-bound", "Credential not bound to the holder", err.Error())
	case errors.Is(err, wallet.ErrInvalid):
		p = httpx.NewProblem(http.StatusUnprocessableEntity, "credential-invalid", "Credential invalid", err.Error())
	case errors.Is(err, wallet.ErrTooLarge):
		p = httpx.NewProblem(http.StatusRequestEntityTooLarge, "too-large", "Credential too large", err.Error())
	case errors.Is(err, wallet.ErrLimit):
		p = httpx.NewProblem(http.StatusConflict, "wallet-full", "Wallet full", err.Error())
	case errors.Is(err, wallet.ErrRequest):
		p = httpx.NewProblem(http.StatusBadRequest, "invalid-presentation-request", "Invalid presentation request", err.Error())
	case errors.Is(err, wallet.ErrUnsatisfied):
		p = httpx.NewProblem(http.StatusUnprocessableEntity, "request-unsatisfied", "Request cannot be satisfied", err.Error())
	case errors.Is(err, wallet.ErrDelivery):
		p = a.deliveryProblem(c, err)
	case errors.Is(err, wallet.ErrOffer):
		p = httpx.NewProblem(http.StatusBadRequest, "invalid-credential-offer", "Invalid credential offer", err.Error())
	case errors.Is(err, wallet.ErrIssuer):
		p = a.issuerProblem(c, err)
	default:
		httpx.Error(c, a.Log, err)
		return
	}
	httpx.WriteProblem(c, p)
}
