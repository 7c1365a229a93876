package did

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxLength bounds DID URLs accepted by the parsers (bytes).
const MaxLength = 4096

// scheme is the case-sensitive prefix of every DID.
const scheme = "did:"

// DID is a parsed decentralized identifier.
type DID struct {
	Method string // method-name
	ID     string // method-specific-id, exactly as written (percent-encoding preserved)
}

// URL is a parsed DID URL: did path-abempty [ "?" query ] [ "#" fragment ].
type URL struct {
	DID         DID
	Path        string // path-abempty, "" or starting with "/"
	RawQuery    string // without "?"
	Fragment    string // without "#"
	HasQuery    bool   // "?" was present (even if empty)
	HasFragment bool   // "#" was present (even if empty)
}

// Character classes of the DID Core and RFC 3986 grammars. pct-encoded is
// not a class: the scanner checks "%" HEXDIG HEXDIG separately.
const (
	classMethod = 1 << iota // method-char = %x61-7A / DIGIT
	classID                 // idchar (without pct-encoded) / ":"
	classPath               // pchar (without pct-encoded) / "/"
	classQuery              // pchar (without pct-encoded) / "/" / "?"; also fragment
	classHex                // HEXDIG, either case
)

var charClass = func() (t [256]uint8) {
	set := func(chars string, class uint8) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= class
		}
	}
	const (
		lower    = "abcdefghijklmnopqrstuvwxyz"
		upper    = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		digits   = "0123456789"
		pchar    = lower + upper + digits + "-._~" + "!$&'()*+,;=" + ":@"
		idchar   = lower + upper + digits + ".-_"
		hexdigit = digits + "abcdefABCDEF"
	)
	set(lower+digits, classMethod)
	set(idchar+":", classID)
	set(pchar+"/", classPath)
	set(pchar+"/?", classQuery)
	set(hexdigit, classHex)
	return t
}()

// syntaxError locates the first grammar violation in an input.
type syntaxError struct {
	off int
	msg string
}

// wrap turns e into an error wrapping sentinel, naming the offset and input.
func (e *syntaxError) wrap(sentinel error, s string) error {
	return fmt.Errorf("%w: %s at offset %d: %s", sentinel, e.msg, e.off, quote(s))
}

// quote renders s for an error message, truncating long inputs.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}

// badChar describes the unexpected byte c found in the named component.
func badChar(off int, c byte, where string) *syntaxError {
	var msg string
	switch {
	case c >= 0x80:
		msg = fmt.Sprintf("non-ASCII byte 0x%02x in %s", c, where)
	case c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
		msg = fmt.Sprintf("whitespace %q in %s", c, where)
	case c < 0x20 || c == 0x7f:
		msg = fmt.Sprintf("control character %q in %s", c, where)
	default:
		msg = fmt.Sprintf("invalid character %q in %s", c, where)
	}
	return &syntaxError{off, msg}
}

// Parse parses s as a DID. The whole string must be a DID: a DID URL with a
// path, query or fragment is rejected (use ParseURL). Errors wrap
// ErrInvalidDID.
func Parse(s string) (DID, error) {
	d, _, err := scan(s, false)
	if err != nil {
		return DID{}, err.wrap(ErrInvalidDID, s)
	}
	return d, nil
}

