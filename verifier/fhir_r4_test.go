package verifier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestCheckR4 shows the structural check fails what R4 forbids.
func TestCheckR4(t *testing.T) {
	bad := map[string]string{
		"no status":         `{"resourceType":"VerificationResult"}`,
		"status":            `{"resourceType":"VerificationResult","status":"accepted"}`,
		"unknown element":   `{"resourceType":"VerificationResult","status":"validated","decision":"accept"}`,
		"empty array":       `{"resourceType":"VerificationResult","status":"validated","targetLocation":[]}`,
		"ext-1":             `{"resourceType":"VerificationResult","status":"validated","extension":[{"url":"x","valueCode":"a","extension":[{"url":"y","valueCode":"b"}]}]}`,
		"validator org":     `{"resourceType":"VerificationResult","status":"validated","validator":[{"identityCertificate":"x"}]}`,
		"validation-status": `{"resourceType":"VerificationResult","status":"validated","primarySource":[{"validationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/validation-status","code":"ok"}]}}]}`,
		"dateTime":          `{"resourceType":"VerificationResult","status":"validated","statusDate":"1 March 2026"}`,
		"bundle type":       `{"resourceType":"Bundle","type":"bag","entry":[{"resource":{"resourceType":"VerificationResult","status":"validated"}}]}`,
		"PHI":               `{"resourceType":"VerificationResult","status":"validated","target":[{"display":"` + fhirNPI + `"}]}`,
	}
	for name, doc := range bad {
		if p := checkR4([]byte(doc)); len(p) == 0 {
			t.Errorf("%s: no problem found in %s", name, doc)
		}
	}
	if p := checkR4([]byte(`{"resourceType":"VerificationResult","status":"validated"}`)); len(p) != 0 {
		t.Errorf("a minimal VerificationResult: %v", p)
	}
}

// R4 structure (hl7.org/fhir/R4/verificationresult.html, bundle.html,
// datatypes.html, extensibility.html): the elements each type has, the
// required ones, and the codes of the HL7 code systems the projection uses.
var (
	r4Elements = map[string][]string{
		"VerificationResult": {"resourceType", "id", "meta", "implicitRules", "language", "text", "contained", "extension",
			"modifierExtension", "target", "targetLocation", "need", "status", "statusDate", "validationType", "validationProcess",
			"frequency", "lastPerformed", "nextScheduled", "failureAction", "primarySource", "attestation", "validator"},
		"primarySource": {"id", "extension", "modifierExtension", "who", "type", "communicationMethod", "validationStatus",
			"validationDate", "canPushUpdates", "pushTypeAvailable"},
		"attestation": {"id", "extension", "modifierExtension", "who", "onBehalfOf", "communicationMethod", "date",
			"sourceIdentityCertificate", "proxyIdentityCertificate", "proxySignature", "sourceSignature"},
		"validator":       {"id", "extension", "modifierExtension", "organization", "identityCertificate", "attestationSignature"},
		"Bundle":          {"resourceType", "id", "meta", "implicitRules", "language", "identifier", "type", "timestamp", "total", "link", "entry", "signature"},
		"entry":           {"id", "extension", "modifierExtension", "link", "fullUrl", "resource", "search", "request", "response"},
		"CodeableConcept": {"id", "extension", "coding", "text"},
		"Coding":          {"id", "extension", "system", "version", "code", "display", "userSelected"},
		"Reference":       {"id", "extension", "reference", "type", "identifier", "display"},
		"Identifier":      {"id", "extension", "use", "type", "system", "value", "period", "assigner"},
		"Narrative":       {"id", "extension", "status", "div"},
	}
	r4Codes = map[string][]string{
		"http://terminology.hl7.org/CodeSystem/validation-type":                         {"nothing", "primary", "multiple"},
		"http://terminology.hl7.org/CodeSystem/validation-status":                       {"successful", "failed", "unknown"},
		"http://terminology.hl7.org/CodeSystem/can-push-updates":                        {"yes", "no", "undetermined"},
		"http://terminology.hl7.org/CodeSystem/push-type-available":                     {"specific", "any", "source"},
		"http://terminology.hl7.org/CodeSystem/failure-action":                          {"fatal", "warn", "rec-only", "none"},
		"http://terminology.hl7.org/CodeSystem/verificationresult-communication-method": {"manual", "portal", "pull", "push"},
		"http://terminology.hl7.org/CodeSystem/primary-source-type": {"lic-board", "prim", "cont-ed", "post-serv", "rel-own",
			"reg-auth", "legal", "issuer", "auth-source"},
	}
	// the code system each coded element takes its codes from
	r4Bindings = map[string]string{
		"validationType":      "http://terminology.hl7.org/CodeSystem/validation-type",
		"failureAction":       "http://terminology.hl7.org/CodeSystem/failure-action",
		"validationStatus":    "http://terminology.hl7.org/CodeSystem/validation-status",
		"canPushUpdates":      "http://terminology.hl7.org/CodeSystem/can-push-updates",
		"pushTypeAvailable":   "http://terminology.hl7.org/CodeSystem/push-type-available",
		"communicationMethod": "http://terminology.hl7.org/CodeSystem/verificationresult-communication-method",
		"type":                "http://terminology.hl7.org/CodeSystem/primary-source-type",
	}
	r4Status   = []string{"attested", "validated", "in-process", "req-revalid", "val-fail", "reval-fail"}
	r4DateTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

// checkR4 validates a VerificationResult or a Bundle of them against R4's
// structure, and that no personal data of the fixtures is in it.
func checkR4(doc []byte) []string {
	var v map[string]any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []string{err.Error()}
	}
	c := &r4Check{}
	for _, s := range fhirPHI {
		if bytes.Contains(doc, []byte(s)) {
			c.fail("", "personal data %q", s)
		}
	}
	c.noEmpty("", v)
	switch v["resourceType"] {
	case "VerificationResult":
		c.verificationResult("", v)
	case "Bundle":
		c.keys("", "Bundle", v)
		if v["type"] != "collection" {
			c.fail("/type", "%v, want collection", v["type"])
		}
		if ts, ok := v["timestamp"].(string); ok && !r4DateTime.MatchString(ts) {
			c.fail("/timestamp", "%q is not an instant", ts)
		}
		for i, e := range objects(v["entry"]) {
			c.keys(path("/entry", i), "entry", e)
			r, ok := e["resource"].(map[string]any)
			if !ok || r["resourceType"] != "VerificationResult" {
				c.fail(path("/entry", i), "no VerificationResult")
				continue
			}
			c.verificationResult(path("/entry", i)+"/resource", r)
		}
	default:
		c.fail("/resourceType", "%v", v["resourceType"])
	}
	return c.problems
}

