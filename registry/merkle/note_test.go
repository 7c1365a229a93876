package merkle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// testKey is an Ed25519 key whose signer goes through the NewSigner callback,
// the way a key manager would be wired in.
type testKey struct {
	name   string
	pub    ed25519.PublicKey
	priv   ed25519.PrivateKey
	signer note.Signer
	vkey   string
	verif  note.Verifier
}

func newTestKey(t testing.TB, name, seed string) testKey {
	t.Helper()
	s := sha256.Sum256([]byte(seed))
	priv := ed25519.NewKeyFromSeed(s[:])
	return newTestKeyFrom(t, name, priv)
}

func newTestKeyFrom(t testing.TB, name string, priv ed25519.PrivateKey) testKey {
	t.Helper()
	pub := priv.Public().(ed25519.PublicKey)
	signer, err := NewSigner(name, pub, func(msg []byte) ([]byte, error) { return ed25519.Sign(priv, msg), nil })
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{name, pub, priv, signer, vkey, v}
}

// TestNoteKnownAnswer checks NewSigner and VerifierKey against the published
// golang.org/x/mod/sumdb/note example key and signature.
func TestNoteKnownAnswer(t *testing.T) {
	const (
		skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
		vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
		text = "If you think cryptography is the answer to your problem,\n" +
			"then you don't know what your problem is.\n"
		signed = text + "\n" +
			"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
	)
	raw, err := base64.StdEncoding.DecodeString(strings.SplitN(skey, "+", 5)[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		t.Fatalf("bad test key: %v", err)
	}
	k := newTestKeyFrom(t, "PeterNeumann", ed25519.NewKeyFromSeed(raw[1:]))
	if k.vkey != vkey {
		t.Fatalf("VerifierKey = %q, want %q", k.vkey, vkey)
	}
	if k.signer.KeyHash() != 0xc74f20a3 || k.verif.KeyHash() != 0xc74f20a3 {
		t.Fatalf("key hashes %08x %08x, want c74f20a3", k.signer.KeyHash(), k.verif.KeyHash())
	}
	msg, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != signed {
		t.Fatalf("signed note = %q, want %q", msg, signed)
	}
	// A correctly signed note whose body is not a checkpoint is rejected.
	if _, err := Open([]byte(signed), k.verif); !errors.Is(err, ErrBadCheckpoint) {
		t.Fatalf("Open(non-checkpoint) = %v, want ErrBadCheckpoint", err)
	}
}

func TestSignOpen(t *testing.T) {
	log := newTestKey(t, "log.example/credence", "log")
	tests := []Checkpoint{
		{Origin: log.name, Size: 0, Root: sha256Empty()},
		{Origin: log.name, Size: 12345, Root: tlog.RecordHash([]byte("x"))},
		{Origin: log.name, Size: 1, Root: tlog.RecordHash([]byte("y")), Extensions: []string{"ext one", "ext two"}},
	}
	for _, c := range tests {
		signed, err := Sign(c, log.signer)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(signed, append(c.Marshal(), '\n')) {
			t.Fatalf("signed note %q does not start with body and blank line", signed)
		}
		got, err := Open(signed, log.verif)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got.Origin != c.Origin || got.Size != c.Size || got.Root != c.Root || strings.Join(got.Extensions, "\n") != strings.Join(c.Extensions, "\n") {
			t.Fatalf("Open = %+v, want %+v", got, c)
		}
	}
}

// TestOpenCosignatures: unknown signatures (e.g. witness cosignatures) never
// break verification, and known witnesses are checked too.
func TestOpenCosignatures(t *testing.T) {
	log := newTestKey(t, "log.example/credence", "log")
	w1 := newTestKey(t, "witness.example/one", "w1")
	w2 := newTestKey(t, "witness.example/two", "w2")
	other := newTestKey(t, "log.example/credence", "rotated") // same name, other key
	c := Checkpoint{Origin: log.name, Size: 99, Root: tlog.RecordHash([]byte("root"))}

	tests := []struct {
		name      string
		signers   []note.Signer
		verifiers []note.Verifier
	}{
		{"log + unknown witnesses", []note.Signer{log.signer, w1.signer, w2.signer}, []note.Verifier{log.verif}},
		{"log + known witness", []note.Signer{log.signer, w1.signer}, []note.Verifier{log.verif, w1.verif}},
		{"log + known and unknown witness", []note.Signer{log.signer, w1.signer, w2.signer}, []note.Verifier{log.verif, w2.verif}},
		{"log + same-name rotated key", []note.Signer{log.signer, other.signer}, []note.Verifier{log.verif}},
		{"known witness not signed", []note.Signer{log.signer}, []note.Verifier{log.verif, w1.verif}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			signed, err := Sign(c, tt.signers...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Open(signed, tt.verifiers...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.Size != c.Size || got.Root != c.Root {
				t.Fatalf("Open = %+v", got)
			}
		})
	}

	// Witness signature listed before the log's (signature order is irrelevant).
	body := c.Marshal()
	wsigned, err := note.Sign(&note.Note{Text: string(body)}, w1.signer, log.signer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(wsigned, log.verif, w1.verif); err != nil {
		t.Fatalf("Open(witness first): %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	log := newTestKey(t, "log.example/credence", "log")
	imposter := newTestKey(t, "log.example/credence", "imposter") // same name, other key
	witness := newTestKey(t, "witness.example", "w")
	stranger := newTestKey(t, "stranger.example", "s")
	c := Checkpoint{Origin: log.name, Size: 10, Root: tlog.RecordHash([]byte("r")), Extensions: []string{"ext"}}
	good, err := Sign(c, log.signer)
	if err != nil {
		t.Fatal(err)
	}
	body := string(c.Marshal())
	sigBlock := strings.TrimPrefix(string(good), body)

	noteSign := func(text string, signers ...note.Signer) []byte {
		t.Helper()
		msg, err := note.Sign(&note.Note{Text: text}, signers...)
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	otherOrigin := Checkpoint{Origin: "other.example/log", Size: 10, Root: c.Root}

	tests := []struct {
		name      string
		msg       []byte
		verifiers []note.Verifier
	}{
		{"different key, same name", good, []note.Verifier{imposter.verif}},
		{"different key and name", good, []note.Verifier{stranger.verif}},
		{"tampered size", []byte(strings.Replace(string(good), "\n10\n", "\n11\n", 1)), []note.Verifier{log.verif}},
		{"tampered root", []byte(strings.Replace(string(good), c.Root.String(), tlog.RecordHash([]byte("s")).String(), 1)), []note.Verifier{log.verif}},
		{"tampered extension", []byte(strings.Replace(string(good), "\next\n", "\nexu\n", 1)), []note.Verifier{log.verif}},
		{"extension dropped", []byte(strings.Replace(string(good), "\next\n", "\n", 1)), []note.Verifier{log.verif}},
		{"origin mismatch (signed by log key)", noteSign(string(otherOrigin.Marshal()), log.signer), []note.Verifier{log.verif}},
		{"no signatures", []byte(body + "\n"), []note.Verifier{log.verif}},
		{"body only", []byte(body), []note.Verifier{log.verif}},
		{"unknown key only", noteSign(body, stranger.signer), []note.Verifier{log.verif}},
		{"imposter key only", noteSign(body, imposter.signer), []note.Verifier{log.verif}},
		{"known witness only, no log signature", noteSign(body, witness.signer), []note.Verifier{log.verif, witness.verif}},
		{"bad known witness signature", corruptSig(t, noteSign(body, log.signer, witness.signer), witness.name), []note.Verifier{log.verif, witness.verif}},
		{"bad log signature", corruptSig(t, good, log.name), []note.Verifier{log.verif}},
		{"signature block without blank line", []byte(body + strings.TrimPrefix(sigBlock, "\n")), []note.Verifier{log.verif}},
		{"body is not a checkpoint", noteSign("hello\n", log.signer), []note.Verifier{log.verif}},
		{"body has non-canonical size", noteSign(log.name+"\n010\n"+c.Root.String()+"\n", log.signer), []note.Verifier{log.verif}},
		{"truncated", good[:len(good)-5], []note.Verifier{log.verif}},
		{"empty", nil, []note.Verifier{log.verif}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.msg, tt.verifiers...)
			if err == nil {
				t.Fatalf("Open succeeded: %+v", got)
			}
			t.Log(err)
			if !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
		})
	}

	if _, err := Open(good); err == nil {
		t.Fatal("Open with no verifiers succeeded")
	}
	if _, err := Open(good, log.verif, nil); err == nil {
		t.Fatal("Open with a nil verifier succeeded")
	}
}

// corruptSig flips a bit in the Ed25519 part of the signature line by name.
func corruptSig(t *testing.T, msg []byte, name string) []byte {
	t.Helper()
	lines := strings.Split(string(msg), "\n")
	for i, l := range lines {
		prefix := "— " + name + " "
		if !strings.HasPrefix(l, prefix) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(l, prefix))
		if err != nil {
			t.Fatal(err)
		}
		raw[10] ^= 1 // after the 4-byte key hash
		lines[i] = prefix + base64.StdEncoding.EncodeToString(raw)
		return []byte(strings.Join(lines, "\n"))
	}
	t.Fatalf("no signature by %s", name)
	return nil
}

func TestSignRejects(t *testing.T) {
	log := newTestKey(t, "log.example", "log")
	other := newTestKey(t, "other.example", "other")
	root := tlog.RecordHash([]byte("r"))
	tests := []struct {
		name    string
		c       Checkpoint
		signers []note.Signer
	}{
		{"no signers", Checkpoint{Origin: log.name, Size: 1, Root: root}, nil},
		{"nil signer", Checkpoint{Origin: log.name, Size: 1, Root: root}, []note.Signer{nil}},
		{"origin differs from log key", Checkpoint{Origin: "x.example", Size: 1, Root: root}, []note.Signer{log.signer}},
		{"log key not first", Checkpoint{Origin: log.name, Size: 1, Root: root}, []note.Signer{other.signer, log.signer}},
		{"empty origin", Checkpoint{Origin: "", Size: 1, Root: root}, []note.Signer{log.signer}},
		{"newline in origin", Checkpoint{Origin: log.name + "\n5", Size: 1, Root: root}, []note.Signer{log.signer}},
		{"empty extension", Checkpoint{Origin: log.name, Size: 1, Root: root, Extensions: []string{""}}, []note.Signer{log.signer}},
		{"newline in extension", Checkpoint{Origin: log.name, Size: 1, Root: root, Extensions: []string{"a\nb"}}, []note.Signer{log.signer}},
		{"control char in extension", Checkpoint{Origin: log.name, Size: 1, Root: root, Extensions: []string{"a\x01"}}, []note.Signer{log.signer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg, err := Sign(tt.c, tt.signers...); err == nil {
				t.Fatalf("Sign succeeded: %q", msg)
			}
		})
	}
}

func TestSignerCallbackChecked(t *testing.T) {
	k := newTestKey(t, "log.example", "log")
	wrong := newTestKey(t, "log.example", "wrong")
	c := Checkpoint{Origin: k.name, Size: 1, Root: tlog.RecordHash([]byte("r"))}
	boom := errors.New("key manager unavailable")
	tests := []struct {
		name string
		sign func([]byte) ([]byte, error)
		want error
	}{
		{"callback error", func([]byte) ([]byte, error) { return nil, boom }, boom},
		{"wrong key", func(m []byte) ([]byte, error) { return ed25519.Sign(wrong.priv, m), nil }, nil},
		{"short signature", func(m []byte) ([]byte, error) { return ed25519.Sign(k.priv, m)[:63], nil }, nil},
		{"empty signature", func([]byte) ([]byte, error) { return nil, nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSigner(k.name, k.pub, tt.sign)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Sign(c, s)
			if err == nil {
				t.Fatal("Sign succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v does not wrap %v", err, tt.want)
			}
		})
	}
}

func TestKeyErrors(t *testing.T) {
	k := newTestKey(t, "log.example", "log")
	sign := func(m []byte) ([]byte, error) { return ed25519.Sign(k.priv, m), nil }
	for _, name := range []string{"", "has space", "has+plus", "tab\there", "\xff"} {
		if _, err := VerifierKey(name, k.pub); err == nil {
			t.Errorf("VerifierKey(%q) succeeded", name)
		}
		if _, err := NewSigner(name, k.pub, sign); err == nil {
			t.Errorf("NewSigner(%q) succeeded", name)
		}
	}
	for _, pub := range []ed25519.PublicKey{nil, k.pub[:31], append(append([]byte(nil), k.pub...), 0)} {
		if _, err := VerifierKey(k.name, pub); err == nil {
			t.Errorf("VerifierKey(pub of %d bytes) succeeded", len(pub))
		}
		if _, err := NewSigner(k.name, pub, sign); err == nil {
			t.Errorf("NewSigner(pub of %d bytes) succeeded", len(pub))
		}
	}
	if _, err := NewSigner(k.name, k.pub, nil); err == nil {
		t.Error("NewSigner(nil callback) succeeded")
	}
	parts := strings.SplitN(k.vkey, "+", 3)
	for _, vkey := range []string{
		"",
		"log.example",
		parts[0] + "+" + parts[1],
		parts[0] + "+00000000+" + parts[2], // wrong key hash
		"other.example+" + parts[1] + "+" + parts[2],    // name not covered by the hash
		parts[0] + "+" + parts[1] + "+" + parts[2][:20], // truncated key
		parts[0] + "+" + parts[1] + "+!!!!",
	} {
		if _, err := NewVerifier(vkey); err == nil {
			t.Errorf("NewVerifier(%q) succeeded", vkey)
		}
	}
	v, err := NewVerifier(k.vkey)
	if err != nil || v.Name() != k.name || v.KeyHash() != k.signer.KeyHash() {
		t.Fatalf("NewVerifier(%q) = %v, %v", k.vkey, v, err)
	}
}
