package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "roles.yaml")
	if err := os.WriteFile(file, []byte("roles: [wallet, registry]\nredis: redis://127.0.0.1:6379/0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const redisURL = "redis://127.0.0.1:6379/0"
	const key = "CREDENCE_MASTER_KEY"
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		want    string   // normalized Roles, when valid
		wantErr []string // substrings of the error, when invalid
	}{
		{name: "default is every role", want: "issuer,verifier,registry,wallet"},
		{name: "all named, any order", args: []string{"--roles", "wallet, registry,issuer,verifier"}, want: "issuer,verifier,registry,wallet"},
		{name: "subset on redis", args: []string{"--roles", "verifier,issuer,verifier", "--redis", redisURL}, env: map[string]string{key: "k"}, want: "issuer,verifier"},
		{name: "env", env: map[string]string{"CREDENCE_ROLES": "registry", "CREDENCE_REDIS": redisURL, key: "k"}, want: "registry"},
		{name: "flag beats env", args: []string{"--roles", "wallet", "--master-key-file", "/run/secrets/mk"}, env: map[string]string{"CREDENCE_ROLES": "registry", "CREDENCE_REDIS": redisURL}, want: "wallet"},
		{name: "yaml list", args: []string{"--config", file}, env: map[string]string{key: "k"}, want: "registry,wallet"},
		{name: "every role alone needs no shared key", args: []string{"--redis", redisURL}, want: "issuer,verifier,registry,wallet"},
		{name: "unknown role", args: []string{"--roles", "issuer,hospital,admin", "--redis", redisURL},
			wantErr: []string{"--roles (CREDENCE_ROLES)", `unknown role "hospital", "admin"`, "valid roles: issuer, verifier, registry, wallet"}},
		{name: "empty", args: []string{"--roles", " , "}, wantErr: []string{"--roles (CREDENCE_ROLES)", "at least one role of issuer, verifier, registry, wallet"}},
		{name: "subset without redis", args: []string{"--roles", "verifier"}, wantErr: []string{"--roles (CREDENCE_ROLES)", "serving only verifier needs --redis"}},
		{name: "subset from env without redis", env: map[string]string{"CREDENCE_ROLES": "issuer,wallet", key: "k"}, wantErr: []string{"serving only issuer,wallet needs --redis"}},
		{name: "subset without a master key", args: []string{"--roles", "issuer", "--redis", redisURL},
			wantErr: []string{"--roles (CREDENCE_ROLES)", "serving only issuer needs the deployment's master key, the same in every process: set CREDENCE_MASTER_KEY or --master-key-file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.args, tc.env)
			if tc.wantErr != nil {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error = %v, want it to contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Roles != tc.want {
				t.Errorf("Roles = %q, want %q", c.Roles, tc.want)
			}
			if got := strings.Join(c.RoleList(), ","); got != tc.want {
				t.Errorf("RoleList = %q, want %q", got, tc.want)
			}
			for _, r := range AllRoles() {
				if got, want := c.Serves(r), strings.Contains(","+tc.want+",", ","+r+","); got != want {
					t.Errorf("Serves(%s) = %v, want %v", r, got, want)
				}
			}
			if got, want := c.AllRolesServed(), tc.want == strings.Join(AllRoles(), ","); got != want {
				t.Errorf("AllRolesServed = %v, want %v", got, want)
			}
		})
	}
}

func TestParseRoles(t *testing.T) {
	got, err := ParseRoles(" registry ,issuer,registry")
	if err != nil || !slices.Equal(got, []string{"issuer", "registry"}) {
		t.Errorf("ParseRoles = %v, %v", got, err)
	}
	if _, err := ParseRoles("Issuer"); err == nil {
		t.Error("role names are case-sensitive: Issuer accepted")
	}
}

func TestEnvNames(t *testing.T) {
	names := EnvNames()
	for _, want := range []string{"CREDENCE_CONFIG", "CREDENCE_ROLES", "CREDENCE_REDIS", "CREDENCE_MASTER_KEY", "CREDENCE_ADMIN_TOKEN", "CREDENCE_PUBLIC_URL"} {
		if !slices.Contains(names, want) {
			t.Errorf("EnvNames lacks %s: %v", want, names)
		}
	}
	if slices.Contains(names, "CREDENCE_ROLE") {
		t.Error("EnvNames invents CREDENCE_ROLE")
	}
}