type r4Check struct{ problems []string }

func (c *r4Check) fail(at, format string, args ...any) {
	c.problems = append(c.problems, at+": "+fmt.Sprintf(format, args...))
}

func (c *r4Check) keys(at, typ string, m map[string]any) {
	for k := range m {
		if !slices.Contains(r4Elements[typ], k) {
			c.fail(at, "%s has no element %q", typ, k)
		}
	}
}

// noEmpty: FHIR JSON has no nulls, empty strings, arrays or objects.
func (c *r4Check) noEmpty(at string, v any) {
	switch t := v.(type) {
	case nil:
		c.fail(at, "null")
	case string:
		if strings.TrimSpace(t) == "" {
			c.fail(at, "empty string")
		}
	case []any:
		if len(t) == 0 {
			c.fail(at, "empty array")
		}
		for i, e := range t {
			c.noEmpty(path(at, i), e)
		}
	case map[string]any:
		if len(t) == 0 {
			c.fail(at, "empty object")
		}
		for k, e := range t {
			c.noEmpty(at+"/"+k, e)
		}
	}
}

func (c *r4Check) verificationResult(at string, v map[string]any) {
	c.keys(at, "VerificationResult", v)
	if s, _ := v["status"].(string); !slices.Contains(r4Status, s) {
		c.fail(at+"/status", "%q is not in verificationresult-status (required, 1..1)", s)
	}
	for _, k := range []string{"statusDate", "lastPerformed"} {
		if s, ok := v[k].(string); ok && !r4DateTime.MatchString(s) {
			c.fail(at+"/"+k, "%q is not a dateTime", s)
		}
	}
	if t, ok := v["text"].(map[string]any); ok {
		c.keys(at+"/text", "Narrative", t)
		if div, _ := t["div"].(string); t["status"] != "generated" || !strings.HasPrefix(div, `<div xmlns="http://www.w3.org/1999/xhtml">`) {
			c.fail(at+"/text", "not a generated XHTML narrative")
		}
	}
	c.extensions(at+"/extension", v["extension"])
	for _, k := range []string{"validationType", "failureAction"} {
		c.concept(at+"/"+k, k, v[k])
	}
	for i, p := range objects(v["validationProcess"]) {
		c.concept(path(at+"/validationProcess", i), "validationProcess", p)
	}
	for i, r := range objects(v["target"]) {
		c.reference(path(at+"/target", i), r)
	}
	for i, ps := range objects(v["primarySource"]) {
		c.primarySource(path(at+"/primarySource", i), ps)
	}
	if a, ok := v["attestation"].(map[string]any); ok {
		c.keys(at+"/attestation", "attestation", a)
		c.concept(at+"/attestation/communicationMethod", "communicationMethod", a["communicationMethod"])
	}
	for i, val := range objects(v["validator"]) {
		p := path(at+"/validator", i)
		c.keys(p, "validator", val)
		org, ok := val["organization"].(map[string]any)
		if !ok {
			c.fail(p, "validator.organization is required (1..1)")
			continue
		}
		c.reference(p+"/organization", org)
	}
}

