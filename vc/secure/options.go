package secure

import (
	"crypto"
	"time"
)

// IssueOptions select how a credential is secured.
type IssueOptions struct {
	Format Format
	// MandatoryPointers (SD-JWT) are JSON Pointers of subject claims that
	// are always disclosed; every other subject claim but id is
	// selectively disclosable.
	MandatoryPointers []string
	// HolderKey (SD-JWT) is the subject's public key, bound as cnf so that
	// only the holder can present the credential.
	HolderKey crypto.PublicKey
	// Now is the issuance time (proof created, iat); zero means time.Now.
	Now time.Time
}
