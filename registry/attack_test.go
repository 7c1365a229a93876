package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// subject is a created subject with one rotation: update key u2 (u1 rotated out),
// recovery key r, and the encoded ops so far.
type subject struct {
	l          *ledger
	u1, u2, r  testKey
	createRaw  []byte
	updateRaw  []byte
	updateOp   *Op
	deactivate func() *Op
}

func newSubject(t *testing.T, gen func(i int) testKey) *subject {
	s := &subject{l: newLedger(t), u1: gen(1), u2: gen(2), r: gen(3)}
	create := newCreate(t, []testKey{s.u1}, []testKey{s.r}, nil)
	s.createRaw = mustJSON(t, create)
	if err := s.l.tryRaw(s.createRaw); err != nil {
		t.Fatal(err)
	}
	upd := nextOp(t, s.l.st, DIDUpdate, 1)
	upd.Doc, upd.UpdateKeys = testDoc(t, s.l.st.Subject, "v2", s.u2), mks(s.u2)
	s.updateOp = sign(t, upd, s.u1)
	s.updateRaw = mustJSON(t, s.updateOp)
	if err := s.l.tryRaw(s.updateRaw); err != nil {
		t.Fatal(err)
	}
	return s
}

func edGen(t *testing.T) func(int) testKey { return func(i int) testKey { return edKey(t, byte(i)) } }

// docUpdate is a valid next update by key k (unless k is not authorized).
func (s *subject) docUpdate(t *testing.T, note string, k testKey) *Op {
	op := nextOp(t, s.l.st, DIDUpdate, 2)
	op.Doc = testDoc(t, s.l.st.Subject, note, s.u2)
	return sign(t, op, k)
}

func TestAttackReplay(t *testing.T) {
	for name, gen := range map[string]func(*testing.T) func(int) testKey{
		"Ed25519": edGen,
		"P-256":   func(t *testing.T) func(int) testKey { return func(int) testKey { return p256Key(t) } },
	} {
		t.Run(name, func(t *testing.T) {
			s := newSubject(t, gen(t))
			// The same bytes again: the head op and an older one.
			wantRule(t, s.l.tryRaw(s.updateRaw), ErrReplay, "already on the ledger")
			wantRule(t, s.l.tryRaw(s.createRaw), ErrReplay, "seq 1")
			// A whitespace / member-order / escape variant hashes the same.
			variant := reencode(t, s.updateRaw)
			if bytes.Equal(variant, s.updateRaw) {
				t.Fatal("no variant")
			}
			wantRule(t, s.l.tryRaw(variant), ErrReplay, s.l.st.Hash)
			wantRule(t, s.l.tryRaw(reencode(t, s.createRaw)), ErrReplay, "")
			// Canonical bytes too.
			c, _ := Canonical(s.updateOp)
			wantRule(t, s.l.tryRaw(c), ErrReplay, "")
			// Still a replay after the subject moved on.
			s.l.must(s.docUpdate(t, "v3", s.u2))
			wantRule(t, s.l.tryRaw(s.updateRaw), ErrReplay, "seq 2")
		})
	}
}

func TestAttackFork(t *testing.T) {
	s := newSubject(t, edGen(t))
	head := s.l.st
	// A second, different op with the update's seq and prev.
	alt := nextOp(t, SubjectState{Subject: head.Subject, Seq: 1, Hash: s.updateOp.Prev}, DIDUpdate, 1)
	alt.Doc = testDoc(t, head.Subject, "other history", s.u1)
	sign(t, alt, s.u1)
	wantRule(t, s.l.try(alt), ErrFork, "differs from the ledger's")
	// The same op with a second proof is a different op too.
	dup := clone(t, s.updateOp)
	dup.Proofs = nil
	sign(t, dup, s.u1)
	if dup.Proofs[0].JWS != s.updateOp.Proofs[0].JWS {
		t.Fatal("Ed25519 is deterministic; the proofs should match")
	}
	sign(t, dup, s.r) // not authorized, but the fork is found first
	wantRule(t, s.l.try(dup), ErrFork, "")
	// Next seq, but prev is not the head.
	wrongPrev := nextOp(t, head, DIDUpdate, 2)
	wrongPrev.Prev = s.updateOp.Prev
	wrongPrev.Doc = testDoc(t, head.Subject, "v3", s.u2)
	wantRule(t, s.l.try(sign(t, wrongPrev, s.u2)), ErrFork, "is not the head hash")
	// Without a prior function nothing is known to be a replay.
	c, _ := Canonical(s.updateOp)
	_, err := Apply(head, s.updateOp, c, nil)
	wantRule(t, err, ErrFork, "unknown")
	// A second create for an existing subject: same signing input, new proof set.
	create, _, err := Decode(s.createRaw)
	if err != nil {
		t.Fatal(err)
	}
	sign(t, create, s.r)
	wantRule(t, s.l.try(create), ErrSubjectExists, "exists")
}

