package did

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Well-known JSON-LD contexts of DID documents and verification method suites.
const (
	ContextDIDv1         = "https://www.w3.org/ns/did/v1"
	ContextMultikey      = "https://w3id.org/security/multikey/v1"
	ContextJWS2020       = "https://w3id.org/security/suites/jws-2020/v1"
	ContextEd25519v2018  = "https://w3id.org/security/suites/ed25519-2018/v1"
	ContextX25519v2019   = "https://w3id.org/security/suites/x25519-2019/v1"
	ContextEd25519v2020  = "https://w3id.org/security/suites/ed25519-2020/v1"
	ContextX25519v2020   = "https://w3id.org/security/suites/x25519-2020/v1"
	ContextMultikey2021  = "https://w3id.org/security/suites/multikey-2021/v1"
	ContextDIDResolution = "https://w3id.org/did-resolution/v1"
	TypeMultikey         = "Multikey"
	TypeJSONWebKey2020   = "JsonWebKey2020"
	TypeEd25519v2018     = "Ed25519VerificationKey2018"
	TypeEd25519v2020     = "Ed25519VerificationKey2020"
	TypeX25519v2019      = "X25519KeyAgreementKey2019"
	TypeX25519v2020      = "X25519KeyAgreementKey2020"
	TypeP256Key2021      = "P256Key2021"
)

// Document is a DID document (DID Core §5). Field order is the serialization order.
type Document struct {
	Context              Context              `json:"@context,omitempty"`
	ID                   string               `json:"id"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	Controller           StringSet            `json:"controller,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod,omitempty"`
	AssertionMethod      []Relationship       `json:"assertionMethod,omitempty"`
	Authentication       []Relationship       `json:"authentication,omitempty"`
	CapabilityInvocation []Relationship       `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []Relationship       `json:"capabilityDelegation,omitempty"`
	KeyAgreement         []Relationship       `json:"keyAgreement,omitempty"`
	Service              []Service            `json:"service,omitempty"`
}

// VerificationMethod is a public key of a DID document.
type VerificationMethod struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Controller         string `json:"controller"`
	PublicKeyMultibase string `json:"publicKeyMultibase,omitempty"`
	PublicKeyBase58    string `json:"publicKeyBase58,omitempty"`
	PublicKeyJwk       *JWK   `json:"publicKeyJwk,omitempty"`
}

// Service is a service endpoint of a DID document. The endpoint is a URL string, a
// map or a set, kept as raw JSON.
type Service struct {
	ID              string          `json:"id"`
	Type            StringSet       `json:"type"`
	ServiceEndpoint json.RawMessage `json:"serviceEndpoint"`
}

// Relationship is one entry of a verification relationship: a reference to a
// verification method, or an embedded one.
type Relationship struct {
	Ref    string
	Method *VerificationMethod
}

// MarshalJSON writes a reference as a string and an embedded method as an object.
func (r Relationship) MarshalJSON() ([]byte, error) {
	if r.Method != nil {
		return json.Marshal(r.Method)
	}
	return json.Marshal(r.Ref)
}

// UnmarshalJSON reads a string reference or an embedded verification method.
func (r *Relationship) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &r.Ref)
	}
	var m VerificationMethod
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("verification relationship: %w", err)
	}
	r.Method = &m
	return nil
}

// ID returns the verification method id the relationship names.
func (r Relationship) ID() string {
	if r.Method != nil {
		return r.Method.ID
	}
	return r.Ref
}

// Context is a JSON-LD @context: a string or an array of strings and objects.
type Context []any

// UnmarshalJSON accepts a single string or an array.
func (c *Context) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '[' {
		var one any
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*c = Context{one}
		return nil
	}
	var many []any
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*c = many
	return nil
}

// StringSet is a JSON value that is a string or an array of strings.
type StringSet []string

