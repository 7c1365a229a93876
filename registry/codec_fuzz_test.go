package registry

import (
	"bytes"
	"testing"
)

// FuzzDecode: Decode never panics, and whatever it accepts, its canonical bytes
// decode again to the same canonical bytes (and the same hash).
func FuzzDecode(f *testing.F) {
	for _, raw := range sampleOps(f) {
		f.Add(raw)
		f.Add(reencode(f, raw))
		if c, err := canonicalOf(raw); err == nil {
			f.Add(c)
		}
		// Malformed variants of a valid op.
		f.Add(raw[:len(raw)/2])
		f.Add(append(bytes.Clone(raw), '}'))
		f.Add(bytes.Replace(raw, []byte(`"seq":`), []byte(`"seq":1,"seq":`), 1))
		f.Add(bytes.Replace(raw, []byte(`"seq":`), []byte(`"Seq":`), 1))
		f.Add(bytes.Replace(raw, []byte(`"time":"2026-03-01T12:0`), []byte(`"time":"2026-03-01T12:00:00.1Z","x":"`), 1))
		f.Add(bytes.Replace(raw, []byte(`"doc":{`), []byte(`"doc":{"id":1,"id":`), 1))
	}
	f.Add([]byte(opJSON))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"v":"credence.op/1","type":"statuslist.update","subject":"s","seq":9007199254740991,"time":"2026-03-01T12:00:00Z","prev":"` +
		`aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","statusList":{"purpose":"revocation","size":8,"set":[1],"listHash":"h"},"accreditation":[null,true,1.5e3,"\u00e9"]}`))
	f.Add([]byte(`{"v":"credence.op/1","type":"did.create","subject":"s\ud83d\ude00","seq":1,"time":"2026-03-01T12:00:00Z","doc":{"a":"\ud800"}}`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		op, canonical, err := Decode(raw)
		if err != nil {
			if op != nil || canonical != nil {
				t.Fatal("Decode returned an op with an error")
			}
			if _, ok := err.(*RuleError); !ok {
				t.Fatalf("error %T is not a *RuleError: %v", err, err)
			}
			return
		}
		op2, canonical2, err := Decode(canonical)
		if err != nil {
			t.Fatalf("canonical bytes do not decode: %v\ninput %q\ncanonical %q", err, raw, canonical)
		}
		if !bytes.Equal(canonical, canonical2) {
			t.Fatalf("canonical bytes are not a fixed point:\n%q\n%q", canonical, canonical2)
		}
		if c, err := Canonical(op2); err != nil || !bytes.Equal(c, canonical) {
			t.Fatalf("Canonical(decoded op) differs: %v", err)
		}
		if _, err := SigningInput(op); err != nil {
			t.Fatalf("SigningInput: %v", err)
		}
	})
}

func canonicalOf(raw []byte) ([]byte, error) {
	_, c, err := Decode(raw)
	return c, err
}
