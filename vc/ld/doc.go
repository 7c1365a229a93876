// Package ld holds the JSON-LD contexts Credence understands and turns
// JSON-LD documents into canonical RDF (RDFC-1.0, formerly URDNA2015), the
// data that Data Integrity proofs such as eddsa-rdfc-2022 hash and sign.
//
// # Contexts
//
// Every context is embedded, byte for byte as published (contexts/README.md
// records where each file came from and its SHA-256). Nothing is ever
// fetched: a document naming a context the Processor does not hold fails
// with vc.ErrUnsupported. Callers add their own contexts, such as the
// healthcare context, with WithContext.
//
// # Canonicalization
//
// json-gold (github.com/piprate/json-gold) expands the document. This
// package then converts the expansion to RDF and runs RDFC-1.0 itself:
//
//   - Data JSON-LD would drop silently (undefined terms, relative IRIs) is
//     an error, as Data Integrity requires: dropped data is not signed.
//   - Canonicalization stops after a bounded amount of work, so datasets
//     built to make it exponential ("poisoned") are rejected, as the EdDSA
//     cryptosuites require.
//   - Literals are escaped as canonical N-Quads require (json-gold leaves
//     control characters other than \t \n \r raw).
//   - Integers of magnitude 2^63 to 10^21 become xsd:integer, as JSON-LD
//     says, where json-gold writes xsd:double.
//   - The values of a term with a @graph container and a null scoped
//     context, such as the credentials of a presentation
//     (verifiableCredential in the VC 2.0 context), become named graphs of
//     their own, as JSON-LD 1.1 and jsonld.js make them, where json-gold
//     v0.9.1 puts their triples into the default graph (graphterm.go).
//
// # Performance
//
// Canonicalization is the hot path of issuing and verifying. A Processor
// decodes each context once and processes the active context of each
// distinct @context value once (a bounded cache).
//
// Canonicalize expands the documents Credence signs and verifies (VC 2.0
// and 1.1 credentials, proof configurations, DID documents) with its own
// expander (expand.go), which follows json-gold's expansion step by step
// for a subset of JSON-LD, leaves each decision about a key or a value to
// json-gold's context (ExpandIri, ExpandValue) and keeps every active
// context it builds (type-scoped, property-scoped, reverted), where
// json-gold copies the whole active context at every typed node and every
// node below one. It converts that expansion to quads directly (emit.go),
// as toRDF would convert json-gold's node map. Anything outside the subset
// (value objects, @graph, most embedded contexts, @json, ...) falls back to
// json-gold, before any result is produced; the tests hold the expansion
// equal to json-gold's (reflect.DeepEqual) and the N-Quads byte for byte on
// every test document, tens of thousands of variants of credentials and
// under fuzzing.
//
// On the json-gold path, json-gold uses a *ld.Context found in a document's
// @context as the active context as-is. Type-scoped contexts (those of
// VerifiableCredential, DataIntegrityProof, ...) are processed once too,
// where a document allows it (see fastContext and usable); the tests check
// that the result is byte for byte json-gold's. IRI validity, a costly
// regular expression in json-gold, is remembered per process.
//
// # Undefined terms
//
// CheckTerms rejects properties and types no context defines, or that only
// a catch-all @vocab defines, naming each by JSON Pointer: the check the
// VC 2.0 data model asks issuers to make before signing.
//
// # Limits
//
// Documents deeper than MaxDepth or larger than MaxValues values or
// MaxStringBytes bytes of strings are rejected with vc.ErrMalformed before
// any JSON-LD processing.
package ld
