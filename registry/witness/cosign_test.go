package witness

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/registry/merkle"
)

type cosignatureVector struct {
	Comment    string `json:"comment"`
	Seed       string `json:"seed"`
	Name       string `json:"name"`
	VKey       string `json:"vkey"`
	Timestamp  uint64 `json:"timestamp"`
	Checkpoint string `json:"checkpoint"`
	Message    string `json:"message"`
	Line       string `json:"line"`
}

// forEachVector runs f on each vector of testdata/cosignature-v1.json.
func forEachVector(t *testing.T, f func(t *testing.T, v cosignatureVector, priv ed25519.PrivateKey)) {
	b, err := os.ReadFile("testdata/cosignature-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ Vectors []cosignatureVector }
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Comment, func(t *testing.T) {
			seed, err := hex.DecodeString(v.Seed)
			if err != nil {
				t.Fatal(err)
			}
			f(t, v, ed25519.NewKeyFromSeed(seed))
		})
	}
}

// TestCosignatureVectors: Cosign reproduces the independently generated
// vectors byte for byte, and transparency-dev's verifier accepts them.
func TestCosignatureVectors(t *testing.T) {
	forEachVector(t, func(t *testing.T, v cosignatureVector, priv ed25519.PrivateKey) {
		c, err := NewCosigner(v.Name, priv)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.VerifierKey(); got != v.VKey {
			t.Errorf("VerifierKey = %q, want %q", got, v.VKey)
		}
		if got := cosignedMessage(v.Timestamp, []byte(v.Checkpoint)); string(got) != v.Message {
			t.Errorf("signed message = %q, want %q", got, v.Message)
		}
		line, err := c.Cosign([]byte(v.Checkpoint), v.Timestamp)
		if err != nil || string(line) != v.Line {
			t.Fatalf("Cosign = %q, %v; want %q", line, err, v.Line)
		}
		theirs, err := fnote.NewVerifierForCosignatureV1(v.VKey)
		if err != nil {
			t.Fatal(err)
		}
		n, err := note.Open([]byte(v.Checkpoint+"\n"+v.Line), note.VerifierList(theirs))
		if err != nil {
			t.Fatalf("transparency-dev verifier: %v", err)
		}
		if ts, err := fnote.CoSigV1Timestamp(n.Sigs[0]); err != nil || uint64(ts.Unix()) != v.Timestamp {
			t.Fatalf("timestamp %v, %v; want %d", ts, err, v.Timestamp)
		}
	})
}

