package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
)

var algs = []Algorithm{Ed25519, P256}

func newTestLocal(t testing.TB, store kv.Store, opts ...Option) (*Local, MasterKey) {
	t.Helper()
	mk, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(store, mk, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l, mk
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in   string
		want Algorithm
		ok   bool
	}{
		{"Ed25519", Ed25519, true},
		{"ed25519", Ed25519, true},
		{"ED25519", Ed25519, true},
		{"EdDSA", Ed25519, true},
		{"P-256", P256, true},
		{"p-256", P256, true},
		{"p256", P256, true},
		{"P256", P256, true},
		{"ES256", P256, true},
		{"es256", P256, true},
		{"secp256r1", P256, true},
		{"prime256v1", P256, true},
		{" P-256 ", P256, true},
		{"", "", false},
		{"RSA", "", false},
		{"P-384", "", false},
		{"ES384", "", false},
		{"ed448", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAlgorithm(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("ParseAlgorithm(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseAlgorithm(%q) = %q, want error", tt.in, got)
			}
			if !strings.Contains(err.Error(), "Ed25519") || !strings.Contains(err.Error(), "P-256") {
				t.Errorf("error %q should name the supported algorithms", err)
			}
		})
	}
}

func TestGenerateSignVerify(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.FixedZone("X", 3600))
	l, _ := newTestLocal(t, memkv.New(), WithClock(func() time.Time { return clock }))

	generated := map[Algorithm]Key{}
	for _, alg := range algs {
		k, err := l.Generate(ctx, alg, "issuer:abc "+string(alg))
		if err != nil {
			t.Fatal(err)
		}
		generated[alg] = k
	}
	msg := []byte("credential payload to sign")

	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			k := generated[alg]
			if k.Alg != alg || k.Label != "issuer:abc "+string(alg) {
				t.Errorf("key = %+v", k)
			}
			if !validID(k.ID) {
				t.Errorf("malformed id %q", k.ID)
			}
			want, err := KeyID(k.Public)
			if err != nil || want != k.ID {
				t.Errorf("KeyID = %q, %v; key.ID = %q", want, err, k.ID)
			}
			// Independent derivation of the id from the spec.
			der, _ := x509.MarshalPKIXPublicKey(k.Public)
			h := sha256.Sum256(der)
			if spec := "k" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15])); spec != k.ID {
				t.Errorf("id %q, spec derivation %q", k.ID, spec)
			}
			if wantT := clock.UTC().Truncate(time.Second); !k.Created.Equal(wantT) || k.Created.Location() != time.UTC {
				t.Errorf("Created = %v, want %v UTC", k.Created, wantT)
			}
			switch alg {
			case Ed25519:
				if _, ok := k.Public.(ed25519.PublicKey); !ok {
					t.Errorf("Public is %T", k.Public)
				}
			case P256:
				if pk, ok := k.Public.(*ecdsa.PublicKey); !ok || pk.Curve != elliptic.P256() {
					t.Errorf("Public is %T", k.Public)
				}
			}

			sig, err := l.Sign(ctx, k.ID, msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != 64 {
				t.Fatalf("signature length %d, want 64", len(sig))
			}
			if err := Verify(k.Public, msg, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// The encoding is the standard one: check with the crypto library directly.
			switch pk := k.Public.(type) {
			case ed25519.PublicKey:
				if !ed25519.Verify(pk, msg, sig) {
					t.Error("ed25519.Verify rejects Sign output")
				}
			case *ecdsa.PublicKey:
				d := sha256.Sum256(msg)
				if !ecdsa.VerifyASN1(pk, d[:], rawToASN1(t, sig)) {
					t.Error("ecdsa.VerifyASN1 rejects Sign output")
				}
			}

			tamperedMsg := append(bytes.Clone(msg), '!')
			tamperedSig := bytes.Clone(sig)
			tamperedSig[5] ^= 0x01
			other, err := l.Generate(ctx, alg, "other")
			if err != nil {
				t.Fatal(err)
			}
			otherAlg := generated[Ed25519]
			if alg == Ed25519 {
				otherAlg = generated[P256]
			}
			bad := []struct {
				name string
				pub  crypto.PublicKey
				msg  []byte
				sig  []byte
			}{
				{"tampered msg", k.Public, tamperedMsg, sig},
				{"tampered sig", k.Public, msg, tamperedSig},
				{"truncated sig", k.Public, msg, sig[:63]},
				{"empty sig", k.Public, msg, nil},
				{"zero sig", k.Public, msg, make([]byte, 64)},
				{"other key same alg", other.Public, msg, sig},
				{"other alg key", otherAlg.Public, msg, sig},
			}
			for _, b := range bad {
				err := Verify(b.pub, b.msg, b.sig)
				if !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s: Verify = %v, want ErrBadSignature", b.name, err)
				}
			}
		})
	}
}

func TestVerifyRejectsUnsupportedKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, pub := range []crypto.PublicKey{nil, "x", ed25519.PublicKey{1, 2, 3}, &p384.PublicKey, (*ecdsa.PublicKey)(nil)} {
		if err := Verify(pub, []byte("m"), make([]byte, 64)); err == nil {
			t.Errorf("Verify(%T) succeeded", pub)
		}
	}
}

func TestSignerStdlib(t *testing.T) {
	ctx := context.Background()
	l, _ := newTestLocal(t, memkv.New())
	msg := []byte("header.payload")
	for _, alg := range algs {
		t.Run(string(alg), func(t *testing.T) {
			k, err := l.Generate(ctx, alg, "jose")
			if err != nil {
				t.Fatal(err)
			}
			s, err := l.Signer(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			if eq, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(k.Public) {
				t.Fatal("Signer.Public differs from Key.Public")
			}
			switch pk := k.Public.(type) {
			case ed25519.PublicKey:
				sig, err := s.Sign(rand.Reader, msg, crypto.Hash(0))
				if err != nil {
					t.Fatal(err)
				}
				if !ed25519.Verify(pk, msg, sig) {
					t.Error("ed25519.Verify failed")
				}
				sig, err = s.Sign(nil, msg, nil) // nil opts means HashFunc()==0
				if err != nil || !ed25519.Verify(pk, msg, sig) {
					t.Errorf("nil opts: %v", err)
				}
				if _, err := s.Sign(rand.Reader, msg, crypto.SHA256); err == nil {
					t.Error("Ed25519 with SHA-256 opts should fail")
				}
			case *ecdsa.PublicKey:
				d := sha256.Sum256(msg)
				sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
				if err != nil {
					t.Fatal(err)
				}
				if !ecdsa.VerifyASN1(pk, d[:], sig) {
					t.Error("ecdsa.VerifyASN1 failed")
				}
				if _, err := s.Sign(rand.Reader, d[:20], crypto.SHA256); err == nil {
					t.Error("short digest for SHA-256 should fail")
				}
			}
		})
	}
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	l1, mk := newTestLocal(t, store)
	var ks []Key
	for _, alg := range algs {
		k, err := l1.Generate(ctx, alg, "persist")
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}

	// A second manager, as after a restart: same store, same master key (parsed
	// from text, as from a file), empty cache.
	mk2, err := ParseMasterKey(base64.StdEncoding.EncodeToString(mk.s.key[:]))
	if err != nil {
		t.Fatal(err)
	}
	l2, err := NewLocal(store, mk2)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		got, err := l2.Key(ctx, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != k.ID || got.Alg != k.Alg || got.Label != k.Label || !got.Created.Equal(k.Created) {
			t.Errorf("Key after restart = %+v, want %+v", got, k)
		}
		msg := []byte("after restart " + k.ID)
		sig, err := l2.Sign(ctx, k.ID, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(k.Public, msg, sig); err != nil {
			t.Errorf("signature by restarted manager does not verify with original public key: %v", err)
		}
	}
	list, err := l2.List(ctx)
	if err != nil || len(list) != len(ks) {
		t.Fatalf("List after restart = %d keys, %v", len(list), err)
	}
}

func TestWrongMasterKey(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	l1, _ := newTestLocal(t, store)
	for _, alg := range algs {
		k, err := l1.Generate(ctx, alg, "")
		if err != nil {
			t.Fatal(err)
		}
		l2, mk2 := newTestLocal(t, store)
		if _, err := l2.Sign(ctx, k.ID, []byte("m")); !errors.Is(err, ErrWrongMasterKey) {
			t.Errorf("%s: Sign with other master key = %v, want ErrWrongMasterKey", alg, err)
		} else if strings.Contains(err.Error(), hex.EncodeToString(mk2.s.key[:])) {
			t.Error("error contains master key bytes")
		}
		if _, err := l2.Signer(ctx, k.ID); !errors.Is(err, ErrWrongMasterKey) {
			t.Errorf("%s: Signer with other master key = %v, want ErrWrongMasterKey", alg, err)
		}
		// Public information stays readable.
		if got, err := l2.Key(ctx, k.ID); err != nil || got.ID != k.ID {
			t.Errorf("%s: Key with other master key = %v, %v", alg, got, err)
		}
	}
}

func TestTamperedRecords(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	l, mk := newTestLocal(t, store)
	a, _ := l.Generate(ctx, Ed25519, "a")
	b, _ := l.Generate(ctx, Ed25519, "b")
	c, _ := l.Generate(ctx, P256, "c")
	d, _ := l.Generate(ctx, P256, "d")

	read := func(id string) record {
		v, err := store.Get(ctx, bucket, id)
		if err != nil {
			t.Fatal(err)
		}
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	type mutation struct {
		name   string
		target string
		mutate func(r *record)
	}
	muts := []mutation{
		{"ciphertext swapped (Ed25519)", a.ID, func(r *record) { o := read(b.ID); r.Nonce, r.CT = o.Nonce, o.CT }},
		{"ciphertext swapped (P-256)", c.ID, func(r *record) { o := read(d.ID); r.Nonce, r.CT = o.Nonce, o.CT }},
		{"ciphertext swapped across algorithms", a.ID, func(r *record) { o := read(c.ID); r.Nonce, r.CT = o.Nonce, o.CT }},
		{"whole record under another id", a.ID, func(r *record) { *r = read(b.ID) }},
		{"public key replaced", a.ID, func(r *record) { r.Public = read(b.ID).Public }},
		{"algorithm relabelled", a.ID, func(r *record) { r.Alg = P256 }},
		{"ciphertext bit flipped", c.ID, func(r *record) { r.CT[3] ^= 1 }},
		{"nonce changed", c.ID, func(r *record) { r.Nonce[0] ^= 1 }},
		{"nonce truncated", c.ID, func(r *record) { r.Nonce = r.Nonce[:8] }},
		{"ciphertext truncated", a.ID, func(r *record) { r.CT = r.CT[:10] }},
	}
	for _, m := range muts {
		t.Run(m.name, func(t *testing.T) {
			orig, err := store.Get(ctx, bucket, m.target)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Put(ctx, bucket, m.target, orig)
			r := read(m.target)
			m.mutate(&r)
			v, _ := json.Marshal(r)
			if err := store.Put(ctx, bucket, m.target, v); err != nil {
				t.Fatal(err)
			}
			fresh, err := NewLocal(store, mk) // empty cache
			if err != nil {
				t.Fatal(err)
			}
			_, err = fresh.Sign(ctx, m.target, []byte("m"))
			if err == nil {
				t.Fatal("Sign succeeded on a tampered record")
			}
			if errors.Is(err, ErrWrongMasterKey) || errors.Is(err, ErrKeyNotFound) {
				t.Errorf("error = %v, want an integrity error", err)
			}
		})
	}
	// Restored records work again.
	fresh, _ := NewLocal(store, mk)
	for _, k := range []Key{a, b, c, d} {
		if _, err := fresh.Sign(ctx, k.ID, []byte("m")); err != nil {
			t.Errorf("restored %s: %v", k.ID, err)
		}
	}
}

// TestKeysAtRestAreEncrypted checks that no stored value contains any encoding
// of any private key.
func TestKeysAtRestAreEncrypted(t *testing.T) {
	ctx := context.Background()
	store := memkv.New()
	l, mk := newTestLocal(t, store)
	var needles [][]byte
	addEncodings := func(b []byte) {
		needles = append(needles, b,
			[]byte(hex.EncodeToString(b)),
			[]byte(strings.ToUpper(hex.EncodeToString(b))))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			s := enc.EncodeToString(b)
			needles = append(needles, []byte(s))
			// JSON escapes '+' and '/' never, but '<' '>' '&' yes; cover the
			// escaped form as well to be safe.
			js, _ := json.Marshal(s)
			needles = append(needles, bytes.Trim(js, `"`))
		}
	}
	for i := 0; i < 4; i++ {
		for _, alg := range algs {
			k, err := l.Generate(ctx, alg, fmt.Sprintf("key %d", i))
			if err != nil {
				t.Fatal(err)
			}
			e, err := l.load(ctx, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			pk8, err := x509.MarshalPKCS8PrivateKey(e.priv)
			if err != nil {
				t.Fatal(err)
			}
			addEncodings(pk8)
			switch p := e.priv.(type) {
			case ed25519.PrivateKey:
				addEncodings(p)        // 64 bytes: seed || public
				addEncodings(p.Seed()) // the secret half alone
			case *ecdsa.PrivateKey:
				raw, err := p.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				addEncodings(raw)
			}
		}
	}
	addEncodings(mk.s.key[:])

	n := 0
	err := store.List(ctx, bucket, "", func(id string, v []byte) error {
		n++
		for _, nd := range needles {
			if bytes.Contains(v, nd) {
				t.Errorf("stored value of %s contains private material (%d-byte needle)", id, len(nd))
			}
		}
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatal(err)
		}
		if r.V != 1 || r.MK != mk.ID() || len(r.Nonce) != 12 || len(r.CT) == 0 {
			t.Errorf("record %s: v=%d mk=%q nonce=%d ct=%d", id, r.V, r.MK, len(r.Nonce), len(r.CT))
		}
		return nil
	})
	if err != nil || n != 8 {
		t.Fatalf("walked %d records, %v", n, err)
	}
	// The record has exactly the documented fields.
	v, _ := store.Get(ctx, bucket, mustList(t, l)[0].ID)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(fields))
	want := []string{"alg", "created", "ct", "label", "mk", "nonce", "public", "v"}
	if !slices.Equal(got, want) {
		t.Errorf("record fields = %v, want %v", got, want)
	}
}

func TestNoSecretsInFormatting(t *testing.T) {
	ctx := context.Background()
	raw := bytes.Repeat([]byte{0xA7, 0x3C, 0x51, 0xE2}, 8)
	mk, err := ParseMasterKey(hex.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(memkv.New(), mk)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	addSecret := func(b []byte) {
		secrets = append(secrets, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			base64.StdEncoding.EncodeToString(b)[:20], base64.URLEncoding.EncodeToString(b)[:20],
			fmt.Sprint(b[:8])[1:20], // decimal byte list as printed by %v of a []byte
		)
	}
	addSecret(raw)
	var ks []Key
	for _, alg := range algs {
		k, err := l.Generate(ctx, alg, "fmt")
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		e, _ := l.load(ctx, k.ID)
		switch p := e.priv.(type) {
		case ed25519.PrivateKey:
			addSecret(p.Seed())
		case *ecdsa.PrivateKey:
			b, _ := p.Bytes()
			addSecret(b)
		}
	}
	signer, err := l.Signer(ctx, ks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("x", "master", mk, "local", l, "key", ks[0])
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "master", mk, "local", l)

	outputs := []string{
		fmt.Sprintf("%v %+v %#v", ks[0], mk, mk),
		fmt.Sprintf("%v %+v %#v %s %x %X %d %q", mk, mk, mk, mk, mk, mk, mk, mk),
		fmt.Sprintf("%v %+v %#v %x", &mk, &mk, &mk, &mk),
		fmt.Sprintf("%v %+v %#v", struct{ M MasterKey }{mk}, struct{ m MasterKey }{mk}, struct{ m MasterKey }{mk}),
		fmt.Sprintf("%v %+v %#v %x %d", l, l, l, l, l),
		fmt.Sprintf("%v %+v %#v %x", *l.cacheGet(ks[0].ID), l.cacheGet(ks[1].ID), signer, signer),
		fmt.Sprintf("%v %+v %#v", ks, ks[1], ks[1]),
		logBuf.String(),
	}
	for i, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %d contains secret %q:\n%s", i, s, out)
			}
		}
	}
	if got := mk.String(); got != "MasterKey(id="+mk.ID()+")" {
		t.Errorf("String() = %q", got)
	}
	if got := fmt.Sprintf("%#v", mk); got != mk.String() {
		t.Errorf("%%#v = %q", got)
	}
}

