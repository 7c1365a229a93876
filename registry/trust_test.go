package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Test issuers.
const (
	caBoard = "did:credence:zCaBoard"
	txBoard = "did:web:tmb.texas.gov"
)

// trustLedger is an accreditation's chain applied with a governance.
type trustLedger struct {
	t        testing.TB
	st       SubjectState
	hashes   map[uint64]string
	stewards []string
}

func newTrustLedger(t testing.TB, stewards ...testKey) *trustLedger {
	return &trustLedger{t: t, hashes: map[uint64]string{}, stewards: mks(stewards...)}
}

// try encodes op, decodes it and applies it; on success the ledger advances.
func (l *trustLedger) try(op *Op) error {
	l.t.Helper()
	dop, canonical, err := Decode(mustJSON(l.t, op))
	if err != nil {
		return err
	}
	st, err := ApplyEnv(l.st, dop, canonical, Env{Prior: func(seq uint64) (string, bool) {
		h, ok := l.hashes[seq]
		return h, ok
	}, Stewards: l.stewards})
	if err != nil {
		return err
	}
	l.st = st
	l.hashes[st.Seq] = st.Hash
	return nil
}

func (l *trustLedger) must(op *Op) SubjectState {
	l.t.Helper()
	if err := l.try(op); err != nil {
		l.t.Fatalf("%s seq %d rejected: %v", op.Type, op.Seq, err)
	}
	return l.st
}

// grantOf is a typical grant: a state board for licenses in one state.
func grantOf(issuer string, jurisdictions ...string) *Accreditation {
	return &Accreditation{Issuer: issuer, Types: []string{"MedicalLicenseCredential"}, Jurisdictions: jurisdictions, ValidFrom: tm(0)}
}

// accreditOp builds a trust.accredit of id following st (the zero state: the
// create) at tm(minutes), signed by signers.
func accreditOp(t testing.TB, id string, st SubjectState, minutes int, a *Accreditation, signers ...testKey) *Op {
	t.Helper()
	return sign(t, NewTrustOp(TrustAccredit, AccreditationSubject(id), st.Seq+1, st.Hash, tm(minutes), a), signers...)
}

func withdrawOp(t testing.TB, st SubjectState, minutes int, a *Accreditation, signers ...testKey) *Op {
	t.Helper()
	return sign(t, NewTrustOp(TrustWithdraw, st.Subject, st.Seq+1, st.Hash, tm(minutes), a), signers...)
}

func TestAccreditationIDs(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "ca-mbc-2026": true, "0": true, "-": true, strings.Repeat("a", MaxAccreditationIDBytes): true,
		"": false, strings.Repeat("a", MaxAccreditationIDBytes+1): false, "A": false, "a_b": false, "a b": false, "é": false, "a/b": false, "a:b": false,
	} {
		if got := ValidAccreditationID(id); got != want {
			t.Errorf("ValidAccreditationID(%q) = %v", id, got)
		}
		if got, ok := AccreditationID(AccreditationSubject(id)); ok != want || (ok && got != id) {
			t.Errorf("AccreditationID(subject of %q) = %q, %v", id, got, ok)
		}
	}
	if _, ok := AccreditationID("urn:credence:accreditatio:a"); ok {
		t.Error("AccreditationID accepted another prefix")
	}
}

