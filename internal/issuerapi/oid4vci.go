package issuerapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
)

// OpenID for Verifiable Credential Issuance 1.0, pre-authorized code flow
// (package issuer, offer.go). A tenant's credential issuer identifier is
// <public URL>/issuers/<tenant>; it is also its own authorization server.
//
//	POST /issuers/{issuer}/offers          tenant token: make an offer
//	GET  /issuers/{issuer}/offers/{id}     tenant token: its state
//	GET  /issuers/{issuer}/credential-offer?ref=...               the offer by reference
//	GET  /.well-known/openid-credential-issuer/issuers/{issuer}   issuer metadata
//	GET  /.well-known/oauth-authorization-server/issuers/{issuer} RFC 8414 metadata
//	POST /issuers/{issuer}/token           form: pre-authorized code (+ tx_code)
//	POST /issuers/{issuer}/nonce           a c_nonce
//	POST /issuers/{issuer}/credential      Bearer access token: the credential
//
// The token and credential endpoints answer errors as the specifications
// do ({"error": ..., "error_description": ...}), not as problems.

// Body limits of the protocol endpoints (below the server-wide limit).
const (
	MaxTokenRequestBytes      = 16 << 10
	MaxCredentialRequestBytes = 64 << 10
)

// offerRoutes mounts the tenant's offer routes.
func (a *API) offerRoutes(tenant gin.IRoutes) {
	tenant.POST("/issuers/:issuer/offers", a.createOffer)
	tenant.GET("/issuers/:issuer/offers/:id", a.offerStatus)
}

// oid4vciRoutes mounts the public endpoints of the flow.
func (a *API) oid4vciRoutes(r gin.IRoutes) {
	r.GET(issuer.WellKnownIssuer+"/issuers/:issuer", a.issuerMetadata)
	r.GET(issuer.WellKnownAS+"/issuers/:issuer", a.authServerMetadata)
	r.GET("/issuers/:issuer"+issuer.PathOffer, a.credentialOffer)
	r.POST("/issuers/:issuer"+issuer.PathToken, a.token)
	r.POST("/issuers/:issuer"+issuer.PathNonce, a.nonce)
	r.POST("/issuers/:issuer"+issuer.PathCredential, a.credential)
}

func (a *API) createOffer(c *gin.Context) {
	var in issuer.OfferInput
	if !httpx.BindStrict(c, a.Log, &in, false) {
		return
	}
	out, err := a.Offers.Create(c.Request.Context(), c.Param("issuer"), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", "/issuers/"+c.Param("issuer")+"/offers/"+out.ID)
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusCreated, "application/json", out)
}

