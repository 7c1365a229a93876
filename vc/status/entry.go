package status

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/credence/credence/vc"
)

// Status purposes the specification defines; others are allowed.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
	PurposeRefresh    = "refresh"
	PurposeMessage    = "message"
)

// Types of the specification.
const (
	TypeEntry          = "BitstringStatusListEntry"
	TypeListCredential = "BitstringStatusListCredential"
	TypeList           = "BitstringStatusList"
)

// Entry is a BitstringStatusListEntry, one credentialStatus member.
type Entry struct {
	// ID is the entry's optional id (a URL, not the list credential's).
	ID string
	// Purpose is statusPurpose.
	Purpose string
	// Index is statusListIndex.
	Index int
	// ListCredential is statusListCredential, the list credential's URL.
	ListCredential string
	// Size is statusSize, the bits per entry; 0 means absent (1).
	Size int
	// Messages is statusMessage, one per status value, optional for size 1.
	Messages []Message
	// References is statusReference: URLs documenting the statuses.
	References []string
}

// Message is one statusMessage member: the meaning of a status value.
// Additional members of the JSON object are not kept.
type Message struct {
	Status  uint64 // written "0x" and lower-case hex
	Message string
}

// StatusSize is the entry's statusSize, 1 when absent.
func (e Entry) StatusSize() int {
	if e.Size == 0 {
		return 1
	}
	return e.Size
}

// Object is the entry as its credentialStatus JSON object. statusSize is
// written when Size > 1, statusMessage when Messages is set, statusReference
// (a string for one, else an array) when References is set.
func (e Entry) Object() map[string]any {
	m := map[string]any{
		"type":                 TypeEntry,
		"statusPurpose":        e.Purpose,
		"statusListIndex":      strconv.Itoa(e.Index),
		"statusListCredential": e.ListCredential,
	}
	if e.ID != "" {
		m["id"] = e.ID
	}
	if e.Size > 1 {
		m["statusSize"] = e.Size
	}
	if len(e.Messages) > 0 {
		msgs := make([]any, len(e.Messages))
		for i, msg := range e.Messages {
			msgs[i] = map[string]any{"status": "0x" + strconv.FormatUint(msg.Status, 16), "message": msg.Message}
		}
		m["statusMessage"] = msgs
	}
	switch len(e.References) {
	case 0:
	case 1:
		m["statusReference"] = e.References[0]
	default:
		refs := make([]any, len(e.References))
		for i, r := range e.References {
			refs[i] = r
		}
		m["statusReference"] = refs
	}
	return m
}

// Validate checks the entry against the rules Entries applies, so an issuer
// can check what it is about to sign. Field names are relative to the entry
// ("/statusListIndex").
func (e Entry) Validate() error {
	var p problems
	parseEntry(&p, "", e.Object())
	return p.err()
}

