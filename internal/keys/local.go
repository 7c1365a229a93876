package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/credence/credence/internal/kv"
)

// bucket is the kv bucket that holds the sealed key records.
const bucket = "keys"

// DefaultCacheSize is the default bound on decrypted private keys kept in memory.
const DefaultCacheSize = 1024

// maxLabelLen bounds a key label.
const maxLabelLen = 1024

// recordVersion is the "v" of the stored record format.
const recordVersion = 1

// aadDomain prefixes the GCM additional data of a key record.
const aadDomain = "credence/keys/record/v1\x00"

// errCorrupt is wrapped when a record fails an integrity check.
var errCorrupt = errors.New("stored key record is corrupted or was tampered with")

// Option configures [NewLocal].
type Option func(*options)

type options struct {
	cacheSize int
	now       func() time.Time
}

// WithCacheSize bounds how many decrypted private keys are kept in memory
// (default [DefaultCacheSize]); 0 disables the cache, so every signature
// decrypts its key.
func WithCacheSize(n int) Option { return func(o *options) { o.cacheSize = n } }

// WithClock sets the clock used for Key.Created (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Local is the [Manager] that keeps keys in a kv.Store bucket "keys", each
// private key sealed with AES-256-GCM under the master key. Decrypted keys are
// cached in process (bounded) so that signing does not decrypt every time.
// Local is safe for concurrent use; several Locals (or processes) may share a
// store.
type Local struct {
	store     kv.Store
	master    MasterKey
	now       func() time.Time
	cacheSize int

	mu    sync.RWMutex
	cache map[string]*entry
}

var _ Manager = (*Local)(nil)

// entry is a decrypted key. It is only referenced through pointers so that
// reflection-based printing of a containing value shows an address.
type entry struct {
	key  Key
	priv crypto.Signer // ed25519.PrivateKey or *ecdsa.PrivateKey
}

// Format prints the public part only, whatever the verb.
func (e entry) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "keys.entry(id=%s, alg=%s)", e.key.ID, e.key.Alg)
}

