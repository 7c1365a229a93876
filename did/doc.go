// Package did owns decentralized identifiers: the DID and DID URL syntax of DID Core,
// DID documents, the key encodings they carry (Multikey, JSON Web Key and the legacy
// suite formats), the methods Credence resolves (did:key, did:jwk, did:web) and a
// Resolver that dispatches by method with a cache.
//
// # Scope
//
// The package has no HTTP framework and no storage driver: the HTTP binding of DID
// Resolution lives in internal/didapi, did:credence (the ledger method) in registry.
//
// # Why not aries-framework-go
//
// aries-framework-go v0.3.2 (archived in 2024) models DID documents of the 2019–2021
// drafts: its did:key VDR emits only Ed25519VerificationKey2018 documents, it has no
// Multikey verification method and no P-256 did:key, so it cannot reproduce the did:key
// specification's vectors or the current default representation. This package owns the
// model instead and uses jwx/v4 for JWK parsing and go-multibase/go-multicodec for keys.
package did
