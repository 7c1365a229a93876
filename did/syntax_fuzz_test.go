package did

import (
	"errors"
	"regexp"
	"testing"
)

// syntaxOracle is an independent transcription of the DID Core did-url ABNF
// (with RFC 3986 path-abempty, query and fragment) used to cross-check the
// hand-written scanner. Submatches: method, id, path, query, fragment.
var syntaxOracle = func() *regexp.Regexp {
	const (
		pct    = `%[0-9A-Fa-f]{2}`
		idchar = `(?:[A-Za-z0-9._-]|` + pct + `)`
		pchar  = `(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|` + pct + `)`
		qchar  = `(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|` + pct + `)`
	)
	return regexp.MustCompile(`^did:([a-z0-9]+):((?:` + idchar + `*:)*` + idchar + `+)` +
		`((?:/` + pchar + `*)*)(?:\?(` + qchar + `*))?(?:#(` + qchar + `*))?$`)
}()

// syntaxSeeds returns every input of the syntax tables.
func syntaxSeeds() []string {
	var seeds []string
	for _, tc := range syntaxValid {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range syntaxInvalid {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range syntaxInvalidURL {
		seeds = append(seeds, tc.in)
	}
	for _, tc := range syntaxNotDID {
		seeds = append(seeds, tc.in)
	}
	return seeds
}

// oracleURL parses s with syntaxOracle.
func oracleURL(s string) (URL, bool) {
	m := syntaxOracle.FindStringSubmatchIndex(s)
	if len(s) > MaxLength || m == nil {
		return URL{}, false
	}
	part := func(k int) (string, bool) {
		if m[2*k] < 0 {
			return "", false
		}
		return s[m[2*k]:m[2*k+1]], true
	}
	var u URL
	u.DID.Method, _ = part(1)
	u.DID.ID, _ = part(2)
	u.Path, _ = part(3)
	u.RawQuery, u.HasQuery = part(4)
	u.Fragment, u.HasFragment = part(5)
	return u, true
}

func FuzzParse(f *testing.F) {
	for _, s := range syntaxSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		u, urlErr := ParseURL(s)
		if (err == nil) != (urlErr == nil && u.IsDID()) {
			t.Fatalf("Parse error %v, but ParseURL = %+v, %v", err, u, urlErr)
		}
		want, ok := oracleURL(s)
		if ok && !want.IsDID() {
			ok = false
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidDID) || errors.Is(err, ErrInvalidDIDURL) || d != (DID{}) {
				t.Fatalf("Parse(%q) = %+v, %v; want zero DID and ErrInvalidDID", s, d, err)
			}
			if ok {
				t.Fatalf("Parse(%q) rejected a DID the ABNF accepts: %v", s, err)
			}
			return
		}
		if !ok || d != want.DID {
			t.Fatalf("Parse(%q) = %+v; ABNF gives %+v, %v", s, d, want.DID, ok)
		}
		if d.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, d.String())
		}
		if again, err := Parse(d.String()); err != nil || again != d {
			t.Fatalf("re-Parse(%q) = %+v, %v", s, again, err)
		}
	})
}

func FuzzParseURL(f *testing.F) {
	for _, s := range syntaxSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		_, didErr := Parse(s)
		if (didErr == nil) != (err == nil && u.IsDID()) {
			t.Fatalf("ParseURL = %+v, %v, but Parse error %v", u, err, didErr)
		}
		want, ok := oracleURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidDIDURL) || errors.Is(err, ErrInvalidDID) || u != (URL{}) {
				t.Fatalf("ParseURL(%q) = %+v, %v; want zero URL and ErrInvalidDIDURL", s, u, err)
			}
			if ok {
				t.Fatalf("ParseURL(%q) rejected a DID URL the ABNF accepts: %v", s, err)
			}
			return
		}
		if !ok || u != want {
			t.Fatalf("ParseURL(%q) = %+v; ABNF gives %+v, %v", s, u, want, ok)
		}
		if u.String() != s {
			t.Fatalf("ParseURL(%q).String() = %q", s, u.String())
		}
		if again, err := ParseURL(u.String()); err != nil || again != u {
			t.Fatalf("re-ParseURL(%q) = %+v, %v", s, again, err)
		}
		if got := u.DID.Join(s[len(u.DID.String()):]); got != s {
			t.Fatalf("Join of the tail of %q = %q", s, got)
		}
	})
}
