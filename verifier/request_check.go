package verifier

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/credence/credence/did"
)

func checkPurpose(p string) error {
	switch {
	case !utf8.ValidString(p):
		return inputErr("purpose", "must be valid UTF-8")
	case utf8.RuneCountInString(p) > MaxPurposeRunes:
		return inputErr("purpose", fmt.Sprintf("must be at most %d characters", MaxPurposeRunes))
	case strings.ContainsFunc(p, unicode.IsControl):
		return inputErr("purpose", "must not contain control characters")
	}
	return nil
}

// checkHolder accepts no holder ("") or a DID (no path, query or
// fragment) of at most MaxHolderBytes.
func checkHolder(h string) error {
	if h == "" {
		return nil
	}
	if len(h) > MaxHolderBytes {
		return inputErr("holder", fmt.Sprintf("must be at most %d bytes", MaxHolderBytes))
	}
	if _, err := did.Parse(h); err != nil {
		return inputErr("holder", "must be a DID such as did:key:z6Mk... (no path, query or fragment)")
	}
	return nil
}

// domain checks a requested domain (a host[:port] or an http(s) origin),
// normalises it to lower case, or defaults it to the BaseURL's host. It must
// name the BaseURL's host (or origin): the holder's wallet sends the
// presentation to a response_uri under BaseURL and, as OID4VP's
// redirect_uri client identifiers require, refuses a request whose domain
// is not response_uri's host, so that a presentation bound to this
// verifier cannot be sent to anyone else (a relay). Invalid input is an
// *InputError.
func (r *Requests) domain(d string) (string, error) {
	base, err := url.Parse(r.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return "", fmt.Errorf("verifier: BaseURL %q is not an absolute http(s) URL", r.BaseURL)
	}
	host := strings.ToLower(base.Host)
	if d == "" {
		return host, nil
	}
	if len(d) > maxDomainBytes+len("https://:65535") {
		return "", inputErr("domain", "too long")
	}
	n, scheme := strings.ToLower(d), ""
	if sch, rest, ok := strings.Cut(n, "://"); ok {
		scheme, n = sch, rest
		if scheme != "https" && scheme != "http" {
			return "", inputErr("domain", "must be a host or an http(s) origin such as https://hospital.example")
		}
	}
	switch {
	case !validHostPort(n):
		return "", inputErr("domain", "must be a host or an http(s) origin such as https://hospital.example")
	case trimDefaultPort(n, base.Scheme) != trimDefaultPort(host, base.Scheme) || scheme != "" && scheme != base.Scheme:
		return "", inputErr("domain", fmt.Sprintf("must be this verifier's host %s (or origin %s://%s), where the holder sends the presentation", host, base.Scheme, host))
	case scheme != "":
		return scheme + "://" + n, nil
	}
	return n, nil
}

// trimDefaultPort drops scheme's default port from a host:port.
func trimDefaultPort(hostport, scheme string) string {
	if scheme == "https" {
		return strings.TrimSuffix(hostport, ":443")
	}
	return strings.TrimSuffix(hostport, ":80")
}

// validHostPort accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, with an optional port; nothing else (no path, user info, query
// or fragment).
func validHostPort(s string) bool {
	host, bracketed := s, false
	if h, port, err := net.SplitHostPort(s); err == nil {
		if !validPort(port) {
			return false
		}
		host, bracketed = h, strings.HasPrefix(s, "[")
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host, bracketed = s[1:len(s)-1], true
	}
	ip := net.ParseIP(host)
	switch {
	case bracketed:
		return ip != nil && strings.Contains(host, ":")
	case ip != nil:
		return ip.To4() != nil && !strings.Contains(host, ":")
	}
	return validDNSName(host)
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

func validDNSName(h string) bool {
	if h == "" || len(h) > maxDomainBytes {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return false
			}
		}
	}
	return true
}

// randomID is 128 random bits, unpadded base64url.
func randomID() string {
	var b [randomIDBytes]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// wellFormedID reports whether s could be a randomID, so malformed ids
// never reach the store.
func wellFormedID(s string) bool {
	if len(s) != randomIDChars {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == randomIDBytes
}
