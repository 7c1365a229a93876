package ld

import (
	"strconv"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// nquad serializes q as a canonical N-Quads line (RDFC-1.0, RDF 1.2
// canonical N-Quads), blank nodes renamed by label.
func nquad(q quad, label func(string) string) string {
	var b strings.Builder
	term(&b, q.s, label)
	b.WriteByte(' ')
	term(&b, q.p, label)
	b.WriteByte(' ')
	term(&b, q.o, label)
	if q.g != nil {
		b.WriteByte(' ')
		term(&b, q.g, label)
	}
	b.WriteString(" .\n")
	return b.String()
}

func term(b *strings.Builder, n ld.Node, label func(string) string) {
	switch t := n.(type) {
	case ld.IRI:
		iri(b, t.Value)
	case ld.BlankNode:
		b.WriteString(label(t.Attribute))
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

func iri(b *strings.Builder, s string) {
	b.WriteByte('<')
	if strings.IndexFunc(s, iriEscaped) < 0 {
		b.WriteString(s)
		b.WriteByte('>')
		return
	}
	for _, r := range s {
		if iriEscaped(r) {
			uchar(b, r)
		} else {
			b.WriteRune(r)
		}
	}
	b.WriteByte('>')
}

func iriEscaped(r rune) bool { return r <= 0x20 || strings.ContainsRune("<>\"{}|^`\\", r) }

func literalEscaped(r rune) bool { return r < 0x20 || r == 0x7f || r == '"' || r == '\\' }

func literalText(b *strings.Builder, s string) {
	if strings.IndexFunc(s, literalEscaped) < 0 {
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
