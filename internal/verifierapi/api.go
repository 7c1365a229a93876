// Package verifierapi serves the verifier over HTTP: VC-API's
// POST /credentials/verify.
package verifierapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
)

// API serves a verifier.
type API struct {
	Verifier *verifier.Verifier
	Log      *slog.Logger
}

// Routes mounts the verify routes.
func (a *API) Routes(r gin.IRoutes) {
	r.POST("/credentials/verify", a.verifyCredential)
}

type verifyRequest struct {
	VerifiableCredential json.RawMessage `json:"verifiableCredential"`
	Options              struct {
		Checks []string `json:"checks,omitempty"`
	} `json:"options"`
}

// verifyCredential answers 200 with the result when the credential verifies,
// 422 with the result when it does not, 400 when the request is malformed.
func (a *API) verifyCredential(c *gin.Context) {
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		httpx.Error(c, a.Log, err)
		return
	}
	if _, err := vc.DecodeObject(raw); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("the body is not a JSON object: "+err.Error()))
		return
	}
	var req verifyRequest
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("invalid request: "+err.Error()))
		return
	}
	if len(req.VerifiableCredential) == 0 {
		httpx.WriteProblem(c, httpx.BadRequest("verifiableCredential is required"))
		return
	}
	for _, name := range req.Options.Checks {
		switch name {
		case verifier.CheckProof, verifier.CheckValidity, verifier.CheckStatus:
		default:
			httpx.WriteProblem(c, httpx.BadRequest("unknown check "+name+": proof, validity, status"))
			return
		}
	}
	input, err := secure.ParseInput(req.VerifiableCredential)
	if err != nil {
		httpx.WriteProblem(c, httpx.BadRequest("verifiableCredential: "+err.Error()))
		return
	}
	res := a.Verifier.VerifyCredential(c.Request.Context(), input, verifier.Options{Checks: req.Options.Checks})
	status := http.StatusOK
	switch {
	case res.Has(verifier.CodeMalformed):
		status = http.StatusBadRequest
	case !res.Verified:
		status = http.StatusUnprocessableEntity
	}
	httpx.JSON(c, status, "application/json", res)
}
