package server

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route a server
// of all roles serves. It is written by hand; the tests in openapi_test.go
// hold it to the routes the server mounts (both ways), to the routes' auth
// behaviour, to the status codes and media types they answer, and to the
// OpenAPI 3.1 specification (an independent validator).
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIRoutes serves GET /openapi.json: the document, with servers naming
// this server's public URL. It is public and cacheable (revalidate with the
// ETag), and any origin may read it.
func (s *Server) openAPIRoutes(e *gin.Engine) {
	doc, err := withServers(openAPIDocument, s.cfg.PublicURL)
	if err != nil { // only a broken embedded document; its test fails first
		s.log.Error("failed to set the servers of openapi.json; serving it as embedded", "err", err)
		doc = openAPIDocument
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256(doc))
	e.GET("/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Header("ETag", etag)
		c.Header("Access-Control-Allow-Origin", "*")
		if etagMatches(c.GetHeader("If-None-Match"), etag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json", doc)
	})
}

// withServers returns doc, compacted, with its servers naming url alone,
// placed after info; the other members keep their order.
func withServers(doc []byte, url string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("openapi.json is not a JSON object")
	}
	servers, err := json.Marshal([]map[string]string{{"url": url, "description": "This server"}})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	add := func(name string, v []byte) error {
		if out.Len() > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		out.Write(append(k, ':'))
		return json.Compact(&out, v)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if name == "servers" {
			continue
		}
		if err := add(name, v); err != nil {
			return nil, err
		}
		if name == "info" {
			if err := add("servers", servers); err != nil {
				return nil, err
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, errors.New("openapi.json is not one JSON object")
	}
	return append(append([]byte{'{'}, out.Bytes()...), '}'), nil
}

// etagMatches reports whether an If-None-Match header names etag (a list,
// weak comparison, or "*").
func etagMatches(header, etag string) bool {
	for _, m := range strings.Split(header, ",") {
		if m = strings.TrimPrefix(strings.TrimSpace(m), "W/"); m == etag || m == "*" {
			return true
		}
	}
	return false
}
