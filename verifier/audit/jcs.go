package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// appendEntry appends the JCS (RFC 8785) form of e's JSON encoding, the
// bytes canonical(e) gives, without encoding to JSON and parsing it again:
// members in code-unit order, strings escaped as ECMAScript's
// JSON.stringify does, no insignificant whitespace. An entry has strings,
// booleans, one unsigned integer and one time, so this is all of JCS it
// needs. ok is false for a string that is not valid UTF-8, which
// validation refuses anyway; the caller then uses canonical, whose error
// it reports. FuzzAppendEntry holds it to canonical.
func appendEntry(b []byte, e *Entry) ([]byte, bool) {
	ok := true
	str := func(s string) {
		var good bool
		b, good = appendJCSString(b, s)
		ok = ok && good
	}
	strs := func(ss []string) {
		b = append(b, '[')
		for i, s := range ss {
			if i > 0 {
				b = append(b, ',')
			}
			str(s)
		}
		b = append(b, ']')
	}
	b = append(b, `{"chain":`...)
	str(e.Chain)
	b = append(b, `,"checks":[`...)
	for i, c := range e.Checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		str(c.Name)
		b = append(b, `,"passed":`...)
		b = strconv.AppendBool(b, c.Passed)
		b = append(b, '}')
	}
	b = append(b, `],"credentials":[`...)
	for i, c := range e.Credentials {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"digest":`...)
		str(c.Digest)
		if c.ID != "" {
			b = append(b, `,"id":`...)
			str(c.ID)
		}
		if c.Issuer != "" {
			b = append(b, `,"issuer":`...)
			str(c.Issuer)
		}
		if len(c.Types) > 0 {
			b = append(b, `,"types":`...)
			strs(c.Types)
		}
		b = append(b, '}')
	}
	b = append(b, `],"decision":`...)
	str(e.Decision)
	if len(e.Errors) > 0 {
		b = append(b, `,"errors":`...)
		strs(e.Errors)
	}
	if e.Hash != "" {
		b = append(b, `,"hash":`...)
		str(e.Hash)
	}
	if e.Holder != "" {
		b = append(b, `,"holder":`...)
		str(e.Holder)
	}
	b = append(b, `,"kind":`...)
	str(e.Kind)
	b = append(b, `,"prev":`...)
	str(e.Prev)
	if e.Request != "" {
		b = append(b, `,"request":`...)
		str(e.Request)
	}
	b = append(b, `,"requester":`...)
	str(e.Requester)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","verified":`...)
	b = strconv.AppendBool(b, e.Verified)
	if len(e.Warnings) > 0 {
		b = append(b, `,"warnings":`...)
		strs(e.Warnings)
	}
	return append(b, '}'), ok && e.Time.Year() >= 0 && e.Time.Year() <= 9999 && e.Seq < 1<<53
}

// appendJCSString appends s as a JSON string the way RFC 8785 §3.2.2.2
// serializes strings: '"' and '\' escaped, the control characters as \b,
// \t, \n, \f, \r or \u00xx (lowercase hex), everything else as is.
func appendJCSString(b []byte, s string) ([]byte, bool) {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return b, false
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"'), true
}

// canonicalEntry is canonical(e) for an Entry, by appendEntry when it can.
func canonicalEntry(e *Entry) ([]byte, error) {
	if b, ok := appendEntry(make([]byte, 0, 512), e); ok {
		return b, nil
	}
	return canonical(*e)
}
