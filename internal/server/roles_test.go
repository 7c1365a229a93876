package server

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/testredis"
)

// redisRoleConfig is a test configuration on Redis (the shared prefix and
// master key of a multi-process deployment) serving roles.
func redisRoleConfig(t *testing.T, prefix, master, roles string) config.Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
	cfg.RedisPrefix, cfg.MasterKey, cfg.Roles = prefix, master, roles
	return cfg
}

func newMasterKey() string {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// samplePath fills a route template's parameters and wildcards.
func samplePath(template string) string {
	segs := strings.Split(template, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "x1"
		}
	}
	return strings.Join(segs, "/")
}

// noSuchEndpoint reports whether an answer is the server's 404 for a path
// without a route.
func noSuchEndpoint(resp *http.Response, body []byte) bool {
	var p struct{ Type, Detail string }
	return resp.StatusCode == http.StatusNotFound && resp.Header.Get("Content-Type") == "application/problem+json" &&
		json.Unmarshal(body, &p) == nil && p.Type == "urn:credence:problem:not-found" && p.Detail == "no such endpoint"
}

func routeKeys(rs []Route) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Role + " " + r.Method + " " + r.Path
	}
	slices.Sort(out)
	return out
}

// allRoutes is the route table of a server with every role, by role ("":
// every role's).
func allRoutes(t *testing.T) ([]Route, map[string][]Route) {
	t.Helper()
	s, _ := newServer(t, witnessingConfig(t))
	table := s.Routes()
	by := map[string][]Route{}
	for _, r := range table {
		by[r.Role] = append(by[r.Role], r)
	}
	return table, by
}

func TestRolesRouteTable(t *testing.T) {
	table, by := allRoutes(t)
	owner := map[string]string{}
	for _, r := range table {
		if r.Role != "" && !slices.Contains(config.AllRoles(), r.Role) {
			t.Errorf("%s %s has role %q", r.Method, r.Path, r.Role)
		}
		owner[r.Method+" "+r.Path] = r.Role
	}
	for _, role := range config.AllRoles() {
		if len(by[role]) == 0 {
			t.Errorf("role %s has no routes", role)
		}
	}
	for route, want := range map[string]string{
		"GET /healthz": "", "GET /readyz": "", "GET /metrics": "", "GET /.well-known/did.json": "",
		"POST /admin/issuers": "issuer", "POST /issuers/:issuer/credentials/issue": "issuer", "POST /issuers/:issuer/credentials/status": "issuer",
		"GET /.well-known/openid-credential-issuer/issuers/:issuer": "issuer", "GET /schemas/*path": "issuer",
		"POST /credentials/verify": "verifier", "POST /presentations/verify": "verifier", "POST /verifier/requests": "verifier",
		"POST /challenges": "verifier", "POST /admin/verifiers": "verifier", "GET /admin/audit/:chain": "verifier", "POST /verifier/watches": "verifier",
		"GET /1.0/identifiers/*did": "registry", "POST /admin/dids": "registry", "GET /status/:issuer/:list": "registry",
		"POST /registry/ops": "registry", "GET /registry/checkpoint": "registry", "GET /trust/accreditations": "registry", "POST /admin/accreditations": "registry",
		"POST /wallet/holders": "wallet", "POST /wallet/holders/:holder/presentations": "wallet",
	} {
		if got, ok := owner[route]; !ok || got != want {
			t.Errorf("%s: role %q (mounted %v), want %q", route, got, ok, want)
		}
	}
}

// TestRolesServeOnlyTheirRoutes starts one server per role on one Redis
// and calls every route of every role on each: a server answers its own
// routes and the common ones, and the 404 problem for the others.
func TestRolesServeOnlyTheirRoutes(t *testing.T) {
	table, by := allRoutes(t)
	prefix, master := testredis.Prefix(t), newMasterKey()
	for _, role := range config.AllRoles() {
		t.Run(role, func(t *testing.T) {
			cfg := redisRoleConfig(t, prefix, master, role)
			cfg.WitnessLogs = otherLogKey(t)
			s, ts := newServer(t, cfg)
			if got, want := routeKeys(s.Routes()), routeKeys(append(slices.Clone(by[""]), by[role]...)); !slices.Equal(got, want) {
				t.Errorf("routes of a %s server:\n%s\nwant:\n%s", role, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, r := range table {
				resp, body := do(t, r.Method, ts.URL+samplePath(r.Path), "", "")
				served := r.Role == "" || r.Role == role
				switch {
				case served && noSuchEndpoint(resp, body):
					t.Errorf("%s %s (%s) is not served: %d %s", r.Method, r.Path, r.Role, resp.StatusCode, body)
				case served && resp.StatusCode >= 500:
					t.Errorf("%s %s: %d %s", r.Method, r.Path, resp.StatusCode, body)
				case !served && !noSuchEndpoint(resp, body):
					t.Errorf("%s %s of the %s role answered %d %s", r.Method, r.Path, r.Role, resp.StatusCode, body)
				}
			}
			// Its API description is of what it serves.
			if resp, body := do(t, "GET", ts.URL+"/openapi.json", "", ""); resp.StatusCode != http.StatusOK {
				t.Errorf("GET /openapi.json: %d %s", resp.StatusCode, body)
			} else if got, want := operationKeys(t, body), slices.Sorted(maps.Keys(servedOperations(s.Routes(), role == config.RoleRegistry))); !slices.Equal(got, want) {
				t.Errorf("the %s server's openapi.json describes\n%s\nwant\n%s", role, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Hosted did:web documents are the registry's.
			resp, body := do(t, "GET", ts.URL+"/boards/tx/did.json", "", "")
			if got, want := noSuchEndpoint(resp, body), role != config.RoleRegistry; got != want || resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /boards/tx/did.json: %d %s", resp.StatusCode, body)
			}
		})
	}
}

func TestRolesNeedRedis(t *testing.T) {
	cfg := testConfig(t)
	cfg.Roles = "verifier"
	if _, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "needs --redis") {
		t.Errorf("a verifier alone on the embedded store: %v", err)
	}
	cfg = redisRoleConfig(t, testredis.Prefix(t), "", config.RoleWallet)
	if _, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "needs the deployment's master key") {
		t.Errorf("a wallet on Redis without a master key: %v", err)
	}
	cfg.Roles = "auditor"
	if _, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "no role to serve") {
		t.Errorf("no known role: %v", err)
	}
}

// TestRolesNeedOneMasterKey: a process started with another master key than
// the one that sealed the shared store's keys refuses to start, instead of
// failing at its first signature.
func TestRolesNeedOneMasterKey(t *testing.T) {
	prefix := testredis.Prefix(t)
	newServer(t, redisRoleConfig(t, prefix, newMasterKey(), config.RoleRegistry))
	cfg := redisRoleConfig(t, prefix, newMasterKey(), config.RoleVerifier)
	s, err := New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		s.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "every process on this store needs the master key that created it") {
		t.Errorf("a verifier with another master key: %v", err)
	}
}