func (c *r4Check) primarySource(at string, ps map[string]any) {
	c.keys(at, "primarySource", ps)
	if who, ok := ps["who"].(map[string]any); ok {
		c.reference(at+"/who", who)
	}
	for _, k := range []string{"validationStatus", "canPushUpdates"} {
		c.concept(at+"/"+k, k, ps[k])
	}
	for _, k := range []string{"type", "communicationMethod", "pushTypeAvailable"} {
		for i, cc := range objects(ps[k]) {
			c.concept(path(at+"/"+k, i), k, cc)
		}
	}
	if s, ok := ps["validationDate"].(string); ok && !r4DateTime.MatchString(s) {
		c.fail(at+"/validationDate", "%q is not a dateTime", s)
	}
	if _, push := ps["pushTypeAvailable"]; push && codeAt(ps["canPushUpdates"]) != "yes" {
		c.fail(at, "pushTypeAvailable without canPushUpdates yes")
	}
}

// concept checks a CodeableConcept of element; one bound to an HL7 code
// system must use a code of it.
func (c *r4Check) concept(at, element string, v any) {
	if v == nil {
		return
	}
	cc, ok := v.(map[string]any)
	if !ok {
		c.fail(at, "not a CodeableConcept")
		return
	}
	c.keys(at, "CodeableConcept", cc)
	c.extensions(at+"/extension", cc["extension"])
	codings := objects(cc["coding"])
	if len(codings) == 0 {
		c.fail(at, "no coding")
	}
	for i, cd := range codings {
		c.keys(path(at+"/coding", i), "Coding", cd)
		sys, _ := cd["system"].(string)
		code, _ := cd["code"].(string)
		if want := r4Bindings[element]; want != "" && sys != want {
			c.fail(path(at+"/coding", i), "system %q, want %s", sys, want)
		}
		if codes, known := r4Codes[sys]; known && !slices.Contains(codes, code) {
			c.fail(path(at+"/coding", i), "%q is not a code of %s", code, sys)
		}
		if sys == "" || code == "" {
			c.fail(path(at+"/coding", i), "a coding without system or code")
		}
	}
}

func (c *r4Check) reference(at string, r map[string]any) {
	c.keys(at, "Reference", r)
	if r["reference"] == nil && r["identifier"] == nil && r["display"] == nil {
		c.fail(at, "an empty Reference")
	}
	if id, ok := r["identifier"].(map[string]any); ok {
		c.keys(at+"/identifier", "Identifier", id)
	}
}

// extensions: ext-1, an extension has a value or sub-extensions, not both.
func (c *r4Check) extensions(at string, v any) {
	for i, e := range objects(v) {
		p := path(at, i)
		if u, _ := e["url"].(string); u == "" {
			c.fail(p, "extension without url")
		}
		values := 0
		for k := range e {
			if strings.HasPrefix(k, "value") {
				values++
			}
		}
		_, sub := e["extension"]
		if values > 1 || (values == 1) == sub {
			c.fail(p, "ext-1: one value[x] or sub-extensions")
		}
		c.extensions(p+"/extension", e["extension"])
	}
}

func objects(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func codeAt(v any) string {
	m, _ := v.(map[string]any)
	cs := objects(m["coding"])
	if len(cs) == 0 {
		return ""
	}
	s, _ := cs[0]["code"].(string)
	return s
}

func path(at string, i int) string { return at + "/" + fmt.Sprintf("%d", i) }
