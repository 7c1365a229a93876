package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(0xF0 + i) // exercises '+' '/' vs '-' '_' in base64
	}
	ref, err := newMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	valid := []struct{ name, in string }{
		{"hex lower", hex.EncodeToString(raw)},
		{"hex upper", strings.ToUpper(hex.EncodeToString(raw))},
		{"base64 std", base64.StdEncoding.EncodeToString(raw)},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(raw)},
		{"base64 url", base64.URLEncoding.EncodeToString(raw)},
		{"base64 url raw", base64.RawURLEncoding.EncodeToString(raw)},
		{"trailing newline", base64.StdEncoding.EncodeToString(raw) + "\n"},
		{"surrounding space", "  " + hex.EncodeToString(raw) + "\r\n"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseMasterKey(tt.in)
			if err != nil {
				t.Fatalf("ParseMasterKey: %v", err)
			}
			if k.ID() != ref.ID() || !bytes.Equal(k.s.key[:], raw) {
				t.Errorf("parsed a different key (id %s, want %s)", k.ID(), ref.ID())
			}
		})
	}

	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"blank", " \n"},
		{"31 bytes base64", base64.StdEncoding.EncodeToString(raw[:31])},
		{"33 bytes base64", base64.StdEncoding.EncodeToString(append(raw, 1))},
		{"16 bytes hex", hex.EncodeToString(raw[:16])},
		{"33 bytes hex", hex.EncodeToString(append(raw, 1))},
		{"64 non-hex chars", strings.Repeat("zq", 32)},
		{"garbage", "this is not a master key at all!"},
		{"base64 with inner space", base64.StdEncoding.EncodeToString(raw)[:20] + " " + base64.StdEncoding.EncodeToString(raw)[20:]},
		{"mixed alphabets", "+" + base64.RawURLEncoding.EncodeToString(raw)[1:21] + "-" + base64.RawURLEncoding.EncodeToString(raw)[22:]},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseMasterKey(tt.in)
			if err == nil {
				t.Fatalf("ParseMasterKey accepted %q (id %s)", tt.in, k.ID())
			}
			if s := strings.TrimSpace(tt.in); len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Errorf("error echoes the input: %v", err)
			}
			if !strings.Contains(err.Error(), "32 bytes") && !strings.Contains(err.Error(), "want 32") {
				t.Errorf("error should say what is expected: %v", err)
			}
		})
	}
}

