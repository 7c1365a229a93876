package did

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// syntaxValid are valid DID URLs with their expected parse.
var syntaxValid = []struct {
	in   string
	want URL
}{
	{"did:example:123456789abcdefghi", URL{DID: DID{"example", "123456789abcdefghi"}}},
	{"did:example:123456789abcdefghi#key-1", URL{DID: DID{"example", "123456789abcdefghi"}, Fragment: "key-1", HasFragment: true}},
	{"did:example:123?service=agent&relativeRef=/credentials#degree", URL{DID: DID{"example", "123"}, RawQuery: "service=agent&relativeRef=/credentials", HasQuery: true, Fragment: "degree", HasFragment: true}},
	{"did:example:123/path/to/resource", URL{DID: DID{"example", "123"}, Path: "/path/to/resource"}},
	{"did:web:w3c-ccg.github.io", URL{DID: DID{"web", "w3c-ccg.github.io"}}},
	{"did:web:example.com%3A3000:user:alice", URL{DID: DID{"web", "example.com%3A3000:user:alice"}}},
	{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", URL{DID: DID{"key", "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}}},
	{"did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9", URL{DID: DID{"jwk", "eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"}}},
	{"did:example:123?versionId=1", URL{DID: DID{"example", "123"}, RawQuery: "versionId=1", HasQuery: true}},
	{"did:example:123?versionTime=2021-05-10T17:00:00Z", URL{DID: DID{"example", "123"}, RawQuery: "versionTime=2021-05-10T17:00:00Z", HasQuery: true}},
	{"did:example:a::b", URL{DID: DID{"example", "a::b"}}},
	{"did:example::a", URL{DID: DID{"example", ":a"}}},
	{"did:example:%41%3a", URL{DID: DID{"example", "%41%3a"}}},
	{"did:example:123?", URL{DID: DID{"example", "123"}, HasQuery: true}},
	{"did:example:123#", URL{DID: DID{"example", "123"}, HasFragment: true}},
	{"did:example:123?#", URL{DID: DID{"example", "123"}, HasQuery: true, HasFragment: true}},
	{"did:example:123/", URL{DID: DID{"example", "123"}, Path: "/"}},
	{"did:example:123//a//", URL{DID: DID{"example", "123"}, Path: "//a//"}},
	{"did:example:123/a:b@c!$&'()*+,;=~%20?q/?#f/?:@", URL{DID: DID{"example", "123"}, Path: "/a:b@c!$&'()*+,;=~%20", RawQuery: "q/?", HasQuery: true, Fragment: "f/?:@", HasFragment: true}},
	{"did:example:123#a?b=c", URL{DID: DID{"example", "123"}, Fragment: "a?b=c", HasFragment: true}},
	{"did:1:2", URL{DID: DID{"1", "2"}}},
	{"did:example:A.B-C_D", URL{DID: DID{"example", "A.B-C_D"}}},
	{"did:example:" + strings.Repeat("a", MaxLength-len("did:example:")), URL{DID: DID{"example", strings.Repeat("a", MaxLength-len("did:example:"))}}},
}

// syntaxInvalid are inputs that neither Parse nor ParseURL accept, with the
// offset the error must name.
var syntaxInvalid = []struct {
	in  string
	off int
	msg string
}{
	{"", 0, `must start with "did:"`},
	{"did", 3, `must start with "did:"`},
	{"did:", 4, "method name is empty"},
	{"did::x", 4, "method name is empty"},
	{"did:Example:x", 4, "method name must be lowercase letters or digits"},
	{"did:ex-ample:x", 6, "method name must be lowercase letters or digits"},
	{"did:example", 11, `missing ":" after method name`},
	{"DID:example:x", 0, `must start with "did:"`},
	{"Did:example:x", 0, `must start with "did:"`},
	{"did:example:", 12, "method-specific-id is empty"},
	{"did:example:x:", 13, `must not end with ":"`},
	{"did:example:x::", 14, `must not end with ":"`},
	{"did:example:%4", 12, "malformed percent-encoding"},
	{"did:example:%", 12, "malformed percent-encoding"},
	{"did:example:%zz", 12, "malformed percent-encoding"},
	{"did:example:%4g", 12, "malformed percent-encoding"},
	{"did:example:x y", 13, "whitespace ' '"},
	{"did:example:é", 12, "non-ASCII byte 0xc3"},
	{"did:example:x\n", 13, `whitespace '\n'`},
	{"did:example:x\x00", 13, `control character '\x00'`},
	{"did:example:x~", 13, "invalid character '~' in method-specific-id"},
	{"did:example:x@", 13, "invalid character '@' in method-specific-id"},
	{" did:example:x", 0, `must start with "did:"`},
	{"did:example:/path", 12, "method-specific-id is empty"},
	{"did:example:x:/path", 13, `must not end with ":"`},
	{"did:example:" + strings.Repeat("a", MaxLength-len("did:example:")+1), MaxLength, "exceeds MaxLength"},
}

