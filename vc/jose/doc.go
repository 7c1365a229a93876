// Package jose secures credentials and presentations with JOSE: the W3C
// Recommendation "Securing Verifiable Credentials using JOSE and COSE"
// (application/vc+jwt and application/vp+jwt, EdDSA and ES256), the
// enveloped forms that carry such tokens inside VC 2.0 documents, and, for
// verification only, the JWTs of VC Data Model 1.1 §6.3.1 (vc and vp
// claims).
//
// # Tokens
//
// A vc+jwt is a compact JWS whose payload is the unsecured credential
// itself, with the protected header {alg, typ "vc+jwt", cty "vc", kid}; the
// kid is the issuer's verification method, an absolute DID URL. A vp+jwt is
// the same for a presentation, signed by the holder, with the JWT claims
// iat, aud and nonce next to the presentation's members. Verify requires
// typ (RFC 8725 §3.11 explicit typing); the draft names vc-ld+jwt and
// vc+ld+json+jwt, never registered, are refused as unsupported. A JWT with
// typ absent or "JWT" and a vc or vp claim is read as VC 1.1.
//
// # Keys
//
// The key is never taken from the token: jwk, jku, x5u and x5c are
// ignored, crit and b64 refused. The kid (a relative "#key" is joined to
// the issuer or holder) is looked up through a vc.KeyResolver for
// assertionMethod (credentials) or authentication (presentations); its DID
// must be the issuer (holder), and the header's alg must be the one
// algorithm of the resolved key's type, so "none", HMAC and algorithm
// confusion cannot verify. Signing and signature checks are done by jwx
// (github.com/lestrrat-go/jwx/v3); Credence parses the compact form itself,
// strictly (canonical base64url, one pass), and decodes the payload once.
//
// The payload must be typed as what the token says it secures
// (VerifiableCredential for vc+jwt, VerifiablePresentation for vp+jwt), so
// neither can pass for the other. ES256 signatures with a high S are
// accepted, as other JOSE libraries produce them.
//
// # Primitives
//
// Parse, (*JWS).Verify and Sign are the compact-JWS layer that vc/sdjwt
// builds on; VerificationMethod binds a kid to its issuer; CheckTimes and
// NumericDate enforce exp, nbf and iat. Headers, payloads and disclosures
// are decoded with vc.DecodeObject's rules (json.Number, no repeated member,
// bounded depth and size).
package jose
