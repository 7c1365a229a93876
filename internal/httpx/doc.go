// Package httpx is the HTTP plumbing every Credence service shares: RFC 9457
// problem responses with stable type URIs, request ids, structured access logs,
// Prometheus metrics per route, panic recovery, body size limits and bearer-token
// authorization. Domain packages call Error to answer failures; they never write
// error bodies by hand.
package httpx
