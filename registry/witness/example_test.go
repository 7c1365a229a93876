package witness_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
)

func Example() {
	ctx := context.Background()

	// The log: a tree of three leaves and a checkpoint signing key.
	tree := &merkle.MemoryTree{}
	for _, leaf := range []string{"a", "b", "c"} {
		_, _ = tree.Append([]byte(leaf))
	}
	logKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	logSigner, _ := merkle.NewSigner("example.com/log", logKey.Public().(ed25519.PublicKey),
		func(msg []byte) ([]byte, error) { return ed25519.Sign(logKey, msg), nil })
	vkey, _ := merkle.VerifierKey("example.com/log", logKey.Public().(ed25519.PublicKey))
	logVerifier, _ := merkle.NewVerifier(vkey)
	root, _ := merkle.TreeRoot(tree, 3)
	signed, _ := merkle.Sign(merkle.Checkpoint{Origin: "example.com/log", Size: 3, Root: root}, logSigner)

	// The witness: its key (any crypto.Signer), the log it follows, a store.
	cosigner, _ := witness.NewCosigner("witness.example.com/w1", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)))
	w, _ := witness.New(cosigner, witness.NewKVStore(memkv.New(), ""),
		[]witness.Log{{Origin: "example.com/log", Keys: []note.Verifier{logVerifier}}},
		witness.WithClock(func() time.Time { return time.Unix(1767225600, 0) }))

	// First contact: old size 0, no proof.
	lines, err := w.AddCheckpoint(ctx, 0, nil, signed)
	fmt.Println(err)

	// A verifier requiring one cosignature accepts the cosigned checkpoint.
	c, err := witness.VerifyCosigned(append(signed, lines...), logVerifier, []note.Verifier{cosigner.Verifier()}, 1)
	fmt.Println(c.Size, err)

	// Replaying the first request is a conflict: the witness is at size 3.
	_, err = w.AddCheckpoint(ctx, 0, nil, signed)
	var conflict *witness.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Size, witness.StatusOf(err))
	// Output:
	// <nil>
	// 3 <nil>
	// true 3 409
}
