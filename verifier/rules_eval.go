package verifier

import (
	"fmt"
	"time"

	"github.com/credence/credence/vc/healthcare"
)

type eval struct {
	ev  Evidence
	p   Policy
	out []Finding
}

func (e *eval) add(rule int, code string, sev Severity, cred, format string, args ...any) {
	e.out = append(e.out, Finding{Rule: rule, Code: code, Severity: sev, Credential: cred, Message: fmt.Sprintf(format, args...)})
}

// label names credential i in findings.
func (e *eval) label(i int) string {
	if id := e.ev.Credentials[i].ID; id != "" {
		return id
	}
	return fmt.Sprintf("credentials[%d]", i)
}

// of returns the indexes of the credentials of a kind.
func (e *eval) of(kind string) []int {
	var out []int
	for i, c := range e.ev.Credentials {
		if kindOf(c) == kind {
			out = append(out, i)
		}
	}
	return out
}

// kindOf is the credential's first healthcare type, or "".
func kindOf(c Credential) string {
	for _, t := range c.Types {
		if _, ok := healthcare.Lookup(t); ok {
			return t
		}
	}
	return ""
}

func clinician(kind string) bool {
	switch kind {
	case healthcare.MedicalLicense, healthcare.DEARegistration, healthcare.BoardCertification, healthcare.HospitalPrivilege:
		return true
	}
	return false
}

// best returns the findings of the candidate in best standing: the fewest
// rejections, then the fewest reviews, then the fewest warnings, then the
// first presented.
func best(cands [][]Finding) []Finding {
	score := func(fs []Finding) (r, v, w int) {
		for _, f := range fs {
			switch f.Severity {
			case SeverityWarning:
				w++
			case SeverityReview:
				v++
			default:
				r++
			}
		}
		return
	}
	bi := 0
	br, bv, bw := score(cands[0])
	for i, c := range cands[1:] {
		r, v, w := score(c)
		if r < br || r == br && (v < bv || v == bv && w < bw) {
			bi, br, bv, bw = i+1, r, v, w
		}
	}
	return cands[bi]
}

func objAt(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func strAt(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// dateAt parses o[k] as a calendar date (YYYY-MM-DD, UTC).
func dateAt(o map[string]any, k string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strAt(o, k))
	return t, err == nil
}
