package walletapi

import (
	"encoding/json"
	"net/http"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/gin-gonic/gin"
)

// claimRequest is the body of POST /wallet/holders/{holder}/offers: an
// OpenID4VCI credential offer (an openid-credential-offer:// URL, an https
// credential_offer_uri, or the credential offer object) and the
// transaction code the issuer sent the holder, if the offer asks for one.
type claimRequest struct {
	Offer  json.RawMessage `json:"offer"`
	TxCode string          `json:"txCode,omitempty"`
}

// claim receives the credentials of an offer: 201 {"credentials": [...]}
// with each stored credential; 400 for an unusable offer, 502 when the
// issuer cannot be reached or refuses (its error code in the detail).
func (a *API) claim(c *gin.Context) {
	var in claimRequest
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	if len(in.Offer) == 0 || string(in.Offer) == "null" {
		httpx.WriteProblem(c, httpx.BadRequest("offer is required"))
		return
	}
	if a.Claimer == nil {
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusNotImplemented, "not-implemented", "Not implemented",
			"this wallet does not claim credential offers"))
		return
	}
	list, err := a.Claimer.Claim(c.Request.Context(), c.Param("holder"), wallet.ClaimRequest{Offer: in.Offer, TxCode: in.TxCode})
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", gin.H{"credentials": list})
}