// Entries returns the BitstringStatusListEntry members of the credential's
// credentialStatus (an object or an array of objects), in order. Members of
// other types are skipped (OtherStatus returns them). Every problem of every
// entry is reported at once in a *vc.InvalidError (wrapping vc.ErrMalformed)
// whose fields are JSON Pointers such as /credentialStatus/1/statusListIndex.
// A credential without credentialStatus has no entries and no error.
func Entries(c vc.Credential) ([]Entry, error) {
	var p problems
	var out []Entry
	for _, it := range statusObjects(&p, c["credentialStatus"]) {
		if isEntry(it.m) {
			out = append(out, parseEntry(&p, it.field, it.m))
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// OtherStatus returns the credentialStatus objects whose type is not
// BitstringStatusListEntry, for a verifier to decide about status mechanisms
// it does not know (Credence's verifier fails closed on them).
func OtherStatus(c vc.Credential) []map[string]any {
	var out []map[string]any
	for _, m := range vc.Objects(c["credentialStatus"]) {
		if !isEntry(m) {
			out = append(out, m)
		}
	}
	return out
}

type statusObject struct {
	field string
	m     map[string]any
}

func statusObjects(p *problems, v any) []statusObject {
	const field = "/credentialStatus"
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		return []statusObject{{field, t}}
	case []any:
		out := make([]statusObject, 0, len(t))
		for i, e := range t {
			f := fmt.Sprintf("%s/%d", field, i)
			if m, ok := e.(map[string]any); ok {
				out = append(out, statusObject{f, m})
			} else {
				p.add(f, "must be an object")
			}
		}
		return out
	}
	p.add(field, "must be an object or an array of objects")
	return nil
}

func isEntry(m map[string]any) bool { return hasString(m["type"], TypeEntry) }

func hasString(v any, want string) bool {
	switch t := v.(type) {
	case string:
		return t == want
	case []any:
		for _, e := range t {
			if e == want {
				return true
			}
		}
	case []string:
		for _, e := range t {
			if e == want {
				return true
			}
		}
	}
	return false
}

// parseEntry reads and checks one entry object found at field.
func parseEntry(p *problems, field string, m map[string]any) Entry {
	var e Entry
	if !isEntry(m) {
		p.add(field+"/type", "must be %s", TypeEntry)
	}
	if v, ok := m["id"]; ok {
		e.ID, _ = v.(string)
		if !vc.IsURL(e.ID) {
			p.add(field+"/id", "must be a URL")
		}
	}
	switch v, ok := m["statusPurpose"]; {
	case !ok:
		p.add(field+"/statusPurpose", "is required")
	default:
		if e.Purpose, _ = v.(string); e.Purpose == "" {
			p.add(field+"/statusPurpose", "must be a non-empty string")
		}
	}
	switch v, ok := m["statusListIndex"]; {
	case !ok:
		p.add(field+"/statusListIndex", "is required")
	default:
		var err error
		if e.Index, err = parseIndex(v); err != nil {
			p.add(field+"/statusListIndex", "%v", err)
		}
	}
	switch v, ok := m["statusListCredential"]; {
	case !ok:
		p.add(field+"/statusListCredential", "is required")
	default:
		if e.ListCredential, _ = v.(string); !vc.IsURL(e.ListCredential) {
			p.add(field+"/statusListCredential", "must be a URL")
		} else if e.ID == e.ListCredential {
			p.add(field+"/id", "must not be the statusListCredential URL")
		}
	}
	if v, ok := m["statusSize"]; ok {
		n, isInt := integer(v)
		switch {
		case !isInt || n < 1:
			p.add(field+"/statusSize", "must be an integer greater than zero")
		case n > MaxStatusSize:
			p.add(field+"/statusSize", "statusSize above %d is not supported", MaxStatusSize)
		default:
			e.Size = int(n)
		}
	}
	if v, ok := m["statusMessage"]; ok {
		e.Messages = parseMessages(p, field+"/statusMessage", v, e.StatusSize(), e.Size != 0 || m["statusSize"] == nil)
	} else if e.Size > 1 {
		p.add(field+"/statusMessage", "is required when statusSize is greater than 1")
	}
	if v, ok := m["statusReference"]; ok {
		e.References = parseReferences(p, field+"/statusReference", v)
	}
	return e
}

// parseIndex reads statusListIndex: a string of a base-10 integer >= 0 in
// canonical form (no sign, no leading zero), as the W3C test suite checks.
func parseIndex(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("must be a string of a base-10 integer (got %s)", jsonKind(v))
	}
	if s == "" || (s[0] == '0' && len(s) > 1) || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a base-10 integer >= 0 in canonical form", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is beyond the supported range", s)
	}
	return n, nil
}

// parseMessages reads statusMessage. check is false when statusSize itself
// was invalid (its length cannot be judged then).
func parseMessages(p *problems, field string, v any, size int, check bool) []Message {
	arr, ok := v.([]any)
	if !ok {
		p.add(field, "must be an array")
		return nil
	}
	if want := 1 << size; check && len(arr) != want {
		p.add(field, "must have %d members for a statusSize of %d, has %d", want, size, len(arr))
	}
	out := make([]Message, 0, len(arr))
	seen := make(map[uint64]bool, len(arr))
	for i, el := range arr {
		f := fmt.Sprintf("%s/%d", field, i)
		obj, ok := el.(map[string]any)
		if !ok {
			p.add(f, "must be an object")
			continue
		}
		var msg Message
		st, _ := obj["status"].(string)
		hex, hasPrefix := strings.CutPrefix(st, "0x")
		n, err := strconv.ParseUint(hex, 16, 64)
		switch {
		case !hasPrefix || hex == "" || err != nil:
			p.add(f+"/status", "must be a hexadecimal string prefixed with 0x")
		case check && n>>size != 0:
			p.add(f+"/status", "%s does not fit in a statusSize of %d", st, size)
		case seen[n]:
			p.add(f+"/status", "%s is listed twice", st)
		default:
			seen[n] = true
			msg.Status = n
		}
		if msg.Message, ok = obj["message"].(string); !ok {
			p.add(f+"/message", "must be a string")
		}
		out = append(out, msg)
	}
	return out
}

func parseReferences(p *problems, field string, v any) []string {
	switch t := v.(type) {
	case string:
		if !vc.IsURL(t) {
			p.add(field, "must be a URL or an array of URLs")
		}
		return []string{t}
	case []any:
		if len(t) == 0 {
			p.add(field, "must be a URL or a non-empty array of URLs")
		}
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, _ := e.(string)
			if !vc.IsURL(s) {
				p.add(fmt.Sprintf("%s/%d", field, i), "must be a URL")
			}
			out = append(out, s)
		}
		return out
	}
	p.add(field, "must be a URL or an array of URLs")
	return nil
}

// integer reads a JSON integer as DecodeObject (json.Number), encoding/json
// (float64) or Go code (int) leaves it.
func integer(v any) (int64, bool) {
	switch t := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(t), 10, 64)
		if err != nil {
			f, ferr := t.Float64()
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
				return 0, false
			}
			return int64(f), true
		}
		return n, true
	case float64:
		if t != math.Trunc(t) || math.Abs(t) >= 1<<63 {
			return 0, false
		}
		return int64(t), true
	case int:
		return int64(t), true
	case int64:
		return t, true
	case int32:
		return int64(t), true
	}
	return 0, false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64, int32:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
