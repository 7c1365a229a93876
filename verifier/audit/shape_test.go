package audit

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestMatchersAreTheirRegexps: each name matcher accepts exactly what its
// regular expression does, over edge cases and random strings near every
// shape.
func TestMatchersAreTheirRegexps(t *testing.T) {
	cases := []struct {
		name string
		m    shape
		re   *regexp.Regexp
		seed []string
	}{
		{"chain", chainName, regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`), []string{"default", "a", "-a", "a-", strings.Repeat("a", 128), strings.Repeat("a", 129), ""}},
		{"token", tokenID, regexp.MustCompile(`^tok_[0-9a-f]{16}$`), []string{"tok_0123456789abcdef", "tok_0123456789abcdeF", "tok_0123456789abcde", "tok_", "anonymous"}},
		{"code", code, regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$`), []string{"CREDENTIAL_REVOKED", "A", "_A", "A a", strings.Repeat("A", 64), strings.Repeat("A", 65)}},
		{"check", checkName, regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,63}$`), []string{"proof", "status:revocation", "1proof", "a b", ""}},
		{"digest", digestHex, regexp.MustCompile(`^sha256:[0-9a-f]{64}$`), []string{"sha256:" + strings.Repeat("0", 64), "sha256:" + strings.Repeat("0", 63), "sha512:" + strings.Repeat("0", 64)}},
	}
	const alphabet = "aZz09_.:-tok_sha256:AFf \x00\xff/é"
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		try := func(s string) {
			if got, want := c.m.MatchString(s), c.re.MatchString(s); got != want {
				t.Errorf("%s: %q matches %v, its regexp says %v", c.name, s, got, want)
			}
		}
		for _, s := range c.seed {
			try(s)
			for range 2000 { // mutate a valid-looking seed one byte at a time
				if len(s) == 0 {
					break
				}
				b := []byte(s)
				b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
				try(string(b))
			}
		}
		for range 20000 {
			b := make([]byte, r.IntN(80))
			for i := range b {
				b[i] = alphabet[r.IntN(len(alphabet))]
			}
			try(string(b))
			try(c.seed[0][:r.IntN(len(c.seed[0])+1)] + string(b))
		}
	}
}
