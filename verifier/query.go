package verifier

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/di"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/jose"
	"github.com/credence/credence/vc/sdjwt"
)

// Query is what a presentation request asks for: exactly one of a DCQL
// query (OpenID4VP 1.0 §6) or a DIF Presentation Exchange v2.0.0
// presentation definition, kept as the JSON the verifier sent.
//
// # DCQL
//
// Credential formats "ldp_vc" (Data Integrity and Ed25519Signature2020),
// "jwt_vc_json" (VC-JOSE and VC 1.1 JWT) and "dc+sd-jwt" (also "vc+sd-jwt");
// meta type_values (W3C) and vct_values (SD-JWT); claims with path and
// values; claim_sets; credential_sets with required. Claims paths of W3C
// formats start at the credential; those of SD-JWT at its claims (the
// disclosed claims plus iss, sub, vct, jti, nbf and exp). trusted_authorities
// and require_cryptographic_holder_binding are checked for syntax only:
// Credence decides trust with its registry and always requires holder
// binding. multiple is not enforced: every credential satisfying a query is
// reported.
//
// # Presentation Exchange
//
// input_descriptors with format and constraints.fields (path in the JSONPath
// subset of parseJSONPath, filter as JSON Schema, draft-07 unless the filter
// names another, optional); limit_disclosure is accepted (it instructs the
// wallet); submission_requirements with all and pick (count, min, max) over
// from groups and from_nested. The predicate, relational constraint
// (subject_is_issuer, is_holder, same_subject), credential status and
// JSON-LD framing features are refused.
type Query struct {
	DCQL                   json.RawMessage `json:"dcql_query,omitempty"`
	PresentationDefinition json.RawMessage `json:"presentation_definition,omitempty"`
}

// MaxQueryBytes bounds the JSON of a query.
const MaxQueryBytes = 64 << 10

// Candidate is one verified credential of a presentation, offered to a
// query.
type Candidate struct {
	// Index is the credential's position in the presentation.
	Index int
	// Format is the secure.Verified format ("eddsa-rdfc-2022",
	// "eddsa-jcs-2022", "Ed25519Signature2020", "vc+jwt", "jwt-vc-1.1",
	// "dc+sd-jwt").
	Format string
	// Credential is the verified credential (for SD-JWT, the disclosed
	// claims in the VC view secure.Verified gives).
	Credential vc.Credential
}

// Match says which candidates satisfy which parts of a query.
type Match struct {
	Satisfied bool `json:"satisfied"`
	// Items has one entry per DCQL credential query or PE input descriptor,
	// in query order.
	Items []MatchItem `json:"items"`
	// Missing lists the ids of required items no candidate satisfies.
	Missing []string `json:"missing"`
	// Unrequested lists the indexes of candidates no item asked for.
	Unrequested []int `json:"unrequested"`
}

// MatchItem is one credential query or input descriptor.
type MatchItem struct {
	ID string `json:"id"`
	// Required is true when the query cannot be satisfied without this item.
	Required bool `json:"required"`
	// Candidates lists the indexes of the candidates that satisfy it.
	Candidates []int `json:"candidates"`
}

// compiledQuery is a parsed, validated query.
type compiledQuery interface {
	match(cands []Candidate) Match
	// answer lists the items a wallet answers, or false when the query
	// cannot be satisfied.
	answer(m Match) ([]int, bool)
	// disclose lists the SD-JWT claims item asks of candidate c.
	disclose(item int, c Candidate) []string
}

// Validate parses the query and reports the first problem as an *InputError
// naming the field (wrapping ErrInvalidRequest).
func (q Query) Validate() error {
	_, err := q.compile()
	return err
}

// Match evaluates the query against the verified credentials of a
// presentation. It fails only when the query itself is invalid.
func (q Query) Match(cands []Candidate) (Match, error) {
	c, err := q.compile()
	if err != nil {
		return Match{}, err
	}
	return c.match(cands), nil
}