// syntaxInvalidURL are DID URLs with a valid DID but a malformed tail: Parse
// and ParseURL both reject them.
var syntaxInvalidURL = []struct {
	in  string
	off int
	msg string
}{
	{"did:example:x/a b", 15, "whitespace ' ' in path"},
	{"did:example:x/a%2", 15, "malformed percent-encoding"},
	{"did:example:x/[", 14, "invalid character '[' in path"},
	{"did:example:x?a=%zz", 16, "malformed percent-encoding"},
	{"did:example:x?a=é", 16, "non-ASCII byte 0xc3 in query"},
	{"did:example:x#a#b", 15, "invalid character '#' in fragment"},
	{"did:example:x#a b", 15, "whitespace ' ' in fragment"},
	{"did:example:x?a\tb", 15, `whitespace '\t' in query`},
	{"did:example:x#%", 14, "malformed percent-encoding"},
	{"did:example:x#\x7f", 14, `control character '\x7f' in fragment`},
}

// syntaxNotDID are valid DID URLs that Parse must reject as DIDs.
var syntaxNotDID = []struct {
	in  string
	off int
}{
	{"did:example:123456789abcdefghi#key-1", 30},
	{"did:example:123?versionId=1", 15},
	{"did:example:123/path", 15},
	{"did:example:123#", 15},
	{"did:example:123?", 15},
}

// checkSyntaxErr checks that err wraps sentinel and names the offset and msg.
func checkSyntaxErr(t *testing.T, err, sentinel error, off int, msg string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	if got := err.Error(); !strings.HasPrefix(got, sentinel.Error()+": ") ||
		!strings.Contains(got, msg) || !strings.Contains(got, fmt.Sprintf(" at offset %d: ", off)) {
		t.Errorf("error = %q, want %q at offset %d", got, msg, off)
	}
}

func TestParseURLValid(t *testing.T) {
	for _, tc := range syntaxValid {
		t.Run(tc.in[:min(len(tc.in), 60)], func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got != tc.want {
				t.Errorf("ParseURL = %+v, want %+v", got, tc.want)
			}
			if s := got.String(); s != tc.in {
				t.Errorf("String() = %q, want %q", s, tc.in)
			}
			if got.IsDID() != (got.String() == got.DID.String()) {
				t.Errorf("IsDID() = %v for %q", got.IsDID(), tc.in)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	for _, tc := range syntaxValid {
		if !tc.want.IsDID() {
			continue
		}
		got, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if got != tc.want.DID || got.String() != tc.in || got.IsZero() {
			t.Errorf("Parse(%q) = %+v", tc.in, got)
		}
		if MustParse(tc.in) != got {
			t.Errorf("MustParse(%q) != Parse", tc.in)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tc := range syntaxInvalid {
		t.Run(tc.in[:min(len(tc.in), 60)], func(t *testing.T) {
			d, err := Parse(tc.in)
			if !d.IsZero() {
				t.Errorf("Parse returned non-zero %+v on error", d)
			}
			checkSyntaxErr(t, err, ErrInvalidDID, tc.off, tc.msg)
			u, err := ParseURL(tc.in)
			if u != (URL{}) {
				t.Errorf("ParseURL returned non-zero %+v on error", u)
			}
			checkSyntaxErr(t, err, ErrInvalidDIDURL, tc.off, tc.msg)
		})
	}
}

func TestParseURLInvalid(t *testing.T) {
	for _, tc := range syntaxInvalidURL {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseURL(tc.in)
			checkSyntaxErr(t, err, ErrInvalidDIDURL, tc.off, tc.msg)
			if _, err := Parse(tc.in); !errors.Is(err, ErrInvalidDID) {
				t.Errorf("Parse error = %v, want ErrInvalidDID", err)
			}
		})
	}
}

func TestParseRejectsURL(t *testing.T) {
	for _, tc := range syntaxNotDID {
		t.Run(tc.in, func(t *testing.T) {
			_, err := Parse(tc.in)
			checkSyntaxErr(t, err, ErrInvalidDID, tc.off, "a DID has no path, query or fragment")
			u, err := ParseURL(tc.in)
			if err != nil || u.IsDID() {
				t.Errorf("ParseURL = %+v, %v; want a non-DID URL", u, err)
			}
		})
	}
}

func TestParseErrorTruncatesInput(t *testing.T) {
	_, err := Parse(strings.Repeat("x", 10*MaxLength))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("error = %.300q, want a short message", err)
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("MustParse did not panic")
		} else if err, ok := r.(error); !ok || !errors.Is(err, ErrInvalidDID) {
			t.Errorf("panic value = %v, want ErrInvalidDID", r)
		}
	}()
	MustParse("did:example:")
}

func TestURLString(t *testing.T) {
	d := DID{"example", "123"}
	tests := []struct {
		u    URL
		want string
	}{
		{URL{}, ""},
		{URL{DID: d}, "did:example:123"},
		{URL{DID: d, HasQuery: true, HasFragment: true}, "did:example:123?#"},
		{URL{DID: d, RawQuery: "a=b"}, "did:example:123?a=b"},
		{URL{DID: d, Fragment: "k"}, "did:example:123#k"},
		{URL{DID: d, Path: "/p", RawQuery: "a", Fragment: "k"}, "did:example:123/p?a#k"},
	}
	for _, tc := range tests {
		if got := tc.u.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.u, got, tc.want)
		}
	}
	if (DID{}).String() != "" || !(DID{}).IsZero() || d.IsZero() {
		t.Error("zero DID: want String() == \"\" and IsZero()")
	}
}

