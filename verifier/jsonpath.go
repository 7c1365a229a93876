package verifier

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/credence/credence/vc"
)

// Paths into a credential. DCQL claims path pointers (OpenID4VP 1.0 §7)
// and the JSONPath subset Credence accepts in Presentation Exchange fields
// both compile to a list of steps: a member name, an array index, or every
// element.

// Bounds of one path.
const (
	maxPathSteps = 16
	maxPathBytes = 256
	maxPathIndex = 1 << 16
)

type stepKind uint8

const (
	stepKey   stepKind = iota // a member of an object
	stepIndex                 // an element of an array
	stepAll                   // every element (DCQL null, JSONPath [*] or .*)
)

type pathStep struct {
	kind  stepKind
	key   string
	index int
}

// selectPath applies steps to root and returns the selected values, or nil
// when nothing is selected. In DCQL mode (strict) a step that meets a value
// of the wrong kind selects nothing at all (§7.1: "abort processing and
// return an error"); in JSONPath mode such values are merely skipped, and a
// wildcard also selects the member values of objects.
func selectPath(root any, steps []pathStep, strict bool) []any {
	cur := []any{root}
	for _, s := range steps {
		var next []any
		for _, v := range cur {
			got, ok := s.apply(v, next, strict)
			if !ok {
				return nil
			}
			next = got
		}
		if len(next) == 0 {
			return nil
		}
		cur = next
	}
	return cur
}

// apply appends what s selects in v to out; ok is false when strict
// processing must abort.
func (s pathStep) apply(v any, out []any, strict bool) ([]any, bool) {
	obj, isObj := asObject(v)
	arr, isArr := v.([]any)
	switch {
	case s.kind == stepKey && isObj:
		if x, has := obj[s.key]; has {
			out = append(out, x)
		}
	case s.kind == stepIndex && isArr:
		if s.index < len(arr) {
			out = append(out, arr[s.index])
		}
	case s.kind == stepAll && isArr:
		out = append(out, arr...)
	case s.kind == stepAll && isObj && !strict:
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			out = append(out, obj[k])
		}
	default:
		return out, !strict
	}
	return out, true
}

func asObject(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case vc.Credential:
		return m, true
	}
	return nil, false
}

// parseJSONPath compiles the JSONPath subset of Presentation Exchange fields
// that Credence evaluates: the root $, then any number of .name, .*,
// ['name'] or ["name"], [n] and [*]. Recursive descent, filters, unions,
// slices and negative indexes are refused.
func parseJSONPath(p string) ([]pathStep, error) {
	if len(p) > maxPathBytes {
		return nil, fmt.Errorf("longer than %d bytes", maxPathBytes)
	}
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		return nil, fmt.Errorf("%q does not start with $", p)
	}
	var steps []pathStep
	for rest != "" {
		if len(steps) == maxPathSteps {
			return nil, fmt.Errorf("%q has more than %d steps", p, maxPathSteps)
		}
		var s pathStep
		var err error
		switch rest[0] {
		case '.':
			s, rest, err = dotStep(rest[1:])
		case '[':
			s, rest, err = bracketStep(rest[1:])
		default:
			err = fmt.Errorf("unexpected %q", rest[0])
		}
		if err != nil {
			return nil, fmt.Errorf("%q at offset %d: %w (Credence supports $.a, $['a'], $.a[0], $.a[*] and $.*)", p, len(p)-len(rest), err)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

func dotStep(s string) (pathStep, string, error) {
	if strings.HasPrefix(s, "*") {
		return pathStep{kind: stepAll}, s[1:], nil
	}
	n := 0
	for n < len(s) && isNameByte(s[n]) {
		n++
	}
	if n == 0 {
		return pathStep{}, s, fmt.Errorf("expected a member name after '.'")
	}
	return pathStep{kind: stepKey, key: s[:n]}, s[n:], nil
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '@' || c == '$' || c >= 0x80
}

func bracketStep(s string) (pathStep, string, error) {
	switch {
	case strings.HasPrefix(s, "*]"):
		return pathStep{kind: stepAll}, s[2:], nil
	case s != "" && (s[0] == '\'' || s[0] == '"'):
		name, rest, err := quotedName(s)
		if err != nil {
			return pathStep{}, s, err
		}
		if !strings.HasPrefix(rest, "]") {
			return pathStep{}, rest, fmt.Errorf("expected ']' after a quoted name")
		}
		return pathStep{kind: stepKey, key: name}, rest[1:], nil
	}
	end := strings.IndexByte(s, ']')
	if end < 1 {
		return pathStep{}, s, fmt.Errorf("expected an index, '*' or a quoted name in brackets")
	}
	i, err := pathIndex(s[:end])
	if err != nil {
		return pathStep{}, s, err
	}
	return pathStep{kind: stepIndex, index: i}, s[end+1:], nil
}

// quotedName reads a name quoted with ' or ", with backslash escaping the
// quote or a backslash.
func quotedName(s string) (string, string, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return b.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '\\':
			return "", s, fmt.Errorf("unsupported escape in a quoted name")
		default:
			b.WriteByte(c)
		}
	}
	return "", s, fmt.Errorf("unterminated quoted name")
}

func pathIndex(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("unsupported subscript [%s]", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("index %s has a leading zero", s)
	}
	i, err := strconv.Atoi(s)
	if err != nil || i > maxPathIndex {
		return 0, fmt.Errorf("index %s is larger than %d", s, maxPathIndex)
	}
	return i, nil
}