func (a *API) offerStatus(c *gin.Context) {
	st, err := a.Offers.Status(c.Request.Context(), c.Param("issuer"), c.Param("id"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, st)
}

func (a *API) credentialOffer(c *gin.Context) {
	off, err := a.Offers.Offer(c.Request.Context(), c.Param("issuer"), c.Query("ref"))
	if errors.Is(err, issuer.ErrOfferGone) {
		httpx.WriteProblem(c, httpx.NewProblem(http.StatusGone, "offer-gone", "Credential offer gone",
			"the credential offer expired or was already used"))
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", off)
}

func (a *API) issuerMetadata(c *gin.Context) {
	md, err := a.Offers.Metadata(c.Request.Context(), c.Param("issuer"))
	if err != nil {
		a.fail(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", md)
}

func (a *API) authServerMetadata(c *gin.Context) {
	md, err := a.Offers.AuthServer(c.Request.Context(), c.Param("issuer"))
	if err != nil {
		a.fail(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", md)
}

// token is the token endpoint (RFC 6749 §4.1.3 with OpenID4VCI §6.1).
func (a *API) token(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	form, err := readForm(c)
	if err != nil {
		a.protocolError(c, err)
		return
	}
	switch grant := form.Get("grant_type"); {
	case grant == "":
		a.protocolError(c, invalid(issuer.CodeInvalidRequest, "grant_type is required"))
		return
	case grant != issuer.GrantPreAuthorized:
		a.protocolError(c, invalid(issuer.CodeUnsupportedGrantType, "this authorization server supports the pre-authorized_code grant only"))
		return
	case form.Get("pre-authorized_code") == "":
		a.protocolError(c, invalid(issuer.CodeInvalidRequest, "pre-authorized_code is required"))
		return
	case form.Has("authorization_details"):
		a.protocolError(c, invalid(issuer.CodeInvalidRequest, "authorization_details is not supported: the token is for the offered credential"))
		return
	}
	req := issuer.TokenRequest{Code: form.Get("pre-authorized_code"), TxCode: form.Get("tx_code"), HasTxCode: form.Has("tx_code")}
	out, err := a.Offers.Token(c.Request.Context(), c.Param("issuer"), req)
	if err != nil {
		a.protocolError(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", out)
}

// readForm reads an application/x-www-form-urlencoded body in which no
// parameter is repeated (RFC 6749 §3.2).
func readForm(c *gin.Context) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalid(issuer.CodeInvalidRequest, "the token request is application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxTokenRequestBytes))
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalid(issuer.CodeInvalidRequest, "the body is not form-encoded")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, invalid(issuer.CodeInvalidRequest, "parameter "+k+" is repeated")
		}
	}
	return form, nil
}

// nonce is the nonce endpoint (OpenID4VCI §7).
func (a *API) nonce(c *gin.Context) {
	n, err := a.Offers.Nonce(c.Request.Context(), c.Param("issuer"))
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, http.StatusOK, "application/json", gin.H{"c_nonce": n})
}

// credential is the credential endpoint (OpenID4VCI §8).
func (a *API) credential(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="credence"`)
		oauthJSON(c, http.StatusUnauthorized, issuer.CodeInvalidToken, "the credential endpoint takes the access token of the token endpoint")
		return
	}
	req, err := readCredentialRequest(c)
	if err != nil {
		a.protocolError(c, err)
		return
	}
	out, err := a.Offers.Credential(c.Request.Context(), c.Param("issuer"), strings.TrimSpace(token), req)
	if err != nil {
		a.protocolError(c, err)
		return
	}
	httpx.JSON(c, http.StatusOK, "application/json", out)
}

// readCredentialRequest decodes a credential request: a JSON object
// without repeated members; unknown members are ignored (§8.2).
func readCredentialRequest(c *gin.Context) (issuer.CredentialRequest, error) {
	var req issuer.CredentialRequest
	bad := func(d string) error { return invalid(issuer.CodeInvalidCredentialRequest, d) }
	if mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err != nil || mt != "application/json" {
		return req, bad("the credential request is application/json (encrypted requests are not supported)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxCredentialRequestBytes))
	if err != nil {
		return req, err
	}
	m, err := vc.DecodeObject(body)
	if err != nil {
		return req, bad("the body is not a JSON object without repeated members")
	}
	var ok bool
	for name, dst := range map[string]*string{"credential_configuration_id": &req.ConfigurationID, "credential_identifier": &req.Identifier} {
		if v, has := m[name]; has {
			if *dst, ok = v.(string); !ok {
				return req, bad(name + " must be a string")
			}
		}
	}
	if v, has := m["proofs"]; has {
		if req.Proofs, ok = v.(map[string]any); !ok {
			return req, bad("proofs must be an object")
		}
	}
	_, req.Encryption = m["credential_response_encryption"]
	return req, nil
}

func invalid(code, description string) error {
	return &issuer.ProtocolError{Code: code, Description: description}
}

// protocolError answers an error of the token or credential endpoint: a
// *issuer.ProtocolError as {"error", "error_description"} (401 with a
// WWW-Authenticate challenge for invalid_token, else 400); an unknown
// issuer, a body too large or an internal failure as a problem.
func (a *API) protocolError(c *gin.Context, err error) {
	var pe *issuer.ProtocolError
	if !errors.As(err, &pe) {
		a.fail(c, err)
		return
	}
	status := http.StatusBadRequest
	if pe.Code == issuer.CodeInvalidToken {
		status = http.StatusUnauthorized
		c.Header("WWW-Authenticate", `Bearer realm="credence", error="invalid_token", error_description="`+ascii(pe.Description)+`"`)
	}
	oauthJSON(c, status, pe.Code, pe.Description)
}

func oauthJSON(c *gin.Context, status int, code, description string) {
	c.Header("Cache-Control", "no-store")
	httpx.JSON(c, status, "application/json", gin.H{"error": code, "error_description": ascii(description)})
	c.Abort()
}

// ascii keeps the characters RFC 6749 allows in error_description
// (%x20-21 / %x23-5B / %x5D-7E).
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}
