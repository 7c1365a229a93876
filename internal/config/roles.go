package config

import (
	"fmt"
	"slices"
	"strings"
)

// The roles a process can serve (--roles). Every role also serves /healthz,
// /readyz, /metrics, /openapi.json and the service's own did:web document;
// internal/server (roles.go) says which routes and background work each owns.
const (
	RoleIssuer   = "issuer"
	RoleVerifier = "verifier"
	RoleRegistry = "registry"
	RoleWallet   = "wallet"
)

// AllRoles lists every role, in the order --roles is normalized to.
func AllRoles() []string {
	return []string{RoleIssuer, RoleVerifier, RoleRegistry, RoleWallet}
}

// ParseRoles reads a comma-separated role list (spaces around names are
// ignored, a name given twice counts once) and returns it in AllRoles order.
// An unknown name or an empty list is an error naming the valid roles.
func ParseRoles(s string) ([]string, error) {
	valid := AllRoles()
	seen := map[string]bool{}
	var unknown []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		switch {
		case r == "":
		case slices.Contains(valid, r):
			seen[r] = true
		default:
			unknown = append(unknown, fmt.Sprintf("%q", r))
		}
	}
	list := strings.Join(valid, ", ")
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown role %s; valid roles: %s", strings.Join(unknown, ", "), list)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("name at least one role of %s", list)
	}
	out := make([]string, 0, len(seen))
	for _, r := range valid {
		if seen[r] {
			out = append(out, r)
		}
	}
	return out, nil
}

// RoleList returns the roles of c.Roles (in AllRoles order; the names that
// are not roles are left out: Validate reports them).
func (c *Config) RoleList() []string {
	var out []string
	for _, r := range AllRoles() {
		if c.Serves(r) {
			out = append(out, r)
		}
	}
	return out
}

// Serves reports whether this process serves role.
func (c *Config) Serves(role string) bool {
	for _, r := range strings.Split(c.Roles, ",") {
		if strings.TrimSpace(r) == role {
			return true
		}
	}
	return false
}

// AllRolesServed reports whether this process serves every role.
func (c *Config) AllRolesServed() bool { return len(c.RoleList()) == len(AllRoles()) }

// validateRoles normalizes c.Roles and checks that a subset of the roles
// runs as part of a deployment: on Redis (several processes cannot share the
// embedded store, bbolt locks its file, and a process alone on its own
// store would not see what the others write: tenants, tokens, keys, the
// ledger), with a master key given rather than made on first start in this
// process's data dir (the others could not unseal the keys it makes).
func (c *Config) validateRoles(bad func(name, format string, args ...any)) {
	roles, err := ParseRoles(c.Roles)
	if err != nil {
		bad("roles", "%v", err)
		return
	}
	c.Roles = strings.Join(roles, ",")
	if len(roles) == len(AllRoles()) {
		return
	}
	if c.Redis == "" {
		bad("roles", "serving only %s needs --redis: the other roles run in other processes, which cannot share the embedded store", c.Roles)
	}
	if c.MasterKey == "" && c.MasterKeyFile == "" {
		bad("roles", "serving only %s needs the deployment's master key, the same in every process: set %s or --master-key-file", c.Roles, EnvName("master-key"))
	}
}