// MustParse is like Parse but panics on error; for tests and constants.
func MustParse(s string) DID {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// ParseURL parses s as a DID URL (a DID optionally followed by a path, query
// and fragment). Errors wrap ErrInvalidDIDURL.
func ParseURL(s string) (URL, error) {
	d, i, err := scan(s, true)
	if err != nil {
		return URL{}, err.wrap(ErrInvalidDIDURL, s)
	}
	u := URL{DID: d}
	if err := u.scanTail(s, i); err != nil {
		return URL{}, err.wrap(ErrInvalidDIDURL, s)
	}
	return u, nil
}

// scan reads the DID at the start of s and returns it with the offset where
// it ends. With tail, the DID may be followed by "/", "?" or "#" and the rest
// of s is left to the caller; without, the DID must fill s.
func scan(s string, tail bool) (DID, int, *syntaxError) {
	if len(s) > MaxLength {
		return DID{}, 0, &syntaxError{MaxLength, fmt.Sprintf("length %d exceeds MaxLength %d", len(s), MaxLength)}
	}
	end, err := scanMethod(s)
	if err != nil {
		return DID{}, 0, err
	}
	start := end + 1
	i, err := scanID(s, start, tail)
	if err != nil {
		return DID{}, 0, err
	}
	return DID{Method: s[len(scheme):end], ID: s[start:i]}, i, nil
}

// scanMethod checks the "did:" scheme and the method-name, returning the
// offset of the ':' that ends the method-name.
func scanMethod(s string) (int, *syntaxError) {
	if !strings.HasPrefix(s, scheme) {
		i := 0
		for i < len(s) && s[i] == scheme[i] {
			i++
		}
		return 0, &syntaxError{i, `DID must start with "did:"`}
	}
	i := len(scheme)
	for i < len(s) && charClass[s[i]]&classMethod != 0 {
		i++
	}
	switch {
	case i == len(scheme) && (i == len(s) || s[i] == ':'):
		return 0, &syntaxError{i, "method name is empty"}
	case i == len(s):
		return 0, &syntaxError{i, `missing ":" after method name`}
	case s[i] != ':':
		return 0, &syntaxError{i, "method name must be lowercase letters or digits"}
	}
	return i, nil
}

// scanID scans the method-specific-id starting at start and returns the
// offset where it ends: len(s), or with tail the first "/", "?" or "#".
func scanID(s string, start int, tail bool) (int, *syntaxError) {
	i, err := scanComponent(s, start, classID)
	if err != nil {
		return 0, err
	}
	if i < len(s) && s[i] != '/' && s[i] != '?' && s[i] != '#' {
		return 0, badChar(i, s[i], "method-specific-id")
	}
	switch {
	case i == start:
		return 0, &syntaxError{start, "method-specific-id is empty"}
	case s[i-1] == ':':
		return 0, &syntaxError{i - 1, `method-specific-id must not end with ":"`}
	case i < len(s) && !tail:
		return 0, &syntaxError{i, fmt.Sprintf("unexpected %q: a DID has no path, query or fragment", s[i])}
	}
	return i, nil
}

// scanComponent advances from i over bytes of class and pct-encoded
// triplets, returning the offset of the first byte that is neither.
func scanComponent(s string, i int, class uint8) (int, *syntaxError) {
	for i < len(s) {
		c := s[i]
		switch {
		case charClass[c]&class != 0:
			i++
		case c != '%':
			return i, nil
		case i+2 < len(s) && charClass[s[i+1]]&charClass[s[i+2]]&classHex != 0:
			i += 3
		default:
			return 0, &syntaxError{i, "malformed percent-encoding"}
		}
	}
	return i, nil
}

// scanTail parses the path-abempty, query and fragment of s from offset i
// (the end of the DID) into u.
func (u *URL) scanTail(s string, i int) *syntaxError {
	where := "method-specific-id"
	j, err := scanComponent(s, i, classPath)
	if err != nil {
		return err
	}
	if u.Path = s[i:j]; u.Path != "" {
		where = "path"
	}
	if j < len(s) && s[j] == '?' {
		where, i = "query", j+1
		if j, err = scanComponent(s, i, classQuery); err != nil {
			return err
		}
		u.RawQuery, u.HasQuery = s[i:j], true
	}
	if j < len(s) && s[j] == '#' {
		where, i = "fragment", j+1
		if j, err = scanComponent(s, i, classQuery); err != nil {
			return err
		}
		u.Fragment, u.HasFragment = s[i:j], true
	}
	if j < len(s) {
		return badChar(j, s[j], where)
	}
	return nil
}

// String returns "did:" + Method + ":" + ID, or "" for the zero DID.
func (d DID) String() string {
	if d.IsZero() {
		return ""
	}
	return scheme + d.Method + ":" + d.ID
}

// IsZero reports whether d is the zero DID.
func (d DID) IsZero() bool {
	return d.Method == "" && d.ID == ""
}

// String reassembles the DID URL; for a parsed URL it reproduces the input
// byte for byte. A non-empty RawQuery or Fragment is written even if its Has
// flag is false.
func (u URL) String() string {
	var b strings.Builder
	b.Grow(len(scheme) + len(u.DID.Method) + 1 + len(u.DID.ID) + len(u.Path) + 1 + len(u.RawQuery) + 1 + len(u.Fragment))
	b.WriteString(u.DID.String())
	b.WriteString(u.Path)
	if u.hasQuery() {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
	if u.hasFragment() {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

func (u URL) hasQuery() bool    { return u.HasQuery || u.RawQuery != "" }
func (u URL) hasFragment() bool { return u.HasFragment || u.Fragment != "" }

// Query parses RawQuery as application/x-www-form-urlencoded parameters
// (e.g. versionId, versionTime, service, relativeRef). As with url.ParseQuery,
// "+" decodes to a space and ";" is rejected; the error wraps
// ErrInvalidDIDURL and the parameters that did parse are still returned.
func (u URL) Query() (url.Values, error) {
	v, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return v, fmt.Errorf("%w: query: %w", ErrInvalidDIDURL, err)
	}
	return v, nil
}

// IsDID reports whether u is a plain DID: no path, query or fragment.
func (u URL) IsDID() bool {
	return u.Path == "" && !u.hasQuery() && !u.hasFragment()
}

// Join resolves a DID URL reference against d, as for verification method
// ids in DID documents: a reference starting with "#", "?" or "/" is
// appended to the DID ("#key-1" -> "did:x:y#key-1"), and "" yields the DID.
// Any other reference (an absolute DID URL or other URI) is returned
// unchanged. Join does not validate; parse the result with ParseURL.
func (d DID) Join(ref string) string {
	if ref == "" {
		return d.String()
	}
	switch ref[0] {
	case '#', '?', '/':
		return d.String() + ref
	}
	return ref
}
