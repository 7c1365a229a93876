package vc

import (
	"fmt"
	"strings"
)

// Presentation is a verifiable presentation as its decoded JSON object.
type Presentation map[string]any

// ParsePresentation decodes (strictly) and validates a presentation.
func ParsePresentation(b []byte) (Presentation, error) {
	m, err := DecodeObject(b)
	if err != nil {
		return nil, err
	}
	vp := Presentation(m)
	if err := vp.Validate(); err != nil {
		return nil, err
	}
	return vp, nil
}

// Version reports the data model version from the first @context entry.
func (vp Presentation) Version() Version { return version(vp["@context"]) }

// Holder is the holder's id, or "".
func (vp Presentation) Holder() string { return idOf(vp["holder"]) }

// Credentials lists the verifiableCredential members: embedded credentials
// (objects) and, for VC 1.1 presentations, JWT strings.
func (vp Presentation) Credentials() []any {
	switch t := vp["verifiableCredential"].(type) {
	case nil:
		return nil
	case []any:
		return t
	default:
		return []any{t}
	}
}

// Proofs lists the embedded proofs.
func (vp Presentation) Proofs() []map[string]any { return Objects(vp["proof"]) }

// Validate checks the presentation rules of the data model (VC 2.0 §4.13):
// contexts, type, id and holder as URLs, and each embedded credential as a
// credential (or an enveloped credential) in its own right.
func (vp Presentation) Validate() error {
	var p problems
	checkContext(&p, vp["@context"])
	checkTypes(&p, "/type", vp["type"], TypePresentation)
	checkOptionalURL(&p, "/id", vp, "id")
	switch h := vp["holder"].(type) {
	case nil:
	case string:
		if !IsURL(h) {
			p.add("/holder", "must be a URL")
		}
	case map[string]any:
		if s, ok := h["id"].(string); !ok || !IsURL(s) {
			p.add("/holder/id", "a holder object must have an id that is a URL")
		}
	default:
		p.add("/holder", "must be a URL or an object with an id")
	}
	_, isArray := vp["verifiableCredential"].([]any)
	for i, e := range vp.Credentials() {
		field := "/verifiableCredential"
		if isArray {
			field = fmt.Sprintf("%s/%d", field, i)
		}
		checkEmbedded(&p, field, e, vp.Version())
	}
	checkTyped(&p, "/proof", vp["proof"], false)
	return p.err()
}

func checkEmbedded(p *problems, field string, e any, v Version) {
	switch t := e.(type) {
	case string:
		if v != V1 || strings.Count(t, ".") != 2 {
			p.add(field, "a credential in a VC 2.0 presentation must be an object")
		}
	case map[string]any:
		if hasString(t["type"], TypeEnvelopedCredential) {
			if err := ValidateEnveloped(t, TypeEnvelopedCredential); err != nil {
				p.add(field, "%v", err)
			}
			return
		}
		if err := Credential(t).Validate(); err != nil {
			if inv, ok := err.(*InvalidError); ok {
				for _, f := range inv.Fields {
					p.add(field+f.Field, "%s", f.Detail)
				}
			}
		}
	default:
		p.add(field, "must be a credential object")
	}
}

// ValidateEnveloped checks an enveloped credential or presentation (VC 2.0
// §4.13.1): the v2 context, the enveloped type and a data: URL id.
func ValidateEnveloped(m map[string]any, typ string) error {
	if version(m["@context"]) != V2 {
		return fmt.Errorf("%w: an enveloped object needs the %s context", ErrMalformed, ContextV2)
	}
	if !hasString(m["type"], typ) {
		return fmt.Errorf("%w: type must be %s", ErrMalformed, typ)
	}
	id, _ := m["id"].(string)
	if !strings.HasPrefix(id, "data:") {
		return fmt.Errorf("%w: an enveloped object's id must be a data: URL", ErrMalformed)
	}
	return nil
}