// record is the JSON value stored under the key id. []byte fields are base64.
type record struct {
	V       int       `json:"v"`
	Alg     Algorithm `json:"alg"`
	Public  []byte    `json:"public"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
	MK      string    `json:"mk"`
	Nonce   []byte    `json:"nonce"`
	CT      []byte    `json:"ct"`
}

// NewLocal returns a key manager over store, sealing keys under master.
func NewLocal(store kv.Store, master MasterKey, opts ...Option) (*Local, error) {
	if store == nil {
		return nil, errors.New("keys: nil kv.Store")
	}
	if !master.valid() {
		return nil, errors.New("keys: zero MasterKey (use ParseMasterKey, LoadOrCreateMasterKey or GenerateMasterKey)")
	}
	o := options{cacheSize: DefaultCacheSize, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.cacheSize < 0 {
		return nil, fmt.Errorf("keys: negative cache size %d", o.cacheSize)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return &Local{
		store:     store,
		master:    master,
		now:       o.now,
		cacheSize: o.cacheSize,
		cache:     make(map[string]*entry),
	}, nil
}

// String describes the manager without any key material.
func (l *Local) String() string {
	if l == nil {
		return "keys.Local(nil)"
	}
	return "keys.Local(master=" + l.master.String() + ")"
}

// GoString is like String, for %#v.
func (l *Local) GoString() string { return l.String() }

// Format makes every fmt verb print String.
func (l *Local) Format(f fmt.State, _ rune) { io.WriteString(f, l.String()) }

// Generate creates a key pair of the given algorithm, seals the private key
// under the master key and stores it.
func (l *Local) Generate(ctx context.Context, alg Algorithm, label string) (Key, error) {
	if !alg.valid() {
		return Key{}, fmt.Errorf("keys: unsupported algorithm %.40q", string(alg))
	}
	if len(label) > maxLabelLen || !utf8.ValidString(label) {
		return Key{}, fmt.Errorf("keys: label must be valid UTF-8 of at most %d bytes", maxLabelLen)
	}
	if err := ctx.Err(); err != nil {
		return Key{}, err
	}
	var priv crypto.Signer
	switch alg {
	case Ed25519:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Key{}, fmt.Errorf("keys: generate Ed25519 key: %w", err)
		}
		priv = p
	case P256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Key{}, fmt.Errorf("keys: generate P-256 key: %w", err)
		}
		priv = p
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return Key{}, fmt.Errorf("keys: encode public key: %w", err)
	}
	key := Key{
		ID:      keyID(pubDER),
		Alg:     alg,
		Public:  priv.Public(),
		Label:   label,
		Created: l.now().UTC().Truncate(time.Second),
	}
	pk8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Key{}, errors.New("keys: encode private key failed")
	}
	sealed, err := l.master.Seal(pk8, recordAAD(key.ID, alg))
	clear(pk8)
	if err != nil {
		return Key{}, err
	}
	val, err := json.Marshal(record{
		V:       recordVersion,
		Alg:     alg,
		Public:  pubDER,
		Label:   label,
		Created: key.Created,
		MK:      l.master.ID(),
		Nonce:   sealed[:nonceSize],
		CT:      sealed[nonceSize:],
	})
	if err != nil {
		return Key{}, fmt.Errorf("keys: encode record: %w", err)
	}
	if err := l.store.Create(ctx, bucket, key.ID, val); err != nil {
		if errors.Is(err, kv.ErrExists) {
			return Key{}, fmt.Errorf("keys: key id %s already exists", key.ID)
		}
		return Key{}, fmt.Errorf("keys: store key %s: %w", key.ID, err)
	}
	l.cachePut(key.ID, &entry{key: key, priv: priv})
	return key, nil
}

// Key returns the public information of a key. It does not decrypt, so it
// succeeds for a key sealed under another master key.
func (l *Local) Key(ctx context.Context, id string) (Key, error) {
	if e := l.cacheGet(id); e != nil {
		return e.key, nil
	}
	_, key, err := l.get(ctx, id)
	return key, err
}

// List returns all keys sorted by ID.
func (l *Local) List(ctx context.Context) ([]Key, error) {
	var out []Key
	err := l.store.List(ctx, bucket, "", func(id string, val []byte) error {
		_, key, err := decodeRecord(id, val)
		if err != nil {
			return err
		}
		out = append(out, key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	slices.SortFunc(out, func(a, b Key) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Sign signs msg with the key id; see [Manager.Sign] for the encodings.
func (l *Local) Sign(ctx context.Context, id string, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e, err := l.load(ctx, id)
	if err != nil {
		return nil, err
	}
	switch k := e.priv.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg), nil
	case *ecdsa.PrivateKey:
		digest := sha256.Sum256(msg)
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			return nil, fmt.Errorf("keys: sign with %s: %w", id, err)
		}
		sig := make([]byte, p256SigSize)
		r.FillBytes(sig[:p256SigSize/2])
		s.FillBytes(sig[p256SigSize/2:])
		return sig, nil
	}
	return nil, fmt.Errorf("keys: key %s has an unsupported type", id)
}

// Signer returns a crypto.Signer for the key id with standard library
// semantics (see [Manager.Signer]). The key is decrypted now, so a wrong
// master key or corrupted record is reported here rather than at signing.
func (l *Local) Signer(ctx context.Context, id string) (crypto.Signer, error) {
	e, err := l.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return &signer{l: l, id: id, pub: e.key.Public}, nil
}

// signer is the crypto.Signer of a Local key: an id and the manager.
type signer struct {
	l   *Local
	id  string
	pub crypto.PublicKey
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// Format prints the key id only, whatever the verb.
func (s signer) Format(f fmt.State, _ rune) { fmt.Fprintf(f, "keys.Signer(id=%s)", s.id) }

// Sign follows crypto.Signer: for Ed25519 digest is the message and
// opts.HashFunc() must be 0 (or SHA-512 with *ed25519.Options for Ed25519ph);
// for ECDSA digest is a hash of the message and the result is ASN.1 DER. The
// rand argument is ignored: randomness always comes from crypto/rand.
func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		opts = crypto.Hash(0)
	}
	e, err := s.l.load(context.Background(), s.id)
	if err != nil {
		return nil, err
	}
	switch k := e.priv.(type) {
	case ed25519.PrivateKey:
		return k.Sign(nil, digest, opts)
	case *ecdsa.PrivateKey:
		if h := opts.HashFunc(); h != 0 && len(digest) != h.Size() {
			return nil, fmt.Errorf("keys: digest is %d bytes, %v wants %d", len(digest), h, h.Size())
		}
		return k.Sign(rand.Reader, digest, opts)
	}
	return nil, fmt.Errorf("keys: key %s has an unsupported type", s.id)
}

// get reads and validates the record of id without decrypting.
func (l *Local) get(ctx context.Context, id string) (record, Key, error) {
	if !validID(id) {
		return record{}, Key{}, fmt.Errorf("keys: %w (malformed id)", ErrKeyNotFound)
	}
	val, err := l.store.Get(ctx, bucket, id)
	if errors.Is(err, kv.ErrNotFound) {
		return record{}, Key{}, fmt.Errorf("keys: %w: %s", ErrKeyNotFound, id)
	}
	if err != nil {
		return record{}, Key{}, fmt.Errorf("keys: read key %s: %w", id, err)
	}
	return decodeRecord(id, val)
}

// load returns the decrypted key id, from the cache or the store.
func (l *Local) load(ctx context.Context, id string) (*entry, error) {
	if e := l.cacheGet(id); e != nil {
		return e, nil
	}
	rec, key, err := l.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if rec.MK != l.master.ID() {
		return nil, fmt.Errorf("keys: key %s: %w (sealed under master key id %.32s, this is %s)", id, ErrWrongMasterKey, rec.MK, l.master.ID())
	}
	if len(rec.Nonce) != nonceSize {
		return nil, fmt.Errorf("keys: key %s: %w (bad nonce length)", id, errCorrupt)
	}
	sealed := make([]byte, 0, len(rec.Nonce)+len(rec.CT))
	sealed = append(append(sealed, rec.Nonce...), rec.CT...)
	pk8, err := l.master.Open(sealed, recordAAD(id, rec.Alg))
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w (decryption failed)", id, errCorrupt)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(pk8)
	clear(pk8)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w (private key does not parse)", id, errCorrupt)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok || !privMatchesAlg(priv, rec.Alg) {
		return nil, fmt.Errorf("keys: key %s: %w (private key is not %s)", id, errCorrupt, rec.Alg)
	}
	if eq, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(key.Public) {
		return nil, fmt.Errorf("keys: key %s: %w (private key does not match public key)", id, errCorrupt)
	}
	return l.cachePut(id, &entry{key: key, priv: priv}), nil
}

func privMatchesAlg(priv crypto.Signer, alg Algorithm) bool {
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		return alg == Ed25519
	case *ecdsa.PrivateKey:
		return alg == P256 && k.Curve == elliptic.P256()
	}
	return false
}

// decodeRecord parses a stored record and checks that its public key hashes to
// id and matches its algorithm.
func decodeRecord(id string, val []byte) (record, Key, error) {
	var rec record
	if err := json.Unmarshal(val, &rec); err != nil {
		return record{}, Key{}, fmt.Errorf("keys: key %s: %w (bad JSON)", id, errCorrupt)
	}
	if rec.V != recordVersion {
		return record{}, Key{}, fmt.Errorf("keys: key %s: unsupported record version %d", id, rec.V)
	}
	if !rec.Alg.valid() {
		return record{}, Key{}, fmt.Errorf("keys: key %s: unsupported algorithm %.40q", id, string(rec.Alg))
	}
	if keyID(rec.Public) != id {
		return record{}, Key{}, fmt.Errorf("keys: key %s: %w (public key does not match id)", id, errCorrupt)
	}
	pub, err := x509.ParsePKIXPublicKey(rec.Public)
	if err != nil {
		return record{}, Key{}, fmt.Errorf("keys: key %s: %w (public key does not parse)", id, errCorrupt)
	}
	switch pk := pub.(type) {
	case ed25519.PublicKey:
		if rec.Alg != Ed25519 {
			return record{}, Key{}, fmt.Errorf("keys: key %s: %w (algorithm mismatch)", id, errCorrupt)
		}
	case *ecdsa.PublicKey:
		if rec.Alg != P256 || pk.Curve != elliptic.P256() {
			return record{}, Key{}, fmt.Errorf("keys: key %s: %w (algorithm mismatch)", id, errCorrupt)
		}
	default:
		return record{}, Key{}, fmt.Errorf("keys: key %s: %w (unsupported public key)", id, errCorrupt)
	}
	return rec, Key{ID: id, Alg: rec.Alg, Public: pub, Label: rec.Label, Created: rec.Created.UTC()}, nil
}

// recordAAD is the GCM additional data of a record: it binds id and algorithm.
func recordAAD(id string, alg Algorithm) []byte {
	return []byte(aadDomain + id + "\x00" + string(alg))
}

func (l *Local) cacheGet(id string) *entry {
	l.mu.RLock()
	e := l.cache[id]
	l.mu.RUnlock()
	return e
}

// cachePut caches e under id and returns the cached entry (an existing one wins,
// so concurrent loaders share one key). When full, an arbitrary entry is evicted.
func (l *Local) cachePut(id string, e *entry) *entry {
	if l.cacheSize == 0 {
		return e
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.cache[id]; old != nil {
		return old
	}
	for victim := range l.cache {
		if len(l.cache) < l.cacheSize {
			break
		}
		delete(l.cache, victim)
	}
	l.cache[id] = e
	return e
}
