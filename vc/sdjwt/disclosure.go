package sdjwt

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/credence/credence/vc"
)

// HashAlg is the one _sd_alg Credence issues and accepts (RFC 9901 §4.1.1:
// the default, and the one every implementation must support).
const HashAlg = "sha-256"

var b64 = base64.RawURLEncoding.Strict()

// disclosure is one Disclosure (RFC 9901 §4.2): [salt, name, value] for an
// object member, [salt, value] for an array element.
type disclosure struct {
	raw     string // the base64url form, as sent
	digest  string // base64url SHA-256 of raw
	name    string // "" for an array element
	element bool
	value   any

	// Set while processing: where the digest was found.
	used   bool
	path   string      // JSON Pointer of the claim, array indexes as issued
	parent *disclosure // the disclosure whose value holds the digest; nil: the JWT
}

// digestOf is the base64url SHA-256 of a Disclosure's ASCII form (§4.2.3).
func digestOf(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return b64.EncodeToString(sum[:])
}

// newDisclosure encodes [salt, name, value] (or [salt, value] with element).
// Elements are separated by ", " as in the RFC's examples, so its published
// Disclosures of string, number and boolean values come out byte for byte.
func newDisclosure(salt, name string, element bool, value any) (*disclosure, error) {
	parts := []any{salt}
	if !element {
		parts = append(parts, name)
	}
	parts = append(parts, value)
	enc := make([]string, len(parts))
	for i, p := range parts {
		b, err := vc.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("%w: failed to encode a disclosure: %w", vc.ErrMalformed, err)
		}
		enc[i] = string(b)
	}
	raw := b64.EncodeToString([]byte("[" + strings.Join(enc, ", ") + "]"))
	return &disclosure{raw: raw, digest: digestOf(raw), name: name, element: element, value: value}, nil
}

// parseDisclosure decodes one Disclosure strictly: base64url, a JSON array
// of a string salt and either a string name and a value or a value.
func parseDisclosure(raw string) (*disclosure, error) {
	b, err := b64.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: disclosure is not base64url", vc.ErrMalformed)
	}
	v, err := vc.DecodeValue(b)
	if err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	a, ok := v.([]any)
	if !ok || len(a) < 2 || len(a) > 3 {
		return nil, fmt.Errorf("%w: disclosure is not an array of 2 or 3 elements", vc.ErrMalformed)
	}
	if _, ok := a[0].(string); !ok {
		return nil, fmt.Errorf("%w: disclosure salt is not a string", vc.ErrMalformed)
	}
	d := &disclosure{raw: raw, digest: digestOf(raw), value: a[len(a)-1], element: len(a) == 2}
	if !d.element {
		if d.name, ok = a[1].(string); !ok {
			return nil, fmt.Errorf("%w: disclosure claim name is not a string", vc.ErrMalformed)
		}
		if d.name == "_sd" || d.name == "..." {
			return nil, fmt.Errorf("%w: disclosure claim name %q", vc.ErrMalformed, d.name)
		}
	}
	return d, nil
}

// Claim paths are JSON Pointers (RFC 6901) into the claims.
var (
	escaper   = strings.NewReplacer("~", "~0", "/", "~1")
	unescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// pointer appends a member name or array index to a JSON Pointer.
func pointer(base string, token any) string {
	switch t := token.(type) {
	case int:
		return base + "/" + strconv.Itoa(t)
	case string:
		return base + "/" + escaper.Replace(t)
	}
	return base
}

// splitPointer parses a JSON Pointer into its unescaped tokens.
func splitPointer(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w: claim path %q is not a JSON Pointer", vc.ErrMalformed, p)
	}
	tokens := strings.Split(p[1:], "/")
	for i, t := range tokens {
		tokens[i] = unescaper.Replace(t)
	}
	return tokens, nil
}

// within reports whether path is p itself or below it.
func within(path, p string) bool {
	return path == p || strings.HasPrefix(path, p+"/")
}
