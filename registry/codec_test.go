package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// sampleOps returns valid encoded ops of every did.* type of one subject, in
// order (the last in canonical form).
func sampleOps(t testing.TB) [][]byte {
	u1, r1, u2, p := edKey(t, 1), edKey(t, 2), edKey(t, 3), p256Key(t)
	l := newLedger(t)
	create := newCreate(t, []testKey{u1, p}, []testKey{r1}, keyHashes(u2), u1, p)
	st := l.must(create)
	upd := nextOp(t, st, DIDUpdate, 1)
	upd.Doc, upd.UpdateKeys, upd.NextKeyHashes = testDoc(t, st.Subject, "v2", u2), mks(u2), keyHashes(u1)
	st = l.must(sign(t, upd, u1))
	rec := nextOp(t, st, DIDRecover, 2)
	rec.Doc, rec.UpdateKeys, rec.RecoveryKeys = testDoc(t, st.Subject, "v3", u1), mks(u1), mks(r1)
	st = l.must(sign(t, rec, r1))
	deact := sign(t, nextOp(t, st, DIDDeactivate, 3), r1)
	l.must(deact)
	var out [][]byte
	for _, op := range []*Op{create, upd, rec} {
		out = append(out, mustJSON(t, op))
	}
	c, err := Canonical(deact)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, c)
}

// reencode rewrites a JSON value with members in reverse order, indentation and
// escaped characters: the same op, different bytes.
func reencode(t testing.TB, raw []byte) []byte {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	writeReversed(&buf, v, "\n")
	return buf.Bytes()
}

func writeReversed(buf *bytes.Buffer, v any, indent string) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// reverse-sorted: the opposite of JCS order
		for i := range keys {
			for j := i + 1; j < len(keys); j++ {
				if keys[j] > keys[i] {
					keys[i], keys[j] = keys[j], keys[i]
				}
			}
		}
		buf.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(" ,")
			}
			buf.WriteString(indent + "  " + escapeAll(k) + " :\t")
			writeReversed(buf, v[k], indent+"  ")
		}
		buf.WriteString(indent + "}")
	case []any:
		buf.WriteString("[ ")
		for i, e := range v {
			if i > 0 {
				buf.WriteString(", ")
			}
			writeReversed(buf, e, indent)
		}
		buf.WriteString(" ]")
	case string:
		buf.WriteString(escapeAll(v))
	case json.Number:
		buf.WriteString(v.String())
	default:
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
}

// escapeAll writes s as a JSON string with every ASCII letter \u-escaped.
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestDecodeCanonical(t *testing.T) {
	for i, raw := range sampleOps(t) {
		op, canonical, err := Decode(raw)
		if err != nil {
			t.Fatalf("op %d: %v", i, err)
		}
		want, err := Canonical(op)
		if err != nil || !bytes.Equal(canonical, want) {
			t.Fatalf("op %d: canonical bytes are not Canonical(op): %v", i, err)
		}
		// Variants: reversed member order, whitespace, escapes.
		variant := reencode(t, raw)
		if bytes.Equal(variant, raw) {
			t.Fatal("reencode did not change the bytes")
		}
		op2, canonical2, err := Decode(variant)
		if err != nil {
			t.Fatalf("op %d variant: %v\n%s", i, err, variant)
		}
		if !bytes.Equal(canonical, canonical2) {
			t.Fatalf("op %d: variant canonical bytes differ:\n%s\n%s", i, canonical, canonical2)
		}
		if string(op.Doc) != string(op2.Doc) {
			t.Fatalf("op %d: decoded docs differ", i)
		}
		// Canonical bytes are a fixed point.
		_, canonical3, err := Decode(canonical)
		if err != nil || !bytes.Equal(canonical, canonical3) {
			t.Fatalf("op %d: canonical bytes do not decode to themselves: %v", i, err)
		}
		// JCS: sorted members, no whitespace.
		if bytes.ContainsAny(canonical, "\n\t") || !bytes.HasPrefix(canonical, []byte(`{"`)) {
			t.Fatalf("op %d: canonical bytes look wrong: %s", i, canonical)
		}
	}
}

func TestSigningInputExcludesProofs(t *testing.T) {
	raw := sampleOps(t)[0]
	op, canonical, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	input, err := SigningInput(op)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(input, []byte(`"proofs"`)) || !bytes.Contains(canonical, []byte(`"proofs"`)) {
		t.Fatalf("signing input %s\ncanonical %s", input, canonical)
	}
	if len(op.Proofs) != 2 {
		t.Fatalf("SigningInput modified the op's proofs: %d", len(op.Proofs))
	}
	// JCS member order: "doc" < "nextKeyHashes" < "proofs" < "recoveryKeys" < "seq" ...
	if i, j := bytes.Index(canonical, []byte(`"proofs"`)), bytes.Index(canonical, []byte(`"recoveryKeys"`)); i > j {
		t.Fatalf("members not sorted: %s", canonical)
	}
}

