package audit_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/verifier/audit"
)

// smallExports are a valid export of two entries and one of an empty chain,
// signed by signer.
func smallExports(t testing.TB, signer keySigner) [][]byte {
	l := audit.New(memkv.New(), signer, audit.WithClock(newClock().now))
	appendN(t, l, "ward", 2)
	return [][]byte{export(t, l, "ward"), export(t, l, "empty")}
}

// FuzzVerify feeds Verify arbitrary input: it must never panic, and since
// only the seeds were ever signed, an input can only verify, with the key or
// without, if it is one of them (a final newline may be missing). Every
// change the fuzzer makes to a valid export, of a byte, whitespace included,
// or of many, must therefore be caught.
func FuzzVerify(f *testing.F) {
	signer := newSigner("audit")
	valid := smallExports(f, signer)
	for _, v := range valid {
		f.Add(v)
	}
	f.Add([]byte(`{"v":"credence.audit.head/1"}`))
	f.Add([]byte("{}\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, pub := range []any{signer.Public(), nil} {
			rep, err := audit.Verify(bytes.NewReader(data), pub)
			if err == nil && !isSeed(valid, data) {
				t.Fatalf("an input that is no signed export verifies (key %v): %+v\n%q", pub != nil, rep, data)
			}
			if err != nil && !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("Verify failed with %v, want ErrTampered", err)
			}
		}
	})
}

func isSeed(valid [][]byte, data []byte) bool {
	for _, v := range valid {
		if bytes.Equal(data, v) || bytes.Equal(data, bytes.TrimSuffix(v, []byte("\n"))) {
			return true
		}
	}
	return false
}

// TestEveryByteChanged changes each byte of a valid export in several ways
// (its low bit, a letter's case, to a space): none verifies.
func TestEveryByteChanged(t *testing.T) {
	signer := newSigner("audit")
	valid := smallExports(t, signer)[0]
	for i := range valid {
		for _, b := range []byte{valid[i] ^ 0x01, valid[i] ^ 0x20, ' '} {
			letter := valid[i]|0x20 >= 'a' && valid[i]|0x20 <= 'z'
			if b == valid[i] || (b == valid[i]^0x20 && !letter) {
				continue
			}
			mutated := bytes.Clone(valid)
			mutated[i] = b
			if rep, err := audit.Verify(bytes.NewReader(mutated), signer.Public()); !errors.Is(err, audit.ErrTampered) {
				t.Fatalf("byte %d changed from %q to %q: Verify = %+v, %v; want ErrTampered", i, valid[i], b, rep, err)
			}
		}
	}
}
