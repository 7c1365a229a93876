package wallet

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Limits of the names a request gives, which the disclosure log records.
const (
	maxChallenge = 256
	maxDomain    = 512
	maxName      = 256 // request id and claimed verifier name
)

func (p *Presenter) checkRequest(req *Request, send bool) error {
	switch {
	case req == nil:
		return fmt.Errorf("%w: no request", ErrRequest)
	case req.Challenge == "":
		return fmt.Errorf("%w: the request has no challenge (nonce): a presentation must be bound to one", ErrRequest)
	case req.Domain == "":
		return fmt.Errorf("%w: the request has no domain (client_id): a presentation must be bound to its verifier", ErrRequest)
	case len(req.Challenge) > maxChallenge || len(req.Domain) > maxDomain:
		return fmt.Errorf("%w: challenge or domain too long", ErrRequest)
	case len(req.ID) > maxName || len(req.Verifier) > maxName:
		return fmt.Errorf("%w: request id or verifier name longer than %d bytes", ErrRequest, maxName)
	case !req.Expires.IsZero() && !p.now().Before(req.Expires):
		return fmt.Errorf("%w: the request expired at %s", ErrRequest, req.Expires.UTC().Format(time.RFC3339))
	case len(req.Query.DCQL) == 0 && len(req.Query.PresentationDefinition) == 0 && !req.DIDAuth:
		return fmt.Errorf("%w: the request asks for nothing (no dcql_query, presentation_definition or DIDAuthentication)", ErrRequest)
	case send && req.ResponseURI == "":
		return fmt.Errorf("%w: the request has no response_uri to send to", ErrRequest)
	}
	if req.ResponseURI != "" {
		if err := p.checkResponseURI(req, send); err != nil {
			return err
		}
	}
	if len(req.Query.DCQL) > 0 || len(req.Query.PresentationDefinition) > 0 {
		if err := req.Query.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrRequest, err)
		}
	}
	return nil
}

// checkResponseURI admits a response_uri the request's domain is bound to;
// sending to it needs https unless AllowHTTP.
func (p *Presenter) checkResponseURI(req *Request, send bool) error {
	u, err := url.Parse(req.ResponseURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: response_uri must be an http(s) URL", ErrRequest)
	}
	if send && u.Scheme != "https" && !p.AllowHTTP {
		return fmt.Errorf("%w: response_uri must be https: presentations are not sent over plain http", ErrRequest)
	}
	return checkAudience(req.Domain, req.ResponseURI, u)
}

// checkAudience applies OpenID4VP's rule for a client_id that is a
// redirect URI: a presentation bound to domain may go to response (whose
// text is raw) only if domain names it. A domain that is an origin
// (https://host[:port]) must be response's origin; a bare host[:port] must
// be response's host and port; "redirect_uri:" and a URI must be response
// itself. Hosts compare case-insensitively, and a default port (443 for
// https, 80 for http) equals no port. Any other domain (a DID,
// x509_san_dns:...) cannot be checked without a signed request, so a
// request with such a domain and a response_uri is refused.
func checkAudience(domain, raw string, response *url.URL) error {
	if rest, ok := strings.CutPrefix(domain, "redirect_uri:"); ok {
		if rest == raw {
			return nil
		}
	} else if d, ok := parseDomain(domain, response.Scheme); ok && sameHost(d, response) {
		return nil
	}
	return fmt.Errorf("%w: the response_uri (%s) is not where the request's domain (%s) says the presentation goes: "+
		"a presentation is only sent to the origin it is bound to", ErrRequest, response.Host, domain)
}

// parseDomain reads a domain that is an http(s) origin, or a bare
// host[:port] (given scheme, for its default port).
func parseDomain(domain, scheme string) (*url.URL, bool) {
	origin := strings.Contains(domain, "://")
	if !origin {
		domain = scheme + "://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		u.Opaque != "" || !(u.Path == "" || origin && u.Path == "/") || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, false
	}
	return u, true
}

// sameHost compares scheme, host and port, with default ports.
func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// recipient is who the disclosure log says received a presentation: the
// response_uri's host when it was sent there, else the domain it is bound
// to. Never the request's own claim of a name (Request.Verifier).
func recipient(req *Request, sent bool) string {
	if u, err := url.Parse(req.ResponseURI); sent && err == nil && u.Host != "" {
		return strings.ToLower(u.Host)
	}
	return req.Domain
}

// chosenIDs drops repeated ids, keeping the first of each, and refuses
// more than MaxChosenCredentials.
func chosenIDs(ids []string) ([]string, error) {
	seen := make(map[string]bool, min(len(ids), MaxChosenCredentials+1))
	out := make([]string, 0, min(len(ids), MaxChosenCredentials))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		if len(out) == MaxChosenCredentials {
			return nil, fmt.Errorf("%w: at most %d credentials may be chosen for one presentation", ErrRequest, MaxChosenCredentials)
		}
		seen[id] = true
		out = append(out, id)
	}
	return out, nil
}
