package httpx

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a client address): rate requests a
// second, bursts of burst. It tracks at most maxKeys keys; past that, the
// buckets that have refilled are dropped (a full bucket is the same as a
// new one), and if every bucket is still in use the new keys share one
// overflow bucket, so a flood from many addresses neither grows memory
// without bound nor locks out the addresses already tracked.
type Limiter struct {
	rate  rate.Limit
	burst int
	max   int

	mu       sync.Mutex
	buckets  map[string]*rate.Limiter
	overflow *rate.Limiter
}

// DefaultLimiterKeys is the number of keys NewLimiter tracks when maxKeys
// is zero.
const DefaultLimiterKeys = 100_000

// NewLimiter returns a limiter of perSecond requests a second with bursts
// of burst (at least 1), per key; maxKeys <= 0 means DefaultLimiterKeys.
func NewLimiter(perSecond float64, burst, maxKeys int) *Limiter {
	if maxKeys <= 0 {
		maxKeys = DefaultLimiterKeys
	}
	burst = max(burst, 1)
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, max: maxKeys,
		buckets: map[string]*rate.Limiter{}, overflow: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

// Allow takes a token from key's bucket at now. When there is none it
// reports how long until there is one.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	b := l.bucket(key, now)
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Duration(math.MaxInt64)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[key]; b != nil {
		return b
	}
	if len(l.buckets) >= l.max {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= l.max {
			return l.overflow
		}
	}
	b := rate.NewLimiter(l.rate, l.burst)
	l.buckets[key] = b
	return b
}

// Keys is how many keys have a bucket.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// TooManyRequests is a client over its rate limit.
func TooManyRequests(detail string) *Problem {
	return NewProblem(http.StatusTooManyRequests, "rate-limited", "Too many requests", detail)
}

// RateLimit answers 429 (problem+json, with Retry-After in whole seconds)
// to a request over its client address's limit. Requests for which
// exempt reports true (e.g. those with a token: they are accounted to a
// tenant instead) pass without taking a token. The address is gin's
// ClientIP, which only trusts X-Forwarded-For from the engine's trusted
// proxies.
func RateLimit(l *Limiter, exempt func(*gin.Context) bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if exempt != nil && exempt(c) {
			c.Next()
			return
		}
		ok, wait := l.Allow(c.ClientIP(), time.Now())
		if !ok {
			secs := int64(math.Ceil(wait.Seconds()))
			if wait == time.Duration(math.MaxInt64) {
				secs = 60
			}
			c.Header("Retry-After", strconv.FormatInt(max(secs, 1), 10))
			WriteProblem(c, TooManyRequests("too many requests from this address: retry later, or use a verifier token"))
			return
		}
		c.Next()
	}
}
