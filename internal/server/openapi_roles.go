package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
)

// Operations whose documented path is not the gin path with each :param or
// *param written {param}.
var (
	// The catch-all answers only .../{subject}/history (a subject may
	// contain "/"); anything else under it is 404.
	catchAllPaths = map[string]string{"/registry/subjects/*subject": "/registry/subjects/{subject}/history"}
	// hostedWebOperation is served by the not-found handler in the registry
	// role (hosted did:web documents at any depth), so gin lists no route.
	hostedWebOperation = "GET /{path}/did.json"
)

var ginParam = regexp.MustCompile(`[:*]([A-Za-z_][A-Za-z0-9_]*)`)

// openAPIPath is the documented path of a gin route path.
func openAPIPath(ginPath string) string {
	if p, ok := catchAllPaths[ginPath]; ok {
		return p
	}
	return ginParam.ReplaceAllString(ginPath, "{$1}")
}

// servedOperations are the operations ("GET /path/{param}") of routes, and
// the hosted did:web documents' when hostedWeb.
func servedOperations(routes []Route, hostedWeb bool) map[string]bool {
	ops := map[string]bool{}
	for _, r := range routes {
		ops[r.Method+" "+openAPIPath(r.Path)] = true
	}
	if hostedWeb {
		ops[hostedWebOperation] = true
	}
	return ops
}

// forOperations returns doc describing only the operations in served: the
// paths keep those operations (a path left with none is dropped), and tags
// and components keep what the kept operations use (components through
// their own references too; security schemes all stay). Members keep their
// order. A document whose every operation is served comes back unchanged.
func forOperations(doc []byte, served map[string]bool) ([]byte, error) {
	top, err := members(doc)
	if err != nil {
		return nil, err
	}
	var refs []string
	tags := map[string]bool{}
	all := true
	keepOps := func(path string, item []byte) ([]byte, error) {
		ops, err := members(item)
		if err != nil {
			return nil, err
		}
		kept := ops[:0]
		for _, op := range ops {
			if !served[strings.ToUpper(op.name)+" "+path] {
				all = false
				continue
			}
			var o struct{ Tags []string }
			if err := json.Unmarshal(op.value, &o); err != nil {
				return nil, err
			}
			for _, t := range o.Tags {
				tags[t] = true
			}
			if refs, err = appendRefs(refs, op.value); err != nil {
				return nil, err
			}
			kept = append(kept, op)
		}
		if len(kept) == 0 {
			return nil, nil
		}
		return object(kept), nil
	}
	for i, m := range top {
		if m.name != "paths" {
			continue
		}
		paths, err := members(m.value)
		if err != nil {
			return nil, err
		}
		kept := paths[:0]
		for _, p := range paths {
			if p.value, err = keepOps(p.name, p.value); err != nil {
				return nil, err
			} else if p.value != nil {
				kept = append(kept, p)
			}
		}
		top[i].value = object(kept)
	}
	if all {
		return doc, nil
	}
	for i, m := range top {
		switch m.name {
		case "components":
			if top[i].value, err = usedComponents(m.value, refs); err != nil {
				return nil, err
			}
		case "tags":
			var list []json.RawMessage
			if err := json.Unmarshal(m.value, &list); err != nil {
				return nil, err
			}
			list = slices.DeleteFunc(list, func(t json.RawMessage) bool {
				var tag struct{ Name string }
				return json.Unmarshal(t, &tag) != nil || !tags[tag.Name]
			})
			if top[i].value, err = json.Marshal(list); err != nil {
				return nil, err
			}
		}
	}
	return object(top), nil
}

// usedComponents returns the components object with the security schemes
// and the components refs reach (directly, or through other components);
// a kind left empty is dropped.
func usedComponents(raw []byte, refs []string) ([]byte, error) {
	kinds, err := members(raw)
	if err != nil {
		return nil, err
	}
	defs := map[string]json.RawMessage{} // "#/components/kind/name" → value
	for _, k := range kinds {
		ms, err := members(k.value)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			defs["#/components/"+k.name+"/"+m.name] = m.value
		}
	}
	used := map[string]bool{}
	for len(refs) > 0 {
		ref := refs[len(refs)-1]
		refs = refs[:len(refs)-1]
		if used[ref] {
			continue
		}
		v, ok := defs[ref]
		if !ok {
			return nil, errors.New("openapi.json: unresolvable reference " + ref)
		}
		used[ref] = true
		if refs, err = appendRefs(refs, v); err != nil {
			return nil, err
		}
	}
	kept := kinds[:0]
	for _, k := range kinds {
		ms, _ := members(k.value)
		ms = slices.DeleteFunc(ms, func(m member) bool {
			return k.name != "securitySchemes" && !used["#/components/"+k.name+"/"+m.name]
		})
		if len(ms) > 0 {
			kept = append(kept, member{k.name, object(ms)})
		}
	}
	return object(kept), nil
}

// appendRefs appends the "$ref" values found anywhere in raw.
func appendRefs(refs []string, raw []byte) ([]string, error) {
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				} else {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	walk(v)
	return refs, nil
}

// member is one member of a JSON object.
type member struct {
	name  string
	value json.RawMessage
}

// members returns a JSON object's members, in order.
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("openapi.json: not a JSON object")
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var m member
		m.name, _ = t.(string)
		if err := dec.Decode(&m.value); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// object encodes members as a JSON object, in order.
func object(ms []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}
