package vc

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// dateTimeStamp is the XML Schema dateTimeStamp lexical space the VC 2.0
// specification gives for validFrom and validUntil (§4.9).
var dateTimeStamp = regexp.MustCompile(`^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)

// dateTime1 is the VC 1.1 form: the time zone is optional (UTC if absent).
var dateTime1 = regexp.MustCompile(`^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$`)

// ParseDateTime parses an XML Schema dateTimeStamp (a date-time with a time
// zone), the form VC 2.0 requires.
func ParseDateTime(s string) (time.Time, error) {
	if !dateTimeStamp.MatchString(s) {
		if dateTime1.MatchString(s) {
			return parseTime(s + "Z")
		}
		return time.Time{}, fmt.Errorf("%q is not an XML Schema dateTimeStamp", s)
	}
	return parseTime(s)
}

func parseTime(s string) (time.Time, error) {
	if strings.Contains(s, "T24:00:00") {
		t, err := time.Parse(time.RFC3339Nano, strings.Replace(s, "T24:00:00", "T00:00:00", 1))
		return t.AddDate(0, 0, 1), err
	}
	return time.Parse(time.RFC3339Nano, s)
}

// IsURL reports whether s is an absolute URI (RFC 3986): a scheme and
// something after it. DIDs, URNs and https URLs all qualify.
func IsURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"{}|\\^`") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Opaque != "" || u.Host != "" || u.Path != "")
}

// problems collects field errors.
type problems []FieldError

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &InvalidError{Fields: p}
}

// Validate checks the rules of the data model (VC 2.0 §4, or VC 1.1 for a
// credential whose first context is the 1.1 one) and reports every
// violation, each with the JSON Pointer of the member.
func (c Credential) Validate() error {
	var p problems
	v := checkContext(&p, c["@context"])
	checkTypes(&p, "/type", c["type"], TypeCredential)
	checkOptionalURL(&p, "/id", c, "id")
	checkIssuer(&p, c["issuer"])
	checkSubjects(&p, c["credentialSubject"])
	checkValidity(&p, c, v)
	checkTyped(&p, "/credentialStatus", c["credentialStatus"], false)
	checkSchemas(&p, c["credentialSchema"])
	for _, m := range []string{"refreshService", "termsOfUse", "evidence"} {
		checkTyped(&p, "/"+m, c[m], false)
	}
	checkTyped(&p, "/proof", c["proof"], false)
	checkRelated(&p, c["relatedResource"])
	checkLanguageValue(&p, "/name", c["name"])
	checkLanguageValue(&p, "/description", c["description"])
	return p.err()
}

func checkContext(p *problems, ctx any) Version {
	if ctx == nil {
		p.add("/@context", "required")
		return VersionUnknown
	}
	v := version(ctx)
	if v == VersionUnknown {
		p.add("/@context/0", "the first context must be %s (or %s for VC 1.1)", ContextV2, ContextV1)
	}
	a, isArray := ctx.([]any)
	if !isArray {
		if _, ok := ctx.(string); !ok {
			p.add("/@context", "must be a URL or an ordered set of URLs and objects")
		}
		return v
	}
	for i, e := range a {
		switch t := e.(type) {
		case string:
			if !IsURL(t) {
				p.add(fmt.Sprintf("/@context/%d", i), "%q is not a URL", t)
			}
		case map[string]any:
		default:
			p.add(fmt.Sprintf("/@context/%d", i), "must be a URL or an object")
		}
	}
	return v
}

func checkTypes(p *problems, field string, v any, required string) {
	if v == nil {
		p.add(field, "required")
		return
	}
	if a, ok := v.([]any); ok {
		for i, e := range a {
			if s, ok := e.(string); !ok || s == "" {
				p.add(fmt.Sprintf("%s/%d", field, i), "a type must be a non-empty string")
			}
		}
	} else if s, ok := v.(string); !ok || s == "" {
		p.add(field, "must be a string or an array of strings")
	}
	if required != "" && !hasString(v, required) {
		p.add(field, "must include %q", required)
	}
}

func checkOptionalURL(p *problems, field string, m map[string]any, key string) {
	v, ok := m[key]
	if !ok {
		return
	}
	if s, isStr := v.(string); !isStr || !IsURL(s) {
		p.add(field, "must be a single URL")
	}
}

func checkIssuer(p *problems, v any) {
	switch t := v.(type) {
	case nil:
		p.add("/issuer", "required")
	case string:
		if !IsURL(t) {
			p.add("/issuer", "must be a URL")
		}
	case map[string]any:
		if s, ok := t["id"].(string); !ok || !IsURL(s) {
			p.add("/issuer/id", "an issuer object must have an id that is a URL")
		}
		checkLanguageValue(p, "/issuer/name", t["name"])
		checkLanguageValue(p, "/issuer/description", t["description"])
	default:
		p.add("/issuer", "must be a URL or an object with an id")
	}
}

func checkSubjects(p *problems, v any) {
	if v == nil {
		p.add("/credentialSubject", "required")
		return
	}
	subjects, ok := v.([]any)
	prefix := func(i int) string { return fmt.Sprintf("/credentialSubject/%d", i) }
	if !ok {
		subjects = []any{v}
		prefix = func(int) string { return "/credentialSubject" }
	}
	if len(subjects) == 0 {
		p.add("/credentialSubject", "must not be empty")
	}
	for i, s := range subjects {
		m, ok := s.(map[string]any)
		if !ok {
			p.add(prefix(i), "must be an object")
			continue
		}
		if len(m) == 0 {
			p.add(prefix(i), "must contain at least one claim")
		}
		checkOptionalURL(p, prefix(i)+"/id", m, "id")
	}
}

func checkValidity(p *problems, c Credential, v Version) {
	from, until := "validFrom", "validUntil"
	parse := func(field, s string) (time.Time, bool) {
		if !dateTimeStamp.MatchString(s) {
			p.add("/"+field, "%q is not an XML Schema dateTimeStamp (a date-time with a time zone)", s)
			return time.Time{}, false
		}
		t, err := parseTime(s)
		return t, err == nil
	}
	if v == V1 {
		from, until = "issuanceDate", "expirationDate"
		parse = func(field, s string) (time.Time, bool) {
			if !dateTime1.MatchString(s) {
				p.add("/"+field, "%q is not an XML Schema dateTime", s)
				return time.Time{}, false
			}
			t, err := ParseDateTime(s)
			return t, err == nil
		}
		if _, ok := c[from]; !ok {
			p.add("/"+from, "required by VC 1.1")
		}
	}
	var times [2]time.Time
	var have [2]bool
	for i, f := range []string{from, until} {
		raw, ok := c[f]
		if !ok {
			continue
		}
		s, isStr := raw.(string)
		if !isStr {
			p.add("/"+f, "must be a date-time string")
			continue
		}
		times[i], have[i] = parse(f, s)
	}
	if have[0] && have[1] && times[1].Before(times[0]) {
		p.add("/"+until, "is before %s", from)
	}
}
