package merkle

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// validKeyName reports whether name is usable as a note key name: non-empty
// UTF-8 with no Unicode spaces and no "+" (the rule golang.org/x/mod/sumdb/note
// applies when parsing keys and signature lines).
func validKeyName(name string) bool {
	return name != "" && utf8.ValidString(name) && strings.IndexFunc(name, unicode.IsSpace) < 0 && !strings.Contains(name, "+")
}

// VerifierKey returns the note verifier key for an Ed25519 public key,
// "name+hash+base64(0x01||pub)", which is what a log publishes so clients can
// verify its checkpoints offline. name is the log's origin.
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validKeyName(name) {
		return "", fmt.Errorf("merkle: invalid key name %q (must be non-empty, without spaces or '+')", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("merkle: Ed25519 public key is %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	return note.NewEd25519VerifierKey(name, pub)
}

// NewVerifier parses a verifier key as produced by VerifierKey.
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("merkle: verifier key %q: %w", vkey, err)
	}
	return v, nil
}

// NewSigner returns a note.Signer for an Ed25519 key held elsewhere (for example
// by a key manager): name is the key name (the log's origin), pub the public key
// and sign a callback returning the Ed25519 signature of msg. Every signature the
// callback returns is checked against pub before it is used, so a callback bound
// to the wrong key fails loudly instead of publishing unverifiable checkpoints.
func NewSigner(name string, pub ed25519.PublicKey, sign func(msg []byte) ([]byte, error)) (note.Signer, error) {
	if sign == nil {
		return nil, errors.New("merkle: nil sign callback")
	}
	vkey, err := VerifierKey(name, pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("merkle: %w", err)
	}
	return &signer{name: name, hash: v.KeyHash(), pub: ed25519.PublicKey(append([]byte(nil), pub...)), sign: sign}, nil
}

type signer struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	sign func([]byte) ([]byte, error)
}

func (s *signer) Name() string    { return s.name }
func (s *signer) KeyHash() uint32 { return s.hash }

func (s *signer) Sign(msg []byte) ([]byte, error) {
	sig, err := s.sign(msg)
	if err != nil {
		return nil, fmt.Errorf("merkle: signing with %s: %w", s.name, err)
	}
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(s.pub, msg, sig) {
		return nil, fmt.Errorf("merkle: signing with %s: callback returned a signature that does not verify under the public key", s.name)
	}
	return sig, nil
}

// Sign validates c and returns it as a signed note. The first signer is the log:
// its name must equal c.Origin. Further signers (for example witnesses) add
// cosignatures.
func Sign(c Checkpoint, signers ...note.Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("merkle: Sign needs at least one signer")
	}
	for i, s := range signers {
		if s == nil {
			return nil, fmt.Errorf("merkle: signer %d is nil", i)
		}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if name := signers[0].Name(); name != c.Origin {
		return nil, fmt.Errorf("merkle: log key name %q does not match checkpoint origin %q", name, c.Origin)
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Marshal())}, signers...)
	if err != nil {
		return nil, fmt.Errorf("merkle: %w", err)
	}
	return msg, nil
}

// Open verifies a signed checkpoint and returns its body.
//
// verifiers[0] is the log's key and the others are optional (for example
// witnesses). Open succeeds only if the note carries a valid signature by the log
// key (so a checkpoint signed only by other known keys is rejected), every
// signature by a known key is valid, the body parses strictly (ParseCheckpoint)
// and the origin equals the log key's name. Signatures by unknown keys, such as
// cosignatures from witnesses the caller does not track, are ignored, as the note
// and checkpoint specs require. Errors wrap ErrBadCheckpoint (and the underlying
// note error, such as *note.UnverifiedNoteError or *note.InvalidSignatureError).
func Open(signed []byte, verifiers ...note.Verifier) (Checkpoint, error) {
	if len(verifiers) == 0 {
		return Checkpoint{}, errors.New("merkle: Open needs at least one verifier")
	}
	for i, v := range verifiers {
		if v == nil {
			return Checkpoint{}, fmt.Errorf("merkle: verifier %d is nil", i)
		}
	}
	log := verifiers[0]
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrBadCheckpoint, err)
	}
	signedByLog := false
	for _, s := range n.Sigs {
		if s.Name == log.Name() && s.Hash == log.KeyHash() {
			signedByLog = true
			break
		}
	}
	if !signedByLog {
		return Checkpoint{}, fmt.Errorf("%w: no signature by the log key %s+%08x", ErrBadCheckpoint, log.Name(), log.KeyHash())
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != log.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q does not match log key name %q", ErrBadCheckpoint, c.Origin, log.Name())
	}
	return c, nil
}
