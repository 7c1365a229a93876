package wallet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/verifier"
)

// Request is a presentation request as the wallet receives it: the
// request object of a Credence verifier (GET /verifier/requests/{id}/object),
// an OpenID4VP-style object (dcql_query or presentation_definition at the
// top, nonce, client_id), or a VC-API Verifiable Presentation Request
// (query of type QueryByExample or DIDAuthentication, challenge, domain).
// UnmarshalJSON reads all three.
type Request struct {
	ID          string         `json:"id,omitempty"`
	Verifier    string         `json:"verifier,omitempty"`
	Query       verifier.Query `json:"query"`
	Challenge   string         `json:"challenge"`
	Domain      string         `json:"domain"`
	Purpose     string         `json:"purpose,omitempty"`
	Expires     time.Time      `json:"expires,omitzero"`
	ResponseURI string         `json:"response_uri,omitempty"`
	// DIDAuth is a VC-API DIDAuthentication request: a presentation without
	// credentials proves control of the holder's DID.
	DIDAuth bool `json:"didAuth,omitempty"`
}

// UnmarshalJSON reads the request forms Request names.
func (r *Request) UnmarshalJSON(b []byte) error {
	var in struct {
		ID          string          `json:"id"`
		Verifier    string          `json:"verifier"`
		Query       json.RawMessage `json:"query"`
		DCQL        json.RawMessage `json:"dcql_query"`
		PD          json.RawMessage `json:"presentation_definition"`
		Challenge   string          `json:"challenge"`
		Nonce       string          `json:"nonce"`
		Domain      string          `json:"domain"`
		ClientID    string          `json:"client_id"`
		Purpose     string          `json:"purpose"`
		Expires     time.Time       `json:"expires"`
		ResponseURI string          `json:"response_uri"`
		DIDAuth     bool            `json:"didAuth"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*r = Request{ID: in.ID, Verifier: in.Verifier, Challenge: in.Challenge, Domain: in.Domain, Purpose: in.Purpose,
		Expires: in.Expires, ResponseURI: in.ResponseURI, DIDAuth: in.DIDAuth,
		Query: verifier.Query{DCQL: in.DCQL, PresentationDefinition: in.PD}}
	if r.Challenge == "" {
		r.Challenge = in.Nonce
	}
	if r.Domain == "" {
		r.Domain = in.ClientID
	}
	q := bytes.TrimSpace(in.Query)
	switch {
	case len(q) == 0 || string(q) == "null":
	case isVPR(q):
		query, didAuth, err := fromVPR(q)
		if err != nil {
			return err
		}
		r.Query, r.DIDAuth = query, r.DIDAuth || didAuth
	default:
		if err := json.Unmarshal(q, &r.Query); err != nil {
			return fmt.Errorf("query: %w", err)
		}
	}
	return nil
}

// isVPR tells the query of a Verifiable Presentation Request (an array of
// queries, or one query object with a type) from a Credence query object
// (dcql_query or presentation_definition) by its top-level members.
func isVPR(q []byte) bool {
	if q[0] == '[' {
		return true
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(q, &top) != nil {
		return false
	}
	_, typed := top["type"]
	_, dcql := top["dcql_query"]
	_, pd := top["presentation_definition"]
	return typed && !dcql && !pd
}

// fromVPR translates the queries of a Verifiable Presentation Request
// (w3c-ccg/vp-request-spec) into a Presentation Exchange definition:
// QueryByExample's credentialQuery (one or several) becomes an input
// descriptor per example, whose type and credentialSubject members become
// fields (a string value must be equal; an object or empty value only
// present); DIDAuthentication asks for no credential.
func fromVPR(raw []byte) (verifier.Query, bool, error) {
	var queries []map[string]any
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &queries); err != nil {
			return verifier.Query{}, false, fmt.Errorf("query: %w", err)
		}
	} else {
		var one map[string]any
		if err := json.Unmarshal(raw, &one); err != nil {
			return verifier.Query{}, false, fmt.Errorf("query: %w", err)
		}
		queries = []map[string]any{one}
	}
	didAuth := false
	var descs []any
	for i, q := range queries {
		switch q["type"] {
		case "DIDAuthentication", "DIDAuth":
			didAuth = true
		case "QueryByExample":
			var cqs []any
			switch cq := q["credentialQuery"].(type) {
			case []any:
				cqs = cq
			case map[string]any:
				cqs = []any{cq}
			default:
				return verifier.Query{}, false, fmt.Errorf("query[%d].credentialQuery must be an object or an array", i)
			}
			for j, x := range cqs {
				cq, _ := x.(map[string]any)
				ex, ok := cq["example"].(map[string]any)
				if !ok {
					return verifier.Query{}, false, fmt.Errorf("query[%d].credentialQuery[%d].example must be an object", i, j)
				}
				descs = append(descs, exampleDescriptor(fmt.Sprintf("q%d-%d", i, j), ex))
			}
		default:
			return verifier.Query{}, false, fmt.Errorf("query[%d]: type %v is not supported (QueryByExample, DIDAuthentication)", i, q["type"])
		}
	}
	if len(descs) == 0 {
		return verifier.Query{}, didAuth, nil
	}
	pd, err := json.Marshal(map[string]any{"id": "vpr", "input_descriptors": descs})
	return verifier.Query{PresentationDefinition: pd}, didAuth, err
}

func exampleDescriptor(id string, ex map[string]any) map[string]any {
	fields := []any{} // an example of any credential has no field
	for _, t := range vc.Strings(ex["type"]) {
		if t != vc.TypeCredential {
			fields = append(fields, map[string]any{"path": []string{"$.type", "$.vc.type"},
				"filter": map[string]any{"type": "array", "contains": map[string]any{"const": t}}})
		}
	}
	subject, _ := ex["credentialSubject"].(map[string]any)
	for _, k := range sortedKeys(subject) {
		name := quotedName.Replace(k)
		f := map[string]any{"path": []string{"$.credentialSubject['" + name + "']", "$['" + name + "']"}}
		if s, ok := subject[k].(string); ok && s != "" {
			f["filter"] = map[string]any{"type": "string", "const": s}
		}
		fields = append(fields, f)
	}
	if iss := vc.Credential(ex).Issuer(); iss != "" {
		fields = append(fields, map[string]any{"path": []string{"$.issuer", "$.issuer.id", "$.iss"},
			"filter": map[string]any{"type": "string", "const": iss}})
	}
	return map[string]any{"id": id, "constraints": map[string]any{"fields": fields}}
}

// quotedName escapes a member name for a quoted JSONPath name.
var quotedName = strings.NewReplacer(`\`, `\\`, `'`, `\'`)

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