func TestAttackSeqGap(t *testing.T) {
	s := newSubject(t, edGen(t))
	op := nextOp(t, s.l.st, DIDUpdate, 2)
	op.Seq += 1
	op.Doc = testDoc(t, s.l.st.Subject, "v3", s.u2)
	wantRule(t, s.l.try(sign(t, op, s.u2)), ErrSeqGap, "seq 4 after head seq 2 (want 3)")
}

func TestAttackRotatedOutKey(t *testing.T) {
	s := newSubject(t, edGen(t))
	wantRule(t, s.l.try(s.docUpdate(t, "stolen", s.u1)), ErrUnauthorizedKey, s.u1.mk)
	// And it cannot deactivate either.
	wantRule(t, s.l.try(sign(t, nextOp(t, s.l.st, DIDDeactivate, 2), s.u1)), ErrUnauthorizedKey, "not a current recovery key")
	s.l.must(s.docUpdate(t, "v3", s.u2))
}

func TestAttackUpdateAfterDeactivation(t *testing.T) {
	s := newSubject(t, edGen(t))
	s.l.must(sign(t, nextOp(t, s.l.st, DIDDeactivate, 2), s.r))
	wantRule(t, s.l.try(s.docUpdate(t, "v3", s.u2)), ErrDeactivated, "deactivated at seq 3")
	rec := nextOp(t, s.l.st, DIDRecover, 3)
	rec.Doc, rec.UpdateKeys, rec.RecoveryKeys = testDoc(t, s.l.st.Subject, "back", s.u1), mks(s.u1), mks(s.r)
	wantRule(t, s.l.try(sign(t, rec, s.r)), ErrDeactivated, "")
}

func TestAttackRecoverWithWrongKey(t *testing.T) {
	s := newSubject(t, edGen(t))
	thief := edKey(t, 99)
	rec := nextOp(t, s.l.st, DIDRecover, 2)
	rec.Doc, rec.UpdateKeys, rec.RecoveryKeys = testDoc(t, s.l.st.Subject, "mine", thief), mks(thief), mks(edKey(t, 98))
	wantRule(t, s.l.try(sign(t, clone(t, rec), s.u2)), ErrUnauthorizedKey, "not a current recovery key")
	wantRule(t, s.l.try(sign(t, clone(t, rec), thief)), ErrUnauthorizedKey, "not a current recovery key")
	// The rightful recovery key works.
	s.l.must(sign(t, rec, s.r))
}

func TestAttackOversize(t *testing.T) {
	s := newSubject(t, edGen(t))
	op := nextOp(t, s.l.st, DIDUpdate, 2)
	op.Doc = testDoc(t, s.l.st.Subject, strings.Repeat("x", MaxOpBytes), s.u2)
	wantRule(t, s.l.try(sign(t, op, s.u2)), ErrTooLarge, fmt.Sprintf("max %d", MaxOpBytes))
}

// TestAttackPreRotation: a thief of the current update key cannot rotate to keys of
// its own while a commitment is in place.
func TestAttackPreRotation(t *testing.T) {
	u1, r1, u2, thief := edKey(t, 1), edKey(t, 2), edKey(t, 3), edKey(t, 4)
	l := existing(t, u1, r1, keyHashes(u2))
	op := nextOp(t, l.st, DIDUpdate, 1)
	op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, l.st.Subject, "owned", thief), mks(thief), keyHashes(edKey(t, 5))
	wantRule(t, l.try(sign(t, op, u1)), ErrPreRotation, "not in the commitment")
	// Nor keep the current key by skipping the rotation.
	keep := nextOp(t, l.st, DIDUpdate, 1)
	keep.Doc = testDoc(t, l.st.Subject, "owned", u1)
	wantRule(t, l.try(sign(t, keep, u1)), ErrPreRotation, "must rotate")
}