func (q Query) compile() (compiledQuery, error) {
	hasDCQL, hasPE := len(q.DCQL) > 0, len(q.PresentationDefinition) > 0
	switch {
	case hasDCQL == hasPE:
		return nil, inputErr("query", "give exactly one of dcql_query and presentation_definition")
	case hasDCQL:
		return compileJSON(q.DCQL, "dcql_query", compileDCQL)
	default:
		return compileJSON(q.PresentationDefinition, "presentation_definition", compilePEX)
	}
}

func compileJSON(raw []byte, field string, compile func(map[string]any) (compiledQuery, error)) (compiledQuery, error) {
	if len(raw) > MaxQueryBytes {
		return nil, inputErr(field, fmt.Sprintf("larger than %d bytes", MaxQueryBytes))
	}
	v, err := vc.DecodeValue(raw)
	if err != nil {
		return nil, inputErr(field, strings.TrimPrefix(err.Error(), vc.ErrMalformed.Error()+": "))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, inputErr(field, "must be a JSON object")
	}
	c, err := compile(obj)
	var ie *InputError
	if errors.As(err, &ie) {
		ie.Field = field + "." + ie.Field
	}
	return c, err
}

// finish lists the candidates no item asked for (requested[i] is false).
func finish(m Match, cands []Candidate, requested []bool) Match {
	if m.Missing == nil {
		m.Missing = []string{}
	}
	m.Unrequested = []int{}
	for i, c := range cands {
		if !requested[i] {
			m.Unrequested = append(m.Unrequested, c.Index)
		}
	}
	return m
}

// Credential formats of secure.Verified.
var (
	formatsLDP   = []string{string(di.EdDSARDFC2022), string(di.EdDSAJCS2022), string(di.Ed25519Signature2020)}
	formatsJWT   = []string{jose.FormatVC, jose.FormatVC11}
	formatsSDJWT = []string{sdjwt.TypeSDJWTVC}
)

func isSDJWT(format string) bool { return format == sdjwt.TypeSDJWTVC }

// claimsOf is what paths of a candidate start at. For a W3C credential it
// is the credential; for an SD-JWT VC the claims of the token as the issuer
// wrote them (vc/secure moved them into a VC view). In JSONPath mode a VC
// 1.1 JWT also offers the credential under "vc", as the JWT payload does.
func claimsOf(c Candidate, jsonPath bool) any {
	cred := map[string]any(c.Credential)
	switch {
	case isSDJWT(c.Format):
		return sdjwtClaims(c.Credential)
	case jsonPath && c.Format == jose.FormatVC11:
		if _, taken := cred["vc"]; !taken {
			view := make(map[string]any, len(cred)+1)
			for k, v := range cred {
				view[k] = v
			}
			view["vc"] = cred
			return view
		}
	}
	return cred
}

// sdjwtClaims rebuilds SD-JWT VC claims from the VC view of vc/secure:
// subject members at the top, sub, iss, jti, vct, and nbf/exp in seconds.
func sdjwtClaims(c vc.Credential) map[string]any {
	out := map[string]any{}
	for _, s := range c.Subjects() {
		for k, v := range s {
			if k == "id" {
				out["sub"] = v
				continue
			}
			out[k] = v
		}
	}
	if iss := c.Issuer(); iss != "" {
		out["iss"] = iss
	}
	if id := c.ID(); id != "" {
		out["jti"] = id
	}
	if vct := vctOfCredential(c); vct != "" {
		out["vct"] = vct
	}
	if t, ok := c.ValidFrom(); ok {
		out["nbf"] = json.Number(strconv.FormatInt(t.Unix(), 10))
	}
	if t, ok := c.ValidUntil(); ok {
		out["exp"] = json.Number(strconv.FormatInt(t.Unix(), 10))
	}
	return out
}

// vctOfCredential is the SD-JWT VC type vc/secure gives a credential type:
// the healthcare vocabulary IRI of a healthcare type, urn:credence:type:<name>
// otherwise (vc/secure sdjwt.go vctOf).
func vctOfCredential(c vc.Credential) string {
	for _, t := range c.Types() {
		if t == vc.TypeCredential {
			continue
		}
		if _, ok := healthcare.Lookup(t); ok {
			return healthcare.Vocab + t
		}
		return "urn:credence:type:" + t
	}
	return ""
}

