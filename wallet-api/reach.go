package walletapi

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/wallet-api/wallet"
	"github.com/gin-gonic/gin"
)

// Why the wallet could not reach a verifier or an issuer, as holders are
// told: a fixed category (did.FetchFailure's, "HTTP status N" or "redirect
// refused"), never the dial error, whose text names the addresses a name
// resolved to and the server's own network ("refusing to connect to
// non-public address 10.1.2.3"). The detail is logged.
const reachRedirect = "redirect refused"

// reachCategory classifies a failure to reach a remote party: ok is false
// when err holds no network failure nor an unusable HTTP status.
func reachCategory(err error) (category string, ok bool) {
	var (
		status *wallet.StatusError
		netErr net.Error
		ue     *url.Error
	)
	switch {
	case errors.As(err, &status):
		return "HTTP status " + strconv.Itoa(status.Status), true
	case !errors.As(err, &netErr):
		return "", false
	case errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "redirect"):
		return reachRedirect, true
	}
	return did.FetchFailure(err), true
}

// reachFailure returns what a holder is told of err, a failure to reach
// who ("verifier", "credential issuer"), and logs its detail at Warn: the
// category, the remote host and the network error (never the URL's path
// or query, which may carry a request's secrets, nor anything of the
// presentation). ok is false when err is no such failure, unless always:
// then it is did.FailConnection.
func (a *API) reachFailure(c *gin.Context, who string, err error, always bool) (detail string, ok bool) {
	category, ok := reachCategory(err)
	if !ok && !always {
		return "", false
	}
	if !ok {
		category = did.FailConnection
	}
	attrs := []any{"request_id", httpx.RequestID(c), "route", c.FullPath(), "remote", who, "category", category}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			attrs = append(attrs, "host", u.Host)
		}
	}
	var op *net.OpError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &op):
		attrs = append(attrs, "err", op.Error())
	case errors.As(err, &dnsErr):
		attrs = append(attrs, "err", dnsErr.Error())
	}
	a.Log.WarnContext(c.Request.Context(), "the wallet could not reach a "+who, attrs...)
	return "cannot reach the " + who + ": " + category, true
}
