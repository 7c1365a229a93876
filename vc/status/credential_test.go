package status

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

const listURL = "https://example.com/credentials/status/3"

// TestParseSpecListCredential reads Example 3 and checks Example 1's
// revocation entry (index 94567) against it: not revoked.
func TestParseSpecListCredential(t *testing.T) {
	lc, err := ParseListCredential(loadCredential(t, "testdata/spec-example3-list-credential.json"))
	if err != nil {
		t.Fatal(err)
	}
	if lc.ID != listURL || lc.Issuer != "did:example:12345" || lc.Purpose != PurposeRevocation ||
		!slices.Equal(lc.Purposes, []string{PurposeRevocation}) || lc.List.Len() != MinBits ||
		!lc.ValidFrom.Equal(time.Date(2021, 4, 5, 14, 27, 40, 0, time.UTC)) || !lc.ValidUntil.IsZero() {
		t.Fatalf("ParseListCredential = %+v", lc)
	}
	entries, err := Entries(loadCredential(t, "testdata/spec-example1-credential.json"))
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := Check(entries[0], lc)
	if err != nil || revoked {
		t.Fatalf("Check = %v, %v", revoked, err)
	}
	// The suspension entry names another list.
	if _, err := Check(entries[1], lc); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Check of another list's entry: %v", err)
	}
}

func TestNewListCredential(t *testing.T) {
	l, _ := New(MinBits)
	l.Set(94567, true)
	from := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))
	c, err := NewListCredential(listURL, "did:example:12345", PurposeRevocation, l, from)
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := l.Encode()
	want := vc.Credential{
		"@context":  []any{vc.ContextV2},
		"id":        listURL,
		"type":      []any{vc.TypeCredential, TypeListCredential},
		"issuer":    "did:example:12345",
		"validFrom": "2026-01-02T02:04:05Z",
		"credentialSubject": map[string]any{
			"id":            listURL + "#list",
			"type":          TypeList,
			"statusPurpose": PurposeRevocation,
			"encodedList":   enc,
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("NewListCredential =\n%v\nwant\n%v", c, want)
	}
	// It is a valid VC 2.0 credential, through JSON too.
	b, err := vc.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := vc.ParseCredential(b)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := ParseListCredential(parsed)
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{Purpose: PurposeRevocation, Index: 94567, ListCredential: listURL}
	if set, err := Check(e, lc); err != nil || !set {
		t.Fatalf("Check = %v, %v", set, err)
	}
	e.Index = 94566
	if set, err := Check(e, lc); err != nil || set {
		t.Fatalf("Check of a clear bit = %v, %v", set, err)
	}

	for _, bad := range []struct {
		id, issuer, purpose string
		l                   *List
	}{
		{"not a url", "did:example:1", "revocation", l},
		{listURL, "", "revocation", l},
		{listURL, "did:example:1", "", l},
		{listURL, "did:example:1", "revocation", nil},
		{listURL, "did:example:1", "revocation", &List{b: make([]byte, 10)}},
	} {
		if _, err := NewListCredential(bad.id, bad.issuer, bad.purpose, bad.l, from); !errors.Is(err, vc.ErrMalformed) {
			t.Errorf("NewListCredential(%q, %q, %q): %v", bad.id, bad.issuer, bad.purpose, err)
		}
	}
}

func TestListCredentialOptionalMembers(t *testing.T) {
	l, _ := New(2 * MinBits)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := ListCredential{
		ID: listURL, Issuer: "did:example:12345", Purposes: []string{PurposeRevocation, PurposeSuspension},
		List: l, ValidFrom: from, ValidUntil: from.Add(24 * time.Hour), TTL: 5 * time.Minute, StatusSize: 2,
	}
	c, err := in.Credential()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := vc.Marshal(c)
	parsed, err := vc.ParseCredential(b)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := ParseListCredential(parsed)
	if err != nil {
		t.Fatal(err)
	}
	in.Purpose = PurposeRevocation
	if lc.ID != in.ID || lc.Purpose != in.Purpose || !slices.Equal(lc.Purposes, in.Purposes) || lc.TTL != in.TTL ||
		lc.StatusSize != 2 || !lc.ValidFrom.Equal(in.ValidFrom) || !lc.ValidUntil.Equal(in.ValidUntil) {
		t.Fatalf("round trip: %+v", lc)
	}
	if !lc.ValidAt(from.Add(time.Hour)) || lc.ValidAt(from.Add(-time.Second)) || lc.ValidAt(from.Add(25*time.Hour)) {
		t.Error("ValidAt")
	}
	// Multi-purpose list: both purposes check; the size must be the list's.
	msgs := []Message{{0, "a"}, {1, "b"}, {2, "c"}, {3, "d"}}
	for _, p := range in.Purposes {
		if _, err := Check(Entry{Purpose: p, Index: 1, ListCredential: listURL, Size: 2, Messages: msgs}, lc); err != nil {
			t.Errorf("purpose %s: %v", p, err)
		}
	}
	if _, err := Check(Entry{Purpose: PurposeRevocation, Index: 1, ListCredential: listURL}, lc); !errors.Is(err, ErrMismatch) {
		t.Errorf("size 1 entry on a size 2 list: %v", err)
	}
}

