package ld

import (
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// quad is an RDF quad as canonicalization handles it: each term written
// once in canonical N-Quads form, blank nodes kept by label so that lines
// can be written under any labelling.
type quad struct {
	term  [4]string // subject, predicate, object, graph ("" for the default graph)
	blank [4]bool   // which terms are blank node labels
	pred  string    // the predicate IRI
	line  string    // the N-Quads line, if no term is a blank node
}

// positions of the terms of a quad, and their names in Hash Related Blank
// Node (RDFC-1.0 4.7).
const (
	subjectPos, predicatePos, objectPos, graphPos = 0, 1, 2, 3
)

var positionName = [4]string{"s", "p", "o", "g"}

// newQuad writes the terms of a quad of graph (nil for the default graph).
func newQuad(s, p, o, g ld.Node) quad {
	var q quad
	for i, n := range [4]ld.Node{s, p, o, g} {
		if n == nil {
			continue
		}
		if b, ok := n.(ld.BlankNode); ok {
			q.term[i], q.blank[i] = b.Attribute, true
			continue
		}
		var sb strings.Builder
		term(&sb, n)
		q.term[i] = sb.String()
	}
	q.pred = p.GetValue()
	q.complete()
	return q
}

// complete sets line for a quad without blank nodes.
func (q *quad) complete() {
	if !q.blank[0] && !q.blank[1] && !q.blank[2] && !q.blank[3] {
		q.line = q.write(nil)
	}
}

// write returns the N-Quads line of q, blank nodes renamed by label.
func (q *quad) write(label func(string) string) string {
	if q.line != "" {
		return q.line
	}
	var t [4]string
	n := len(" .\n")
	for i, s := range q.term {
		if q.blank[i] {
			s = label(s)
		}
		t[i] = s
		n += len(s) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(t[0])
	b.WriteByte(' ')
	b.WriteString(t[1])
	b.WriteByte(' ')
	b.WriteString(t[2])
	if t[3] != "" {
		b.WriteByte(' ')
		b.WriteString(t[3])
	}
	b.WriteString(" .\n")
	return b.String()
}

// term writes an IRI or a literal in canonical N-Quads form (RDFC-1.0,
// RDF 1.2 canonical N-Quads).
func term(b *strings.Builder, n ld.Node) {
	switch t := n.(type) {
	case ld.IRI:
		iri(b, t.Value)
	case ld.Literal:
		b.WriteByte('"')
		literalText(b, t.Value)
		b.WriteByte('"')
		switch {
		case t.Datatype == ld.RDFLangString:
			if t.Language != "" {
				b.WriteString("@" + t.Language)
			}
		case t.Datatype != ld.XSDString && t.Datatype != "":
			b.WriteString("^^")
			iri(b, t.Datatype)
		}
	}
}

// iriEscapedByte and literalEscapedByte mark the ASCII bytes written
// escaped; bytes of multi-byte UTF-8 sequences (0x80 and up) never are.
var iriEscapedByte, literalEscapedByte = func() (iri, lit [256]bool) {
	for c := range 0x21 {
		iri[c] = true
	}
	for _, c := range []byte("<>\"{}|^`\\") {
		iri[c] = true
	}
	for c := range 0x20 {
		lit[c] = true
	}
	lit[0x7f], lit['"'], lit['\\'] = true, true, true
	return
}()

func clean(s string, escaped *[256]bool) bool {
	for i := 0; i < len(s); i++ {
		if escaped[s[i]] {
			return false
		}
	}
	return true
}

func iri(b *strings.Builder, s string) {
	b.WriteByte('<')
	if clean(s, &iriEscapedByte) {
		b.WriteString(s)
		b.WriteByte('>')
		return
	}
	for _, r := range s {
		if r < 0x80 && iriEscapedByte[r] {
			uchar(b, r)
		} else {
			b.WriteRune(r)
		}
	}
	b.WriteByte('>')
}

func literalText(b *strings.Builder, s string) {
	if clean(s, &literalEscapedByte) {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				uchar(b, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
}

func uchar(b *strings.Builder, r rune) {
	h := strings.ToUpper(strconv.FormatInt(int64(r), 16))
	b.WriteString(`\u` + strings.Repeat("0", 4-len(h)) + h)
}

func itoa(i int) string { return strconv.Itoa(i) }
