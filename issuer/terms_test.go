package issuer

import (
	"errors"
	"testing"
)

func TestShapeOf(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"@context": []any{"a"}, "type": "T", "s": map[string]any{"n": "x", "l": []any{"1", "2"}}}
	}
	same := base()
	same["s"].(map[string]any)["n"] = "a different value"
	if shapeOf(base()) != shapeOf(same) {
		t.Error("values changed the shape")
	}
	for name, edit := range map[string]func(map[string]any){
		"added member":   func(m map[string]any) { m["s"].(map[string]any)["extra"] = "x" },
		"renamed member": func(m map[string]any) { s := m["s"].(map[string]any); s["m"] = s["n"]; delete(s, "n") },
		"type":           func(m map[string]any) { m["type"] = "U" },
		"context":        func(m map[string]any) { m["@context"] = []any{"b"} },
		"value kind":     func(m map[string]any) { m["s"].(map[string]any)["n"] = map[string]any{"type": "X"} },
		"array length":   func(m map[string]any) { m["s"].(map[string]any)["l"] = []any{"1"} },
	} {
		m := base()
		edit(m)
		if shapeOf(m) == shapeOf(base()) {
			t.Errorf("%s did not change the shape", name)
		}
	}
	c := newTermCache(2)
	calls := 0
	check := func(map[string]any) error { calls++; return nil }
	_ = c.check(base(), check)
	_ = c.check(same, check)
	if calls != 1 {
		t.Errorf("a shape seen before was checked again (%d checks)", calls)
	}
	bad := errors.New("undefined term")
	m := base()
	m["favorite"] = "x"
	if err := c.check(m, func(map[string]any) error { return bad }); err != bad {
		t.Errorf("a new shape was not checked: %v", err)
	}
	if err := c.check(m, func(map[string]any) error { return bad }); err != bad {
		t.Errorf("a failing shape was cached: %v", err)
	}
}