func TestParseListCredentialV1(t *testing.T) {
	l, _ := New(MinBits)
	l.Set(7, true)
	enc, _ := l.Encode()
	c := vc.Credential{
		"@context":       []any{vc.ContextV1, "https://www.w3.org/ns/credentials/status/v1"},
		"id":             listURL,
		"type":           []any{vc.TypeCredential, TypeListCredential},
		"issuer":         map[string]any{"id": "did:example:12345"},
		"issuanceDate":   "2021-04-05T14:27:40Z",
		"expirationDate": "2031-04-05T14:27:40Z",
		"credentialSubject": []any{map[string]any{
			"id": listURL + "#list", "type": TypeList, "statusPurpose": "suspension", "encodedList": enc, "ttl": 60000,
		}},
	}
	lc, err := ParseListCredential(c)
	if err != nil {
		t.Fatal(err)
	}
	if lc.Issuer != "did:example:12345" || lc.ValidFrom.Year() != 2021 || lc.ValidUntil.Year() != 2031 || lc.TTL != time.Minute {
		t.Fatalf("%+v", lc)
	}
	if set, err := Check(Entry{Purpose: "suspension", Index: 7, ListCredential: listURL}, lc); err != nil || !set {
		t.Fatalf("Check = %v, %v", set, err)
	}
}

func TestParseListCredentialProblems(t *testing.T) {
	l, _ := New(MinBits)
	enc, _ := l.Encode()
	short := multibase(gzipped(t, make([]byte, 100)))
	base := func() vc.Credential {
		return vc.Credential{
			"@context": []any{vc.ContextV2},
			"id":       listURL,
			"type":     []any{vc.TypeCredential, TypeListCredential},
			"issuer":   "did:example:12345",
			"credentialSubject": map[string]any{
				"id": listURL + "#list", "type": TypeList, "statusPurpose": "revocation", "encodedList": enc,
			},
		}
	}
	subj := func(k string, v any) vc.Credential {
		c := base()
		s := c["credentialSubject"].(map[string]any)
		if v == nil {
			delete(s, k)
		} else {
			s[k] = v
		}
		return c
	}
	top := func(k string, v any) vc.Credential {
		c := base()
		c[k] = v
		return c
	}
	for _, tc := range []struct {
		name   string
		c      vc.Credential
		fields []string
		is     error
	}{
		{"type missing", top("type", []any{vc.TypeCredential}), []string{"/type"}, nil},
		{"subject type", subj("type", "StatusList2021"), []string{"/credentialSubject/type"}, nil},
		{"purpose missing", subj("statusPurpose", nil), []string{"/credentialSubject/statusPurpose"}, nil},
		{"purpose empty array", subj("statusPurpose", []any{}), []string{"/credentialSubject/statusPurpose"}, nil},
		{"purpose non-string", subj("statusPurpose", []any{"revocation", 1}), []string{"/credentialSubject/statusPurpose"}, nil},
		{"encodedList missing", subj("encodedList", nil), []string{"/credentialSubject/encodedList"}, nil},
		{"encodedList garbage", subj("encodedList", "u!!"), []string{"/credentialSubject/encodedList"}, ErrEncoding},
		{"encodedList short", subj("encodedList", short), []string{"/credentialSubject/encodedList"}, ErrListTooShort},
		{"ttl negative", subj("ttl", -1), []string{"/credentialSubject/ttl"}, nil},
		{"ttl string", subj("ttl", "1000"), []string{"/credentialSubject/ttl"}, nil},
		{"statusSize zero", subj("statusSize", 0), []string{"/credentialSubject/statusSize"}, nil},
		{"validFrom", top("validFrom", "yesterday"), []string{"/validFrom"}, nil},
		{"validUntil", top("validUntil", 5), []string{"/validUntil"}, nil},
		{"two subjects", top("credentialSubject", []any{map[string]any{}, map[string]any{}}), []string{"/credentialSubject"}, nil},
		{"no subject", top("credentialSubject", nil), []string{"/credentialSubject"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseListCredential(tc.c)
			var inv *vc.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("ParseListCredential: %v", err)
			}
			var got []string
			for _, f := range inv.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %q, want %q (%v)", got, tc.fields, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("%v does not wrap %v", err, tc.is)
			}
		})
	}
	_, err := ParseListCredential(subj("encodedList", short))
	if ProblemType(err) != ProblemTypeBase+"STATUS_LIST_LENGTH_ERROR" {
		t.Errorf("ProblemType(short list) = %q", ProblemType(err))
	}
}