// MarshalJSON writes one element as a bare string.
func (s StringSet) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON accepts a string or an array of strings.
func (s *StringSet) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// Method returns the verification method with the given id (absolute, or a
// fragment reference such as "#key-1"), searching embedded methods too.
func (d *Document) Method(id string) (*VerificationMethod, bool) {
	abs := absoluteRef(d.ID, id)
	for i := range d.VerificationMethod {
		if absoluteRef(d.ID, d.VerificationMethod[i].ID) == abs {
			return &d.VerificationMethod[i], true
		}
	}
	for _, rel := range d.relationships() {
		for _, r := range rel {
			if r.Method != nil && absoluteRef(d.ID, r.Method.ID) == abs {
				return r.Method, true
			}
		}
	}
	return nil, false
}

// Authorizes reports whether the document lists the verification method id under
// the named relationship ("assertionMethod", "authentication", ...).
func (d *Document) Authorizes(relationship, id string) bool {
	abs := absoluteRef(d.ID, id)
	for _, r := range d.relationship(relationship) {
		if absoluteRef(d.ID, r.ID()) == abs {
			return true
		}
	}
	return false
}

func (d *Document) relationship(name string) []Relationship {
	switch name {
	case "assertionMethod":
		return d.AssertionMethod
	case "authentication":
		return d.Authentication
	case "capabilityInvocation":
		return d.CapabilityInvocation
	case "capabilityDelegation":
		return d.CapabilityDelegation
	case "keyAgreement":
		return d.KeyAgreement
	}
	return nil
}

func (d *Document) relationships() [][]Relationship {
	return [][]Relationship{d.AssertionMethod, d.Authentication, d.CapabilityInvocation, d.CapabilityDelegation, d.KeyAgreement}
}

func absoluteRef(base, ref string) string {
	if len(ref) > 0 && (ref[0] == '#' || ref[0] == '?' || ref[0] == '/') {
		return base + ref
	}
	return ref
}

// Validate checks the structural rules of DID Core that a consumer relies on: the id
// is a DID, verification method ids are DID URLs and unique, controllers are DIDs, every
// relationship reference resolves, and each method carries exactly one key encoding.
func (d *Document) Validate() error {
	if _, err := Parse(d.ID); err != nil {
		return fmt.Errorf("%w: id: %w", ErrInvalidDIDDocument, err)
	}
	for _, c := range d.Controller {
		if _, err := Parse(c); err != nil {
			return fmt.Errorf("%w: controller: %w", ErrInvalidDIDDocument, err)
		}
	}
	seen := map[string]bool{}
	check := func(m *VerificationMethod) error {
		abs := absoluteRef(d.ID, m.ID)
		if seen[abs] {
			return fmt.Errorf("%w: duplicate verification method id %q", ErrInvalidDIDDocument, m.ID)
		}
		seen[abs] = true
		return m.validate(d.ID)
	}
	for i := range d.VerificationMethod {
		if err := check(&d.VerificationMethod[i]); err != nil {
			return err
		}
	}
	for _, rel := range d.relationships() {
		for _, r := range rel {
			if r.Method != nil {
				if err := check(r.Method); err != nil {
					return err
				}
			}
		}
	}
	for _, rel := range d.relationships() {
		for _, r := range rel {
			if r.Method == nil && !seen[absoluteRef(d.ID, r.Ref)] {
				return fmt.Errorf("%w: relationship references unknown verification method %q", ErrInvalidDIDDocument, r.Ref)
			}
		}
	}
	return nil
}

func (m *VerificationMethod) validate(docID string) error {
	if _, err := ParseURL(absoluteRef(docID, m.ID)); err != nil {
		return fmt.Errorf("%w: verification method id: %w", ErrInvalidDIDDocument, err)
	}
	if m.Type == "" {
		return fmt.Errorf("%w: verification method %q has no type", ErrInvalidDIDDocument, m.ID)
	}
	if _, err := Parse(m.Controller); err != nil {
		return fmt.Errorf("%w: verification method %q controller: %w", ErrInvalidDIDDocument, m.ID, err)
	}
	n := 0
	for _, set := range []bool{m.PublicKeyMultibase != "", m.PublicKeyBase58 != "", m.PublicKeyJwk != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: verification method %q must carry exactly one public key encoding", ErrInvalidDIDDocument, m.ID)
	}
	return nil
}