// expandedTypes lists a credential's types both as written and as the IRIs
// the contexts Credence knows expand them to: the VC base types in the
// https://www.w3.org/2018/credentials# vocabulary and, when the credential
// uses the healthcare context, the healthcare types in its vocabulary.
func expandedTypes(c vc.Credential) map[string]bool {
	health := hasContext(c, healthcare.ContextURL)
	out := map[string]bool{}
	for _, t := range c.Types() {
		out[t] = true
		switch {
		case t == vc.TypeCredential || t == vc.TypeEnvelopedCredential:
			out["https://www.w3.org/2018/credentials#"+t] = true
		case health:
			if _, ok := healthcare.Lookup(t); ok {
				out[healthcare.Vocab+t] = true
			}
		}
	}
	return out
}

func hasContext(c vc.Credential, url string) bool {
	for _, x := range vc.Strings(c["@context"]) {
		if x == url {
			return true
		}
	}
	return false
}

// sameValue reports whether a claim value equals an expected value of the
// same JSON type: strings and booleans exactly, numbers numerically.
func sameValue(claim, want any) bool {
	switch w := want.(type) {
	case string, bool:
		return claim == w
	}
	a, ok1 := numberOf(claim)
	b, ok2 := numberOf(want)
	return ok1 && ok2 && a.Cmp(b) == 0
}

// numberOf reads a JSON number (json.Number as vc decodes them, or a Go
// number). big.Float keeps huge exponents cheap.
func numberOf(v any) (*big.Float, bool) {
	switch n := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
		return f, err == nil
	case float64:
		if math.IsNaN(n) {
			return nil, false
		}
		return new(big.Float).SetFloat64(n), true
	case int:
		return new(big.Float).SetInt64(int64(n)), true
	case int64:
		return new(big.Float).SetInt64(n), true
	}
	return nil, false
}

// Readers of decoded query JSON that name the field at fault.

func jObject(v any, field string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, inputErr(field, "must be an object")
	}
	return m, nil
}

func jArray(v any, field string, lo, hi int) ([]any, error) {
	a, ok := v.([]any)
	switch {
	case !ok:
		return nil, inputErr(field, "must be an array")
	case len(a) < lo:
		return nil, inputErr(field, fmt.Sprintf("must have at least %d elements", lo))
	case len(a) > hi:
		return nil, inputErr(field, fmt.Sprintf("must have at most %d elements", hi))
	}
	return a, nil
}

func jString(v any, field string, hi int) (string, error) {
	s, ok := v.(string)
	switch {
	case !ok:
		return "", inputErr(field, "must be a string")
	case s == "":
		return "", inputErr(field, "must not be empty")
	case len(s) > hi:
		return "", inputErr(field, fmt.Sprintf("must be at most %d bytes", hi))
	}
	return s, nil
}

func jStrings(v any, field string, lo, hi, each int) ([]string, error) {
	a, err := jArray(v, field, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(a))
	for i, x := range a {
		if out[i], err = jString(x, fmt.Sprintf("%s[%d]", field, i), each); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func jBool(v any, field string) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, inputErr(field, "must be a boolean")
	}
	return b, nil
}

// jInt reads an integer in [lo, hi] written without fraction or exponent.
func jInt(v any, field string, lo, hi int) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, inputErr(field, "must be an integer")
	}
	i, err := strconv.Atoi(string(n))
	if err != nil || i < lo || i > hi {
		return 0, inputErr(field, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
	}
	return i, nil
}

// checkIDs reports a repeated id.
func checkIDs(ids []string, field string) error {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if id == "" {
			continue
		}
		if seen[id] {
			return inputErr(fmt.Sprintf("%s[%d].id", field, i), fmt.Sprintf("id %q is repeated", id))
		}
		seen[id] = true
	}
	return nil
}
