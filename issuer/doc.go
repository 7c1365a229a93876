// Package issuer is the issuance workflow of Credence: issuer tenants
// (boards, facilities, identity providers), the credential types each may
// issue, single and bulk issuance, and the inventory of what was issued.
//
// # Tenants
//
// A tenant has a did:credence DID registered on the ledger, whose assertion
// key lives in the key manager and follows rotations (the signing key is read
// from the ledger state, never cached past a request or a batch), the
// jurisdictions it is recognized for, the credential types it may issue and
// an API token scoped to it (scope "issuer:<id>").
//
// # Issuance
//
// Issue completes a credential (issuer, id, validFrom, the healthcare
// schema and validUntil from the subject's expiry), validates it — data
// model, the tenant's types and jurisdictions, the subject's JSON Schema and
// identifier check digits, every JSON-LD term defined — then secures it in
// the requested format and records it in the inventory before returning it.
// Every problem is reported at once as a *vc.InvalidError with JSON Pointers.
//
// # Inventory
//
// The inventory keeps what an issuer needs to manage a credential later and
// no personal data: id, types, subject DID, format, validity, the digest of
// the secured form and (later) its status entries.
//
// The package declares the seams it needs (DIDs, Keys, Tokens, Securer) and
// never imports HTTP or storage drivers.
package issuer
