package httpx

import "testing"

func TestAcceptQ(t *testing.T) {
	v1Only := func(p map[string]string) (int, bool) { return 4, p["version"] == "1" }
	for _, tt := range []struct {
		accept, mediaType string
		exact             func(map[string]string) (int, bool)
		q                 float64
		spec              int
	}{
		{"", "application/json", nil, 0, 0},
		{"text/html", "application/json", nil, 0, 0},
		{"application/json", "application/json", nil, 1, 3},
		{"application/json;q=0.4", "application/json", nil, 0.4, 3},
		{"application/*;q=0.3", "application/json", nil, 0.3, 2},
		{"*/*;q=0.2", "application/json", nil, 0.2, 1},
		// the most specific range decides, even with a lower q
		{"*/*, application/json;q=0.1", "application/json", nil, 0.1, 3},
		{"application/json;q=0, */*", "application/json", nil, 0, 3},
		// ranges that do not parse and q out of range are ignored
		{"application/json;q=bad, */*;q=0.5", "application/json", nil, 0.5, 1},
		{"application/json;q=2, application/*;q=0.6", "application/json", nil, 0.6, 2},
		{"@@@, application/json;q=0.7", "application/json", nil, 0.7, 3},
		// exact decides about parameters of the type's own range
		{"application/x;version=2, application/*;q=0.5", "application/x", v1Only, 0.5, 2},
		{"application/x;version=1;q=0.9", "application/x", v1Only, 0.9, 4},
	} {
		q, spec := AcceptQ(tt.accept, tt.mediaType, tt.exact)
		if q != tt.q || spec != tt.spec {
			t.Errorf("AcceptQ(%q, %s) = %v, %d; want %v, %d", tt.accept, tt.mediaType, q, spec, tt.q, tt.spec)
		}
	}
}
