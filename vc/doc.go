// Package vc is the W3C Verifiable Credentials data model (2.0 for everything
// Credence issues, 1.1 accepted for verification) and the seams shared by the
// securing mechanisms in its subpackages.
//
// # Layout
//
//   - vc: credentials and presentations as JSON objects with typed accessors,
//     the data-model validation rules, the Signer and KeyResolver seams and
//     the error sentinels every mechanism wraps.
//   - vc/ld: the embedded JSON-LD contexts (nothing is fetched at run time)
//     and RDF canonicalization (RDFC-1.0 on json-gold) with processed-context
//     caching, the hot path of Data Integrity verification.
//   - vc/di: Data Integrity proofs: eddsa-rdfc-2022, eddsa-jcs-2022 and
//     Ed25519Signature2020 for VC 1.1 peers.
//   - vc/jose: VC-JOSE (application/vc+jwt, EdDSA and ES256), the enveloped
//     form, and VC 1.1 JWTs (the vc claim) for verification.
//   - vc/sdjwt: IETF SD-JWT VC, selective disclosure with key binding.
//   - vc/healthcare: the credential types of the healthcare domain, their
//     JSON-LD context and the JSON Schemas their subjects must satisfy.
//   - vc/secure: one entry point that issues in a chosen format and verifies
//     any format, detecting it from the input.
//
// # Keys over time
//
// A credential's proof is checked against the key its issuer authorized
// when it was signed: the mechanisms pass the proof's signing time (Data
// Integrity created, JWT iat) to the KeyResolver in the context
// (WithSigningTime), and DIDKeys looks a key the current DID document no
// longer authorizes up in the version in effect then, under the rules of
// DIDKeys.PublicKey. Presentations authenticate their holder with a
// current key only.
//
// # Errors
//
// Every failure wraps one of ErrMalformed, ErrUnsupported, ErrKey,
// ErrSignature or ErrProofOptions, so callers can map them to reason codes
// with errors.Is without parsing messages.
package vc
