package healthcare

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// checkDomain adds the rules JSON Schema cannot express. It never repeats a
// field the schema already reported, and tolerates any shape: the schema
// has said what is missing or mistyped.
func checkDomain(p *problems, typeName string, s map[string]any) {
	walkObjects(s, subjectPointer, 0, func(o map[string]any, at string) {
		checkIdentifiers(p, o, at)
	})
	switch typeName {
	case MedicalLicense:
		checkLicense(p, s)
	case BoardCertification:
		c := obj(s, "certification")
		at := subjectPointer + "/certification"
		dateOrder(p, c, at, "initialCertificationDate", "effectiveDate")
		dateOrder(p, c, at, "effectiveDate", "expirationDate")
	case DEARegistration:
		checkRegistration(p, s)
	case HospitalPrivilege:
		dateOrder(p, obj(s, "appointment"), subjectPointer+"/appointment", "startDate", "endDate")
		for i, e := range arr(s, "privileges") {
			m, _ := e.(map[string]any)
			dateOrder(p, m, subjectPointer+"/privileges/"+strconv.Itoa(i), "grantedDate", "expirationDate")
		}
	case PatientIdentity:
		for i, e := range arr(s, "identifier") {
			m, _ := e.(map[string]any)
			dateOrder(p, obj(m, "period"), subjectPointer+"/identifier/"+strconv.Itoa(i)+"/period", "start", "end")
		}
	}
}

// checkIdentifiers checks the identifiers one object carries wherever they
// appear: an npi member, a FHIR Identifier or Coding naming the NPI, DEA or
// NUCC system.
func checkIdentifiers(p *problems, o map[string]any, at string) {
	if s, ok := o["npi"].(string); ok {
		checkNPI(p, at+"/npi", s)
	}
	if s, ok := o["deaNumber"].(string); ok {
		checkDEA(p, at+"/deaNumber", s)
	}
	system, _ := o["system"].(string)
	switch system {
	case SystemNPI:
		if s, ok := o["value"].(string); ok {
			checkNPI(p, at+"/value", s)
		}
	case SystemDEA:
		if s, ok := o["value"].(string); ok {
			checkDEA(p, at+"/value", s)
		}
	case SystemNUCC:
		if s, ok := o["code"].(string); ok && !ValidTaxonomy(s) && !p.has(at+"/code") {
			p.add(at+"/code", fmt.Sprintf("%q is not a NUCC taxonomy code (10 characters: 3 digits, 6 digits or capitals, X)", s))
		}
	}
}

func checkNPI(p *problems, at, s string) {
	switch {
	case p.has(at):
	case !npiShape(s):
		p.add(at, "NPI must be 10 digits starting with 1 or 2")
	case !ValidNPI(s):
		p.add(at, "NPI check digit is wrong")
	}
}

func checkDEA(p *problems, at, s string) {
	switch {
	case p.has(at):
	case !deaShape(s):
		p.add(at, "DEA number must be 2 letters (the second may be 9) and 7 digits")
	case strings.IndexByte(deaTypeLetters, s[0]) < 0:
		p.add(at, fmt.Sprintf("unknown DEA registrant type letter %q", s[:1]))
	case deaCheckDigit(s[2:8]) != s[8]:
		p.add(at, "DEA check digit is wrong")
	}
}

// checkLicense: the license's dates in order, and its jurisdiction that of
// the board that issued it.
func checkLicense(p *problems, s map[string]any) {
	l := obj(s, "license")
	at := subjectPointer + "/license"
	dateOrder(p, l, at, "originalIssueDate", "issueDate")
	dateOrder(p, l, at, "issueDate", "expirationDate")
	j, _ := l["jurisdiction"].(string)
	bj, _ := obj(l, "issuingBoard")["jurisdiction"].(string)
	if ValidState(j) && bj != "" && j != bj && !p.has(at+"/issuingBoard/jurisdiction") {
		p.add(at+"/issuingBoard/jurisdiction",
			fmt.Sprintf("issuing board's jurisdiction %q is not the license's jurisdiction %q", bj, j))
	}
	for i, e := range arr(s, "disciplinaryActions") {
		m, _ := e.(map[string]any)
		dateOrder(p, m, subjectPointer+"/disciplinaryActions/"+strconv.Itoa(i), "effectiveDate", "endDate")
	}
}

// typeLetters are the DEA registrant-type letters a registrant type may
// hold, for the types the letter pins down.
var typeLetters = map[string]string{
	"practitioner":           "ABFG",
	"mid_level_practitioner": "M",
}

// checkRegistration: the DEA number's letter matches the registrant type,
// the registered address is in the registration's state, dates in order.
func checkRegistration(p *problems, s map[string]any) {
	r := obj(s, "registration")
	at := subjectPointer + "/registration"
	dea, _ := r["deaNumber"].(string)
	rt, _ := r["registrantType"].(string)
	if letters, ok := typeLetters[rt]; ok && deaShape(dea) && !p.has(at+"/deaNumber") &&
		strings.IndexByte(letters, dea[0]) < 0 {
		p.add(at+"/deaNumber", fmt.Sprintf("registrant type letter %q does not fit registrantType %s (want one of %s)",
			dea[:1], rt, strings.Join(strings.Split(letters, ""), ", ")))
	}
	st, _ := r["state"].(string)
	ast, _ := obj(r, "registeredAddress")["state"].(string)
	if ValidState(st) && ValidState(ast) && st != ast {
		p.add(at+"/registeredAddress/state",
			fmt.Sprintf("registered address is in %s, not in the registration's state %s", ast, st))
	}
	dateOrder(p, r, at, "originalIssueDate", "expirationDate")
}

// dateOrder reports o[later] when both dates are real and it comes before
// o[earlier]. Malformed dates are the schema's to report.
func dateOrder(p *problems, o map[string]any, at, earlier, later string) {
	a, ok1 := date(o, earlier)
	b, ok2 := date(o, later)
	if ok1 && ok2 && b.Before(a) && !p.has(at+"/"+later) {
		p.add(at+"/"+later, fmt.Sprintf("%s %s is before %s %s",
			later, b.Format(time.DateOnly), earlier, a.Format(time.DateOnly)))
	}
}

// date parses o[key] as a calendar date (YYYY-MM-DD, UTC).
func date(o map[string]any, key string) (time.Time, bool) {
	s, ok := o[key].(string)
	if !ok || len(s) != len(time.DateOnly) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// obj returns o[key] if it is an object, else nil (which reads as empty).
func obj(o map[string]any, key string) map[string]any {
	m, _ := o[key].(map[string]any)
	return m
}

func arr(o map[string]any, key string) []any {
	a, _ := o[key].([]any)
	return a
}

// walkObjects calls fn on every object in v, depth first, with its pointer.
func walkObjects(v any, at string, depth int, fn func(map[string]any, string)) {
	if depth > maxDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		fn(x, at)
		for k, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				walkObjects(e, ptr(at, k), depth+1, fn)
			}
		}
	case []any:
		for i, e := range x {
			walkObjects(e, at+"/"+strconv.Itoa(i), depth+1, fn)
		}
	}
}
