package sdjwt

import (
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/jose"
)

// Credential is what an issuer puts in an SD-JWT VC.
type Credential struct {
	// VCT is the credential type (vct), a collision-resistant name.
	VCT string
	// Claims are the credential's claims; none of the registered claims
	// below, nor _sd, _sd_alg or "...", may appear among them.
	Claims map[string]any
	// Disclose lists the JSON Pointers (RFC 6901) of the claims the holder
	// may disclose selectively: object members at any depth and array
	// elements ("/nationalities/0"). A path below another one makes a
	// recursive disclosure.
	Disclose []string
	// Holder is the holder's public key, carried as cnf.jwk for key
	// binding; nil means none.
	Holder crypto.PublicKey
	// Status is the status claim (a Token Status List reference), if any.
	Status map[string]any
	// IssuedAt is iat (zero: now); NotBefore and Expires are nbf and exp
	// (zero: absent).
	IssuedAt, NotBefore, Expires time.Time
}

// Option adjusts Issue and Present.
type Option func(*config)

type config struct {
	rand   io.Reader
	now    func() time.Time
	decoys int
}

// WithRand sets the source of salts and decoy digests (crypto/rand by
// default): tests use it to reproduce published Disclosures.
func WithRand(r io.Reader) Option { return func(c *config) { c.rand = r } }

// WithClock sets the time of iat claims.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithDecoys adds n decoy digests to the top-level _sd array (RFC 9901
// §4.2.5), hiding how many claims are selectively disclosable.
func WithDecoys(n int) Option { return func(c *config) { c.decoys = n } }

func newConfig(opts []Option) config {
	c := config{rand: rand.Reader, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// reserved are the claims Issue sets itself.
var reserved = []string{"iss", "iat", "nbf", "exp", "vct", "cnf", "status", "_sd", "_sd_alg"}

// Issue creates an SD-JWT VC: the issuer-signed JWT (typ dc+sd-jwt, kid
// the issuer's verification method, iss its DID, _sd_alg sha-256, sorted
// _sd arrays) followed by every Disclosure, "<JWT>~<D1>~...~<Dn>~". Salts
// are 128 bits. Disclosures are made deepest path first, then in the order
// given, which is also the order salts are drawn in.
func Issue(ctx context.Context, c Credential, issuer vc.Signer, opts ...Option) (string, error) {
	cfg := newConfig(opts)
	payload, err := c.payload(issuer, cfg)
	if err != nil {
		return "", err
	}
	h := &hider{cfg: cfg}
	if err := h.hideAll(payload, c.Disclose); err != nil {
		return "", err
	}
	if err := h.decoys(payload); err != nil {
		return "", err
	}
	b, err := vc.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("%w: failed to encode the SD-JWT payload: %w", vc.ErrMalformed, err)
	}
	jwt, err := jose.Sign(ctx, jose.Header{Typ: TypeSDJWTVC, Kid: issuer.VerificationMethod}, b, issuer)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	sb.WriteString(jwt + "~")
	for _, d := range h.made {
		sb.WriteString(d.raw + "~")
	}
	return sb.String(), nil
}

// payload builds the JWT claims before hiding: a JSON copy of the claims
// (so paths walk plain maps and slices) and the registered claims.
func (c Credential) payload(issuer vc.Signer, cfg config) (map[string]any, error) {
	if c.VCT == "" {
		return nil, fmt.Errorf("%w: SD-JWT VC without a vct", vc.ErrMalformed)
	}
	for _, name := range reserved {
		if _, ok := c.Claims[name]; ok {
			return nil, fmt.Errorf("%w: claim %s is set by Issue, not by the caller", vc.ErrMalformed, name)
		}
	}
	u, err := did.ParseURL(issuer.VerificationMethod)
	if err != nil || u.Fragment == "" {
		return nil, fmt.Errorf("%w: issuer verification method %q is not a DID URL with a fragment", vc.ErrKey, issuer.VerificationMethod)
	}
	if c.Claims == nil {
		c.Claims = map[string]any{}
	}
	b, err := vc.Marshal(c.Claims)
	if err != nil {
		return nil, fmt.Errorf("%w: failed to encode the claims: %w", vc.ErrMalformed, err)
	}
	p, err := vc.DecodeObject(b)
	if err != nil {
		return nil, err
	}
	if err := checkNames(p, ""); err != nil {
		return nil, err
	}
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = cfg.now()
	}
	p["iss"], p["iat"], p["vct"], p["_sd_alg"] = u.DID.String(), iat.Unix(), c.VCT, HashAlg
	setTime(p, "nbf", c.NotBefore)
	setTime(p, "exp", c.Expires)
	if c.Status != nil {
		p["status"] = c.Status
	}
	if c.Holder != nil {
		jwk, err := did.NewJWK(c.Holder)
		if err != nil {
			return nil, fmt.Errorf("%w: holder key: %w", vc.ErrUnsupported, err)
		}
		p["cnf"] = map[string]any{"jwk": jwk}
	}
	return p, nil
}

func setTime(m map[string]any, name string, t time.Time) {
	if !t.IsZero() {
		m[name] = t.Unix()
	}
}

// sortDigests sorts the _sd array of m, so the order of digests says
// nothing about the order of claims (§4.2.4.1).
func sortDigests(m map[string]any) {
	if sd, ok := m["_sd"].([]any); ok {
		sort.Slice(sd, func(i, j int) bool { return sd[i].(string) < sd[j].(string) })
	}
}