func TestMasterKeyID(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	k, err := newMasterKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(append([]byte(masterIDDomain), raw...))
	if want := hex.EncodeToString(h[:8]); k.ID() != want {
		t.Errorf("ID = %q, want %q", k.ID(), want)
	}
	other, _ := GenerateMasterKey()
	if other.ID() == k.ID() || len(other.ID()) != 16 {
		t.Errorf("IDs %q and %q", other.ID(), k.ID())
	}
	// The id is not a plain hash of the key (domain separated).
	plain := sha256.Sum256(raw)
	if k.ID() == hex.EncodeToString(plain[:8]) {
		t.Error("ID is not domain separated")
	}
	var zero MasterKey
	if zero.ID() != "" || zero.String() != "MasterKey(zero)" {
		t.Errorf("zero key: ID %q String %q", zero.ID(), zero.String())
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := GenerateMasterKey()
	other, _ := GenerateMasterKey()
	pt := []byte("pkcs8 private key bytes")
	aad := []byte("kabc\x00Ed25519")
	sealed, err := k.Seal(pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 12+len(pt)+16 {
		t.Errorf("sealed length %d, want nonce+ct+tag = %d", len(sealed), 12+len(pt)+16)
	}
	if bytes.Contains(sealed, pt) {
		t.Error("sealed output contains the plaintext")
	}
	got, err := k.Open(sealed, aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	again, _ := k.Seal(pt, aad)
	if bytes.Equal(again[:12], sealed[:12]) || bytes.Equal(again, sealed) {
		t.Error("two seals reuse a nonce")
	}
	if got, err := k.Open(nil, nil); err == nil {
		t.Errorf("Open(nil) = %q", got)
	}
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	bad := []struct {
		name   string
		k      MasterKey
		sealed []byte
		aad    []byte
	}{
		{"other key", other, sealed, aad},
		{"other aad", k, sealed, []byte("kabc\x00P-256")},
		{"nil aad", k, sealed, nil},
		{"nonce flipped", k, flip(0), aad},
		{"ciphertext flipped", k, flip(13), aad},
		{"tag flipped", k, flip(len(sealed) - 1), aad},
		{"truncated", k, sealed[:len(sealed)-1], aad},
		{"too short", k, sealed[:20], aad},
		{"zero key", MasterKey{}, sealed, aad},
	}
	for _, b := range bad {
		if got, err := b.k.Open(b.sealed, b.aad); err == nil {
			t.Errorf("%s: Open succeeded: %q", b.name, got)
		}
	}
	if _, err := (MasterKey{}).Seal(pt, aad); err == nil {
		t.Error("zero key Seal succeeded")
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := filepath.Join(t.TempDir(), "state", "secrets")
	path := filepath.Join(dir, "master.key")

	k1, created, err := LoadOrCreateMasterKey(path)
	if err != nil || !created {
		t.Fatalf("first call: created=%v err=%v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("key dir mode %04o, want 0700", dst.Mode().Perm())
	}
	content, _ := os.ReadFile(path)
	if want := base64.StdEncoding.EncodeToString(k1.s.key[:]) + "\n"; string(content) != want {
		t.Errorf("file content is not base64 + newline (%d bytes)", len(content))
	}

	k2, created, err := LoadOrCreateMasterKey(path)
	if err != nil || created {
		t.Fatalf("second call: created=%v err=%v", created, err)
	}
	if k2.ID() != k1.ID() || k2.s.key != k1.s.key {
		t.Error("second call returned a different key")
	}

	// Loose permissions are refused with a hint; the key is not used.
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateMasterKey(path)
		if err == nil {
			t.Fatalf("mode %04o accepted", mode)
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: error %q should name the path and the chmod to run", mode, err)
		}
		if strings.Contains(err.Error(), strings.TrimSpace(string(content))) {
			t.Error("error contains the key")
		}
	}
	if err := os.Chmod(path, 0o400); err != nil { // read-only owner is fine
		t.Fatal(err)
	}
	if k3, _, err := LoadOrCreateMasterKey(path); err != nil || k3.ID() != k1.ID() {
		t.Errorf("mode 0400: %v", err)
	}

	malformed := []struct{ name, content string }{
		{"empty", ""},
		{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\n"},
		{"garbage", "not a key\n"},
		{"too large", strings.Repeat("A", 5000)},
	}
	for _, m := range malformed {
		t.Run(m.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.key")
			if err := os.WriteFile(p, []byte(m.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, created, err := LoadOrCreateMasterKey(p)
			if err == nil || created {
				t.Fatalf("malformed file accepted (created=%v)", created)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q should name the file", err)
			}
			if got, _ := os.ReadFile(p); string(got) != m.content {
				t.Error("malformed file was modified")
			}
		})
	}

	if _, _, err := LoadOrCreateMasterKey(t.TempDir()); err == nil {
		t.Error("a directory was accepted as key file")
	}
	if _, _, err := LoadOrCreateMasterKey(""); err == nil {
		t.Error("empty path accepted")
	}
}

// TestDeriveKey: a derived key is fixed by the master key and purpose,
// differs across purposes and master keys, and is not the master key.
func TestDeriveKey(t *testing.T) {
	k1, _ := GenerateMasterKey()
	k2, _ := GenerateMasterKey()
	a, err := k1.DeriveKey("auth/token-pepper")
	if err != nil || len(a) != 32 {
		t.Fatalf("DeriveKey = %x, %v", a, err)
	}
	again, _ := k1.DeriveKey("auth/token-pepper")
	other, _ := k1.DeriveKey("other")
	elsewhere, _ := k2.DeriveKey("auth/token-pepper")
	switch {
	case !bytes.Equal(a, again):
		t.Error("DeriveKey is not deterministic")
	case bytes.Equal(a, other) || bytes.Equal(a, elsewhere):
		t.Error("DeriveKey gave one key for two purposes or two master keys")
	case bytes.Equal(a, k1.s.key[:]):
		t.Error("DeriveKey returned the master key")
	}
	if _, err := k1.DeriveKey(""); err == nil {
		t.Error("DeriveKey without a purpose")
	}
	if _, err := (MasterKey{}).DeriveKey("x"); err == nil {
		t.Error("DeriveKey of the zero MasterKey")
	}
}