func TestOpHash(t *testing.T) {
	if got := OpHash(nil); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("OpHash(empty) = %s", got)
	}
	if got := OpHash([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("OpHash(abc) = %s", got)
	}
}

func TestKeyHash(t *testing.T) {
	// base58btc(0x12 0x20 || sha256("abc")).
	if got := KeyHash("abc"); got != "QmatYkNGZnELf8cAGdyJpUca2PyY4szai3RHyyWofNY1pY" {
		t.Fatalf("KeyHash(abc) = %s", got)
	}
	if !isMultihash256(KeyHash(edKey(t, 1).mk)) || isMultihash256("Qm") || isMultihash256(KeyHash("x")+"1") {
		t.Fatal("isMultihash256")
	}
}

func TestDeriveSCID(t *testing.T) {
	u1, r1 := edKey(t, 1), edKey(t, 2)
	ph := MethodPrefix + SCIDPlaceholder
	op := &Op{V: OpVersion, Type: DIDCreate, Subject: ph, Seq: 1, Time: tm(0),
		Doc: testDoc(t, ph, "", u1), UpdateKeys: mks(u1), RecoveryKeys: mks(r1)}
	input, err := SigningInput(op)
	if err != nil {
		t.Fatal(err)
	}
	want := multihash256(input)
	got, err := DeriveSCID(op)
	if err != nil || got != want {
		t.Fatalf("DeriveSCID(placeholder form) = %s, %v; want %s", got, err, want)
	}
	if err := NewCreate(op); err != nil {
		t.Fatal(err)
	}
	if op.Subject != MethodPrefix+want || strings.Contains(string(op.Doc), SCIDPlaceholder) || !strings.Contains(string(op.Doc), `"id":"`+op.Subject+`"`) {
		t.Fatalf("NewCreate: subject %s doc %s", op.Subject, op.Doc)
	}
	got, err = DeriveSCID(op)
	if err != nil || got != want {
		t.Fatalf("DeriveSCID(final form) = %s, %v; want %s", got, err, want)
	}
	// Proofs do not enter the SCID.
	sign(t, op, u1)
	if got, _ := DeriveSCID(op); got != want {
		t.Fatal("proofs changed the SCID")
	}
	// NewCreate refuses what it cannot do.
	for _, bad := range []*Op{
		{V: OpVersion, Type: DIDUpdate, Subject: ph},
		{V: OpVersion, Type: DIDCreate, Subject: "did:credence:abc"},
		{V: OpVersion, Type: DIDCreate, Subject: ph, Proofs: []Proof{{KID: "#x", JWS: "a..b"}}},
	} {
		if err := NewCreate(bad); err == nil {
			t.Errorf("NewCreate(%+v) succeeded", bad)
		}
	}
	if _, err := DeriveSCID(&Op{Subject: "did:web:example.com"}); err == nil {
		t.Error("DeriveSCID accepted a did:web subject")
	}
}

// opJSON is a valid did.update as text, for editing into malformed variants.
const opJSON = `{"v":"credence.op/1","type":"did.update","subject":"did:credence:QmX","seq":2,` +
	`"prev":"0000000000000000000000000000000000000000000000000000000000000000",` +
	`"time":"2026-03-01T12:00:00Z","doc":{"id":"did:credence:QmX","service":[{"id":"#a","type":"T","serviceEndpoint":{"x":[1,2]}}]},` +
	`"updateKeys":["zK"],"proofs":[{"kid":"#zK","jws":"a..b"}]}`

