package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credence/credence/registry"
	"github.com/gin-gonic/gin"
)

func TestErrorStatuses(t *testing.T) {
	gin.SetMode(gin.TestMode)
	readOnly := fmt.Errorf("issue: status list: %w: witness w1 holds a checkpoint of size 9", registry.ErrReadOnly)
	for _, tc := range []struct {
		name   string
		err    error
		status int
		typ    string
		leaks  string
	}{
		{"problem", NotFound("no such issuer"), http.StatusNotFound, ProblemBase + "not-found", ""},
		{"ledger read-only", readOnly, http.StatusServiceUnavailable, ProblemBase + "registry:read-only", "witness w1"},
		{"internal", errors.New("redis: connection refused at 10.0.0.7"), http.StatusInternalServerError, ProblemBase + "internal", "10.0.0.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logged strings.Builder
			log := slog.New(slog.NewTextHandler(&logged, nil))
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/x", nil)
			Error(c, log, tc.err)
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || p.Type != tc.typ || w.Header().Get("Content-Type") != MediaProblem {
				t.Errorf("status %d type %q content-type %q", w.Code, p.Type, w.Header().Get("Content-Type"))
			}
			if tc.leaks != "" {
				if strings.Contains(w.Body.String(), tc.leaks) {
					t.Errorf("the answer leaks the cause: %s", w.Body)
				}
				if !strings.Contains(logged.String(), tc.leaks) {
					t.Errorf("the cause is not logged: %s", logged.String())
				}
			}
		})
	}
}
