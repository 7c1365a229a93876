package did

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Defaults for fetching did:web documents.
const (
	DefaultWebTimeout  = 5 * time.Second
	DefaultWebMaxBytes = 256 << 10
	maxWebRedirects    = 3
)

// ErrWebFetch wraps failures to retrieve a did:web document (network, TLS, HTTP
// status other than 200/404/410, refused address).
var ErrWebFetch = errors.New("did:web: failed to fetch document")

// WebMethod resolves did:web DIDs over HTTPS (did:web method specification).
type WebMethod struct {
	client   *http.Client
	maxBytes int64
}

// WebOption configures a WebMethod.
type WebOption func(*WebMethod)

// WithWebClient replaces the HTTP client (tests pass a client that trusts a test CA;
// a deployment may add a proxy). The client's own timeouts and dial rules apply.
func WithWebClient(c *http.Client) WebOption { return func(w *WebMethod) { w.client = c } }

// WithWebMaxBytes bounds the size of a fetched document.
func WithWebMaxBytes(n int64) WebOption { return func(w *WebMethod) { w.maxBytes = n } }

// NewWebMethod returns a did:web resolver whose default client uses TLS 1.2+, the
// given timeout, at most three HTTPS-only redirects and refuses to connect to
// any address that is not globally routable unicast (PublicAddr) unless
// allowPrivate is set (so a DID cannot make the server probe its own network).
func NewWebMethod(timeout time.Duration, allowPrivate bool, opts ...WebOption) *WebMethod {
	if timeout <= 0 {
		timeout = DefaultWebTimeout
	}
	w := &WebMethod{client: newWebClient(timeout, allowPrivate), maxBytes: DefaultWebMaxBytes}
	for _, o := range opts {
		o(w)
	}
	return w
}

func newWebClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil
	tr.TLSClientConfig.MinVersion = 0x0303 // TLS 1.2
	tr.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: httpsRedirectsOnly}
}

func httpsRedirectsOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= maxWebRedirects {
		return fmt.Errorf("more than %d redirects", maxWebRedirects)
	}
	if req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to non-HTTPS URL %s", req.URL.Redacted())
	}
	return nil
}

// ErrNonPublicAddress is the error (wrapped in the client's *url.Error and
// *net.OpError) of a fetch refused because the address dialed is not
// public (PublicAddr).
var ErrNonPublicAddress = errors.New("refusing to connect to non-public address")

// refusePrivate is the dialer's Control: it runs after name resolution, on the
// address actually dialed, so DNS rebinding cannot bypass it. It refuses every
// address PublicAddr does not accept.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q: %w", ErrNonPublicAddress, address, err)
	}
	if !PublicAddr(ap.Addr()) {
		return fmt.Errorf("%w %s", ErrNonPublicAddress, ap.Addr())
	}
	return nil
}

// WebURL returns the HTTPS URL of a did:web document: the first segment is the host
// (with %3A for a port), further colon-separated segments are path segments;
// without a path the document is at /.well-known/did.json.
func WebURL(d DID) (*url.URL, error) {
	if d.Method != "web" {
		return nil, fmt.Errorf("%w: not a did:web: %s", ErrInvalidDID, d)
	}
	segs := strings.Split(d.ID, ":")
	host, err := url.PathUnescape(segs[0])
	if err != nil || host == "" || strings.ContainsAny(host, "/?#@") {
		return nil, fmt.Errorf("%w: did:web host %q", ErrInvalidDID, segs[0])
	}
	if _, err := url.Parse("https://" + host); err != nil {
		return nil, fmt.Errorf("%w: did:web host %q: %w", ErrInvalidDID, host, err)
	}
	path := "/.well-known/did.json"
	if len(segs) > 1 {
		parts := make([]string, 0, len(segs)-1)
		for _, s := range segs[1:] {
			p, err := url.PathUnescape(s)
			if err != nil || p == "" || p == "." || p == ".." || strings.Contains(p, "/") {
				return nil, fmt.Errorf("%w: did:web path segment %q", ErrInvalidDID, s)
			}
			parts = append(parts, p)
		}
		path = "/" + strings.Join(parts, "/") + "/did.json"
	}
	return &url.URL{Scheme: "https", Host: host, Path: path}, nil
}

// WebDID returns the did:web for a host (with optional port) and path segments.
func WebDID(host string, path ...string) (DID, error) {
	id := strings.ReplaceAll(url.PathEscape(host), ":", "%3A")
	for _, p := range path {
		if p == "" {
			continue
		}
		id += ":" + url.PathEscape(p)
	}
	d := DID{Method: "web", ID: id}
	if _, err := Parse(d.String()); err != nil {
		return DID{}, err
	}
	return d, nil
}

// Resolve fetches and checks a did:web document: HTTP 200 with at most the size
// limit, a valid document whose id is exactly the DID.
func (w *WebMethod) Resolve(ctx context.Context, d DID, opts Options) (*Resolution, error) {
	if opts.VersionID != "" || opts.VersionTime != "" {
		return nil, fmt.Errorf("%w: did:web has no versions", ErrInvalidOptions)
	}
	u, err := WebURL(d)
	if err != nil {
		return nil, err
	}
	body, err := w.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	var doc Document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s is not a DID document: %w", ErrInvalidDIDDocument, u, err)
	}
	if doc.ID != d.String() {
		return nil, fmt.Errorf("%w: document id %q does not match %s", ErrInvalidDIDDocument, doc.ID, d)
	}
	if err := doc.Validate(); err != nil {
		return nil, err
	}
	meta := ResolutionMetadata{ContentType: MediaDIDLDJSON, Retrieved: time.Now().UTC().Format(time.RFC3339)}
	return &Resolution{Document: &doc, Metadata: meta}, nil
}

func (w *WebMethod) fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWebFetch, err)
	}
	req.Header.Set("Accept", "application/did+json, application/did+ld+json, application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrWebFetch, u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrNotFound, u, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrWebFetch, u, resp.StatusCode)
	case resp.ContentLength > w.maxBytes:
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalidDIDDocument, u, resp.ContentLength, w.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, w.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrWebFetch, u, err)
	}
	if int64(len(body)) > w.maxBytes {
		return nil, fmt.Errorf("%w: %s exceeds the %d-byte limit", ErrInvalidDIDDocument, u, w.maxBytes)
	}
	return body, nil
}

// PublicHTTPClient is the client did:web uses, for other fetches a server makes
// on behalf of its callers (status lists): the timeout, at most three
// HTTPS-only redirects, and no connections to addresses PublicAddr refuses
// (loopback, private, link-local, metadata and other special-purpose ranges)
// unless allowPrivate.
func PublicHTTPClient(timeout time.Duration, allowPrivate bool) *http.Client {
	if timeout <= 0 {
		timeout = DefaultWebTimeout
	}
	return newWebClient(timeout, allowPrivate)
}
