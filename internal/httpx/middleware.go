package httpx

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

const requestIDKey = "credence.request_id"

// RequestID returns the request's id (set by the RequestIDs middleware).
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// RequestIDs keeps a well-formed incoming X-Request-ID (so ids follow a request
// across proxies) or makes a new one, and echoes it in the response.
func RequestIDs() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(requestIDKey, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// AccessLog writes one structured line per request. It logs the route template and
// the path, never the query string, headers or bodies (tokens and personal data
// stay out of logs).
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		if !log.Enabled(c.Request.Context(), slog.LevelInfo) {
			return
		}
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Request.Method),
			slog.String("route", route(c)),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Int("bytes", c.Writer.Size()),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("remote", c.ClientIP()),
		)
	}
}

func route(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// Metrics counts requests and observes latencies per route template.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credence_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "credence_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0002, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// Handler is the middleware that records each request.
func (m *Metrics) Handler() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		r := route(c)
		m.requests.WithLabelValues(r, c.Request.Method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(r, c.Request.Method).Observe(time.Since(start).Seconds())
	}
}

// Recover turns a panic into a logged 500 problem.
func Recover(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		Error(c, log, fmt.Errorf("panic: %v", v))
	})
}

// LimitBody caps request bodies at n bytes; reading past it fails and Error
// answers 413. Routes named in routes (by their template, e.g.
// "/issuers/:issuer/credentials/batch") get their own limit instead.
func LimitBody(n int64, routes map[string]int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := n
		if m, ok := routes[c.FullPath()]; ok {
			n = m
		}
		if c.Request.ContentLength > n {
			Error(c, nil, &http.MaxBytesError{Limit: n})
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}
