package httpx

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestBindStrict(t *testing.T) {
	type body struct {
		Name    string          `json:"name"`
		Options map[string]any  `json:"options"`
		Raw     json.RawMessage `json:"raw"`
	}
	cases := []struct {
		name, in string
		optional bool
		ok       bool
		detail   string
	}{
		{"object", `{"name":"a","options":{"n":1},"raw":{"x":[1,2]}}`, false, true, ""},
		{"whitespace first", " \n\t{\"name\":\"a\"}", false, true, ""},
		{"empty optional", "  ", true, true, ""},
		{"empty required", "", false, false, "not a JSON object"},
		{"array", `[{"name":"a"}]`, false, false, "not a JSON object"},
		{"string", `"x"`, false, false, "not a JSON object"},
		{"repeated top-level name", `{"name":"a","name":"b"}`, false, false, "not a JSON object"},
		{"repeated nested name", `{"raw":{"id":"a","id":"b"}}`, false, false, "not a JSON object"},
		{"invalid UTF-8", "{\"name\":\"\xff\"}", false, false, "not a JSON object"},
		{"unpaired surrogate", `{"name":"\ud800"}`, false, false, "not a JSON object"},
		{"trailing data", `{"name":"a"} {}`, false, false, "not a JSON object"},
		{"syntax", `{"name":}`, false, false, "not a JSON object"},
		{"unknown member", `{"name":"a","nmae":"b"}`, false, false, "unknown field"},
		{"wrong type", `{"name":1}`, false, false, "invalid request"},
	}
	gin.SetMode(gin.TestMode)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(w)
			ctx.Request = httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(c.in))
			var v body
			ok := BindStrict(ctx, slog.New(slog.DiscardHandler), &v, c.optional)
			if ok != c.ok {
				t.Fatalf("BindStrict = %v, want %v (%d %s)", ok, c.ok, w.Code, w.Body)
			}
			if ok {
				if w.Body.Len() != 0 {
					t.Errorf("answered %s on success", w.Body)
				}
				if n, _ := v.Options["n"].(json.Number); c.name == "object" && (v.Name != "a" || n != "1" || string(v.Raw) != `{"x":[1,2]}`) {
					t.Errorf("bound %+v", v)
				}
				return
			}
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), c.detail) {
				t.Errorf("answered %d %s, want 400 with %q", w.Code, w.Body, c.detail)
			}
		})
	}
}
