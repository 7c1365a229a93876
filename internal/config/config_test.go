package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "./credence-data" || c.PublicURL != "http://127.0.0.1:8080" || c.TLS() {
		t.Errorf("defaults = %+v", c)
	}
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credence.yaml")
	os.WriteFile(file, []byte("addr: 0.0.0.0:9000\nlog-level: debug\ndata: /from/file\nresolver-cache-ttl: 2m\n"), 0o600)
	c, err := load(t, []string{"--config", file, "--data", "/from/flag", "--tls-self-signed"},
		map[string]string{"CREDENCE_LOG_LEVEL": "warn", "CREDENCE_DATA": "/from/env", "CREDENCE_MASTER_KEY": "k"})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: "0.0.0.0:9000", LogLevel: "warn", DataDir: "/from/flag", CacheTTL: 2 * time.Minute, MasterKey: "k", PublicURL: "https://localhost:9000"}
	if c.Addr != want.Addr || c.LogLevel != want.LogLevel || c.DataDir != want.DataDir || c.CacheTTL != want.CacheTTL ||
		c.MasterKey != want.MasterKey || c.PublicURL != want.PublicURL || !c.TLSSelfSigned {
		t.Errorf("got %+v", c)
	}
}

func TestValidationNamesEverySetting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	os.WriteFile(file, []byte("adr: x\nadmin-token: secret-in-file\n"), 0o600)
	if _, err := load(t, []string{"--config", file}, nil); err == nil ||
		!strings.Contains(err.Error(), `unknown setting "adr"`) || !strings.Contains(err.Error(), "CREDENCE_ADMIN_TOKEN") {
		t.Errorf("file errors = %v", err)
	}
	_, err := load(t, []string{"--addr", "nope", "--log-level", "loud", "--tls-cert", "/missing.pem", "--max-body-bytes", "1"},
		map[string]string{"CREDENCE_REDIS": "http://x", "CREDENCE_SHUTDOWN_TIMEOUT": "soon"})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	if !strings.Contains(err.Error(), "CREDENCE_SHUTDOWN_TIMEOUT: invalid value") {
		t.Errorf("parse error not reported: %v", err)
	}
	_, err = load(t, []string{"--addr", "nope", "--log-level", "loud", "--tls-cert", "/missing.pem", "--max-body-bytes", "1"},
		map[string]string{"CREDENCE_REDIS": "http://x"})
	for _, want := range []string{"--addr", "--log-level", "--tls-cert", "--max-body-bytes", "--redis"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestClientSettings(t *testing.T) {
	c, err := load(t, []string{"--trusted-proxies", " 10.0.0.0/8, 192.0.2.1 ,", "--anonymous-verify-rate", "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.TrustedProxyList(); len(got) != 2 || got[0] != "10.0.0.0/8" || got[1] != "192.0.2.1" || c.AnonymousRate != 0 {
		t.Errorf("trusted proxies %q, rate %d", got, c.AnonymousRate)
	}
	if d := Defaults(); d.TrustedProxyList() != nil || d.AnonymousRate != DefaultAnonymousRate {
		t.Errorf("defaults: proxies %q, rate %d", d.TrustedProxyList(), d.AnonymousRate)
	}
	_, err = load(t, []string{"--trusted-proxies", "10.0.0.0/8,proxy.example", "--anonymous-verify-rate", "-1"}, nil)
	for _, want := range []string{`"proxy.example" is neither`, "--anonymous-verify-rate"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s: %v", want, err)
		}
	}
}
