package status

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/vc"
)

func loadCredential(t *testing.T, path string) vc.Credential {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := vc.DecodeObject(b)
	if err != nil {
		t.Fatal(err)
	}
	return vc.Credential(m)
}

func TestEntriesSpecExamples(t *testing.T) {
	got, err := Entries(loadCredential(t, "testdata/spec-example1-credential.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{ID: "https://example.com/credentials/status/3#94567", Purpose: PurposeRevocation, Index: 94567, ListCredential: "https://example.com/credentials/status/3"},
		{ID: "https://example.com/credentials/status/4#23452", Purpose: PurposeSuspension, Index: 23452, ListCredential: "https://example.com/credentials/status/4"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries = %+v", got)
	}

	got, err = Entries(loadCredential(t, "testdata/spec-example2-credential.json"))
	if err != nil {
		t.Fatal(err)
	}
	want = []Entry{{
		ID: "https://example.com/credentials/status/8#492847", Purpose: PurposeMessage, Index: 492847,
		ListCredential: "https://example.com/credentials/status/8", Size: 2,
		Messages:   []Message{{0, "pending_review"}, {1, "accepted"}, {2, "rejected"}, {3, "undefined"}},
		References: []string{"https://example.org/status-dictionary/"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Entries = %+v", got)
	}
}

// TestEntryObjectRoundTrip: Object writes what Entries reads back, through
// JSON.
func TestEntryObjectRoundTrip(t *testing.T) {
	for _, e := range []Entry{
		{Purpose: PurposeRevocation, Index: 0, ListCredential: "https://example.com/status/1"},
		{ID: "urn:uuid:7d3b5f4e-2a8c-4c1e-9f0a-1b2c3d4e5f60", Purpose: PurposeSuspension, Index: 131071, ListCredential: "https://example.com/status/2"},
		{Purpose: PurposeMessage, Index: 7, ListCredential: "https://example.com/status/3", Size: 2,
			Messages:   []Message{{0, "active"}, {1, "probation"}, {2, "expired"}, {3, "surrendered"}},
			References: []string{"https://example.com/a", "https://example.com/b"}},
	} {
		if err := e.Validate(); err != nil {
			t.Fatalf("Validate(%+v): %v", e, err)
		}
		b, err := vc.Marshal(map[string]any{"credentialStatus": e.Object()})
		if err != nil {
			t.Fatal(err)
		}
		m, err := vc.DecodeObject(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Entries(m)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], e) {
			t.Fatalf("round trip of %+v: %+v, %v\n%s", e, got, err, b)
		}
	}
	obj := Entry{Purpose: "revocation", Index: 42, ListCredential: "https://example.com/status/1"}.Object()
	if obj["statusListIndex"] != "42" || obj["type"] != TypeEntry {
		t.Fatalf("Object = %v", obj)
	}
	if _, ok := obj["statusSize"]; ok {
		t.Fatal("statusSize written for a size of 1")
	}
}

func TestEntriesProblems(t *testing.T) {
	const list = "https://example.com/status/1"
	valid := func() map[string]any {
		return map[string]any{
			"type":                 TypeEntry,
			"statusPurpose":        "revocation",
			"statusListIndex":      "94567",
			"statusListCredential": list,
		}
	}
	with := func(k string, v any) map[string]any {
		m := valid()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	msgs := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"status": "0x" + string("0123456789abcdef"[i]), "message": "m"}
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		status any      // credentialStatus
		fields []string // JSON pointers reported, in order
	}{
		{"valid", valid(), nil},
		{"valid in array", []any{valid()}, nil},
		{"index zero", with("statusListIndex", "0"), nil},
		{"other type ignored", map[string]any{"type": "StatusList2021Entry", "statusListIndex": "x"}, nil},
		{"type array", with("type", []any{TypeEntry, "Other"}), nil},
		{"statusSize 1 with messages", func() map[string]any { m := with("statusSize", 1); m["statusMessage"] = msgs(2); return m }(), nil},
		{"float statusSize", func() map[string]any { m := with("statusSize", 2.0); m["statusMessage"] = msgs(4); return m }(), nil},
		{"urn list credential", with("statusListCredential", "urn:example:list"), nil},
		{"index abc", with("statusListIndex", "abc"), []string{"/credentialStatus/statusListIndex"}},
		{"index -1", with("statusListIndex", "-1"), []string{"/credentialStatus/statusListIndex"}},
		{"index 01", with("statusListIndex", "01"), []string{"/credentialStatus/statusListIndex"}},
		{"index +1", with("statusListIndex", "+1"), []string{"/credentialStatus/statusListIndex"}},
		{"index with space", with("statusListIndex", " 1"), []string{"/credentialStatus/statusListIndex"}},
		{"index empty", with("statusListIndex", ""), []string{"/credentialStatus/statusListIndex"}},
		{"index 1e3", with("statusListIndex", "1e3"), []string{"/credentialStatus/statusListIndex"}},
		{"index number", with("statusListIndex", 94567), []string{"/credentialStatus/statusListIndex"}},
		{"index boolean", with("statusListIndex", true), []string{"/credentialStatus/statusListIndex"}},
		{"index overflow", with("statusListIndex", "99999999999999999999999"), []string{"/credentialStatus/statusListIndex"}},
		{"index missing", with("statusListIndex", nil), []string{"/credentialStatus/statusListIndex"}},
		{"purpose missing", with("statusPurpose", nil), []string{"/credentialStatus/statusPurpose"}},
		{"purpose number", with("statusPurpose", 1), []string{"/credentialStatus/statusPurpose"}},
		{"purpose empty", with("statusPurpose", ""), []string{"/credentialStatus/statusPurpose"}},
		{"list credential missing", with("statusListCredential", nil), []string{"/credentialStatus/statusListCredential"}},
		{"list credential not a URL", with("statusListCredential", "status list 1"), []string{"/credentialStatus/statusListCredential"}},
		{"list credential relative", with("statusListCredential", "/status/1"), []string{"/credentialStatus/statusListCredential"}},
		{"id not a URL", with("id", "entry 1"), []string{"/credentialStatus/id"}},
		{"id is the list", with("id", list), []string{"/credentialStatus/id"}},
		{"statusSize zero", with("statusSize", 0), []string{"/credentialStatus/statusSize"}},
		{"statusSize string", with("statusSize", "2"), []string{"/credentialStatus/statusSize"}},
		{"statusSize fraction", with("statusSize", 1.5), []string{"/credentialStatus/statusSize"}},
		{"statusSize unsupported", with("statusSize", MaxStatusSize+1), []string{"/credentialStatus/statusSize"}},
		{"statusSize 2 without messages", with("statusSize", 2), []string{"/credentialStatus/statusMessage"}},
		{"messages count", func() map[string]any { m := with("statusSize", 2); m["statusMessage"] = msgs(3); return m }(), []string{"/credentialStatus/statusMessage"}},
		{"messages for size 1 count", with("statusMessage", msgs(3)), []string{"/credentialStatus/statusMessage", "/credentialStatus/statusMessage/2/status"}},
		{"message status not hex", with("statusMessage", []any{map[string]any{"status": "0", "message": "a"}, map[string]any{"status": "0xg", "message": "b"}}),
			[]string{"/credentialStatus/statusMessage/0/status", "/credentialStatus/statusMessage/1/status"}},
		{"message status duplicate", with("statusMessage", []any{map[string]any{"status": "0x1", "message": "a"}, map[string]any{"status": "0x01", "message": "b"}}),
			[]string{"/credentialStatus/statusMessage/1/status"}},
		{"message without message", with("statusMessage", []any{map[string]any{"status": "0x0"}, "x"}),
			[]string{"/credentialStatus/statusMessage/0/message", "/credentialStatus/statusMessage/1"}},
		{"messages not an array", with("statusMessage", "x"), []string{"/credentialStatus/statusMessage"}},
		{"reference not a URL", with("statusReference", "see the docs"), []string{"/credentialStatus/statusReference"}},
		{"reference array", with("statusReference", []any{"https://example.com/a", 3}), []string{"/credentialStatus/statusReference/1"}},
		{"second of two", []any{valid(), with("statusListIndex", "abc")}, []string{"/credentialStatus/1/statusListIndex"}},
		{"non-object member", []any{valid(), "x"}, []string{"/credentialStatus/1"}},
		{"not an object", "x", []string{"/credentialStatus"}},
		{"all at once", []any{map[string]any{"type": TypeEntry}},
			[]string{"/credentialStatus/0/statusPurpose", "/credentialStatus/0/statusListIndex", "/credentialStatus/0/statusListCredential"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := vc.Credential{"credentialStatus": tc.status}
			entries, err := Entries(c)
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Entries: %v", err)
				}
				return
			}
			var inv *vc.InvalidError
			if !errors.As(err, &inv) || !errors.Is(err, vc.ErrMalformed) {
				t.Fatalf("Entries = %v, %v; want an InvalidError", entries, err)
			}
			var got []string
			for _, f := range inv.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %q, want %q (%v)", got, tc.fields, err)
			}
			if ProblemType(err) != ProblemTypeBase+"MALFORMED_VALUE_ERROR" {
				t.Errorf("ProblemType = %q", ProblemType(err))
			}
		})
	}
}

func TestEntriesNoneAndOthers(t *testing.T) {
	if e, err := Entries(vc.Credential{}); err != nil || e != nil {
		t.Fatalf("no credentialStatus: %v, %v", e, err)
	}
	other := map[string]any{"type": "StatusList2021Entry", "statusListIndex": "1"}
	c := vc.Credential{"credentialStatus": []any{other, map[string]any{
		"type": TypeEntry, "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": "https://example.com/s",
	}}}
	e, err := Entries(c)
	if err != nil || len(e) != 1 || e[0].Index != 1 {
		t.Fatalf("Entries = %v, %v", e, err)
	}
	if o := OtherStatus(c); len(o) != 1 || o[0]["type"] != "StatusList2021Entry" {
		t.Fatalf("OtherStatus = %v", o)
	}
}

func TestEntryValidate(t *testing.T) {
	err := Entry{Purpose: "", Index: -1, ListCredential: "nope"}.Validate()
	var inv *vc.InvalidError
	if !errors.As(err, &inv) || len(inv.Fields) != 3 || !strings.HasPrefix(inv.Fields[0].Field, "/status") {
		t.Fatalf("Validate = %v", err)
	}
}