func TestParseAccreditation(t *testing.T) {
	ok := `{"issuer":"did:web:x","types":["A"],"jurisdictions":["CA"],"validFrom":"2026-03-01T12:00:00Z","validUntil":"2027-03-01T12:00:00Z"}`
	a, err := ParseAccreditation([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	want := Accreditation{Issuer: "did:web:x", Types: []string{"A"}, Jurisdictions: []string{"CA"}, ValidFrom: "2026-03-01T12:00:00Z", ValidUntil: "2027-03-01T12:00:00Z"}
	if !reflect.DeepEqual(*a, want) {
		t.Fatalf("ParseAccreditation = %+v", *a)
	}
	for name, raw := range map[string]string{
		"not an object":     `["did:web:x"]`,
		"null":              `null`,
		"unknown member":    `{"issuer":"did:web:x","scope":"all"}`,
		"case of a name":    `{"Issuer":"did:web:x"}`,
		"duplicate member":  `{"reason":"a","reason":"b"}`,
		"null member":       `{"issuer":null}`,
		"empty list":        `{"types":[]}`,
		"empty string":      `{"reason":""}`,
		"number for string": `{"issuer":1}`,
		"list of numbers":   `{"types":[1]}`,
		"string for list":   `{"types":"A"}`,
		"trailing data":     `{"reason":"x"} {}`,
		"truncated":         `{"reason":"x"`,
		"too large":         `{"reason":"` + strings.Repeat("x", MaxOpBytes) + `"}`,
	} {
		if _, err := ParseAccreditation([]byte(raw)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseAccreditation = %v, want ErrMalformed", name, err)
		}
	}
}

func TestCheckGrant(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(a *Accreditation)
		reason string // "" = valid
	}{
		{"state board", func(*Accreditation) {}, ""},
		{"national body", func(a *Accreditation) { a.Jurisdictions = nil }, ""},
		{"territories and DC", func(a *Accreditation) { a.Jurisdictions = []string{"PR", "GU", "VI", "AS", "MP", "DC"} }, ""},
		{"IRI type", func(a *Accreditation) { a.Types = []string{"https://example.com/vocab#Credential"} }, ""},
		{"open-ended", func(a *Accreditation) { a.ValidUntil = "" }, ""},
		{"no issuer", func(a *Accreditation) { a.Issuer = "" }, "issuer is missing"},
		{"issuer not a DID", func(a *Accreditation) { a.Issuer = "https://board.example" }, "not a DID"},
		{"issuer a DID URL", func(a *Accreditation) { a.Issuer = caBoard + "#key-1" }, "not a DID"},
		{"issuer too long", func(a *Accreditation) { a.Issuer = "did:web:" + strings.Repeat("a", MaxIssuerBytes) }, "bytes, max"},
		{"no types", func(a *Accreditation) { a.Types = nil }, "want 1..32"},
		{"too many types", func(a *Accreditation) { a.Types = make([]string, MaxAccreditationTypes+1) }, "want 1..32"},
		{"duplicate type", func(a *Accreditation) { a.Types = []string{"A", "B", "A"} }, "lists A twice"},
		{"type with a space", func(a *Accreditation) { a.Types = []string{"Medical License"} }, "not a credential type name"},
		{"type starting with a digit", func(a *Accreditation) { a.Types = []string{"1Credential"} }, "not a credential type name"},
		{"type too long", func(a *Accreditation) { a.Types = []string{strings.Repeat("A", MaxTypeNameBytes+1)} }, "not a credential type name"},
		{"lowercase state", func(a *Accreditation) { a.Jurisdictions = []string{"ca"} }, "not a USPS state"},
		{"not a state", func(a *Accreditation) { a.Jurisdictions = []string{"ZZ"} }, "not a USPS state"},
		{"country", func(a *Accreditation) { a.Jurisdictions = []string{"US"} }, "not a USPS state"},
		{"duplicate state", func(a *Accreditation) { a.Jurisdictions = []string{"CA", "TX", "CA"} }, "lists CA twice"},
		{"too many states", func(a *Accreditation) { a.Jurisdictions = make([]string, MaxJurisdictions+1) }, "max 64"},
		{"no validFrom", func(a *Accreditation) { a.ValidFrom = "" }, "validFrom is missing"},
		{"validFrom with offset", func(a *Accreditation) { a.ValidFrom = "2026-03-01T12:00:00+01:00" }, "validFrom"},
		{"validFrom with fraction", func(a *Accreditation) { a.ValidFrom = "2026-03-01T12:00:00.5Z" }, "validFrom"},
		{"validUntil a date", func(a *Accreditation) { a.ValidUntil = "2027-03-01" }, "validUntil"},
		{"validUntil = validFrom", func(a *Accreditation) { a.ValidUntil = a.ValidFrom }, "is not after validFrom"},
		{"validUntil before validFrom", func(a *Accreditation) { a.ValidUntil = tm(-1) }, "is not after validFrom"},
		{"reason", func(a *Accreditation) { a.Reason = "initial" }, "only trust.withdraw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := grantOf(caBoard, "CA")
			a.ValidUntil = tm(60)
			tc.edit(a)
			err := a.CheckGrant()
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("CheckGrant = %v", err)
				}
				return
			}
			wantRule(t, err, ErrMalformed, tc.reason)
		})
	}
}

