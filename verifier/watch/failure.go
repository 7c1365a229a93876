package watch

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/credence/credence/did"
)

// Why a delivery attempt failed (Attempt.Error), besides "HTTP status N":
// fixed texts, so what a tenant reads never carries an address the server
// resolved or dialed (the network ones are did.FetchFailure's). The details
// are logged at Warn.
const (
	FailDNS            = did.FailDNS
	FailNonPublic      = did.FailNonPublic
	FailTimeout        = did.FailTimeout
	FailTLS            = did.FailTLS
	FailRefused        = did.FailRefused
	FailConnection     = did.FailConnection
	FailInvalidWebhook = "invalid webhook URL"
	FailSigning        = "signing failed"
)

var failures = []string{FailDNS, FailNonPublic, FailTimeout, FailTLS, FailRefused, FailConnection, FailInvalidWebhook, FailSigning}

// errSigning: the delivery could not be signed (logged where it happens).
var errSigning = errors.New("the delivery could not be signed")

// httpStatus is the Attempt.Error of a non-2xx answer.
func httpStatus(code int) string { return "HTTP status " + strconv.Itoa(code) }

// failure is the category of a failed send.
func failure(err error) string {
	switch {
	case errors.Is(err, errSigning):
		return FailSigning
	case errors.Is(err, ErrInvalidWebhook):
		if strings.Contains(err.Error(), "private or loopback") {
			return FailNonPublic
		}
		return FailInvalidWebhook
	}
	return did.FetchFailure(err)
}

// hostFault reports whether an attempt's outcome counts against its host's
// circuit breaker: a failure to connect or answer in time, or a 5xx. An
// invalid URL or a signing failure is not the host's.
func hostFault(code int, err error) bool {
	if err != nil {
		f := failure(err)
		return f != FailInvalidWebhook && f != FailSigning
	}
	return code >= 500
}

// shown is the Error of a logged attempt as a tenant may read it: attempts
// logged before the categories existed kept the raw error, which could name
// a resolved address.
func shown(a Attempt) string {
	switch {
	case a.Error == "" || slices.Contains(failures, a.Error):
		return a.Error
	case a.StatusCode != 0:
		return httpStatus(a.StatusCode)
	}
	return FailConnection
}
