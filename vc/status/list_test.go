package status

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
)

type encodedExample struct {
	Source      string `json:"source"`
	EncodedList string `json:"encodedList"`
	Bits        int    `json:"bits"`
	Set         []int  `json:"set"`
}

func loadExamples(t *testing.T) []encodedExample {
	t.Helper()
	b, err := os.ReadFile("testdata/encoded-lists.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []encodedExample
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func setBitsOf(l *List) []int {
	var set []int
	for i := range l.Len() {
		if v, _ := l.Get(i); v {
			set = append(set, i)
		}
	}
	return set
}

// TestDecodePublishedExamples decodes the specification's, the W3C test
// suite's and Digital Bazaar's published encodedList values.
func TestDecodePublishedExamples(t *testing.T) {
	for _, ex := range loadExamples(t) {
		t.Run(ex.Source[:min(40, len(ex.Source))], func(t *testing.T) {
			l, err := decode(ex.EncodedList, 0)
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != ex.Bits {
				t.Fatalf("Len = %d, want %d", l.Len(), ex.Bits)
			}
			if got := setBitsOf(l); !slices.Equal(got, ex.Set) {
				t.Fatalf("set bits %v, want %v", got, ex.Set)
			}
			// Decode itself enforces the minimum.
			_, err = Decode(ex.EncodedList)
			if ex.Bits >= MinBits {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
			} else if !errors.Is(err, ErrListTooShort) || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("Decode of %d bits: %v, want ErrListTooShort", ex.Bits, err)
			}
			// Re-encoding keeps the bits (not the bytes: DEFLATE encoders differ).
			enc, err := l.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := decode(enc, 0)
			if err != nil || !bytes.Equal(back.Bytes(), l.Bytes()) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

// TestBitOrder: index 0 is the most significant bit of byte 0.
func TestBitOrder(t *testing.T) {
	l, err := New(MinBits)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 9, 15, MinBits - 1} {
		if err := l.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	b := l.Bytes()
	if b[0] != 0x80 || b[1] != 0x41 || b[len(b)-1] != 0x01 {
		t.Fatalf("bytes % x ... % x", b[:2], b[len(b)-1:])
	}
	if err := l.Set(9, false); err != nil {
		t.Fatal(err)
	}
	if b[1] != 0x01 {
		t.Fatalf("after clearing bit 9: %#x", b[1])
	}
	for _, i := range []int{-1, MinBits} {
		if _, err := l.Get(i); !errors.Is(err, ErrIndexRange) {
			t.Errorf("Get(%d): %v", i, err)
		}
		if err := l.Set(i, true); !errors.Is(err, ErrIndexRange) {
			t.Errorf("Set(%d): %v", i, err)
		}
	}
}

func TestNewAndFromBytes(t *testing.T) {
	for _, tc := range []struct {
		bits int
		want error
	}{
		{MinBits, nil},
		{MaxBits, nil},
		{MinBits - 8, ErrListTooShort},
		{0, ErrListTooShort},
		{-8, ErrListTooShort},
		{MaxBits + 8, ErrListTooLong},
	} {
		l, err := New(tc.bits)
		if !errors.Is(err, tc.want) || (err == nil && l.Len() != tc.bits) {
			t.Errorf("New(%d): %v", tc.bits, err)
		}
		if tc.bits >= 0 {
			_, err = FromBytes(make([]byte, tc.bits/8))
			if !errors.Is(err, tc.want) {
				t.Errorf("FromBytes(%d bytes): %v", tc.bits/8, err)
			}
		}
	}
	if _, err := New(MinBits + 1); err == nil {
		t.Error("New accepted a length that is not a whole number of bytes")
	}
	b := make([]byte, MinBits/8)
	l, err := FromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 0xff // FromBytes copied
	if v, _ := l.Get(0); v {
		t.Error("FromBytes aliases its argument")
	}
}

func TestBytesAliasAndClone(t *testing.T) {
	l, _ := New(MinBits)
	c := l.Clone()
	l.Bytes()[0] = 0x80
	if v, _ := l.Get(0); !v {
		t.Error("Bytes is not the list's own bitstring")
	}
	if v, _ := c.Get(0); v {
		t.Error("Clone shares the bitstring")
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bits := range []int{MinBits, 2 * MinBits, MaxBits} {
		l, _ := New(bits)
		want := map[int]bool{0: true, bits - 1: true}
		for range 300 {
			want[rng.IntN(bits)] = true
		}
		for i := range want {
			if err := l.Set(i, true); err != nil {
				t.Fatal(err)
			}
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if enc[0] != 'u' || strings.ContainsAny(enc, "=+/") {
			t.Fatalf("not multibase base64url without padding: %.20s", enc)
		}
		if again, _ := l.Encode(); again != enc {
			t.Fatal("Encode is not deterministic")
		}
		back, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.Bytes(), l.Bytes()) {
			t.Fatalf("%d bits: round trip changed the list", bits)
		}
	}
}

func TestValues(t *testing.T) {
	l, _ := New(MinBits)
	// Entry 3 of 2 bits is bits 6 and 7; value 2 is 0b10: bit 6 set.
	if err := l.SetValue(3, 2, 2); err != nil {
		t.Fatal(err)
	}
	if l.Bytes()[0] != 0x02 {
		t.Fatalf("byte 0 = %#x, want 0x02", l.Bytes()[0])
	}
	if v, err := l.GetValue(3, 2); err != nil || v != 2 {
		t.Fatalf("GetValue = %d, %v", v, err)
	}
	// Straddling bytes: entry 2 of 3 bits is bits 6..8.
	if err := l.SetValue(2, 3, 5); err != nil {
		t.Fatal(err)
	}
	if b := l.Bytes(); b[0] != 0x02 || b[1] != 0x80 {
		t.Fatalf("bytes % x", b[:2])
	}
	if v, _ := l.GetValue(2, 3); v != 5 {
		t.Fatalf("GetValue(2, 3) = %d", v)
	}
	if err := l.SetValue(0, 2, 4); err == nil {
		t.Error("SetValue accepted a value wider than the size")
	}
	for _, size := range []int{0, MaxStatusSize + 1} {
		if _, err := l.GetValue(0, size); err == nil {
			t.Errorf("GetValue with size %d", size)
		}
	}
	if _, err := l.GetValue(MinBits/2, 2); !errors.Is(err, ErrIndexRange) {
		t.Errorf("GetValue past the end: %v", err)
	}
	if v, err := l.GetValue(MinBits/2-1, 2); err != nil || v != 0 {
		t.Errorf("last entry: %d, %v", v, err)
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func multibase(b []byte) string { return "u" + base64.RawURLEncoding.EncodeToString(b) }

// nonCanonical is a valid encodedList with a pad bit of its last base64url
// character set: the same bytes as its canonical form, yet not the only
// encoding of them.
func nonCanonical(t *testing.T) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; ; i++ {
		l, _ := New(MinBits)
		l.Set(i, true)
		z := gzipped(t, l.Bytes())
		if len(z)%3 == 0 {
			continue
		}
		enc := multibase(z)
		last := strings.IndexByte(alphabet, enc[len(enc)-1])
		return enc[:len(enc)-1] + string(alphabet[last|1])
	}
}

func TestDecodeRejects(t *testing.T) {
	good := gzipped(t, make([]byte, MinBits/8))
	goodEnc := multibase(good)
	badCRC := bytes.Clone(good)
	badCRC[len(badCRC)-5] ^= 1
	for _, tc := range []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrEncoding},
		{"prefix only", "u", ErrEncoding},
		{"no multibase prefix", goodEnc[1:], ErrEncoding},
		{"base58 prefix", "z" + goodEnc[1:], ErrEncoding},
		{"padding", "u" + base64.URLEncoding.EncodeToString(good), ErrEncoding},
		{"standard alphabet", goodEnc[:5] + "+" + goodEnc[6:], ErrEncoding},
		{"newline", goodEnc[:10] + "\n" + goodEnc[10:], ErrEncoding},
		{"space", goodEnc + " ", ErrEncoding},
		{"bad length", goodEnc + "A", ErrEncoding},
		{"non-zero trailing bits", nonCanonical(t), ErrEncoding},
		{"not gzip", multibase(make([]byte, 100)), ErrEncoding},
		{"raw deflate", multibase(good[10:]), ErrEncoding},
		{"truncated gzip", multibase(good[:len(good)-4]), ErrEncoding},
		{"bad crc", multibase(badCRC), ErrEncoding},
		{"trailing garbage", multibase(append(bytes.Clone(good), "junk"...)), ErrEncoding},
		{"gzip of nothing", multibase(gzipped(t, nil)), ErrListTooShort},
		{"one byte short", multibase(gzipped(t, make([]byte, MinBits/8-1))), ErrListTooShort},
		{"one byte too long", multibase(gzipped(t, make([]byte, MaxBits/8+1))), ErrListTooLong},
		{"oversized input", "u" + strings.Repeat("A", 4*maxCompressed/3+8), ErrListTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, tc.want) || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("Decode: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Decode(multibase(gzipped(t, make([]byte, MaxBits/8)))); err != nil {
		t.Errorf("MaxBits: %v", err)
	}
	// The largest incompressible list still fits the input bound.
	noise := make([]byte, MaxBits/8)
	seeded(3).Read(noise)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	zw.Write(noise)
	zw.Close()
	if l, err := Decode(multibase(buf.Bytes())); err != nil || !bytes.Equal(l.Bytes(), noise) {
		t.Errorf("incompressible MaxBits list (%d bytes of GZIP): %v", buf.Len(), err)
	}
	// Concatenated GZIP members are one GZIP file (RFC 1952 §2.2).
	half := gzipped(t, make([]byte, MinBits/16))
	if l, err := Decode(multibase(append(bytes.Clone(half), half...))); err != nil || l.Len() != MinBits {
		t.Errorf("two members: %v", err)
	}
}

// TestDecodeBomb: an encodedList expanding to 2 GiB is refused after
// decompressing MaxBits/8 bytes, with allocations bounded accordingly.
func TestDecodeBomb(t *testing.T) {
	member := gzipped(t, make([]byte, 16<<20)) // ~16 KiB expanding to 16 MiB
	var bomb []byte
	for range 128 {
		bomb = append(bomb, member...)
	}
	enc := multibase(bomb)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Decode(enc)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrListTooLong) {
		t.Fatalf("Decode of a bomb: %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("decoding a bomb allocated %d bytes", alloc)
	}
}