func TestNewTrustOp(t *testing.T) {
	op := NewTrustOp(TrustWithdraw, AccreditationSubject("x"), 2, strings.Repeat("a", 64), tm(1), nil)
	if op.Accreditation != nil || op.V != OpVersion || op.Seq != 2 || op.Time != tm(1) {
		t.Fatalf("withdraw op = %+v", op)
	}
	a := grantOf(caBoard, "CA")
	op = NewTrustOp(TrustAccredit, AccreditationSubject("x"), 1, "", tm(1), a)
	a.Types[0] = "Changed"
	want := `{"issuer":"` + caBoard + `","jurisdictions":["CA"],"types":["MedicalLicenseCredential"],"validFrom":"` + tm(0) + `"}`
	if string(op.Accreditation) != want {
		t.Fatalf("accreditation member = %s, want the JCS form %s", op.Accreditation, want)
	}
}

func TestCheckStewards(t *testing.T) {
	ed, p := edKey(t, 1), p256Key(t)
	if err := CheckStewards([]string{ed.mk, p.mk}); err != nil {
		t.Fatal(err)
	}
	many := make([]string, MaxStewards+1)
	for i := range many {
		many[i] = edKey(t, byte(i+1)).mk
	}
	for name, keys := range map[string][]string{
		"none":          nil,
		"too many":      many,
		"duplicate":     {ed.mk, ed.mk},
		"not multibase": {"key-1"},
		"not a key":     {"z6Mk"},
	} {
		if err := CheckStewards(keys); err == nil {
			t.Errorf("%s: CheckStewards accepted %q", name, keys)
		}
	}
}

func TestTrustLifecycle(t *testing.T) {
	steward, second := edKey(t, 60), p256Key(t)
	l := newTrustLedger(t, steward, second)
	grant := grantOf(caBoard, "CA")
	grant.ValidUntil = tm(60)
	st := l.must(accreditOp(t, "ca-mbc", SubjectState{}, 1, grant, steward))
	want := AccreditationState{ID: "ca-mbc", Issuer: caBoard, Types: []string{"MedicalLicenseCredential"}, Jurisdictions: []string{"CA"}, ValidFrom: tm(0), ValidUntil: tm(60)}
	if st.Subject != AccreditationSubject("ca-mbc") || st.Seq != 1 || st.Created != tm(1) || st.Deactivated || st.Accreditation == nil || !reflect.DeepEqual(*st.Accreditation, want) {
		t.Fatalf("state after accredit: %+v %+v", st, st.Accreditation)
	}

	// An amendment replaces the grant: a longer window, another state, no
	// end; signed by another steward (a P-256 key).
	amended := &Accreditation{Issuer: caBoard, Types: []string{"MedicalLicenseCredential", "DEARegistrationCredential"}, Jurisdictions: []string{"CA", "NV"}, ValidFrom: tm(0)}
	st = l.must(accreditOp(t, "ca-mbc", st, 2, amended, second))
	want = AccreditationState{ID: "ca-mbc", Issuer: caBoard, Types: amended.Types, Jurisdictions: amended.Jurisdictions, ValidFrom: tm(0)}
	if st.Seq != 2 || st.Updated != tm(2) || !reflect.DeepEqual(*st.Accreditation, want) {
		t.Fatalf("state after amend: %+v %+v", st, st.Accreditation)
	}
	before := st.Clone()

	// Withdrawn, with a reason, by both stewards: terminal.
	st = l.must(withdrawOp(t, st, 3, &Accreditation{Reason: "board merged"}, steward, second))
	want.Withdrawn, want.Reason = tm(3), "board merged"
	if !st.Deactivated || !reflect.DeepEqual(*st.Accreditation, want) {
		t.Fatalf("state after withdraw: %+v %+v", st, st.Accreditation)
	}
	if before.Accreditation.Withdrawn != "" {
		t.Fatal("ApplyEnv modified the state it was given")
	}
	wantRule(t, l.try(accreditOp(t, "ca-mbc", st, 4, amended, steward)), ErrDeactivated, "was withdrawn at seq 3")
	wantRule(t, l.try(withdrawOp(t, st, 4, nil, steward)), ErrDeactivated, "withdrawn")

	// A withdrawal without a reason.
	l2 := newTrustLedger(t, steward)
	st = l2.must(accreditOp(t, "dea", SubjectState{}, 1, &Accreditation{Issuer: "did:web:dea.gov", Types: []string{"DEARegistrationCredential"}, ValidFrom: tm(0)}, steward))
	st = l2.must(withdrawOp(t, st, 1, nil, steward))
	if st.Accreditation.Withdrawn != tm(1) || st.Accreditation.Reason != "" || st.Accreditation.Jurisdictions != nil {
		t.Fatalf("withdrawn national accreditation: %+v", st.Accreditation)
	}
}

