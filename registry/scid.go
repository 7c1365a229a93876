package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mr-tron/base58"
)

// MethodPrefix starts every did:credence DID.
const MethodPrefix = "did:credence:"

// SCIDPlaceholder stands for the self-certifying identifier in a did.create op
// before it is known: the creator writes "did:credence:{SCID}" wherever the DID
// appears (subject, doc id, verification method ids, ...), hashes, and replaces.
const SCIDPlaceholder = "{SCID}"

// multihashSHA256 is the multihash header of a SHA2-256 digest: code 0x12, length 32.
var multihashSHA256 = []byte{0x12, 0x20}

// multihash256 returns base58btc(multihash sha2-256 of b).
func multihash256(b []byte) string {
	sum := sha256.Sum256(b)
	return base58.Encode(append(append([]byte{}, multihashSHA256...), sum[:]...))
}

// isMultihash256 reports whether s is a base58btc sha2-256 multihash, in the one
// encoding multihash256 produces.
func isMultihash256(s string) bool {
	b, err := base58.Decode(s)
	return err == nil && len(b) == 2+sha256.Size && bytes.HasPrefix(b, multihashSHA256) && base58.Encode(b) == s
}

// DeriveSCID returns the self-certifying identifier a did.create op commits to:
// base58btc(0x12 0x20 || sha256(input)), where input is the op's SigningInput with
// every occurrence of the subject's SCID replaced by SCIDPlaceholder. The op may be
// in placeholder form (subject "did:credence:{SCID}") or final form; both give the
// same SCID.
func DeriveSCID(op *Op) (string, error) {
	scid, ok := strings.CutPrefix(op.Subject, MethodPrefix)
	if !ok || scid == "" {
		return "", fmt.Errorf("subject %q is not a %s DID", op.Subject, strings.TrimSuffix(MethodPrefix, ":"))
	}
	input, err := SigningInput(op)
	if err != nil {
		return "", err
	}
	if scid != SCIDPlaceholder {
		if bytes.Contains(input, []byte(SCIDPlaceholder)) {
			return "", fmt.Errorf("op contains the literal placeholder %s next to the SCID %s", SCIDPlaceholder, scid)
		}
		input = bytes.ReplaceAll(input, []byte(scid), []byte(SCIDPlaceholder))
	}
	return multihash256(input), nil
}

// NewCreate turns a did.create op written with SCIDPlaceholder (subject
// "did:credence:{SCID}", the same inside doc) into its final form: it derives the
// SCID and replaces every placeholder in the op with it. The op must not carry
// proofs yet (sign it afterwards with AddProof); its doc comes back in JCS form.
func NewCreate(op *Op) error {
	if op.Type != DIDCreate {
		return fmt.Errorf("NewCreate: op type is %q, want %q", op.Type, DIDCreate)
	}
	if op.Subject != MethodPrefix+SCIDPlaceholder {
		return fmt.Errorf("NewCreate: subject is %q, want %q", op.Subject, MethodPrefix+SCIDPlaceholder)
	}
	if len(op.Proofs) > 0 {
		return errors.New("NewCreate: op already carries proofs; sign after NewCreate")
	}
	// Replacing in the canonical text, then decoding it, replaces the placeholder
	// wherever it occurs, in exactly the bytes that were hashed.
	input, err := SigningInput(op)
	if err != nil {
		return fmt.Errorf("NewCreate: %w", err)
	}
	scid := multihash256(input)
	var final Op
	if err := json.Unmarshal(bytes.ReplaceAll(input, []byte(SCIDPlaceholder), []byte(scid)), &final); err != nil {
		return fmt.Errorf("NewCreate: %w", err)
	}
	if got, err := DeriveSCID(&final); err != nil || got != scid {
		return fmt.Errorf("NewCreate: the SCID does not re-derive from the final op (%v); avoid %s in member names", err, SCIDPlaceholder)
	}
	*op = final
	return nil
}

// KeyHash is the pre-rotation commitment to a Multikey: base58btc of the sha2-256
// multihash of its UTF-8 text. NextKeyHashes holds these.
func KeyHash(multikey string) string {
	return multihash256([]byte(multikey))
}
