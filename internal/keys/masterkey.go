package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// MasterKeySize is the size of a master key in bytes (AES-256).
const MasterKeySize = 32

// nonceSize is the AES-GCM nonce size used by Seal.
const nonceSize = 12

// masterIDDomain separates the master key id hash from any other use of the key.
const masterIDDomain = "credence/keys/master-key-id/v1\x00"

// MasterKey is the 32-byte key that seals private keys at rest. The zero value
// is not usable. A MasterKey formats (fmt, slog) as "MasterKey(id=...)" only;
// its bytes are never printed.
//
// The bytes live behind a pointer so that printing a struct that contains a
// MasterKey shows an address rather than the key.
type MasterKey struct {
	s *masterSecret
}

type masterSecret struct {
	key  [MasterKeySize]byte
	id   string
	aead cipher.AEAD
}

// newMasterKey builds a MasterKey from exactly 32 bytes (copied).
func newMasterKey(b []byte) (MasterKey, error) {
	if len(b) != MasterKeySize {
		return MasterKey{}, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(b))
	}
	s := &masterSecret{}
	copy(s.key[:], b)
	block, err := aes.NewCipher(s.key[:])
	if err != nil {
		return MasterKey{}, fmt.Errorf("keys: master key cipher: %w", err)
	}
	s.aead, err = cipher.NewGCM(block)
	if err != nil {
		return MasterKey{}, fmt.Errorf("keys: master key cipher: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(masterIDDomain))
	h.Write(s.key[:])
	s.id = hex.EncodeToString(h.Sum(nil)[:8])
	return MasterKey{s: s}, nil
}

// GenerateMasterKey returns a fresh random master key.
func GenerateMasterKey() (MasterKey, error) {
	var b [MasterKeySize]byte
	rand.Read(b[:]) // never returns an error; crashes the program on RNG failure
	defer clear(b[:])
	return newMasterKey(b[:])
}

// ParseMasterKey parses a master key given as base64 (standard or URL alphabet,
// padded or not) or hex, which must decode to exactly 32 bytes. Surrounding
// white space is ignored. Errors never include the input.
func ParseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MasterKey{}, errors.New("keys: master key is empty (want 32 bytes as base64 or hex)")
	}
	if len(s) == hex.EncodedLen(MasterKeySize) {
		if b, err := hex.DecodeString(s); err == nil {
			defer clear(b)
			return newMasterKey(b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			clear(b)
			continue
		}
		defer clear(b)
		if len(b) != MasterKeySize {
			return MasterKey{}, fmt.Errorf("keys: master key decodes to %d bytes, want %d", len(b), MasterKeySize)
		}
		return newMasterKey(b)
	}
	return MasterKey{}, fmt.Errorf("keys: master key is neither base64 nor hex (%d characters; want 32 bytes, e.g. 44 base64 or 64 hex characters)", len(s))
}

// valid reports whether k was built by this package (not the zero value).
func (k MasterKey) valid() bool { return k.s != nil }

// ID returns the master key id: hex of the first 8 bytes of SHA-256 over a
// fixed domain string and the key. It identifies the key without revealing it.
// The zero MasterKey has the id "".
func (k MasterKey) ID() string {
	if k.s == nil {
		return ""
	}
	return k.s.id
}

// String returns "MasterKey(id=...)"; never the key bytes.
func (k MasterKey) String() string {
	if k.s == nil {
		return "MasterKey(zero)"
	}
	return "MasterKey(id=" + k.s.id + ")"
}