func TestTrustRules(t *testing.T) {
	steward, other := edKey(t, 60), edKey(t, 61)
	grant := grantOf(caBoard, "CA")
	// base is an accreditation at seq 1 (the state the op applies to).
	base := func(t *testing.T) *trustLedger {
		l := newTrustLedger(t, steward)
		l.must(accreditOp(t, "base", SubjectState{}, 1, grant, steward))
		return l
	}
	tests := []struct {
		name     string
		stewards []testKey                 // governance (default: steward)
		op       func(st SubjectState) *Op // st: the base accreditation
		want     error
		reason   string
	}{
		{"no governance", []testKey{}, func(SubjectState) *Op { return accreditOp(t, "new", SubjectState{}, 1, grant, steward) },
			ErrUnauthorizedKey, "none is configured"},
		{"not a steward", nil, func(SubjectState) *Op { return accreditOp(t, "new", SubjectState{}, 1, grant, other) },
			ErrUnauthorizedKey, "not a steward key"},
		{"a steward and a stranger", nil, func(SubjectState) *Op { return accreditOp(t, "new", SubjectState{}, 1, grant, steward, other) },
			ErrUnauthorizedKey, "not a steward key"},
		{"unsigned", nil, func(SubjectState) *Op { return accreditOp(t, "new", SubjectState{}, 1, grant) },
			ErrUnauthorizedKey, "has no proofs"},
		{"DID URL kid", nil, func(SubjectState) *Op {
			op := accreditOp(t, "new", SubjectState{}, 1, grant)
			if err := AddProof(op, caBoard+"#key-1", steward.pub, steward.sign()); err != nil {
				t.Fatal(err)
			}
			return op
		}, ErrUnauthorizedKey, "is not \"#\" + a Multikey"},
		{"tampered after signing", nil, func(SubjectState) *Op {
			op := accreditOp(t, "new", SubjectState{}, 1, grant, steward)
			op.Accreditation = NewTrustOp(TrustAccredit, op.Subject, 1, "", op.Time, grantOf(caBoard, "TX")).Accreditation
			return op
		}, ErrBadSignature, "does not verify"},
		{"accredit without accreditation", nil, func(SubjectState) *Op { return accreditOp(t, "new", SubjectState{}, 1, nil, steward) },
			ErrMalformed, "must carry accreditation"},
		{"invalid grant", nil, func(SubjectState) *Op {
			return accreditOp(t, "new", SubjectState{}, 1, grantOf(caBoard, "XX"), steward)
		},
			ErrMalformed, "not a USPS state"},
		{"carries a doc", nil, func(SubjectState) *Op {
			op := NewTrustOp(TrustAccredit, AccreditationSubject("new"), 1, "", tm(1), grant)
			op.Doc = json.RawMessage(`{"id":"x"}`)
			return sign(t, op, steward)
		}, ErrMalformed, "carries doc"},
		{"carries update keys", nil, func(SubjectState) *Op {
			op := NewTrustOp(TrustAccredit, AccreditationSubject("new"), 1, "", tm(1), grant)
			op.UpdateKeys = mks(steward)
			return sign(t, op, steward)
		}, ErrMalformed, "carries updateKeys"},
		{"carries a status list", nil, func(st SubjectState) *Op {
			op := NewTrustOp(TrustWithdraw, st.Subject, 2, st.Hash, tm(2), nil)
			op.StatusList = &StatusListChange{Purpose: PurposeRevocation, Size: 8, ListHash: strings.Repeat("a", 64)}
			return sign(t, op, steward)
		}, ErrMalformed, "carries statusList"},
		{"subject without the prefix", nil, func(SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, "urn:credence:trust:x", 1, "", tm(1), grant), steward)
		}, ErrMalformed, "is not urn:credence:accreditation:"},
		{"uppercase id", nil, func(SubjectState) *Op { return accreditOp(t, "CA", SubjectState{}, 1, grant, steward) },
			ErrMalformed, "1..64 of [a-z0-9-]"},
		{"DID subject", nil, func(SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, caBoard, 1, "", tm(1), grant), steward)
		}, ErrMalformed, "accreditation subject"},
		{"status list subject", nil, func(SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, testListURL, 1, "", tm(1), grant), steward)
		}, ErrMalformed, "accreditation subject"},
		{"amend an unknown accreditation", nil, func(st SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, AccreditationSubject("new"), 2, st.Hash, tm(1), grant), steward)
		}, ErrUnknownSubject, "has no ops"},
		{"withdraw an unknown accreditation", nil, func(SubjectState) *Op {
			return sign(t, NewTrustOp(TrustWithdraw, AccreditationSubject("new"), 1, "", tm(1), nil), steward)
		}, ErrUnknownSubject, "has no ops"},
		{"create over an existing one", nil, func(SubjectState) *Op { return accreditOp(t, "base", SubjectState{}, 2, grant, steward) },
			ErrSubjectExists, "create hash"},
		{"replay", nil, func(SubjectState) *Op { return accreditOp(t, "base", SubjectState{}, 1, grant, steward) },
			ErrReplay, "already on the ledger"},
		{"fork", nil, func(st SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, st.Subject, 2, strings.Repeat("b", 64), tm(2), grant), steward)
		}, ErrFork, "is not the head hash"},
		{"gap", nil, func(st SubjectState) *Op {
			return sign(t, NewTrustOp(TrustAccredit, st.Subject, 3, st.Hash, tm(2), grant), steward)
		}, ErrSeqGap, "want 2"},
		{"time before the head", nil, func(st SubjectState) *Op { return accreditOp(t, "base", st, 0, grant, steward) },
			ErrTimeNotMonotonic, "is before"},
		{"amendment changes the issuer", nil, func(st SubjectState) *Op { return accreditOp(t, "base", st, 2, grantOf(txBoard, "CA"), steward) },
			ErrMalformed, "keeps the issuer"},
		{"withdrawal with a grant", nil, func(st SubjectState) *Op { return withdrawOp(t, st, 2, grant, steward) },
			ErrMalformed, "holds only a reason"},
		{"withdrawal with an empty accreditation", nil, func(st SubjectState) *Op { return withdrawOp(t, st, 2, &Accreditation{}, steward) },
			ErrMalformed, "omit it"},
		{"reason too long", nil, func(st SubjectState) *Op {
			return withdrawOp(t, st, 2, &Accreditation{Reason: strings.Repeat("x", MaxReasonBytes+1)}, steward)
		}, ErrMalformed, "max 256"},
		{"reason with a newline", nil, func(st SubjectState) *Op { return withdrawOp(t, st, 2, &Accreditation{Reason: "a\nb"}, steward) },
			ErrMalformed, "control character"},
		{"DID op on an accreditation", nil, func(st SubjectState) *Op {
			op := &Op{V: OpVersion, Type: DIDDeactivate, Subject: st.Subject, Seq: 2, Prev: st.Hash, Time: tm(2)}
			return sign(t, op, steward)
		}, ErrMalformed, "which is an accreditation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := base(t)
			if tc.stewards != nil {
				l.stewards = mks(tc.stewards...)
			}
			op := tc.op(l.st)
			if op.Subject != l.st.Subject { // another subject: its own, empty chain
				l = &trustLedger{t: t, hashes: map[uint64]string{}, stewards: l.stewards}
			}
			wantRule(t, l.try(op), tc.want, tc.reason)
		})
	}
}