func TestDecodeRejects(t *testing.T) {
	if _, _, err := Decode([]byte(opJSON)); err != nil {
		t.Fatalf("base op: %v", err)
	}
	repl := func(old, new string) []byte {
		if !strings.Contains(opJSON, old) {
			t.Fatalf("%q not in the base op", old)
		}
		return []byte(strings.Replace(opJSON, old, new, 1))
	}
	setTime := func(s string) []byte { return repl(`"time":"2026-03-01T12:00:00Z"`, `"time":"`+s+`"`) }
	const docJSON = `"doc":{"id":"did:credence:QmX","service":[{"id":"#a","type":"T","serviceEndpoint":{"x":[1,2]}}]}`
	deep := `{"id":"did:credence:QmX","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	tests := []struct {
		name   string
		raw    []byte
		want   error
		reason string
	}{
		{"too large", repl(`"service":`, `"pad":"`+strings.Repeat("x", MaxOpBytes)+`","service":`), ErrTooLarge, fmt.Sprintf("max %d", MaxOpBytes)},
		{"too large by one byte", bytes.Repeat([]byte(" "), MaxOpBytes+1), ErrTooLarge, ""},
		{"empty", nil, ErrMalformed, ""},
		{"array", []byte(`[]`), ErrMalformed, "the op is an array"},
		{"string", []byte(`"x"`), ErrMalformed, "the op is a string"},
		{"invalid UTF-8", repl(`"T"`, "\"T\xff\""), ErrMalformed, "UTF-8"},
		{"lone surrogate", repl(`"T"`, `"T\ud800"`), ErrMalformed, "surrogate"},
		{"unknown member", repl(`"seq":2`, `"seq":2,"extra":1`), ErrMalformed, `unknown member "extra"`},
		{"member name in another case", repl(`"seq":2`, `"Seq":2`), ErrMalformed, `unknown member "Seq"`},
		{"unknown proof member", repl(`"kid":"#zK"`, `"kid":"#zK","alg":"none"`), ErrMalformed, `unknown member "alg" in member proofs[0]`},
		{"unknown statusList member", repl(`"seq":2`, `"seq":2,"statusList":{"purpose":"p","size":1,"listHash":"h","bits":1}`), ErrMalformed, `unknown member "bits"`},
		{"duplicate member", repl(`"seq":2`, `"seq":2,"seq":3`), ErrMalformed, `duplicate member "seq" in the op`},
		{"duplicate member spelled with an escape", repl(`"seq":2`, `"seq":2,"s\u0065q":2`), ErrMalformed, `duplicate member "seq"`},
		{"duplicate doc", repl(`"seq":2`, `"seq":2,"doc":{}`), ErrMalformed, `duplicate member "doc"`},
		{"duplicate member deep in doc", repl(`{"x":[1,2]}`, `{"x":[1,2],"x":3}`), ErrMalformed, `duplicate member "x" in member doc.service[0].serviceEndpoint`},
		{"duplicate in a proof", repl(`"kid":"#zK"`, `"kid":"#zK","kid":"#zK"`), ErrMalformed, `duplicate member "kid"`},
		{"trailing object", append([]byte(opJSON), `{}`...), ErrMalformed, "trailing data"},
		{"trailing garbage", append([]byte(opJSON), `x`...), ErrMalformed, "trailing data"},
		{"truncated", []byte(opJSON[:len(opJSON)-1]), ErrMalformed, ""},
		{"seq as string", repl(`"seq":2`, `"seq":"2"`), ErrMalformed, "member seq is a string, want a non-negative integer"},
		{"seq fraction", repl(`"seq":2`, `"seq":2.0`), ErrMalformed, "member seq: 2.0 is not"},
		{"seq exponent", repl(`"seq":2`, `"seq":2e0`), ErrMalformed, "member seq"},
		{"seq negative", repl(`"seq":2`, `"seq":-2`), ErrMalformed, "member seq"},
		{"seq leading zero", repl(`"seq":2`, `"seq":02`), ErrMalformed, ""},
		{"seq beyond 2^53-1", repl(`"seq":2`, `"seq":9007199254740992`), ErrMalformed, "out of range"},
		{"seq beyond uint64", repl(`"seq":2`, `"seq":99999999999999999999`), ErrMalformed, "out of range"},
		{"seq zero", repl(`"seq":2`, `"seq":0`), ErrMalformed, "outside 1.."},
		{"seq null", repl(`"seq":2`, `"seq":null`), ErrMalformed, "member seq is null"},
		{"v as number", repl(`"v":"credence.op/1"`, `"v":1`), ErrMalformed, "member v is a number"},
		{"v wrong", repl(`"credence.op/1"`, `"credence.op/2"`), ErrMalformed, `v is "credence.op/2"`},
		{"v missing", repl(`"v":"credence.op/1",`, ``), ErrMalformed, "member v is missing"},
		{"type unknown", repl(`"did.update"`, `"did.rename"`), ErrUnsupportedType, "did.rename"},
		{"type boolean", repl(`"did.update"`, `true`), ErrMalformed, "member type is a boolean"},
		{"subject empty", repl(`"subject":"did:credence:QmX"`, `"subject":""`), ErrMalformed, "subject is empty"},
		{"updateKeys as string", repl(`["zK"]`, `"zK"`), ErrMalformed, "member updateKeys is a string, want an array"},
		{"updateKeys of numbers", repl(`["zK"]`, `[1]`), ErrMalformed, "member updateKeys[0] is a number"},
		{"updateKeys empty", repl(`["zK"]`, `[]`), ErrMalformed, "member updateKeys is an empty array; omit it"},
		{"proofs empty", repl(`[{"kid":"#zK","jws":"a..b"}]`, `[]`), ErrMalformed, "member proofs is an empty array"},
		{"proofs as object", repl(`[{"kid":"#zK","jws":"a..b"}]`, `{"kid":"#zK","jws":"a..b"}`), ErrMalformed, "member proofs is an object"},
		{"proof without jws", repl(`,"jws":"a..b"`, ``), ErrMalformed, "member proofs[0].jws is missing"},
		{"doc as array", repl(docJSON, `"doc":[]`), ErrMalformed, "member doc is an array, want an object"},
		{"doc as string", repl(docJSON, `"doc":"{}"`), ErrMalformed, "member doc is a string"},
		{"doc null", repl(docJSON, `"doc":null`), ErrMalformed, "member doc is null"},
		{"nextKeyHashes null", repl(`"seq":2`, `"seq":2,"nextKeyHashes":null`), ErrMalformed, "member nextKeyHashes is null"},
		{"prev empty", repl(`"prev":"0000000000000000000000000000000000000000000000000000000000000000"`, `"prev":""`), ErrMalformed, "member prev is empty; omit it"},
		{"prev missing at seq 2", repl(`"prev":"0000000000000000000000000000000000000000000000000000000000000000",`, ``), ErrMalformed, "prev \"\" is not 64"},
		{"prev uppercase", repl(`"prev":"0000000000000000000000000000000000000000000000000000000000000000"`, `"prev":"`+strings.Repeat("A", 64)+`"`), ErrMalformed, "lowercase hex"},
		{"prev at seq 1", repl(`"seq":2`, `"seq":1`), ErrMalformed, "the first op of a subject has no prev"},
		{"statusList size negative", repl(`"seq":2`, `"seq":2,"statusList":{"purpose":"p","size":-1,"listHash":"h"}`), ErrMalformed, "member statusList.size"},
		{"nesting too deep", repl(`{"id":"did:credence:QmX","service":[{"id":"#a","type":"T","serviceEndpoint":{"x":[1,2]}}]}`, deep), ErrMalformed, "nested deeper"},
		{"number JCS cannot write", repl(`[1,2]`, `[1e400]`), ErrMalformed, ""},
		{"time with offset", setTime("2026-03-01T12:00:00+00:00"), ErrMalformed, "not RFC 3339 UTC"},
		{"time with fraction", setTime("2026-03-01T12:00:00.000Z"), ErrMalformed, "second precision"},
		{"time with space", setTime("2026-03-01 12:00:00Z"), ErrMalformed, "time"},
		{"time lowercase", setTime("2026-03-01t12:00:00z"), ErrMalformed, "time"},
		{"time leap second", setTime("2026-12-31T23:59:60Z"), ErrMalformed, "time"},
		{"time month 13", setTime("2026-13-01T12:00:00Z"), ErrMalformed, "time"},
		{"time Feb 30", setTime("2026-02-30T12:00:00Z"), ErrMalformed, "time"},
		{"time without seconds", setTime("2026-03-01T12:00Z"), ErrMalformed, "time"},
		{"time short month", setTime("2026-3-01T12:00:00Z"), ErrMalformed, "time"},
		{"time date only", setTime("2026-03-01"), ErrMalformed, "time"},
		{"time unix", repl(`"time":"2026-03-01T12:00:00Z"`, `"time":1772366400`), ErrMalformed, "member time is a number"},
		{"time empty", setTime(""), ErrMalformed, "time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, canonical, err := Decode(tc.raw)
			if op != nil || canonical != nil {
				t.Fatal("Decode returned an op with an error")
			}
			wantRule(t, err, tc.want, tc.reason)
		})
	}
}

func TestDecodeAcceptsEscapesAndNormalizesDoc(t *testing.T) {
	raw := strings.Replace(opJSON, `"doc":{"id":"did:credence:QmX"`, "\"doc\" : {\n  \"id\" : \"did:credence:Qm\\u0058\"", 1)
	op, canonical, err := Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	base, baseCanonical, err := Decode([]byte(opJSON))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canonical, baseCanonical) || string(op.Doc) != string(base.Doc) {
		t.Fatalf("escaped variant differs:\n%s\n%s", canonical, baseCanonical)
	}
	if !strings.HasPrefix(string(op.Doc), `{"id":"did:credence:QmX","service":`) {
		t.Fatalf("doc not in JCS form: %s", op.Doc)
	}
}
