package di

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/gowebpki/jcs"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/ld"
)

// Suite names a cryptographic suite.
type Suite string

// The suites of this package.
const (
	EdDSARDFC2022        Suite = "eddsa-rdfc-2022"
	EdDSAJCS2022         Suite = "eddsa-jcs-2022"
	Ed25519Signature2020 Suite = "Ed25519Signature2020"
)

// Proof types.
const (
	typeDataIntegrity = "DataIntegrityProof"
	typeEd25519_2020  = "Ed25519Signature2020"
)

// proofType returns the proof type of s and its cryptosuite ("" for none).
func (s Suite) proofType() (typ, cryptosuite string, err error) {
	switch s {
	case EdDSARDFC2022, EdDSAJCS2022:
		return typeDataIntegrity, string(s), nil
	case Ed25519Signature2020:
		return typeEd25519_2020, "", nil
	}
	return "", "", fmt.Errorf("%w: cryptosuite %q", vc.ErrUnsupported, s)
}

// suiteOf names the suite of a proof from its type and cryptosuite.
func suiteOf(proof map[string]any) (Suite, error) {
	typ, _ := proof["type"].(string)
	cs, hasCS := proof["cryptosuite"]
	switch typ {
	case typeDataIntegrity:
		s, _ := cs.(string)
		if s := Suite(s); s == EdDSARDFC2022 || s == EdDSAJCS2022 {
			return s, nil
		}
		return "", fmt.Errorf("%w: cryptosuite %v", vc.ErrUnsupported, cs)
	case typeEd25519_2020:
		if hasCS {
			return "", fmt.Errorf("%w: Ed25519Signature2020 proof with a cryptosuite", vc.ErrMalformed)
		}
		return Ed25519Signature2020, nil
	case "":
		return "", fmt.Errorf("%w: proof has no type", vc.ErrMalformed)
	}
	return "", fmt.Errorf("%w: proof type %q", vc.ErrUnsupported, typ)
}

// rdf reports whether s canonicalizes with RDFC-1.0 rather than JCS.
func (s Suite) rdf() bool { return s != EdDSAJCS2022 }

// suiteContexts lists the contexts any of which defines the proof terms of
// s; Sign adds the first when the document has none of them.
func (s Suite) suiteContexts() []string {
	switch s {
	case EdDSARDFC2022:
		return []string{ld.DataIntegrityV2, ld.CredentialsV2, ld.DataIntegrityV1}
	case Ed25519Signature2020:
		return []string{ld.Ed25519Signature2020V1}
	}
	return nil
}

// hashData is SHA-256 of the canonical proof configuration followed by
// SHA-256 of the canonical document.
func (e *Engine) hashData(s Suite, doc, config map[string]any) ([]byte, error) {
	canonDoc, err := e.canonical(s, doc)
	if err != nil {
		return nil, fmt.Errorf("failed to canonicalize the document: %w", err)
	}
	canonConfig, err := e.canonical(s, config)
	if err != nil {
		return nil, fmt.Errorf("failed to canonicalize the proof configuration: %w", err)
	}
	h1, h2 := sha256.Sum256(canonConfig), sha256.Sum256(canonDoc)
	return slices.Concat(h1[:], h2[:]), nil
}

// canonical canonicalizes doc as suite s does.
func (e *Engine) canonical(s Suite, doc map[string]any) ([]byte, error) {
	if s.rdf() {
		return e.ld.Canonicalize(doc)
	}
	return canonicalJSON(doc)
}

func canonicalJSON(doc map[string]any) ([]byte, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", vc.ErrMalformed, err)
	}
	out, err := jcs.Transform(b)
	if err != nil {
		return nil, fmt.Errorf("%w: JCS: %w", vc.ErrMalformed, err)
	}
	return out, nil
}