// TestCosignatureLayout checks the bytes of a cosignature by hand against
// tlog-cosignature: key ID || big-endian timestamp || Ed25519 signature over
// "cosignature/v1\ntime <t>\n" and the checkpoint body.
func TestCosignatureLayout(t *testing.T) {
	forEachVector(t, func(t *testing.T, v cosignatureVector, priv ed25519.PrivateKey) {
		pub := priv.Public().(ed25519.PublicKey)
		c, _ := NewCosigner(v.Name, priv)
		line, err := c.Cosign([]byte(v.Checkpoint), v.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		b64, ok := strings.CutPrefix(strings.TrimSuffix(string(line), "\n"), "\u2014 "+v.Name+" ")
		sig, err := base64.StdEncoding.DecodeString(b64)
		if !ok || err != nil || len(sig) != 4+8+64 {
			t.Fatalf("line %q is not an em dash, the name and 76 base64 bytes", line)
		}
		id := sha256.Sum256(append([]byte(v.Name+"\n\x04"), pub...))
		if !bytes.Equal(sig[:4], id[:4]) {
			t.Errorf("key ID %x, want SHA-256(name || 0x0A || 0x04 || key)[:4] = %x", sig[:4], id[:4])
		}
		if got := binary.BigEndian.Uint64(sig[4:12]); got != v.Timestamp {
			t.Errorf("timestamp %d, want %d", got, v.Timestamp)
		}
		msg := "cosignature/v1\ntime " + strconv.FormatUint(v.Timestamp, 10) + "\n" + v.Checkpoint
		if !ed25519.Verify(pub, []byte(msg), sig[12:]) {
			t.Error("the Ed25519 signature does not cover the spec's message")
		}
		// Domain separation: a plain note verifier (type 0x01) of the same key
		// must not accept a cosignature.
		vkey, _ := merkle.VerifierKey(v.Name, pub)
		plain, _ := merkle.NewVerifier(vkey)
		if _, err := note.Open([]byte(v.Checkpoint+"\n"+string(line)), note.VerifierList(plain)); err == nil {
			t.Error("an Ed25519 (0x01) note verifier accepted a cosignature")
		}
	})
}

// TestSpecExampleLayout decodes the cosignature of the tlog-cosignature
// example (its public key is not published, so only the layout is checked).
func TestSpecExampleLayout(t *testing.T) {
	b, err := os.ReadFile("testdata/cosigned-checkpoint.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, err = note.Open(b, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		t.Fatalf("note.Open = %v, want an unverified note", err)
	}
	sigs := unverified.Note.UnverifiedSigs
	if len(sigs) != 2 || sigs[1].Name != "witness.example.com/w1" {
		t.Fatalf("signatures %+v", sigs)
	}
	ts, err := fnote.CoSigV1Timestamp(sigs[1])
	if err != nil || ts.Unix() != 1679315147 {
		t.Fatalf("timestamp %v, %v; want the spec's 1679315147", ts, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sigs[1].Base64)
	if len(raw) != 4+8+64 {
		t.Fatalf("cosignature is %d bytes, want 76", len(raw))
	}
}

// TestTransparencyDevInterop: a cosignature by transparency-dev's signer
// verifies with NewVerifier, and both compute the same key ID and vkey.
func TestTransparencyDevInterop(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	const name = "witness.credence.test/w1"
	ours, err := NewCosigner(name, priv)
	if err != nil {
		t.Fatal(err)
	}
	skey := "PRIVATE+KEY+" + name + "+00000000+" + base64.StdEncoding.EncodeToString(append([]byte{0x04}, priv.Seed()...))
	theirs, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.KeyHash() != ours.KeyHash() {
		t.Fatalf("key IDs differ: transparency-dev %08x, ours %08x", theirs.KeyHash(), ours.KeyHash())
	}
	edVKey, _ := merkle.VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if vk, err := fnote.VKeyToCosignatureV1(edVKey); err != nil || vk != ours.VerifierKey() {
		t.Fatalf("VKeyToCosignatureV1 = %q, %v; want %q", vk, err, ours.VerifierKey())
	}
	text := "credence.test/log\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	signed, err := note.Sign(&note.Note{Text: text}, theirs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := note.Open(signed, note.VerifierList(ours.Verifier())); err != nil {
		t.Fatalf("NewVerifier rejects transparency-dev's cosignature: %v", err)
	}
}

// TestMLDSAVerifier: NewVerifier accepts ML-DSA-44 cosigners' keys.
func TestMLDSAVerifier(t *testing.T) {
	skey, vkey, err := fnote.GenerateMLDSAKey("witness.other.test/pq")
	if err != nil {
		t.Fatal(err)
	}
	s, err := fnote.NewSignerForCosignatureV1(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	text := "credence.test/log\n3\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"
	signed, _ := note.Sign(&note.Note{Text: text}, s)
	if _, err := note.Open(signed, note.VerifierList(v)); err != nil {
		t.Fatal(err)
	}
}

func TestNewVerifierRejects(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	pub := priv.Public().(ed25519.PublicKey)
	good, _ := VerifierKey("w", pub)
	ed, _ := merkle.VerifierKey("w", pub)
	name, rest, _ := strings.Cut(good, "+")
	_, key, _ := strings.Cut(rest, "+")
	for why, vkey := range map[string]string{
		"Ed25519 note key (0x01)": ed,
		"wrong key ID":            name + "+00000000+" + key,
		"bad base64":              name + "+" + rest[:8] + "+!!!!",
		"no key":                  name + "+" + rest[:8],
		"empty name":              strings.TrimPrefix(good, "w"),
		"short key ID":            name + "+1234+" + key,
	} {
		if _, err := NewVerifier(vkey); err == nil {
			t.Errorf("%s: NewVerifier(%q) succeeded", why, vkey)
		}
	}
	if _, err := NewVerifier(good); err != nil {
		t.Fatalf("NewVerifier(%q): %v", good, err)
	}
}

type lyingSigner struct{ ed25519.PrivateKey }

func (s lyingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return make([]byte, ed25519.SignatureSize), nil
}

func TestCosignRefuses(t *testing.T) {
	c := newCosigner(t, "w")
	body := merkle.Checkpoint{Origin: "o", Size: 1, Root: emptyRoot}.Marshal()
	for why, f := range map[string]func() error{
		"timestamp 0":      func() error { _, err := c.Cosign(body, 0); return err },
		"timestamp 2^63":   func() error { _, err := c.Cosign(body, 1<<63); return err },
		"not a checkpoint": func() error { _, err := c.Cosign([]byte("hello\n"), 1); return err },
		"a signed note":    func() error { _, err := c.Cosign(append(body, "\n— o AAAA\n"...), 1); return err },
		"bad signer": func() error {
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			l, _ := NewCosigner("w", lyingSigner{priv})
			_, err := l.Cosign(body, 1)
			return err
		},
		"bad name": func() error { _, err := NewCosigner("a b", ed25519.NewKeyFromSeed(make([]byte, 32))); return err },
	} {
		if f() == nil {
			t.Errorf("%s: succeeded", why)
		}
	}
}
