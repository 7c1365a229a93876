package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/credence/credence/did"
)

// HeadVersion is the "v" member of a signed head.
const HeadVersion = "credence.audit.head/1"

// HeadContext starts every message the audit key signs, so a head
// signature can never be taken for a signature of anything else.
const HeadContext = "credence audit head v1\n"

// SignedHead is an export's last line: the service's signed statement that
// chain had Size entries, the last with hash Hash, at Time.
type SignedHead struct {
	V     string    `json:"v"`
	Chain string    `json:"chain"`
	Size  uint64    `json:"size"`
	Hash  string    `json:"hash"`
	Time  time.Time `json:"time"`
	// Key is the signer's public key as a Multikey.
	Key string `json:"key"`
	// Signature is the unpadded base64url Ed25519 signature over
	// HeadContext and the JCS form of the head without "signature".
	Signature string `json:"signature,omitempty"`
}

// message is what the signature covers.
func (h SignedHead) message() ([]byte, error) {
	h.Signature = ""
	c, err := canonical(h)
	if err != nil {
		return nil, err
	}
	return append([]byte(HeadContext), c...), nil
}

var errNotEd25519 = errors.New("the audit key must be Ed25519")

// sign makes the signed head of h.
func (l *Log) sign(ctx context.Context, h Head) (SignedHead, error) {
	pub, ok := l.signer.Public().(ed25519.PublicKey)
	if !ok {
		return SignedHead{}, errNotEd25519
	}
	key, err := did.EncodeMultikey(pub)
	if err != nil {
		return SignedHead{}, err
	}
	sh := SignedHead{V: HeadVersion, Chain: h.Chain, Size: h.Size, Hash: h.Hash, Time: l.now().UTC().Round(0), Key: key}
	msg, err := sh.message()
	if err != nil {
		return SignedHead{}, err
	}
	sig, err := l.signer.Sign(ctx, msg)
	if err != nil {
		return SignedHead{}, fmt.Errorf("failed to sign the audit head: %w", err)
	}
	sh.Signature = base64.RawURLEncoding.EncodeToString(sig)
	return sh, nil
}

// Export writes the chain as it is when Export starts, from seq 1, as JSON
// Lines followed by its signed head. It reads ahead a bounded number of
// entries, never the whole chain, and checks every hash and link before it
// signs: a stored chain that does not hold together fails with ErrCorrupt
// and gets no head. Output already written is not taken back.
func (l *Log) Export(ctx context.Context, chain string, w io.Writer) error {
	h, err := l.Head(ctx, chain)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	last := ""
	err = l.walk(ctx, chain, 1, h.Size, func(e Entry, raw []byte) error {
		last = e.Hash
		if _, err := bw.Write(raw); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	if last != h.Hash {
		return fmt.Errorf("%w: %q: entry %d changed during the export", ErrCorrupt, chain, h.Size)
	}
	sh, err := l.sign(ctx, h)
	if err != nil {
		return err
	}
	line, err := canonical(sh)
	if err != nil {
		return err
	}
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return err
	}
	return bw.Flush()
}
