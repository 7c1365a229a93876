package did

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
)

// Why a fetch (PublicHTTPClient) failed to reach its server, as FetchFailure
// names it: fixed texts that can be shown to the caller on whose behalf the
// server fetched, since they never carry an address a name resolved to or
// the server's own network. Log the error itself, not show it.
const (
	FailDNS        = "dns"
	FailNonPublic  = "non-public address"
	FailTimeout    = "timeout"
	FailTLS        = "tls"
	FailRefused    = "connection refused"
	FailConnection = "connection error"
)

// FetchFailure is the category of err, the error of an HTTP exchange that
// did not reach an answer: FailConnection when it is none of the others.
func FetchFailure(err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrNonPublicAddress):
		return FailNonPublic
	case errors.As(err, &dnsErr):
		return FailDNS
	case timedOut(err):
		return FailTimeout
	case tlsFailure(err):
		return FailTLS
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailRefused
	}
	return FailConnection
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// tlsFailure reports a failed TLS handshake or certificate check.
func tlsFailure(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	// The alerts a peer sends ("remote error: tls: handshake failure") are
	// of an unexported type: only their text tells.
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || strings.Contains(err.Error(), "tls: ")
}
