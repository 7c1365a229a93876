// Package sdjwt issues, presents and verifies SD-JWT VCs: Selective
// Disclosure for JWTs (RFC 9901) profiled by draft-ietf-oauth-sd-jwt-vc,
// the credential format where the holder reveals only the claims a
// verifier asks for and proves possession of a key with a Key Binding JWT.
//
// # Issuance
//
// Issue signs a payload of visible claims (iss, iat, vct, cnf, status, nbf,
// exp and whatever the issuer leaves in clear) and digests of the
// selectively disclosable ones, named by JSON Pointer: object members at
// any depth, array elements, and recursive combinations. The header is
// {alg, typ "dc+sd-jwt", kid}; _sd_alg is sha-256, salts are 128 bits from
// crypto/rand (WithRand injects them for reproducible tests), _sd arrays
// are sorted and WithDecoys adds decoy digests. Disclosures are encoded as
// in the RFC's examples, `["salt", "name", value]`, so its published
// Disclosures come out byte for byte.
//
// # Presentation
//
// Select keeps the Disclosures of the requested paths (and those they are
// nested in); Present adds a Key Binding JWT (typ kb+jwt, iat, aud, nonce,
// sd_hash) signed with the holder's key, which must be the cnf.jwk key.
//
// # Verification
//
// Verify resolves the issuer's key by kid through a vc.KeyResolver
// (assertionMethod; iss must be the kid's DID), pins alg to the key type
// (EdDSA or ES256), accepts typ dc+sd-jwt and the earlier vc+sd-jwt, and
// processes Disclosures strictly: each referenced exactly once, no digest
// twice, no claim name collision, no _sd or "..." claim, no selectively
// disclosed registered claim (iss, exp, cnf, vct, status...). exp and nbf
// are enforced; the KB-JWT, required by VerifyOptions.KeyBinding, is
// verified with cnf.jwk, its aud, nonce, age and sd_hash checked. The
// result lists the disclosed paths next to the processed claims.
package sdjwt
