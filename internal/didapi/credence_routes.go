package didapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/registry"
	"github.com/gin-gonic/gin"
)

// ledgerResponse answers rotate, update and deactivate: the DID, its document as
// of the op (the last one for a deactivation), its new version and the ledger's
// receipt.
type ledgerResponse struct {
	DID         string           `json:"did"`
	DIDDocument *did.Document    `json:"didDocument"`
	VersionID   string           `json:"versionId"`
	Receipt     registry.Receipt `json:"receipt"`
}

type updateRequest struct {
	Services *[]ServiceInput `json:"services"`
}

// emptyRequest is the optional body of rotate and deactivate: nothing, or {}.
type emptyRequest struct{}

func (a *API) rotate(c *gin.Context) {
	if !a.decodeBody(c, &emptyRequest{}, true) {
		return
	}
	res, err := a.Hosted.Rotate(c.Request.Context(), didParam(c))
	a.ledgerAnswer(c, res, err)
}

func (a *API) updateServices(c *gin.Context) {
	var req updateRequest
	if !a.decodeBody(c, &req, false) {
		return
	}
	if req.Services == nil {
		httpx.WriteProblem(c, invalid("services", `"services" is required (an empty list removes every service)`))
		return
	}
	res, err := a.Hosted.UpdateServices(c.Request.Context(), didParam(c), *req.Services)
	a.ledgerAnswer(c, res, err)
}

func (a *API) deactivate(c *gin.Context) {
	if !a.decodeBody(c, &emptyRequest{}, true) {
		return
	}
	res, err := a.Hosted.Deactivate(c.Request.Context(), didParam(c))
	a.ledgerAnswer(c, res, err)
}

func (a *API) ledgerAnswer(c *gin.Context, res LedgerResult, err error) {
	if err != nil {
		a.ledgerFail(c, err)
		return
	}
	c.JSON(http.StatusOK, ledgerResponse{DID: res.Record.DID, DIDDocument: res.Document, VersionID: res.VersionID(), Receipt: res.Receipt})
}

// didParam is the {did} path segment; a fully percent-encoded DID
// ("did%3Acredence%3A...") is decoded once.
func didParam(c *gin.Context) string {
	id := c.Param("did")
	if strings.HasPrefix(strings.ToLower(id), "did%3a") {
		if dec, err := url.PathUnescape(id); err == nil {
			return dec
		}
	}
	return id
}

// decodeBody reads one JSON object without unknown members into v; with optional,
// an empty body is accepted too. It answers the request and returns false on bad
// input.
func (a *API) decodeBody(c *gin.Context, v any, optional bool) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && optional {
		return true
	}
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return true
		}
		if err == nil {
			err = errors.New("unexpected data after the JSON object")
		}
	}
	httpx.Error(c, a.Log, badJSON(err))
	return false
}

// ledgerFail answers a failed did:credence operation: bad input 422, a DID not
// hosted here 404, ledger rejections as the registry API answers them.
func (a *API) ledgerFail(c *gin.Context, err error) {
	var fe *invalidField
	switch {
	case errors.As(err, &fe):
		httpx.WriteProblem(c, invalid(fe.field, err.Error()))
		return
	case errors.Is(err, ErrNotHosted):
		httpx.WriteProblem(c, httpx.NotFound(err.Error()))
		return
	case errors.Is(err, ErrNoLedger):
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusServiceUnavailable, "ledger-unavailable", "Ledger unavailable", err.Error()))
		return
	}
	var p *httpx.Problem
	if !errors.As(err, &p) {
		if lp, ok := registryapi.Problem(err); ok {
			httpx.WriteProblem(c, lp)
			return
		}
	}
	httpx.Error(c, a.Log, err)
}
