package status

import (
	"bytes"
	"errors"
	"testing"

	"github.com/credence/credence/vc"
)

// FuzzDecode: Decode never panics, fails only with ErrMalformed, returns
// lists within bounds, and what it returns encodes back to the same bits.
// Arbitrary bytes are also tried as a bitstring for an Encode/Decode round
// trip.
func FuzzDecode(f *testing.F) {
	l, _ := New(MinBits)
	l.Set(0, true)
	l.Set(MinBits-1, true)
	enc, _ := l.Encode()
	f.Add(enc)
	f.Add("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
	f.Add("uH4sIAAAAAAAAA-3OMQ0AAAgDsElHOh72EJJWQRMAAAAAAIDWXAcAAAAAAIDHFvRitn7UMAAA")
	f.Add("u")
	f.Add("")
	f.Add("uH4sI")
	f.Add(multibase(gzipped(f, make([]byte, MaxBits/8+1))))
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Decode(s)
		if err != nil {
			if got != nil || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("Decode(%q) = %v, %v", s, got, err)
			}
		} else {
			if got.Len() < MinBits || got.Len() > MaxBits || got.Len()%8 != 0 {
				t.Fatalf("Decode returned %d bits", got.Len())
			}
			again, err := got.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(again)
			if err != nil || !bytes.Equal(back.Bytes(), got.Bytes()) {
				t.Fatalf("re-encoding changed the list: %v", err)
			}
		}
		// Arbitrary bytes as a bitstring, padded to the minimum.
		raw := make([]byte, MinBits/8)
		copy(raw, s)
		l, err := FromBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		e, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(e)
		if err != nil || !bytes.Equal(back.Bytes(), raw) {
			t.Fatalf("Decode(Encode(x)) != x: %v", err)
		}
	})
}

// FuzzEntries: for any JSON credential, Entries never panics, fails only
// with an InvalidError, and what it accepts survives Object and Validate.
func FuzzEntries(f *testing.F) {
	for _, s := range []string{
		`{"credentialStatus":{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"94567","statusListCredential":"https://example.com/s/3"}}`,
		`{"credentialStatus":[{"type":"BitstringStatusListEntry","statusPurpose":"message","statusListIndex":"0","statusSize":2,"statusListCredential":"https://example.com/s/8","statusMessage":[{"status":"0x0","message":"a"},{"status":"0x1","message":"b"},{"status":"0x2","message":"c"},{"status":"0x3","message":"d"}],"statusReference":["https://example.org/x"]},{"type":"Other"}]}`,
		`{"credentialStatus":[1,"x",null,{"type":["BitstringStatusListEntry"],"statusListIndex":"01","statusSize":1e300}]}`,
		`{"credentialStatus":{"type":"BitstringStatusListEntry","statusListIndex":-1,"statusSize":-9223372036854775809,"statusMessage":{}}}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := vc.DecodeObject(b)
		if err != nil {
			return
		}
		c := vc.Credential(m)
		entries, err := Entries(c)
		if err != nil {
			var inv *vc.InvalidError
			if entries != nil || !errors.As(err, &inv) || len(inv.Fields) == 0 {
				t.Fatalf("Entries = %v, %v", entries, err)
			}
			return
		}
		_ = OtherStatus(c)
		for _, e := range entries {
			if e.Index < 0 || e.ListCredential == "" || e.Purpose == "" || e.Size < 0 || e.Size > MaxStatusSize {
				t.Fatalf("accepted entry %+v", e)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("an accepted entry %+v fails Validate: %v", e, err)
			}
		}
	})
}