// TestTrustOpOnOtherFamilies: a trust op on a DID's or a status list's chain is
// refused, whatever its subject says.
func TestTrustOpOnOtherFamilies(t *testing.T) {
	steward := edKey(t, 60)
	did := existing(t, edKey(t, 1), edKey(t, 2), nil)
	op := sign(t, NewTrustOp(TrustAccredit, AccreditationSubject("x"), 2, did.st.Hash, tm(1), grantOf(caBoard)), steward)
	c, err := Canonical(op)
	if err != nil {
		t.Fatal(err)
	}
	st := did.st
	st.Subject = op.Subject // a sequencer mix-up: the right name, a DID's state
	_, err = ApplyEnv(st, op, c, Env{Stewards: mks(steward)})
	wantRule(t, err, ErrMalformed, "which is a DID")
	st.StatusList = &StatusListState{Issuer: caBoard}
	_, err = ApplyEnv(st, op, c, Env{Stewards: mks(steward)})
	wantRule(t, err, ErrMalformed, "which is a status list")
}

// trustSamples are encoded trust ops: an accreditation, its amendment and its
// withdrawal.
func trustSamples(t testing.TB) [][]byte {
	steward := edKey(t, 60)
	l := newTrustLedger(t, steward)
	ops := []*Op{accreditOp(t, "sample", SubjectState{}, 1, grantOf(caBoard, "CA"), steward)}
	st := l.must(ops[0])
	ops = append(ops, accreditOp(t, "sample", st, 2, grantOf(caBoard, "CA", "NV"), steward))
	st = l.must(ops[1])
	ops = append(ops, withdrawOp(t, st, 3, &Accreditation{Reason: "expired \u00e9"}, steward))
	l.must(ops[2])
	var out [][]byte
	for _, op := range ops {
		out = append(out, mustJSON(t, op))
	}
	return out
}

