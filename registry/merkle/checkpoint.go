package merkle

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrBadCheckpoint is wrapped by every error from ParseCheckpoint and Open, and
// by Sign for a checkpoint that cannot be encoded.
var ErrBadCheckpoint = errors.New("merkle: invalid checkpoint")

// Checkpoint is the body of a C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint):
// the origin line, the tree size in decimal, the base64 root hash, then optional
// extension lines.
type Checkpoint struct {
	// Origin identifies the log; it is also the name of the log's signing key.
	Origin string
	// Size is the number of leaves in the tree.
	Size uint64
	// Root is the RFC 6962 Merkle tree hash of the first Size leaves.
	Root tlog.Hash
	// Extensions are opaque, non-empty extension lines (without newlines).
	Extensions []string
}

// Marshal returns the checkpoint body: "origin\nsize\nbase64(root)\n" followed by
// each extension line and "\n". It does not validate c; Sign does.
func (c Checkpoint) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	for _, e := range c.Extensions {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParseCheckpoint parses a checkpoint body strictly. The text must be valid UTF-8
// without control characters other than newline, and consist of at least three
// non-empty lines, each terminated by "\n": a non-empty origin, the tree size in
// canonical decimal (no sign, no leading zeros, fits in a uint64), and the
// canonical padded standard base64 encoding of a 32-byte root hash. Any further
// lines are extension lines and must be non-empty. Whatever parses, Marshal
// reproduces byte for byte. Errors wrap ErrBadCheckpoint.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	bad := func(format string, args ...any) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrBadCheckpoint, fmt.Sprintf(format, args...))
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n == 1 {
			return bad("invalid UTF-8 at byte %d", i)
		}
		if r < 0x20 && r != '\n' {
			return bad("control character %U at byte %d", r, i)
		}
		i += n
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		return bad("body must end with a newline")
	}
	lines := bytes.Split(text[:len(text)-1], []byte("\n"))
	if len(lines) < 3 {
		return bad("want at least 3 lines (origin, size, root), got %d", len(lines))
	}
	for i, l := range lines {
		if len(l) == 0 {
			return bad("line %d is empty", i+1)
		}
	}
	var c Checkpoint
	c.Origin = string(lines[0])

	size, err := strconv.ParseUint(string(lines[1]), 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != string(lines[1]) {
		return bad("tree size %q is not a canonical decimal uint64", lines[1])
	}
	c.Size = size

	root, err := decodeHash(string(lines[2]))
	if err != nil {
		return bad("root hash: %v", err)
	}
	c.Root = root

	for _, l := range lines[3:] {
		c.Extensions = append(c.Extensions, string(l))
	}
	return c, nil
}

// validate reports whether c encodes to a body that parses back to c.
func (c Checkpoint) validate() error {
	got, err := ParseCheckpoint(c.Marshal())
	if err != nil {
		return err
	}
	if got.Origin != c.Origin || got.Size != c.Size || got.Root != c.Root || !slices.Equal(got.Extensions, c.Extensions) {
		return fmt.Errorf("%w: fields contain newlines", ErrBadCheckpoint)
	}
	return nil
}

// decodeHash decodes the canonical padded standard base64 encoding of a hash.
func decodeHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return h, fmt.Errorf("bad base64 %q", s)
	}
	if len(b) != tlog.HashSize {
		return h, fmt.Errorf("hash is %d bytes, want %d", len(b), tlog.HashSize)
	}
	// The decoder skips CR and LF; only the canonical encoding is accepted.
	if base64.StdEncoding.EncodeToString(b) != s {
		return h, fmt.Errorf("non-canonical base64 %q", s)
	}
	copy(h[:], b)
	return h, nil
}
