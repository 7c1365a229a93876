package verifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

// MaxStatusListBytes bounds a fetched status list credential.
const MaxStatusListBytes = 4 << 20

// MaxStatusEntries bounds the status entries of one credential.
const MaxStatusEntries = 16

// MaxCachedLists bounds the status lists a checker keeps (each up to
// status.MaxBits/8 bytes); the least recently fetched goes first.
const MaxCachedLists = 1024

// DefaultStatusMaxAge is how long a fetched status list is used before it is
// fetched again, unless a registry event invalidates it first or the list
// states a shorter ttl.
const DefaultStatusMaxAge = 5 * time.Minute

// Fetcher fetches a status list credential by its URL.
type Fetcher interface {
	Fetch(ctx context.Context, url string) ([]byte, error)
}

// HTTPFetcher fetches over HTTP(S) with a size limit.
type HTTPFetcher struct {
	// Client fetches; nil means did.PublicHTTPClient with a 10 s timeout,
	// which connects to public addresses only.
	Client *http.Client
}

// Fetch implements Fetcher.
func (f HTTPFetcher) Fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vc, application/vc+ld+json, application/vc+jwt, application/json;q=0.5")
	// The ledger says which version is current: never take an intermediary's copy.
	req.Header.Set("Cache-Control", "no-cache")
	c := f.Client
	if c == nil {
		c = did.PublicHTTPClient(10*time.Second, false)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: the server did not answer 200", url)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxStatusListBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxStatusListBytes {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, MaxStatusListBytes)
	}
	return b, nil
}

// ListVerifier verifies a fetched status list credential's proof and returns
// the credential.
type ListVerifier func(ctx context.Context, raw []byte) (vc.Credential, error)

// LedgerView reads the ledger's state of a subject.
type LedgerView interface {
	State(ctx context.Context, subject string, upTo uint64) (registry.SubjectState, error)
}

// StatusChecker checks Bitstring Status List entries: it fetches each list,
// verifies its proof, that its issuer is the credential's, and that it is
// the version the ledger records (the hash of its bits equals the listHash of
// the list's latest ledger op), caches it, and reads the bit. A list that
// cannot be fetched or checked fails the check; it never counts as valid.
type StatusChecker struct {
	Fetch  Fetcher
	Verify ListVerifier
	// Ledger, when set, is consulted for every list: a list the ledger does
	// not know passes with a warning unless RequireLedger.
	Ledger        LedgerView
	RequireLedger bool
	// MaxAge bounds how long a fetched list is used (DefaultStatusMaxAge).
	MaxAge time.Duration
	Now    func() time.Time

	mu    sync.Mutex
	cache map[string]*cachedList
	// epoch counts invalidations, so a fetch that started before one is not
	// cached after it (any invalidation: they are rare, and this keeps no
	// per-URL state).
	epoch uint64
	locks sync.Map
}

type cachedList struct {
	lc      *status.ListCredential
	fetched time.Time
	ledger  bool
}

// Status outcome codes.
const (
	CodeRevoked           = "CREDENTIAL_REVOKED"
	CodeSuspended         = "CREDENTIAL_SUSPENDED"
	CodeStatusUnavailable = "STATUS_UNAVAILABLE"
	CodeStatusInvalid     = "STATUS_LIST_INVALID"
	CodeStatusMessage     = "CREDENTIAL_STATUS_MESSAGE"
	CodeNotOnLedger       = "STATUS_LIST_NOT_ON_LEDGER"
	CodeStatusUnsupported = "STATUS_TYPE_UNSUPPORTED"
)

// StatusResult is the outcome of one status entry.
type StatusResult struct {
	Purpose string `json:"statusPurpose"`
	List    string `json:"statusListCredential"`
	Index   int    `json:"statusListIndex"`
	// Set is the entry's bit (or, for statusSize > 1, a non-zero value).
	Set bool `json:"set"`
	// Code is a failure or a warning (empty when the entry is clear).
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Warning marks a code that does not fail the check.
	Warning bool `json:"warning,omitempty"`
}

func (c *StatusChecker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *StatusChecker) maxAge() time.Duration {
	if c.MaxAge > 0 {
		return c.MaxAge
	}
	return DefaultStatusMaxAge
}

type maxAgeKey struct{}

// WithMaxAge asks the checks made with ctx for lists fetched at most d ago
// (a verifier policy's freshness bound; it can only tighten MaxAge).
func WithMaxAge(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxAgeKey{}, d)
}