func TestListSorted(t *testing.T) {
	ctx := context.Background()
	l, _ := newTestLocal(t, memkv.New())
	if got, err := l.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("empty List = %v, %v", got, err)
	}
	want := map[string]Key{}
	for i := 0; i < 12; i++ {
		k, err := l.Generate(ctx, algs[i%2], fmt.Sprintf("k%d", i))
		if err != nil {
			t.Fatal(err)
		}
		want[k.ID] = k
	}
	got := mustList(t, l)
	if len(got) != len(want) {
		t.Fatalf("List returned %d keys, want %d", len(got), len(want))
	}
	if !slices.IsSortedFunc(got, func(a, b Key) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("List is not sorted by ID")
	}
	for _, k := range got {
		w, ok := want[k.ID]
		if !ok || w.Alg != k.Alg || w.Label != k.Label || !w.Created.Equal(k.Created) {
			t.Errorf("List entry %+v, want %+v", k, w)
		}
		if err := Verify(k.Public, []byte("x"), mustSign(t, l, k.ID, []byte("x"))); err != nil {
			t.Errorf("List public key of %s does not verify: %v", k.ID, err)
		}
	}
}

func TestKeyNotFound(t *testing.T) {
	ctx := context.Background()
	l, _ := newTestLocal(t, memkv.New())
	other, _ := newTestLocal(t, memkv.New())
	k, err := other.Generate(ctx, Ed25519, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k.ID, "", "k", "nope", strings.ToUpper(k.ID), k.ID + "a", "../" + k.ID[3:]} {
		if _, err := l.Key(ctx, id); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("Key(%q) = %v, want ErrKeyNotFound", id, err)
		}
		if _, err := l.Sign(ctx, id, []byte("m")); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("Sign(%q) = %v, want ErrKeyNotFound", id, err)
		}
		if _, err := l.Signer(ctx, id); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("Signer(%q) = %v, want ErrKeyNotFound", id, err)
		}
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	l, _ := newTestLocal(t, memkv.New())
	tests := []struct {
		name  string
		alg   Algorithm
		label string
	}{
		{"empty alg", "", "x"},
		{"unknown alg", "RSA", "x"},
		{"lowercase alias is not an Algorithm", "ed25519", "x"},
		{"label too long", Ed25519, strings.Repeat("a", 2000)},
		{"label not utf-8", Ed25519, "\xff\xfe"},
	}
	for _, tt := range tests {
		if _, err := l.Generate(ctx, tt.alg, tt.label); err == nil {
			t.Errorf("%s: Generate succeeded", tt.name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Generate(cctx, Ed25519, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with cancelled ctx = %v", err)
	}
	if _, err := NewLocal(nil, MasterKey{}); err == nil {
		t.Error("NewLocal(nil) succeeded")
	}
	if _, err := NewLocal(memkv.New(), MasterKey{}); err == nil {
		t.Error("NewLocal with zero MasterKey succeeded")
	}
	mk, _ := GenerateMasterKey()
	if _, err := NewLocal(memkv.New(), mk, WithCacheSize(-1)); err == nil {
		t.Error("NewLocal with negative cache size succeeded")
	}
}

func TestCacheBounded(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, 1, 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			l, _ := newTestLocal(t, memkv.New(), WithCacheSize(size))
			var ks []Key
			for i := 0; i < 8; i++ {
				k, err := l.Generate(ctx, algs[i%2], "")
				if err != nil {
					t.Fatal(err)
				}
				ks = append(ks, k)
			}
			for round := 0; round < 2; round++ {
				for _, k := range ks {
					msg := []byte(k.ID)
					if err := Verify(k.Public, msg, mustSign(t, l, k.ID, msg)); err != nil {
						t.Fatal(err)
					}
					l.mu.RLock()
					n := len(l.cache)
					l.mu.RUnlock()
					if n > size {
						t.Fatalf("cache holds %d entries, bound %d", n, size)
					}
				}
			}
		})
	}
}