func TestAttackAlgorithmConfusion(t *testing.T) {
	s := newSubject(t, edGen(t))
	p := p256Key(t)
	kid := s.u2.kid()
	edPriv := s.u2.priv.(ed25519.PrivateKey)
	hmacWithPub := func(msg []byte) ([]byte, error) {
		m := hmac.New(sha256.New, s.u2.pub.(ed25519.PublicKey))
		m.Write(msg)
		return m.Sum(nil), nil
	}
	tests := []struct {
		name   string
		header string
		sign   SignFunc
		reason string
	}{
		{"ES256 header on an Ed25519 key", `{"alg":"ES256","kid":"` + kid + `"}`, s.u2.sign(), `alg "ES256" does not match the key`},
		{"ES256 header, P-256 signature", `{"alg":"ES256","kid":"` + kid + `"}`, p.sign(), `alg "ES256" does not match the key`},
		{"none", `{"alg":"none","kid":"` + kid + `"}`, nil, `alg "none"`},
		{"none with a signature", `{"alg":"none","kid":"` + kid + `"}`, s.u2.sign(), `alg "none"`},
		{"HS256 keyed with the public key", `{"alg":"HS256","kid":"` + kid + `"}`, hmacWithPub, `alg "HS256"`},
		{"Ed25519 (RFC 9864 name)", `{"alg":"Ed25519","kid":"` + kid + `"}`, s.u2.sign(), `alg "Ed25519"`},
		{"b64 false", `{"alg":"EdDSA","kid":"` + kid + `","b64":false,"crit":["b64"]}`, s.u2.sign(), `unknown member "b64"`},
		{"crit", `{"alg":"EdDSA","crit":["exp"],"kid":"` + kid + `","exp":1}`, s.u2.sign(), `unknown member "crit"`},
		{"embedded jwk", `{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"AAAA"},"kid":"` + kid + `"}`, s.u2.sign(), `unknown member "jwk"`},
		{"jku", `{"alg":"EdDSA","jku":"https://evil.example/keys","kid":"` + kid + `"}`, s.u2.sign(), `unknown member "jku"`},
		{"x5u", `{"alg":"EdDSA","kid":"` + kid + `","x5u":"https://evil.example/cert"}`, s.u2.sign(), `unknown member "x5u"`},
		{"typ", `{"alg":"EdDSA","kid":"` + kid + `","typ":"JWT"}`, s.u2.sign(), `unknown member "typ"`},
		{"duplicate alg", `{"alg":"none","alg":"EdDSA","kid":"` + kid + `"}`, s.u2.sign(), `duplicate member "alg"`},
		{"kid missing", `{"alg":"EdDSA"}`, s.u2.sign(), `kid is missing`},
		{"kid of another key", `{"alg":"EdDSA","kid":"` + s.u1.kid() + `"}`, s.u2.sign(), "differs from the proof's kid"},
		{"header not an object", `["EdDSA"]`, s.u2.sign(), "is an array"},
		{"header not JSON", `alg=EdDSA`, s.u2.sign(), "protected header"},
		{"right header, Ed25519 over the bare payload", `{"alg":"EdDSA","kid":"` + kid + `"}`, func(msg []byte) ([]byte, error) {
			_, enc, _ := strings.Cut(string(msg), ".")
			payload, err := b64.DecodeString(enc)
			return ed25519.Sign(edPriv, payload), err
		}, "signature does not verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := nextOp(t, s.l.st, DIDUpdate, 2)
			op.Doc = testDoc(t, s.l.st.Subject, "v3", s.u2)
			op.Proofs = []Proof{forgeProof(t, op, kid, tc.header, tc.sign)}
			wantRule(t, s.l.try(op), ErrBadSignature, tc.reason)
			wantRule(t, VerifyProof(op, op.Proofs[0], s.u2.pub), ErrBadSignature, tc.reason)
		})
	}
	// EdDSA header on a P-256 key (the recovery key, which signs a
	// deactivation), signed by that key.
	l := existing(t, edKey(t, 7), p, nil)
	op := nextOp(t, l.st, DIDDeactivate, 1)
	op.Proofs = []Proof{forgeProof(t, op, p.kid(), `{"alg":"EdDSA","kid":"`+p.kid()+`"}`, p.sign())}
	wantRule(t, l.try(op), ErrBadSignature, `alg "EdDSA" does not match the key (want "ES256")`)
	// The forging helper itself produces an accepted proof with the right header.
	op.Proofs = []Proof{forgeProof(t, op, p.kid(), `{"alg":"ES256","kid":"`+p.kid()+`"}`, func(msg []byte) ([]byte, error) {
		der, err := p.sign()(msg)
		if err != nil {
			return nil, err
		}
		return rawLowS(der)
	})}
	l.must(op)
}