// Check checks every BitstringStatusListEntry of cred. err is set only when
// the entries themselves are malformed.
func (c *StatusChecker) Check(ctx context.Context, cred vc.Credential) ([]StatusResult, error) {
	entries, err := status.Entries(cred)
	if err != nil {
		return nil, err
	}
	if len(entries) > MaxStatusEntries {
		return nil, fmt.Errorf("%w: %d status entries, at most %d are checked", vc.ErrMalformed, len(entries), MaxStatusEntries)
	}
	out := make([]StatusResult, 0, len(entries))
	// A status mechanism this checker does not implement cannot be shown to
	// be clear: it fails (a revoked StatusList2021 credential must not pass).
	for _, o := range status.OtherStatus(cred) {
		typ := strings.Join(vc.Strings(o["type"]), ",")
		out = append(out, StatusResult{Code: CodeStatusUnsupported, Detail: fmt.Sprintf("status type %q is not supported: the credential's status cannot be checked", typ)})
	}
	for _, e := range entries {
		r := StatusResult{Purpose: e.Purpose, List: e.ListCredential, Index: e.Index}
		lc, onLedger, err := c.list(ctx, e.ListCredential, cred.Issuer())
		if err != nil {
			r.Code, r.Detail = codeOf(err), err.Error()
			out = append(out, r)
			continue
		}
		set, err := status.Check(e, lc)
		if err != nil {
			r.Code, r.Detail = CodeStatusInvalid, err.Error()
			out = append(out, r)
			continue
		}
		r.Set = set
		switch {
		case set && e.Purpose == status.PurposeRevocation:
			r.Code, r.Detail = CodeRevoked, fmt.Sprintf("revoked: bit %d of %s is set", e.Index, e.ListCredential)
		case set && e.Purpose == status.PurposeSuspension:
			r.Code, r.Detail = CodeSuspended, fmt.Sprintf("suspended: bit %d of %s is set", e.Index, e.ListCredential)
		case set:
			r.Code, r.Detail, r.Warning = CodeStatusMessage, fmt.Sprintf("%s status %d is set", e.Purpose, e.Index), true
		case !onLedger && c.Ledger == nil:
			r.Code, r.Detail, r.Warning = CodeNotOnLedger, "no ledger was consulted for "+e.ListCredential+": its signature and issuer were checked, its history was not", true
		case !onLedger:
			r.Code, r.Detail, r.Warning = CodeNotOnLedger, e.ListCredential+" is not recorded on this registry's ledger: its signature and issuer were checked, its history cannot be", true
		}
		out = append(out, r)
	}
	return out, nil
}

// anyIssuer is the credIssuer of ListBits: the list's own issuer is taken.
const anyIssuer = "\x00any"

// ListBits returns the bits of the list at url, fetched and checked as for
// Check (proof, id, ledger hash, freshness) except that its issuer is not
// compared with a credential's: watch-lists poll the lists of credentials
// that were verified when they were registered, and the next verification
// of such a credential compares issuers again.
func (c *StatusChecker) ListBits(ctx context.Context, url string) ([]byte, error) {
	lc, _, err := c.list(ctx, url, anyIssuer)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(lc.List.Bytes()), nil // the cached list is shared
}

// unavailable marks errors where the list could not be had at all.
type unavailable struct{ err error }

func (u unavailable) Error() string { return u.err.Error() }
func (u unavailable) Unwrap() error { return u.err }

func codeOf(err error) string {
	var u unavailable
	if errors.As(err, &u) {
		return CodeStatusUnavailable
	}
	return CodeStatusInvalid
}

