package did

import (
	"container/list"
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Resolver dispatches resolution by DID method and caches results. Cached
// resolutions are shared: callers must treat returned documents as read-only.
type Resolver struct {
	methods map[string]Method
	ttl     map[string]time.Duration
	cache   *lru
	group   singleflight.Group
	now     func() time.Time
}

// ResolverOption configures a Resolver.
type ResolverOption func(*Resolver)

// WithMethod registers a method under its name ("key", "web", ...) with a cache TTL;
// a zero TTL disables caching for that method (e.g. a ledger whose head moves).
func WithMethod(name string, m Method, ttl time.Duration) ResolverOption {
	return func(r *Resolver) { r.methods[name], r.ttl[name] = m, ttl }
}

// WithCacheSize bounds the number of cached resolutions (default 10,000).
func WithCacheSize(n int) ResolverOption { return func(r *Resolver) { r.cache = newLRU(n) } }

// WithClock replaces the clock (tests).
func WithClock(now func() time.Time) ResolverOption { return func(r *Resolver) { r.now = now } }

// NewResolver returns a resolver with did:key and did:jwk registered; add did:web and
// others with WithMethod.
func NewResolver(opts ...ResolverOption) *Resolver {
	r := &Resolver{methods: map[string]Method{}, ttl: map[string]time.Duration{}, cache: newLRU(10_000), now: time.Now}
	WithMethod("key", KeyMethod{}, time.Hour)(r)
	WithMethod("jwk", JWKMethod{}, time.Hour)(r)
	for _, o := range opts {
		o(r)
	}
	return r
}

// Methods lists the registered method names.
func (r *Resolver) Methods() []string {
	names := make([]string, 0, len(r.methods))
	for n := range r.methods {
		names = append(names, n)
	}
	return names
}

// Resolve resolves a DID. Errors wrap the package's sentinels; use Classify to map
// them to DID Resolution error types. A deactivated DID is not an error: its
// DocumentMetadata.Deactivated is true.
func (r *Resolver) Resolve(ctx context.Context, s string, opts Options) (*Resolution, error) {
	d, err := Parse(s)
	if err != nil {
		return nil, err
	}
	m, ok := r.methods[d.Method]
	if !ok {
		return nil, fmt.Errorf("%w: did:%s", ErrMethodNotSupported, d.Method)
	}
	ttl := r.ttl[d.Method]
	if ttl <= 0 {
		return m.Resolve(ctx, d, opts)
	}
	key := cacheKey(s, opts)
	if res, ok := r.cache.get(key, r.now()); ok {
		return res, nil
	}
	v, err, _ := r.group.Do(key, func() (any, error) {
		res, err := m.Resolve(ctx, d, opts)
		if err == nil {
			r.cache.put(key, s, res, r.now().Add(ttl))
		}
		return res, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*Resolution), nil
}

// Invalidate drops every cached resolution of a DID (all option variants).
func (r *Resolver) Invalidate(did string) { r.cache.dropDID(did) }

func cacheKey(did string, o Options) string {
	return did + "\x00" + o.VersionID + "\x00" + o.VersionTime + "\x00" + o.PublicKeyFormat + "\x00" +
		strconv.FormatBool(o.EnableEncryptionKeyDerivation)
}

// lru is a bounded cache with per-entry expiry.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key, did string
	res      *Resolution
	expires  time.Time
}

func newLRU(max int) *lru {
	if max < 1 {
		max = 1
	}
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string, now time.Time) (*Resolution, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if now.After(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.res, true
}

func (c *lru) put(key, did string, res *Resolution, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value = &lruEntry{key: key, did: did, res: res, expires: expires}
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, did: did, res: res, expires: expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry).key)
	}
}

func (c *lru) dropDID(did string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, el := range c.items {
		if el.Value.(*lruEntry).did == did {
			c.order.Remove(el)
			delete(c.items, key)
		}
	}
}
