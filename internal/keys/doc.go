// Package keys is the key manager: it generates signing keys, keeps them
// encrypted at rest and signs with them. Medical boards sign credentials with
// these keys, so private key material is handled with care:
//
//   - Private keys are generated inside the package (crypto/rand) and never
//     leave it: the API returns public information ([Key]) and signatures only.
//     [Manager.Signer] returns a crypto.Signer that holds a key id, not a key.
//   - At rest every private key is sealed with AES-256-GCM under the
//     [MasterKey]; the additional data binds the key id and algorithm, so a
//     ciphertext moved to another record does not decrypt.
//   - Neither keys nor the master key appear in error messages, logs or fmt
//     output: [MasterKey] and [Local] format as a short description with the
//     master key id only, and cached private keys sit behind pointers so that
//     printing a containing struct shows addresses, not bytes.
//
// # Manager
//
// [Manager] is the custody seam. [Local] is the implementation over a
// [kv.Store] (bucket "keys"); an HSM or cloud KMS can implement the same
// interface later.
//
// # Algorithms and encodings
//
// [Ed25519] signs the message itself (pure Ed25519, 64-byte signatures).
// [P256] is ECDSA over SHA-256 of the message; [Manager.Sign] returns the
// fixed-length 64-byte r||s encoding used by JOSE (ES256) and Data Integrity.
// [Verify] checks signatures in those encodings. The crypto.Signer from
// [Manager.Signer] has the standard library semantics instead (Ed25519 takes
// the message; ECDSA takes a digest and returns ASN.1 DER).
//
// # Key ids
//
// A key id is derived from the public key: "k" followed by the lowercase,
// unpadded base32 of the first 15 bytes of SHA-256 over the PKIX DER encoding
// of the public key (25 characters in all). Ids are stable across restarts and
// stores, and a record whose public key does not hash to its id is rejected.
//
// # Stored record
//
// Each key is one JSON value under its id:
//
//	{"v":1,"alg":"Ed25519","public":"<base64 PKIX DER>","label":"...",
//	 "created":"2025-01-02T03:04:05Z","mk":"<master key id>",
//	 "nonce":"<base64 12 bytes>","ct":"<base64 AES-256-GCM(PKCS#8 DER)>"}
//
// "mk" is compared before decrypting so that a store opened with the wrong
// master key fails with [ErrWrongMasterKey] rather than a generic error.
//
// # Master key
//
// The master key is 32 random bytes, typically kept in a file created by
// [LoadOrCreateMasterKey] (mode 0600; looser permissions are refused) or
// supplied as base64/hex via [ParseMasterKey]. [MasterKey.Seal] and
// [MasterKey.Open] expose the same sealing for other packages.
package keys