func TestCheckConditions(t *testing.T) {
	l, _ := New(MinBits)
	l.Set(5, true)
	lc := &ListCredential{ID: listURL, Purpose: PurposeRevocation, List: l}
	e := Entry{Purpose: PurposeRevocation, Index: 5, ListCredential: listURL}
	if set, err := Check(e, lc); err != nil || !set {
		t.Fatalf("Check = %v, %v", set, err)
	}
	for _, tc := range []struct {
		name string
		e    Entry
		lc   *ListCredential
		want error
		code string
	}{
		{"purpose mismatch", Entry{Purpose: PurposeSuspension, Index: 5, ListCredential: listURL}, lc, ErrMismatch, "STATUS_VERIFICATION_ERROR"},
		{"list mismatch", Entry{Purpose: PurposeRevocation, Index: 5, ListCredential: listURL + "x"}, lc, ErrMismatch, "STATUS_VERIFICATION_ERROR"},
		{"index past the end", Entry{Purpose: PurposeRevocation, Index: MinBits, ListCredential: listURL}, lc, ErrIndexRange, "RANGE_ERROR"},
		{"size 2 needs twice the bits", Entry{Purpose: PurposeRevocation, Index: 5, ListCredential: listURL, Size: 2}, lc, ErrListTooShort, "STATUS_LIST_LENGTH_ERROR"},
		{"short list", e, &ListCredential{ID: listURL, Purpose: PurposeRevocation, List: &List{b: make([]byte, 16)}}, ErrListTooShort, "STATUS_LIST_LENGTH_ERROR"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Check(tc.e, tc.lc)
			if !errors.Is(err, tc.want) || set {
				t.Fatalf("Check = %v, %v; want %v", set, err, tc.want)
			}
			if got := ProblemType(err); got != ProblemTypeBase+tc.code {
				t.Fatalf("ProblemType = %q", got)
			}
		})
	}
	if _, err := Check(e, nil); err == nil {
		t.Error("Check with no list credential")
	}
}

func TestEvaluateMessages(t *testing.T) {
	l, _ := New(2 * MinBits)
	l.SetValue(492847%MinBits, 2, 2)
	lc := &ListCredential{ID: "https://example.com/credentials/status/8", Purpose: PurposeMessage, List: l, StatusSize: 2}
	entries, err := Entries(loadCredential(t, "testdata/spec-example2-credential.json"))
	if err != nil {
		t.Fatal(err)
	}
	e := entries[0]
	e.Index = 492847 % MinBits
	r, err := Evaluate(e, lc)
	if err != nil {
		t.Fatal(err)
	}
	if r != (Result{Purpose: PurposeMessage, Status: 2, Valid: false, Message: "rejected"}) {
		t.Fatalf("Evaluate = %+v", r)
	}
	// The spec's index 492847 is past a 262,144-bit list of 2-bit entries.
	if _, err := Evaluate(entries[0], lc); !errors.Is(err, ErrIndexRange) {
		t.Fatalf("Evaluate: %v", err)
	}
	// Size 1 without messages: "set" and "unset".
	l1, _ := New(MinBits)
	l1.Set(3, true)
	lc1 := &ListCredential{ID: listURL, Purpose: PurposeRevocation, List: l1}
	for i, want := range []Result{{PurposeRevocation, 0, true, "unset"}, {PurposeRevocation, 1, false, "set"}} {
		r, err := Evaluate(Entry{Purpose: PurposeRevocation, Index: 2 + i, ListCredential: listURL}, lc1)
		if err != nil || r != want {
			t.Fatalf("Evaluate(%d) = %+v, %v", 2+i, r, err)
		}
	}
}
