package issuerapi

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/registry"
	"github.com/gin-gonic/gin"
)

// MediaVC is the media type of a credential secured with an embedded proof
// (VC Data Model 2.0, §6.3).
const MediaVC = "application/vc"

// updateStatus is VC-API's POST /credentials/status: revoke, suspend or
// reinstate one credential, or many (credentialIds) in one ledger op per list.
func (a *API) updateStatus(c *gin.Context) {
	var req issuer.StatusRequest
	if !httpx.BindStrict(c, a.Log, &req, false) {
		return
	}
	res, err := a.Issuer.UpdateStatus(c.Request.Context(), c.Param("issuer"), req)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// statusList serves a signed status list credential at its
// statusListCredential URL. It is public. Caching: a verifier may keep it for
// the ttl it states; the ETag is the ledger version, so revalidation is cheap,
// and the Credence-Ledger-* headers say which ledger op it reflects. The
// media type is application/vc unless the client's Accept prefers one of the
// less specific types Bitstring Status List §Media Types allows
// (application/ld+json, application/json); the bytes are the same.
func (a *API) statusList(c *gin.Context) {
	doc, err := a.Issuer.StatusList(c.Request.Context(), c.Param("issuer"), c.Param("list"))
	if err != nil {
		a.fail(c, err)
		return
	}
	etag := fmt.Sprintf(`"%d-%x"`, doc.Seq, sha256.Sum256([]byte(doc.VM)))
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", doc.Updated.UTC().Format(http.TimeFormat))
	// no-cache: any cache must revalidate (cheap with the ETag), so a verifier
	// that checks the ledger never gets a superseded version from a CDN.
	h.Set("Cache-Control", "public, no-cache")
	h.Set("Credence-Ledger-Subject", doc.Subject)
	h.Set("Credence-Ledger-Seq", strconv.FormatUint(doc.Seq, 10))
	h.Set("Link", fmt.Sprintf(`<%s/proof>; rel="ledger-proof"`, c.Request.URL.Path))
	h.Add("Vary", "Accept")
	if matchesETag(c.GetHeader("If-None-Match"), etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, statusListMediaType(c.GetHeader("Accept")), doc.Credential)
}

// statusListMediaType picks the media type of a status list credential for an
// Accept header: the acceptable one of application/vc, application/ld+json
// and application/json with the highest q (ties: that order). With no Accept
// header, or none of them acceptable, application/vc (RFC 9110 §12.5.1: the
// header is disregarded rather than answered 406).
func statusListMediaType(accept string) string {
	types := []string{MediaVC, "application/ld+json", "application/json"}
	best, bestQ := MediaVC, 0.0
	for _, t := range types {
		if q, _ := httpx.AcceptQ(accept, t, nil); q > bestQ {
			best, bestQ = t, q
		}
	}
	return best
}

// statusListProof serves the ledger proof of a status list's current
// version: a signed checkpoint and the inclusion proof of the list's latest
// op (registry.Bundle), which carries the listHash the served list must
// have. The whole op chain is at /registry/subjects/{subject}.
func (a *API) statusListProof(c *gin.Context) {
	if a.Ledger == nil {
		httpx.WriteProblem(c, httpx.NotFound("this server does not hold the ledger"))
		return
	}
	doc, err := a.Issuer.StatusList(c.Request.Context(), c.Param("issuer"), c.Param("list"))
	if err != nil {
		a.fail(c, err)
		return
	}
	ops, err := a.Ledger.History(c.Request.Context(), doc.Subject)
	if errors.Is(err, registry.ErrNotFound) {
		httpx.WriteProblem(c, httpx.NotFound("status list is not on the ledger"))
		return
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	bundle, err := a.Ledger.Bundle(c.Request.Context(), ops[len(ops)-1:])
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", bundle)
}

// matchesETag reports whether an If-None-Match header names etag (RFC 9110
// §13.1.2: a list, weak comparison, or "*").
func matchesETag(header, etag string) bool {
	for _, m := range strings.Split(header, ",") {
		m = strings.TrimPrefix(strings.TrimSpace(m), "W/")
		if m == etag || m == "*" {
			return true
		}
	}
	return false
}