// FuzzDecodeTrust: Decode of trust ops never panics, rejects with a
// *RuleError, and what it accepts has canonical bytes that are a fixed point.
func FuzzDecodeTrust(f *testing.F) {
	for _, raw := range trustSamples(f) {
		f.Add(raw)
		f.Add(bytes.Replace(raw, []byte(`"issuer":`), []byte(`"issuer":"x","issuer":`), 1))
		f.Add(bytes.Replace(raw, []byte(`"types":[`), []byte(`"types":[],"x":[`), 1))
		f.Add(bytes.Replace(raw, []byte(`"accreditation":{`), []byte(`"accreditation":{"reason":null,`), 1))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		op, canonical, err := Decode(raw)
		if err != nil {
			if _, ok := err.(*RuleError); !ok {
				t.Fatalf("error %T is not a *RuleError: %v", err, err)
			}
			return
		}
		_, again, err := Decode(canonical)
		if err != nil || !bytes.Equal(again, canonical) {
			t.Fatalf("canonical bytes do not decode to themselves: %v", err)
		}
		if len(op.Accreditation) > 0 && isTrustOp(op.Type) {
			if _, err := ParseAccreditation(op.Accreditation); err != nil {
				t.Fatalf("Decode accepted an accreditation ParseAccreditation refuses: %v", err)
			}
		}
	})
}

// FuzzParseAccreditation: never panics; rejects with ErrMalformed; what it
// accepts encodes (NewTrustOp's JCS form) to bytes that parse to the same
// value.
func FuzzParseAccreditation(f *testing.F) {
	for _, raw := range trustSamples(f) {
		op, _, err := Decode(raw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(op.Accreditation))
	}
	f.Add([]byte(`{"issuer":"did:web:x","types":["A","A"],"jurisdictions":["ZZ"],"validFrom":"x","validUntil":"y"}`))
	f.Add([]byte(`{"reason":"\ud800"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := ParseAccreditation(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		_ = a.CheckGrant() // must not panic
		enc := NewTrustOp(TrustAccredit, AccreditationSubject("f"), 1, "", tm(0), a).Accreditation
		b, err := ParseAccreditation(enc)
		if err != nil {
			t.Fatalf("re-encoded accreditation %s does not parse: %v", enc, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}
