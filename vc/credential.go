package vc

import (
	"time"
)

// Base contexts of the two data model versions.
const (
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
)

// Base types.
const (
	TypeCredential            = "VerifiableCredential"
	TypePresentation          = "VerifiablePresentation"
	TypeEnvelopedCredential   = "EnvelopedVerifiableCredential"
	TypeEnvelopedPresentation = "EnvelopedVerifiablePresentation"
)

// Version is a version of the VC data model.
type Version int

// Data model versions. Credence issues V2 in every format, and V1 only with
// Data Integrity proofs (VC-JOSE-COSE secures VC 2.0 documents only); V1
// JWTs and Linked Data proofs are accepted for verification.
const (
	VersionUnknown Version = iota
	V1
	V2
)

// Credential is a verifiable credential as its decoded JSON object. Proofs
// sign the exact object, so it is kept as such; the methods read it.
type Credential map[string]any

// ParseCredential decodes (strictly, see DecodeObject) and validates a
// credential, reporting every data model violation at once.
func ParseCredential(b []byte) (Credential, error) {
	m, err := DecodeObject(b)
	if err != nil {
		return nil, err
	}
	c := Credential(m)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Version reports the data model version from the first @context entry.
func (c Credential) Version() Version { return version(c["@context"]) }

func version(ctx any) Version {
	first := ctx
	if a, ok := ctx.([]any); ok && len(a) > 0 {
		first = a[0]
	}
	switch first {
	case ContextV2:
		return V2
	case ContextV1:
		return V1
	}
	return VersionUnknown
}

// ID is the credential's id, or "".
func (c Credential) ID() string { s, _ := c["id"].(string); return s }

// Types lists the credential's types.
func (c Credential) Types() []string { return Strings(c["type"]) }

// HasType reports whether t is among the credential's types.
func (c Credential) HasType(t string) bool { return hasString(c["type"], t) }

// Issuer is the issuer's id (a string issuer or the id of an issuer object).
func (c Credential) Issuer() string { return idOf(c["issuer"]) }

// Subjects lists the credentialSubject objects.
func (c Credential) Subjects() []map[string]any { return Objects(c["credentialSubject"]) }

// SubjectIDs lists the ids of the subjects that have one.
func (c Credential) SubjectIDs() []string {
	var ids []string
	for _, s := range c.Subjects() {
		if id, ok := s["id"].(string); ok && id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// ValidFrom is validFrom (V2) or issuanceDate (V1).
func (c Credential) ValidFrom() (time.Time, bool) {
	if c.Version() == V1 {
		return timeOf(c["issuanceDate"])
	}
	return timeOf(c["validFrom"])
}

// ValidUntil is validUntil (V2) or expirationDate (V1).
func (c Credential) ValidUntil() (time.Time, bool) {
	if c.Version() == V1 {
		return timeOf(c["expirationDate"])
	}
	return timeOf(c["validUntil"])
}

// Status lists the credentialStatus objects.
func (c Credential) Status() []map[string]any { return Objects(c["credentialStatus"]) }

// Proofs lists the embedded proofs.
func (c Credential) Proofs() []map[string]any { return Objects(c["proof"]) }

// Strings reads a JSON string or array of strings; other members are skipped.
func Strings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Objects reads a JSON object or array of objects; other members are skipped.
func Objects(v any) []map[string]any {
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}
	case []any:
		out := make([]map[string]any, 0, len(t))
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func hasString(v any, want string) bool {
	switch t := v.(type) {
	case string:
		return t == want
	case []any:
		for _, e := range t {
			if e == want {
				return true
			}
		}
	}
	return false
}

func idOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		s, _ := t["id"].(string)
		return s
	}
	return ""
}

func timeOf(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseDateTime(s)
	return t, err == nil
}
