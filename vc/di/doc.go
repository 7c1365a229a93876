// Package di creates and verifies W3C Data Integrity proofs with the EdDSA
// cryptosuites: eddsa-rdfc-2022 and eddsa-jcs-2022 (Data Integrity EdDSA
// Cryptosuites v1.0) and Ed25519Signature2020, the suite VC 1.1 peers use.
//
// # Signing
//
// A proof signs SHA-256(canonical proof configuration) followed by
// SHA-256(canonical document without its proofs) with Ed25519; proofValue
// is the signature in multibase base58btc. RDFC-1.0 (vc/ld) canonicalizes
// for eddsa-rdfc-2022 and Ed25519Signature2020, JCS (RFC 8785) for
// eddsa-jcs-2022. Signing a document that already has proofs makes a proof
// set; Options.PreviousProof makes a proof chain.
//
// # Verifying
//
// Every proof of a document must verify. For each, in this order: its shape
// (vc.ErrMalformed) and suite (vc.ErrUnsupported); what the verifier asked
// for and the proof's own validity period (vc.ErrProofOptions); its key,
// resolved for the proof's purpose (vc.ErrKey); its signature
// (vc.ErrSignature).
//
// # Data loss
//
// JSON-LD drops data no context defines, and dropped data is not signed.
// As Data Integrity requires, canonicalization fails instead, both when
// signing and when verifying.
package di
