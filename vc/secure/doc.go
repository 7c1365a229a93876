// Package secure is the one entry point to Credence's securing mechanisms:
// Issue secures a credential in a chosen Format, Verify verifies a credential
// in any format it can detect (a JSON credential with Data Integrity proofs,
// an enveloped credential, a vc+jwt, a VC 1.1 JWT, an SD-JWT VC), and both
// apply the data model rules of package vc.
//
// Issue does not validate the credential: the issuer has done that, with
// CheckTerms among its checks (every JSON-LD term of the credential must be
// defined by its contexts).
package secure
