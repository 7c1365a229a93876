package did

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

// TestDecodeMultikeyCacheIsolation: a caller writing into the key it got
// does not change what the next caller decodes.
func TestDecodeMultikeyCacheIsolation(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	mk, err := EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := DecodeMultikey(mk)
		if err != nil {
			t.Fatal(err)
		}
		k, ok := got.(ed25519.PublicKey)
		if !ok || !bytes.Equal(k, pub) {
			t.Fatalf("decoded %v, want %x", got, []byte(pub))
		}
		k[0] ^= 0xff // a careless caller
	}
	if _, err := DecodeMultikey("z" + mk[1:len(mk)-1]); err == nil {
		t.Fatal("a truncated Multikey decoded")
	}
}
