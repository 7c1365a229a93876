package wallet

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// dekSize is the size of a holder's data key (AES-256).
const dekSize = 32

// recordVersion is the first byte of every record sealed under a data key.
const recordVersion = 1

// Record kinds, bound into the additional data of their ciphertexts.
const (
	kindCredential = "credential"
	kindDisclosure = "disclosure"
	kindLabel      = "label"
)

// Domain strings: the AAD prefixes and the HKDF labels.
const (
	dekAADDomain    = "credence/wallet/dek/v1\x00"
	recordAADDomain = "credence/wallet/record/v1\x00"
	encInfo         = "credence/wallet/enc/v1"
	macInfo         = "credence/wallet/mac/v1"
)

// dataKey is a holder's unwrapped data key, as the two keys derived from it
// with HKDF-SHA256: one for AES-256-GCM, one for HMAC-SHA256 (the dedup
// index). It is only used through a pointer and formats as its holder id,
// so printing a containing value never shows key bytes.
type dataKey struct {
	holder string
	aead   cipher.AEAD
	mac    []byte
}

func newDataKey(holder string, dek []byte) (*dataKey, error) {
	enc, err := hkdf.Key(sha256.New, dek, nil, encInfo, 32)
	if err != nil {
		return nil, err
	}
	defer clear(enc)
	mac, err := hkdf.Key(sha256.New, dek, nil, macInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &dataKey{holder: holder, aead: aead, mac: mac}, nil
}

// String names the key's holder; never key bytes.
func (k dataKey) String() string { return "wallet.dataKey(holder=" + k.holder + ")" }

// GoString is String, for %#v.
func (k dataKey) GoString() string { return k.String() }

// Format makes every fmt verb print String.
func (k dataKey) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// LogValue makes slog print String.
func (k dataKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// recordAAD binds a ciphertext to its holder, kind and record id.
func recordAAD(holder, kind, id string) []byte {
	return []byte(recordAADDomain + holder + "\x00" + kind + "\x00" + id)
}

// dekAADv1 binds a wrapped data key to its holder id only: the additional
// data of version 1 holder records (see holderRecord.dekAAD).
func dekAADv1(holder string) []byte { return []byte(dekAADDomain + holder) }

// seal encrypts a record: version || nonce || AES-256-GCM(plaintext).
func (k *dataKey) seal(kind, id string, plaintext []byte) []byte {
	ns := k.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+k.aead.Overhead())
	out[0] = recordVersion
	_, _ = rand.Read(out[1:]) // never fails
	return k.aead.Seal(out, out[1:1+ns], plaintext, recordAAD(k.holder, kind, id))
}

// open decrypts a record sealed for this holder, kind and id, or wraps
// ErrCorrupt.
func (k *dataKey) open(kind, id string, sealed []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != recordVersion {
		return nil, fmt.Errorf("%w: %s %s is not a sealed record", ErrCorrupt, kind, id)
	}
	pt, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], recordAAD(k.holder, kind, id))
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s does not decrypt for holder %s", ErrCorrupt, kind, id, k.holder)
	}
	return pt, nil
}

// sum is the keyed hash (HMAC-SHA256 under the holder's MAC key) of b in
// a domain: equal inputs give equal sums for one holder only.
func (k *dataKey) sum(domain string, b []byte) []byte {
	h := hmac.New(sha256.New, k.mac)
	h.Write([]byte(domain + "\x00"))
	h.Write(b)
	return h.Sum(nil)
}

// dekCacheSize bounds the unwrapped data keys kept in memory.
const dekCacheSize = 256

// dekCache keeps unwrapped data keys by holder, each with the wrapped key
// it came from and the additional data it opened with (a holder whose
// wrapped key changed, or was shredded, misses; so does one whose DID or
// key changed, which must then open the wrapped key again, and fails).
// When full, an arbitrary entry is evicted (map order is random).
type dekCache struct {
	mu sync.Mutex
	m  map[string]cachedKey
}

type cachedKey struct {
	wrapped, aad []byte
	key          *dataKey
}

func (s *Service) dekCache() *dekCache {
	s.cacheOnce.Do(func() { s.cache = &dekCache{m: map[string]cachedKey{}} })
	return s.cache
}

func (c *dekCache) get(holder string, wrapped, aad []byte) *dataKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[holder]
	if !ok || subtle.ConstantTimeCompare(e.wrapped, wrapped) != 1 || !bytes.Equal(e.aad, aad) {
		return nil
	}
	return e.key
}

func (c *dekCache) put(holder string, wrapped, aad []byte, k *dataKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[holder]; !ok && len(c.m) >= dekCacheSize {
		for h := range c.m {
			delete(c.m, h)
			break
		}
	}
	c.m[holder] = cachedKey{wrapped: wrapped, aad: aad, key: k}
}

func (c *dekCache) forget(holder string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, holder)
}
