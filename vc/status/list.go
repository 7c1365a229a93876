package status

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
)

// Bitstring bounds.
const (
	// MinBits is the specification's minimum bitstring length (16 KiB of
	// bits), the group-privacy floor.
	MinBits = 131072
	// MaxBits bounds the bitstrings this package creates and decodes
	// (1 MiB of bytes): an encodedList expanding beyond it is rejected
	// before more is decompressed.
	MaxBits = 1 << 23
	// MaxStatusSize is the largest statusSize supported (bits per entry).
	MaxStatusSize = 8
)

// maxCompressed bounds the GZIP data of an encodedList: MaxBits/8 bytes
// stored uncompressed (DEFLATE adds 5 bytes per 64 KiB block), with room for
// headers.
const maxCompressed = MaxBits/8 + MaxBits/8/1024 + 4096

// List is a bitstring. Bit i is in byte i/8 under the mask 0x80>>(i%8): index
// 0 is the left-most bit, as the specification requires. A List is not safe
// for concurrent mutation.
type List struct {
	b []byte
}

// New returns a list of bits zero bits; bits must be a multiple of 8 from
// MinBits to MaxBits.
func New(bits int) (*List, error) {
	if bits%8 != 0 {
		return nil, fmt.Errorf("status: a list of %d bits is not a whole number of bytes", bits)
	}
	if err := checkLen(bits/8, MinBits); err != nil {
		return nil, err
	}
	return &List{b: make([]byte, bits/8)}, nil
}

// FromBytes returns a list holding a copy of the bitstring b (len(b) from
// MinBits/8 to MaxBits/8).
func FromBytes(b []byte) (*List, error) {
	if err := checkLen(len(b), MinBits); err != nil {
		return nil, err
	}
	return &List{b: bytes.Clone(b)}, nil
}

func checkLen(n, minBits int) error {
	switch {
	case n*8 < minBits:
		return fmt.Errorf("%w: %d bits, the minimum is %d", ErrListTooShort, n*8, minBits)
	case n > MaxBits/8:
		return fmt.Errorf("%w: more than %d bits", ErrListTooLong, MaxBits)
	}
	return nil
}

// Len is the length of the list in bits.
func (l *List) Len() int { return len(l.b) * 8 }

// Get reports bit i.
func (l *List) Get(i int) (bool, error) {
	if i < 0 || i >= l.Len() {
		return false, fmt.Errorf("%w: bit %d of a list of %d bits", ErrIndexRange, i, l.Len())
	}
	return l.b[i/8]&(0x80>>(i%8)) != 0, nil
}

// Set sets bit i to v.
func (l *List) Set(i int, v bool) error {
	if i < 0 || i >= l.Len() {
		return fmt.Errorf("%w: bit %d of a list of %d bits", ErrIndexRange, i, l.Len())
	}
	if v {
		l.b[i/8] |= 0x80 >> (i % 8)
	} else {
		l.b[i/8] &^= 0x80 >> (i % 8)
	}
	return nil
}

// GetValue reads the status of entry index in a list of entries of size
// bits (1 to MaxStatusSize): the size bits from index*size, the left-most
// being the most significant.
func (l *List) GetValue(index, size int) (uint64, error) {
	pos, err := l.position(index, size)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := pos; i < pos+size; i++ {
		v <<= 1
		if l.b[i/8]&(0x80>>(i%8)) != 0 {
			v |= 1
		}
	}
	return v, nil
}

// SetValue writes v (below 2^size) as the status of entry index in a list
// of entries of size bits; see GetValue.
func (l *List) SetValue(index, size int, v uint64) error {
	pos, err := l.position(index, size)
	if err != nil {
		return err
	}
	if v>>size != 0 {
		return fmt.Errorf("status: value %d does not fit in %d bits", v, size)
	}
	for i := pos + size - 1; i >= pos; i-- {
		if v&1 != 0 {
			l.b[i/8] |= 0x80 >> (i % 8)
		} else {
			l.b[i/8] &^= 0x80 >> (i % 8)
		}
		v >>= 1
	}
	return nil
}

// position is the first bit of entry index of size bits.
func (l *List) position(index, size int) (int, error) {
	if size < 1 || size > MaxStatusSize {
		return 0, fmt.Errorf("status: status size %d is not from 1 to %d", size, MaxStatusSize)
	}
	if n := l.Len() / size; index < 0 || index >= n {
		return 0, fmt.Errorf("%w: index %d of a list of %d entries of %d bits", ErrIndexRange, index, n, size)
	}
	return index * size, nil
}

// Bytes returns the bitstring itself, not a copy: it aliases the list, so
// writes through it change the list and later Set calls change it. Use
// Clone first to keep a snapshot.
func (l *List) Bytes() []byte { return l.b }

// Clone returns an independent copy of the list.
func (l *List) Clone() *List { return &List{b: bytes.Clone(l.b)} }

// Encode returns the encodedList form of the list: "u" followed by the
// base64url (no padding) of its GZIP compression. The output is
// deterministic (no GZIP name or time), so equal lists encode equally.
func (l *List) Encode() (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write(l.b); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// Decode parses an encodedList: "u" then base64url without padding of GZIP
// data expanding to MinBits..MaxBits bits. Errors wrap ErrEncoding,
// ErrListTooShort or ErrListTooLong, all of which wrap vc.ErrMalformed.
func Decode(encoded string) (*List, error) { return decode(encoded, MinBits) }

// decode is Decode with a chosen minimum (tests decode shorter published
// examples with it).
func decode(encoded string, minBits int) (*List, error) {
	if encoded == "" || encoded[0] != 'u' {
		return nil, fmt.Errorf("%w: encodedList must be multibase base64url (start with \"u\")", ErrEncoding)
	}
	s := encoded[1:]
	if n := base64.RawURLEncoding.DecodedLen(len(s)); n > maxCompressed {
		return nil, fmt.Errorf("%w: encodedList holds %d bytes of GZIP data, more than any list of %d bits needs", ErrListTooLong, n, MaxBits)
	}
	// encoding/base64 skips '\r' and '\n'; the alphabet check keeps them,
	// padding and the standard alphabet out.
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("%w: encodedList has %q at offset %d, outside base64url without padding", ErrEncoding, c, i+1)
		}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not base64url: %v", ErrEncoding, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not GZIP: %v", ErrEncoding, err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, MaxBits/8+1))
	if err != nil {
		return nil, fmt.Errorf("%w: encodedList is not GZIP: %v", ErrEncoding, err)
	}
	if err := checkLen(len(b), minBits); err != nil {
		return nil, err
	}
	return &List{b: b}, nil
}
