package watch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/credence/credence/did"
)

// Why a delivery attempt failed (Attempt.Error), besides "HTTP status N":
// fixed texts, so what a tenant reads never carries an address the server
// resolved or dialed. The details are logged at Warn.
const (
	FailDNS            = "dns"
	FailNonPublic      = "non-public address"
	FailTimeout        = "timeout"
	FailTLS            = "tls"
	FailRefused        = "connection refused"
	FailConnection     = "connection error"
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
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errSigning):
		return FailSigning
	case errors.Is(err, ErrInvalidWebhook):
		if strings.Contains(err.Error(), "private or loopback") {
			return FailNonPublic
		}
		return FailInvalidWebhook
	case errors.Is(err, did.ErrNonPublicAddress):
		return FailNonPublic // did.PublicHTTPClient's dialer, after resolution
	case errors.As(err, &dnsErr):
		return FailDNS
	case timeout(err):
		return FailTimeout
	case tlsFailure(err):
		return FailTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailRefused
	}
	return FailConnection
}

func timeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func tlsFailure(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || strings.Contains(err.Error(), "tls: ")
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