// GoString is like String, for %#v.
func (k MasterKey) GoString() string { return k.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %x, %d, ...) print String.
func (k MasterKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue makes slog print String.
func (k MasterKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Seal encrypts plaintext with AES-256-GCM under the master key and a fresh
// random 12-byte nonce, authenticating aad. The result is nonce||ciphertext
// (ciphertext includes the 16-byte tag).
func (k MasterKey) Seal(plaintext, aad []byte) ([]byte, error) {
	if k.s == nil {
		return nil, errors.New("keys: zero MasterKey")
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+k.s.aead.Overhead())
	rand.Read(out) // never returns an error
	return k.s.aead.Seal(out, out[:nonceSize], plaintext, aad), nil
}

// Open decrypts the output of [MasterKey.Seal] with the same aad. It fails for
// another master key, another aad or any modification.
func (k MasterKey) Open(sealed, aad []byte) ([]byte, error) {
	if k.s == nil {
		return nil, errors.New("keys: zero MasterKey")
	}
	if len(sealed) < nonceSize+k.s.aead.Overhead() {
		return nil, errors.New("keys: sealed data too short")
	}
	pt, err := k.s.aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, errors.New("keys: decryption failed (wrong master key, wrong context or corrupted data)")
	}
	return pt, nil
}

// derivedDomain separates the keys DeriveKey makes from any other use of
// the master key.
const derivedDomain = "credence/keys/derived/v1\x00"

// DeriveKey returns a 32-byte key for purpose (a fixed label such as
// "auth/token-pepper"), derived from the master key with HKDF-SHA256: the
// same master key and purpose give the same key, other purposes unrelated
// ones, and the key reveals nothing of the master key.
func (k MasterKey) DeriveKey(purpose string) ([]byte, error) {
	if k.s == nil {
		return nil, errors.New("keys: zero MasterKey")
	}
	if purpose == "" {
		return nil, errors.New("keys: DeriveKey needs a purpose")
	}
	return hkdf.Key(sha256.New, k.s.key[:], nil, derivedDomain+purpose, 32)
}

// maxKeyFileSize bounds how much of a key file is read.
const maxKeyFileSize = 4096

// LoadOrCreateMasterKey reads the master key file at path (base64 text and a
// newline), or creates it with a fresh random key when it does not exist. A new
// file is created with O_EXCL and mode 0600, and its directory with 0700 if
// missing. An existing file readable or writable by group or others (mode &
// 0077 != 0) is refused with an error naming the chmod to run. created reports
// whether this call made the file.
func LoadOrCreateMasterKey(path string) (k MasterKey, created bool, err error) {
	if path == "" {
		return MasterKey{}, false, errors.New("keys: master key file path is empty")
	}
	k, err = loadMasterKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	k, err = createMasterKey(path)
	if errors.Is(err, fs.ErrExist) {
		// Lost a creation race with another process: use its key.
		k, err = loadMasterKey(path)
		return k, false, err
	}
	if err != nil {
		return MasterKey{}, false, err
	}
	return k, true, nil
}

func loadMasterKey(path string) (MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return MasterKey{}, err
		}
		return MasterKey{}, fmt.Errorf("keys: open master key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return MasterKey{}, fmt.Errorf("keys: stat master key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return MasterKey{}, fmt.Errorf("keys: master key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return MasterKey{}, fmt.Errorf("keys: master key file %s is accessible by group or others (mode %04o); restrict it with: chmod 600 %s", path, perm, path)
	}
	buf := make([]byte, maxKeyFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return MasterKey{}, fmt.Errorf("keys: read master key file %s: %w", path, err)
	}
	if n > maxKeyFileSize {
		return MasterKey{}, fmt.Errorf("keys: master key file %s is too large to be a key file", path)
	}
	k, err := ParseMasterKey(string(buf[:n]))
	if err != nil {
		return MasterKey{}, fmt.Errorf("keys: master key file %s: %w", path, err)
	}
	return k, nil
}

func createMasterKey(path string) (MasterKey, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return MasterKey{}, fmt.Errorf("keys: create master key directory: %w", err)
	}
	k, err := GenerateMasterKey()
	if err != nil {
		return MasterKey{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return MasterKey{}, err
		}
		return MasterKey{}, fmt.Errorf("keys: create master key file: %w", err)
	}
	text := base64.StdEncoding.AppendEncode(make([]byte, 0, 64), k.s.key[:])
	text = append(text, '\n')
	defer clear(text)
	_, werr := f.Write(text)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return MasterKey{}, fmt.Errorf("keys: write master key file %s: %w", path, werr)
	}
	return k, nil
}