func TestAttackJWSShape(t *testing.T) {
	s := newSubject(t, edGen(t))
	good := s.docUpdate(t, "v3", s.u2)
	parts := strings.Split(good.Proofs[0].JWS, ".")
	payload, _ := SigningInput(good)
	sig, _ := b64.DecodeString(parts[2])
	flipped := bytes.Clone(sig)
	flipped[5] ^= 1
	// A non-canonical base64url encoding of the same signature: the last
	// character of 64 bytes carries 4 unused bits.
	last := parts[2][len(parts[2])-1]
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	nonCanonical := parts[2][:len(parts[2])-1] + string(alphabet[strings.IndexByte(alphabet, last)|1])
	for _, tc := range []struct {
		name, jws, reason string
	}{
		{"attached payload", parts[0] + "." + b64.EncodeToString(payload) + "." + parts[2], "payload is not detached"},
		{"JSON serialization", `{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, "not a compact JWS"},
		{"four parts", good.Proofs[0].JWS + ".x", "not a compact JWS (4 parts)"},
		{"flipped signature bit", parts[0] + ".." + b64.EncodeToString(flipped), "signature does not verify"},
		{"truncated signature", parts[0] + ".." + b64.EncodeToString(sig[:63]), "signature does not verify"},
		{"empty signature", parts[0] + "..", "jws"},
		{"non-canonical base64 signature", parts[0] + ".." + nonCanonical, "not canonical base64url"},
		{"padded base64 header", parts[0] + "=.." + parts[2], "not canonical base64url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "non-canonical base64 signature" && nonCanonical == parts[2] {
				// A 64-byte signature leaves 4 zero pad bits in its last character, so
				// setting the lowest one always yields a different, non-canonical text.
				t.Fatal("the non-canonical variant equals the signature")
			}
			op := clone(t, good)
			op.Proofs[0].JWS = tc.jws
			wantRule(t, s.l.try(op), ErrBadSignature, tc.reason)
		})
	}
	s.l.must(good)
}

// TestAttackTamperedPayload changes one member of a signed op at a time.
func TestAttackTamperedPayload(t *testing.T) {
	s := newSubject(t, edGen(t))
	other := edKey(t, 50)
	build := func() *Op {
		op := nextOp(t, s.l.st, DIDUpdate, 2)
		op.Doc, op.UpdateKeys, op.NextKeyHashes = testDoc(t, s.l.st.Subject, "v3", s.u2), mks(s.u2, other), keyHashes(edKey(t, 51))
		return sign(t, op, s.u2)
	}
	for _, tc := range []struct {
		name   string
		tamper func(op *Op)
	}{
		{"doc", func(op *Op) {
			op.Doc = json.RawMessage(strings.Replace(string(op.Doc), "v3", "v4", 1))
		}},
		{"time", func(op *Op) { op.Time = tm(3) }},
		{"update key dropped", func(op *Op) { op.UpdateKeys = op.UpdateKeys[:1] }},
		{"update key swapped", func(op *Op) { op.UpdateKeys = mks(s.u2, edKey(t, 52)) }},
		{"commitment", func(op *Op) { op.NextKeyHashes = keyHashes(edKey(t, 53)) }},
		{"commitment removed", func(op *Op) { op.NextKeyHashes = nil }},
		{"proof moved to another op", func(op *Op) {
			op2 := nextOp(t, s.l.st, DIDUpdate, 2)
			op2.Doc = testDoc(t, s.l.st.Subject, "other", s.u2)
			op.Doc = op2.Doc
			op.UpdateKeys, op.NextKeyHashes = nil, nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := build()
			tc.tamper(op)
			wantRule(t, s.l.try(op), ErrBadSignature, "signature does not verify")
		})
	}
	// Reformatting the doc is not tampering: the signature covers its JCS form.
	op := build()
	var v any
	if err := json.Unmarshal(op.Doc, &v); err != nil {
		t.Fatal(err)
	}
	op.Doc, _ = json.MarshalIndent(v, "", "    ")
	s.l.must(op)
	// Tampering with a create changes its SCID first.
	create, _, err := Decode(s.createRaw)
	if err != nil {
		t.Fatal(err)
	}
	create.Time = tm(5)
	wantRule(t, newLedger(t).try(create), ErrBadSCID, "derives")
	// Re-labelling a proof with another authorized key's kid.
	l := newLedger(t)
	a, b := edKey(t, 60), edKey(t, 61)
	c := newCreate(t, []testKey{a, b}, []testKey{edKey(t, 62)}, nil, a)
	c.Proofs[0].KID = b.kid()
	wantRule(t, l.try(c), ErrBadSignature, "differs from the proof's kid")
}

// TestAttackECDSAMalleability: (r, n-s) is as valid as (r, s) to plain ECDSA;
// proofs must be low-S so that nobody can re-encode an op into a second hash.
func TestAttackECDSAMalleability(t *testing.T) {
	p, u := p256Key(t), p256Key(t)
	l := existing(t, u, p, nil) // p, the recovery key, signs the deactivation
	op := sign(t, nextOp(t, l.st, DIDDeactivate, 1), p)
	parts := strings.Split(op.Proofs[0].JWS, ".")
	sig, _ := b64.DecodeString(parts[2])
	s := new(big.Int).SetBytes(sig[32:])
	if s.Cmp(p256HalfOrder) > 0 {
		t.Fatal("AddProof produced a high-S signature")
	}
	high := bytes.Clone(sig)
	new(big.Int).Sub(p256Order, s).FillBytes(high[32:])
	// Plain ECDSA accepts the malleated signature...
	digest := sha256.Sum256([]byte(parts[0] + "." + b64.EncodeToString(mustSigningInput(t, op))))
	if !ecdsa.Verify(p.pub.(*ecdsa.PublicKey), digest[:], new(big.Int).SetBytes(high[:32]), new(big.Int).SetBytes(high[32:])) {
		t.Fatal("malleated signature should verify under plain ECDSA")
	}
	// ...the registry does not.
	mal := clone(t, op)
	mal.Proofs[0].JWS = parts[0] + ".." + b64.EncodeToString(high)
	wantRule(t, l.try(mal), ErrBadSignature, "high S")
	// A DER signature in the JWS is refused too.
	der, err := p.priv.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err == nil {
		mal.Proofs[0].JWS = parts[0] + ".." + b64.EncodeToString(der)
		wantRule(t, l.try(mal), ErrBadSignature, "want 64")
	}
	l.must(op)
}

func mustSigningInput(t testing.TB, op *Op) []byte {
	t.Helper()
	b, err := SigningInput(op)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttackParserDifferential: a signed op with a second "doc" member (which a
// last-wins parser would read) or an extra member is refused before anything else.
func TestAttackParserDifferential(t *testing.T) {
	s := newSubject(t, edGen(t))
	good := mustJSON(t, s.docUpdate(t, "v3", s.u2))
	evil := bytes.Replace(good, []byte(`"doc":`), []byte(`"doc":{"id":"`+s.l.st.Subject+`"},"doc":`), 1)
	wantRule(t, s.l.tryRaw(evil), ErrMalformed, `duplicate member "doc"`)
	extra := bytes.Replace(good, []byte(`"seq":`), []byte(`"admin":true,"seq":`), 1)
	wantRule(t, s.l.tryRaw(extra), ErrMalformed, `unknown member "admin"`)
	upper := bytes.Replace(good, []byte(`"doc":`), []byte(`"Doc":`), 1)
	wantRule(t, s.l.tryRaw(upper), ErrMalformed, `unknown member "Doc"`)
	if err := s.l.tryRaw(good); err != nil {
		t.Fatal(err)
	}
}

// TestAttackSCIDSquatting: a create that claims somebody else's identifier, with the
// attacker's own keys, is refused.
func TestAttackSCIDSquatting(t *testing.T) {
	victim := newCreate(t, []testKey{edKey(t, 1)}, []testKey{edKey(t, 2)}, nil)
	attacker, attackerRec := edKey(t, 66), edKey(t, 67)
	op := &Op{V: OpVersion, Type: DIDCreate, Subject: victim.Subject, Seq: 1, Time: tm(0),
		Doc: testDoc(t, victim.Subject, "", attacker), UpdateKeys: mks(attacker), RecoveryKeys: mks(attackerRec)}
	wantRule(t, newLedger(t).try(sign(t, op, attacker)), ErrBadSCID, "derives")
	// The victim's create, with the attacker's keys swapped in, also fails.
	swapped := clone(t, victim)
	swapped.UpdateKeys, swapped.Proofs = mks(attacker), nil
	wantRule(t, newLedger(t).try(sign(t, swapped, attacker)), ErrBadSCID, "derives")
	// The victim's own op is fine.
	newLedger(t).must(victim)
}

// TestAttackCrossSubject: an op of one subject does not apply to another.
func TestAttackCrossSubject(t *testing.T) {
	a, b := newSubject(t, edGen(t)), newSubject(t, func(i int) testKey { return edKey(t, byte(20+i)) })
	op := b.docUpdate(t, "v3", b.u2)
	wantRule(t, a.l.try(op), ErrUnknownSubject, "applied to the state of")
	// Retargeted at a (subject, prev and doc changed): b's key is not a's.
	re := clone(t, op)
	re.Subject, re.Prev = a.l.st.Subject, a.l.st.Hash
	re.Doc = testDoc(t, a.l.st.Subject, "v3", b.u2)
	wantRule(t, a.l.try(re), ErrUnauthorizedKey, "not a current update key")
}