// list returns a checked status list: cached if fresh, else fetched. A list
// that does not match the ledger is fetched once more (the server may not
// have caught up with an op that just landed) before the check fails.
func (c *StatusChecker) list(ctx context.Context, url, credIssuer string) (*status.ListCredential, bool, error) {
	if cl := c.cached(ctx, url); cl != nil {
		if credIssuer != anyIssuer && cl.lc.Issuer != credIssuer {
			return nil, false, fmt.Errorf("status list %s is issued by %s, not by the credential's issuer %s", url, cl.lc.Issuer, credIssuer)
		}
		return cl.lc, cl.ledger, nil
	}
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, false, fmt.Errorf("status list %q is not an http(s) URL", url)
	}
	m, _ := c.locks.LoadOrStore(url, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	defer func() {
		mu.Unlock()
		c.locks.CompareAndDelete(url, m) // callers that already hold m still serialize on it
	}()
	if cl := c.cached(ctx, url); cl != nil { // another caller fetched it meanwhile
		if credIssuer != anyIssuer && cl.lc.Issuer != credIssuer {
			return nil, false, fmt.Errorf("status list %s is issued by %s, not by the credential's issuer %s", url, cl.lc.Issuer, credIssuer)
		}
		return cl.lc, cl.ledger, nil
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		gen := c.generation(url)
		lc, onLedger, retry, err := c.fetch(ctx, url, credIssuer)
		if err == nil {
			c.store(url, gen, &cachedList{lc: lc, fetched: c.now(), ledger: onLedger})
			return lc, onLedger, nil
		}
		lastErr = err
		if !retry {
			break
		}
		select {
		case <-ctx.Done():
			return nil, false, unavailable{ctx.Err()}
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, false, lastErr
}

// fetch fetches and checks one list; retry reports a ledger mismatch that a
// second fetch may resolve.
func (c *StatusChecker) fetch(ctx context.Context, url, credIssuer string) (*status.ListCredential, bool, bool, error) {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return nil, false, false, fmt.Errorf("status list %q is not an http(s) URL", url)
	}
	raw, err := c.Fetch.Fetch(ctx, url)
	if err != nil {
		return nil, false, false, unavailable{fmt.Errorf("status list %s cannot be fetched: %w", url, err)}
	}
	cred, err := c.Verify(ctx, raw)
	if err != nil {
		return nil, false, false, fmt.Errorf("status list %s does not verify: %w", url, err)
	}
	lc, err := status.ParseListCredential(cred)
	if err != nil {
		return nil, false, false, fmt.Errorf("status list %s: %w", url, err)
	}
	if lc.ID != url {
		return nil, false, false, fmt.Errorf("status list fetched from %s says its id is %s", url, lc.ID)
	}
	if credIssuer != anyIssuer && lc.Issuer != credIssuer {
		return nil, false, false, fmt.Errorf("status list %s is issued by %s, not by the credential's issuer %s", url, lc.Issuer, credIssuer)
	}
	now := c.now()
	if !lc.ValidUntil.IsZero() && now.After(lc.ValidUntil) {
		return nil, false, false, unavailable{fmt.Errorf("status list %s expired at %s", url, lc.ValidUntil.Format(time.RFC3339))}
	}
	if c.Ledger == nil {
		return lc, false, false, nil
	}
	st, err := c.Ledger.State(ctx, url, 0)
	if err != nil {
		return nil, false, false, unavailable{fmt.Errorf("the ledger state of status list %s cannot be read: %w", url, err)}
	}
	if st.Seq == 0 || st.StatusList == nil {
		// A did:credence issuer lives on this ledger: so must its lists.
		if c.RequireLedger || strings.HasPrefix(lc.Issuer, "did:credence:") {
			return nil, false, false, fmt.Errorf("status list %s is not recorded on the ledger", url)
		}
		return lc, false, false, nil
	}
	sl := st.StatusList
	switch {
	case sl.Issuer != lc.Issuer:
		return nil, false, false, fmt.Errorf("status list %s belongs to %s on the ledger, but is signed by %s", url, sl.Issuer, lc.Issuer)
	case sl.Purpose != lc.Purpose:
		return nil, false, false, fmt.Errorf("status list %s has purpose %s on the ledger, %s in the list", url, sl.Purpose, lc.Purpose)
	case sl.Size != lc.List.Len():
		return nil, false, false, fmt.Errorf("status list %s has %d entries on the ledger, %d in the list", url, sl.Size, lc.List.Len())
	}
	if h := registry.ListHash(lc.List.Bytes()); h != sl.ListHash {
		return nil, false, true, fmt.Errorf("status list %s does not match the ledger: its bits hash to %s, the ledger's version %d records %s", url, h, st.Seq, sl.ListHash)
	}
	return lc, true, false, nil
}

func (c *StatusChecker) cached(ctx context.Context, url string) *cachedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.cache[url]
	if cl == nil {
		return nil
	}
	age := c.maxAge()
	if d, ok := ctx.Value(maxAgeKey{}).(time.Duration); ok && d > 0 && d < age {
		age = d // a policy's tighter freshness bound
	}
	if cl.lc.TTL > 0 && cl.lc.TTL < age {
		age = cl.lc.TTL
	}
	now := c.now()
	if now.Sub(cl.fetched) > age || !cl.lc.ValidUntil.IsZero() && now.After(cl.lc.ValidUntil) {
		delete(c.cache, url)
		return nil
	}
	return cl
}

func (c *StatusChecker) generation(string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

func (c *StatusChecker) store(url string, gen uint64, cl *cachedList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch != gen {
		return // invalidated while fetching: the next check fetches again
	}
	if c.cache == nil {
		c.cache = map[string]*cachedList{}
	}
	if _, has := c.cache[url]; !has && len(c.cache) >= MaxCachedLists {
		oldest := ""
		for u, e := range c.cache {
			if oldest == "" || e.fetched.Before(c.cache[oldest].fetched) {
				oldest = u
			}
		}
		delete(c.cache, oldest)
	}
	c.cache[url] = cl
}

// Invalidate drops a cached list (a registry event says it changed).
func (c *StatusChecker) Invalidate(url string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.cache, url)
	c.epoch++
}

// Reset drops every cached list.
func (c *StatusChecker) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.cache)
	c.epoch++
}

// Watch invalidates cached lists on registry events until events closes:
// status list ops drop their list, a Reset event drops everything.
func (c *StatusChecker) Watch(events <-chan registry.Event) {
	for ev := range events {
		switch {
		case ev.Reset:
			c.Reset()
		case ev.Type == registry.StatusListUpdate || ev.Type == registry.StatusListCreate:
			c.Invalidate(ev.Subject)
		}
	}
}

// EngineListVerifier verifies list credentials in any format eng supports,
// resolving keys through keys.
func EngineListVerifier(eng *secure.Engine, keys vc.KeyResolver, o secure.VerifyOptions) ListVerifier {
	return func(ctx context.Context, raw []byte) (vc.Credential, error) {
		in, err := secure.ParseInput(raw)
		if err != nil {
			return nil, err
		}
		v, err := eng.VerifyCredential(ctx, in, keys, o)
		if err != nil {
			return nil, err
		}
		return v.Credential, nil
	}
}
