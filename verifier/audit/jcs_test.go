package audit

import (
	"bytes"
	"testing"
	"time"
)

// FuzzAppendEntry holds the direct encoder to canonical (encoding/json and
// then gowebpki/jcs): for every entry it can encode, the bytes are the same.
func FuzzAppendEntry(f *testing.F) {
	for i, s := range tricky {
		f.Add(s, tricky[(i+1)%len(tricky)], uint64(i), int64(i)*1e9+123, i%2 == 0)
	}
	f.Add("default", "did:key:z6Mk\x00\x1f\u007f", uint64(1)<<53-1, int64(1<<62), true)
	f.Fuzz(func(t *testing.T, a, b string, seq uint64, nanos int64, flag bool) {
		e := Entry{Chain: a, Seq: seq, Time: time.Unix(0, nanos).UTC(), Prev: b, Hash: a + b, Requester: b,
			Request: a, Kind: b, Holder: a, Verified: flag, Decision: a,
			Credentials: []CredentialRef{{ID: a, Types: []string{a, b}, Issuer: b, Digest: a}, {Digest: b}},
			Checks:      []Check{{Name: a, Passed: flag}, {Name: b}}, Errors: []string{a}, Warnings: []string{b, a}}
		if flag {
			e.Errors, e.Warnings, e.Hash, e.Holder, e.Request = nil, nil, "", "", ""
			e.Credentials[0].Types = nil
		}
		got, ok := appendEntry(nil, &e)
		want, err := canonical(e)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("appendEntry encoded what canonical refuses (%v): %s", err, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendEntry\n%s\ncanonical\n%s", got, want)
		}
	})
}

func BenchmarkCanonicalEntry(b *testing.B) {
	e := Entry{Chain: "hospital-1", Seq: 12345, Time: time.Now().UTC(), Prev: Digest([]byte("p")), Requester: "tok_0123456789abcdef",
		Kind: KindCredential, Verified: true, Decision: "accept",
		Credentials: []CredentialRef{{ID: "urn:uuid:288038af-eee4-4f44-aa9c-86bc36e95221", Types: []string{"VerifiableCredential", "MedicalLicenseCredential"},
			Issuer: "did:credence:QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", Digest: Digest([]byte("c"))}},
		Checks: []Check{{"proof", true}, {"validity", true}, {"status", true}, {"schema", true}, {"issuer", true}}}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, err := canonicalEntry(&e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json+jcs", func(b *testing.B) {
		for b.Loop() {
			if _, err := canonical(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