func TestURLIsDID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"did:example:123", true},
		{"did:example:123/", false},
		{"did:example:123?", false},
		{"did:example:123#", false},
		{"did:example:123#key-1", false},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.IsDID(); got != tc.want {
			t.Errorf("ParseURL(%q).IsDID() = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestURLQuery(t *testing.T) {
	tests := []struct {
		in      string
		want    url.Values
		wantErr bool
	}{
		{"did:example:123", url.Values{}, false},
		{"did:example:123?versionId=1", url.Values{"versionId": {"1"}}, false},
		{"did:example:123?versionTime=2021-05-10T17:00:00Z", url.Values{"versionTime": {"2021-05-10T17:00:00Z"}}, false},
		{"did:example:123?service=agent&relativeRef=/credentials#degree", url.Values{"service": {"agent"}, "relativeRef": {"/credentials"}}, false},
		{"did:example:123?relativeRef=%2Fa%20b&x=1&x=2", url.Values{"relativeRef": {"/a b"}, "x": {"1", "2"}}, false},
		{"did:example:123?a=1;b=2", url.Values{}, true},
	}
	for _, tc := range tests {
		u, err := ParseURL(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := u.Query()
		if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrInvalidDIDURL)) {
			t.Errorf("%q: Query() error = %v, wantErr %v", tc.in, err, tc.wantErr)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: Query() = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestJoin(t *testing.T) {
	d := MustParse("did:example:123")
	tests := []struct {
		ref, want string
	}{
		{"#key-1", "did:example:123#key-1"},
		{"?versionId=2", "did:example:123?versionId=2"},
		{"?versionId=2#key-1", "did:example:123?versionId=2#key-1"},
		{"/path/to/resource", "did:example:123/path/to/resource"},
		{"#", "did:example:123#"},
		{"", "did:example:123"},
		{"did:example:456#key-2", "did:example:456#key-2"},
		{"did:example:123", "did:example:123"},
		{"https://example.com/key", "https://example.com/key"},
	}
	for _, tc := range tests {
		got := d.Join(tc.ref)
		if got != tc.want {
			t.Errorf("Join(%q) = %q, want %q", tc.ref, got, tc.want)
		}
		if strings.HasPrefix(tc.ref, "did:") || tc.ref == "" || strings.ContainsAny(tc.ref[:1], "#?/") {
			if _, err := ParseURL(got); err != nil {
				t.Errorf("ParseURL(Join(%q)): %v", tc.ref, err)
			}
		}
	}
}

func BenchmarkParseURL(b *testing.B) {
	const s = "did:web:example.com%3A3000:user:alice/path?versionId=1#key-1"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseURL(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	const s = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}
