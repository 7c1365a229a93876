package httpx

import (
	"encoding/json"
	"errors"
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

// oneMember reads {"vc": <anything>, "options": {"n": <string>}} strictly.
type oneMember struct {
	VC      []byte
	Options struct{ N string }
}

func (m *oneMember) UnmarshalStrict(raw []byte) error {
	return DecodeMembers(raw, func(name string, v []byte) error {
		switch name {
		case "vc":
			m.VC = v
			return nil
		case "options":
			return UnmarshalMember(name, v, &m.Options)
		}
		return errors.New("unknown field " + name)
	})
}

func TestBindStrictOnePass(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"object", `{"vc":{"a":[1,{"b":"c"}]},"options":{"n":"x"}}`, true},
		{"string member", ` {"vc":"eyJ.x.y"} `, true},
		{"repeated member", `{"vc":1,"vc":2}`, false},
		{"repeated name inside the credential", `{"vc":{"id":"a","id":"b"}}`, false},
		{"unknown member", `{"vc":1,"other":2}`, false},
		{"unknown option", `{"vc":1,"options":{"m":"x"}}`, false},
		{"trailing data", `{"vc":1}{}`, false},
		{"array", `[{"vc":1}]`, false},
		{"invalid UTF-8 inside", "{\"vc\":{\"a\":\"\xff\"}}", false},
		{"truncated", `{"vc":{"a":1}`, false},
	}
	gin.SetMode(gin.TestMode)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			ctx, _ := gin.CreateTestContext(w)
			ctx.Request = httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(c.in))
			var v oneMember
			if ok := BindStrict(ctx, slog.New(slog.DiscardHandler), &v, false); ok != c.ok {
				t.Fatalf("BindStrict = %v, want %v (%d %s)", ok, c.ok, w.Code, w.Body)
			}
			if !c.ok && w.Code != http.StatusBadRequest {
				t.Errorf("answered %d", w.Code)
			}
			if c.name == "object" && (string(v.VC) != `{"a":[1,{"b":"c"}]}` || v.Options.N != "x") {
				t.Errorf("bound %s %+v", v.VC, v.Options)
			}
			if c.name == "string member" && string(v.VC) != `"eyJ.x.y"` {
				t.Errorf("bound %s", v.VC)
			}
		})
	}
}

// TestReadBody: a body is read whole whether or not it states its length;
// one shorter than it states, or over the server's limit, is an error.
func TestReadBody(t *testing.T) {
	const body = `{"vc":"eyJ.x.y"}`
	cases := []struct {
		name   string
		length int64
		limit  int64
		want   string
		err    bool
	}{
		{"stated length", int64(len(body)), 0, body, false},
		{"unknown length", -1, 0, body, false},
		{"shorter than stated", int64(len(body)) + 5, 0, "", true},
		{"over the limit", int64(len(body)), 8, "", true},
		{"over the limit, unknown length", -1, 8, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body))
			r.ContentLength = c.length
			if c.limit > 0 {
				r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, c.limit)
			}
			got, err := readBody(r)
			if (err != nil) != c.err || (!c.err && string(got) != c.want) {
				t.Fatalf("readBody = %q, %v; want %q (error: %v)", got, err, c.want, c.err)
			}
		})
	}
}