func TestConcurrentSign(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{DefaultCacheSize, 1, 0} {
		t.Run(fmt.Sprintf("cache=%d", size), func(t *testing.T) {
			store := memkv.New()
			gen, mk := newTestLocal(t, store)
			var ks []Key
			for i := 0; i < 4; i++ {
				k, err := gen.Generate(ctx, algs[i%2], "")
				if err != nil {
					t.Fatal(err)
				}
				ks = append(ks, k)
			}
			l, err := NewLocal(store, mk, WithCacheSize(size)) // cold cache: loads race
			if err != nil {
				t.Fatal(err)
			}
			const workers, per = 32, 20
			var wg sync.WaitGroup
			errs := make(chan error, workers*per)
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						k := ks[(w+i)%len(ks)]
						msg := []byte(fmt.Sprintf("w%d i%d", w, i))
						if err := signAndVerify(ctx, l, k, msg, i%5 == 4); err != nil {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// --- helpers ---

// signAndVerify signs msg with k through Sign or through Signer and checks
// the result with the crypto library.
func signAndVerify(ctx context.Context, m Manager, k Key, msg []byte, viaSigner bool) error {
	if !viaSigner {
		sig, err := m.Sign(ctx, k.ID, msg)
		if err != nil {
			return err
		}
		return Verify(k.Public, msg, sig)
	}
	s, err := m.Signer(ctx, k.ID)
	if err != nil {
		return err
	}
	switch pk := k.Public.(type) {
	case ed25519.PublicKey:
		sig, err := s.Sign(nil, msg, crypto.Hash(0))
		if err != nil {
			return err
		}
		if !ed25519.Verify(pk, msg, sig) {
			return errors.New("Ed25519 Signer signature does not verify")
		}
	case *ecdsa.PublicKey:
		d := sha256.Sum256(msg)
		der, err := s.Sign(nil, d[:], crypto.SHA256)
		if err != nil {
			return err
		}
		if !ecdsa.VerifyASN1(pk, d[:], der) {
			return errors.New("ECDSA Signer signature does not verify")
		}
	}
	return nil
}

// rawToASN1 converts a 64-byte r||s signature to ASN.1 DER.
func rawToASN1(t testing.TB, sig []byte) []byte {
	t.Helper()
	integer := func(b []byte) []byte {
		b = bytes.TrimLeft(b, "\x00")
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return append([]byte{0x02, byte(len(b))}, b...)
	}
	body := append(integer(sig[:32]), integer(sig[32:])...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func mustSign(t testing.TB, m Manager, id string, msg []byte) []byte {
	t.Helper()
	sig, err := m.Sign(context.Background(), id, msg)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func mustList(t testing.TB, m Manager) []Key {
	t.Helper()
	ks, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// --- benchmarks: ours vs the crypto library directly ---

var benchMsg = bytes.Repeat([]byte("credential "), 24) // 264 bytes

func BenchmarkSign(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		alg   Algorithm
		cache int
	}{
		{"Ed25519", Ed25519, DefaultCacheSize},
		{"P-256", P256, DefaultCacheSize},
		{"Ed25519-uncached", Ed25519, 0},
		{"P-256-uncached", P256, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l, _ := newTestLocal(b, memkv.New(), WithCacheSize(bc.cache))
			k, err := l.Generate(ctx, bc.alg, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.Sign(ctx, k.ID, benchMsg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRawEd25519Sign(b *testing.B) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = ed25519.Sign(priv, benchMsg)
	}
}

func BenchmarkRawP256Sign(b *testing.B) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(benchMsg)
		if _, err := ecdsa.SignASN1(rand.Reader, priv, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSignOverhead interleaves Local.Sign and the raw library call with
// the same private key in one loop, so that machine load affects both alike,
// and reports
// the ratio of the median per-call times.
func BenchmarkSignOverhead(b *testing.B) {
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		alg   Algorithm
		cache int
	}{
		{"Ed25519", Ed25519, DefaultCacheSize},
		{"P-256", P256, DefaultCacheSize},
		{"Ed25519-uncached", Ed25519, 0},
		{"P-256-uncached", P256, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l, _ := newTestLocal(b, memkv.New(), WithCacheSize(bc.cache))
			k, err := l.Generate(ctx, bc.alg, "bench")
			if err != nil {
				b.Fatal(err)
			}
			e, err := l.load(ctx, k.ID)
			if err != nil {
				b.Fatal(err)
			}
			var raw func()
			switch p := e.priv.(type) {
			case ed25519.PrivateKey:
				raw = func() { _ = ed25519.Sign(p, benchMsg) }
			case *ecdsa.PrivateKey:
				raw = func() {
					d := sha256.Sum256(benchMsg)
					if _, err := ecdsa.SignASN1(rand.Reader, p, d[:]); err != nil {
						b.Fatal(err)
					}
				}
			}
			ours := func() {
				if _, err := l.Sign(ctx, k.ID, benchMsg); err != nil {
					b.Fatal(err)
				}
			}
			var dOurs, dRaw []time.Duration
			i := 0
			for b.Loop() {
				first, second, d1, d2 := ours, raw, &dOurs, &dRaw
				if i%2 == 1 {
					first, second, d1, d2 = raw, ours, &dRaw, &dOurs
				}
				t0 := time.Now()
				first()
				t1 := time.Now()
				second()
				t2 := time.Now()
				*d1 = append(*d1, t1.Sub(t0))
				*d2 = append(*d2, t2.Sub(t1))
				i++
			}
			// Medians: robust against preemption on a loaded machine.
			mOurs, mRaw := median(dOurs), median(dRaw)
			b.ReportMetric(float64(mOurs.Nanoseconds()), "ours-median-ns")
			b.ReportMetric(float64(mRaw.Nanoseconds()), "raw-median-ns")
			b.ReportMetric(float64(mOurs)/float64(mRaw), "ours/raw")
		})
	}
}
