package di

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/ld"
)

// Engine signs and verifies Data Integrity proofs. It is safe for
// concurrent use.
type Engine struct {
	ld  *ld.Processor
	now func() time.Time
}

// New returns an Engine canonicalizing with p.
func New(p *ld.Processor) *Engine {
	return &Engine{ld: p, now: time.Now}
}

// Options are the proof options of Sign.
type Options struct {
	Suite         Suite     // default eddsa-rdfc-2022
	Purpose       string    // default vc.PurposeAssertion
	Created       time.Time // default now; kept to the second
	Expires       time.Time // optional
	Challenge     string    // optional
	Domain        string    // optional
	ID            string    // optional, the proof's id
	PreviousProof []string  // optional: ids of the proofs this one chains to
}

// Sign returns a copy of doc with a new proof by s, appended to the proofs
// doc already has (a proof set, or a chain with PreviousProof). For
// eddsa-rdfc-2022 and Ed25519Signature2020 the copy's @context gains the
// suite's context when doc has none defining the proof's terms. doc is not
// modified.
func (e *Engine) Sign(ctx context.Context, doc map[string]any, s vc.Signer, o Options) (map[string]any, error) {
	key, err := ed25519Signer(s)
	if err != nil {
		return nil, err
	}
	opts, err := e.proofOptions(s.VerificationMethod, o)
	if err != nil {
		return nil, err
	}
	all, err := proofs(doc)
	if err != nil {
		return nil, err
	}
	out := withSuiteContext(doc, o.suite())
	input, err := unsecured(out, all, o.PreviousProof)
	if err != nil {
		return nil, err
	}
	proof, err := e.createProof(o.suite(), input, opts, key)
	if err != nil {
		return nil, err
	}
	out["proof"] = proof
	if len(all) > 0 {
		set := make([]any, 0, len(all)+1)
		for _, p := range all {
			set = append(set, p)
		}
		out["proof"] = append(set, proof)
	}
	return out, nil
}

func (o Options) suite() Suite {
	if o.Suite == "" {
		return EdDSARDFC2022
	}
	return o.Suite
}

// ed25519Signer checks that s holds an Ed25519 key.
func ed25519Signer(s vc.Signer) (crypto.Signer, error) {
	if s.Key == nil {
		return nil, fmt.Errorf("%w: signer has no key", vc.ErrUnsupported)
	}
	if _, ok := s.Key.Public().(ed25519.PublicKey); !ok {
		return nil, fmt.Errorf("%w: the EdDSA suites need an Ed25519 key, not %T", vc.ErrUnsupported, s.Key.Public())
	}
	return s.Key, nil
}

// proofOptions builds the proof, without proofValue, that o describes.
func (e *Engine) proofOptions(vm string, o Options) (map[string]any, error) {
	typ, cs, err := o.suite().proofType()
	if err != nil {
		return nil, err
	}
	if vm == "" {
		return nil, fmt.Errorf("%w: signer has no verification method", vc.ErrMalformed)
	}
	created := o.Created
	if created.IsZero() {
		created = e.now()
	}
	p := map[string]any{
		"type":               typ,
		"created":            dateTime(created),
		"verificationMethod": vm,
		"proofPurpose":       cmpOr(o.Purpose, vc.PurposeAssertion),
	}
	optional := map[string]string{"cryptosuite": cs, "challenge": o.Challenge, "domain": o.Domain, "id": o.ID}
	if !o.Expires.IsZero() {
		optional["expires"] = dateTime(o.Expires)
	}
	for k, v := range optional {
		if v != "" {
			p[k] = v
		}
	}
	switch len(o.PreviousProof) {
	case 0:
	case 1:
		p["previousProof"] = o.PreviousProof[0]
	default:
		p["previousProof"] = toAny(o.PreviousProof)
	}
	return p, nil
}

// createProof signs input, returning the proof: options with proofValue
// (and, for eddsa-jcs-2022, the document's @context).
func (e *Engine) createProof(s Suite, input, options map[string]any, key crypto.Signer) (map[string]any, error) {
	proof := maps.Clone(options)
	if c, ok := input["@context"]; ok && s == EdDSAJCS2022 {
		proof["@context"] = c
	}
	hash, err := e.hashData(s, input, proofConfig(s, input, proof))
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(nil, hash, crypto.Hash(0))
	if err != nil {
		return nil, fmt.Errorf("failed to sign: %w", err)
	}
	proof["proofValue"] = encodeProofValue(sig)
	return proof, nil
}

// proofConfig is the proof without proofValue; for the RDF suites its
// @context is the document's.
func proofConfig(s Suite, doc, proof map[string]any) map[string]any {
	config := maps.Clone(proof)
	delete(config, "proofValue")
	if s.rdf() {
		config["@context"] = doc["@context"]
	}
	return config
}

// withSuiteContext returns a shallow copy of doc whose @context defines the
// proof terms of s, adding the suite's context if needed.
func withSuiteContext(doc map[string]any, s Suite) map[string]any {
	out := maps.Clone(doc)
	want := s.suiteContexts()
	if len(want) == 0 {
		return out
	}
	have := list(doc["@context"])
	if slices.ContainsFunc(have, func(c any) bool { u, _ := c.(string); return slices.Contains(want, u) }) {
		return out
	}
	out["@context"] = append(slices.Clone(have), want[0])
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
