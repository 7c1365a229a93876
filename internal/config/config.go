// Package config holds the service configuration. Every setting has one name used
// three ways: a flag (--tls-cert), an environment variable (CREDENCE_TLS_CERT) and a
// key of the optional YAML file (tls-cert). Precedence: flag > environment > file >
// default. Load validates the result and reports every problem at once.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// Config is the serve configuration. The `name` tag is the setting's name; `secret`
// settings are never read from the YAML file nor printed.
type Config struct {
	Addr            string        `name:"addr" usage:"listen address (host:port)"`
	DataDir         string        `name:"data" usage:"data directory for the embedded store, keys and TLS files"`
	PublicURL       string        `name:"public-url" usage:"external base URL (default: derived from --addr and TLS); its host names the service's did:web"`
	TLSCert         string        `name:"tls-cert" usage:"TLS certificate file (PEM)"`
	TLSKey          string        `name:"tls-key" usage:"TLS private key file (PEM)"`
	TLSSelfSigned   bool          `name:"tls-self-signed" usage:"serve TLS with a self-signed development certificate kept in the data dir"`
	AdminToken      string        `name:"admin-token" secret:"true" usage:"bootstrap admin token (prefer CREDENCE_ADMIN_TOKEN; flags show in ps)"`
	MasterKey       string        `name:"master-key" secret:"true" noflag:"true" usage:"master key, base64 or hex of 32 bytes (CREDENCE_MASTER_KEY only)"`
	MasterKeyFile   string        `name:"master-key-file" usage:"master key file (default <data>/master.key, created 0600 on first start)"`
	Roles           string        `name:"roles" usage:"comma-separated roles this process serves: issuer, verifier, registry, wallet (fewer than all needs --redis)"`
	TrustedProxies  string        `name:"trusted-proxies" usage:"comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client (default none: the peer address is the client)"`
	AnonymousRate   int64         `name:"anonymous-verify-rate" usage:"verifications a minute one client address may ask without a token, in bursts of a sixth of that (0: no limit)"`
	Redis           string        `name:"redis" usage:"Redis URL (redis://host:port/db); shared state goes to Redis instead of the embedded store"`
	RedisPrefix     string        `name:"redis-prefix" usage:"prefix of every Redis key this deployment writes"`
	LogLevel        string        `name:"log-level" usage:"debug, info, warn or error"`
	LogFormat       string        `name:"log-format" usage:"json or text"`
	MaxBodyBytes    int64         `name:"max-body-bytes" usage:"largest accepted request body"`
	ShutdownTimeout time.Duration `name:"shutdown-timeout" usage:"grace period for in-flight requests on SIGTERM"`
	WebTimeout      time.Duration `name:"did-web-timeout" usage:"timeout for fetching remote did:web documents"`
	WebMaxBytes     int64         `name:"did-web-max-bytes" usage:"largest accepted remote did:web document"`
	WebAllowPrivate bool          `name:"did-web-allow-private" usage:"allow did:web hosts and status list URLs on loopback/private addresses (development only)"`
	CacheTTL        time.Duration `name:"resolver-cache-ttl" usage:"how long resolved did:web documents are cached"`
	StatusMaxAge    time.Duration `name:"status-max-age" usage:"freshness bound of fetched status lists (registry events invalidate them sooner)"`
	StewardKeys     string        `name:"steward-keys" usage:"comma-separated Multikeys of the trust registry's stewards (default: this server's own steward key)"`
	RetiredStewards string        `name:"retired-steward-keys" usage:"comma-separated Multikeys of former stewards: their past trust ops stay valid, they sign no new ones"`
	Witnesses       string        `name:"witnesses" usage:"comma-separated witnesses that cosign this registry's checkpoints (c2sp.org/tlog-witness), each url=verifier-key; writes stop if one proves the ledger rolled back or forked"`
	WitnessQuorum   int64         `name:"witness-quorum" usage:"how many of --witnesses must cosign a checkpoint for GET /registry/checkpoint/witnessed (0: all of them)"`
	WitnessLogs     string        `name:"witness-logs" usage:"comma-separated checkpoint verifier keys (origin+hash+key) of other registries' logs this server witnesses at /witness/add-checkpoint"`
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:8080", DataDir: "./credence-data", LogLevel: "info", LogFormat: "json", RedisPrefix: "credence:",
		Roles: strings.Join(AllRoles(), ","), AnonymousRate: DefaultAnonymousRate,
		MaxBodyBytes: 1 << 20, ShutdownTimeout: 15 * time.Second,
		WebTimeout: 5 * time.Second, WebMaxBytes: 256 << 10, CacheTTL: time.Minute, StatusMaxAge: 5 * time.Minute,
	}
}

// EnvName is the environment variable of a setting.
func EnvName(name string) string {
	return "CREDENCE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// EnvNames lists the environment variables Load reads: CREDENCE_CONFIG and
// one per setting.
func EnvNames() []string {
	var c Config
	out := []string{"CREDENCE_CONFIG"}
	for _, s := range c.settings() {
		out = append(out, EnvName(s.name))
	}
	return out
}

type setting struct {
	name, usage    string
	secret, noflag bool
	field          reflect.Value
}

func (c *Config) settings() []setting {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	out := make([]setting, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		out = append(out, setting{name: f.Tag.Get("name"), usage: f.Tag.Get("usage"),
			secret: f.Tag.Get("secret") == "true", noflag: f.Tag.Get("noflag") == "true", field: v.Field(i)})
	}
	return out
}

// RegisterFlags defines one flag per setting on fs, with the defaults as shown values.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Defaults()
	for _, s := range d.settings() {
		if s.noflag {
			continue
		}
		usage := s.usage + " (env " + EnvName(s.name) + ")"
		switch s.field.Kind() {
		case reflect.Bool:
			fs.Bool(s.name, s.field.Bool(), usage)
		case reflect.Int64:
			if s.field.Type() == reflect.TypeFor[time.Duration]() {
				fs.Duration(s.name, time.Duration(s.field.Int()), usage)
			} else {
				fs.Int64(s.name, s.field.Int(), usage)
			}
		default:
			fs.String(s.name, s.field.String(), usage)
		}
	}
	fs.String("config", "", "YAML configuration file (env CREDENCE_CONFIG)")
}

// Load builds the configuration from defaults, the YAML file named by --config or
// CREDENCE_CONFIG, the environment and the flags that were set, then validates it.
func Load(fs *pflag.FlagSet, env func(string) string) (Config, error) {
	c := Defaults()
	path := env("CREDENCE_CONFIG")
	if f := fs.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return c, err
		}
	}
	var errs []error
	for _, s := range c.settings() {
		if v := env(EnvName(s.name)); v != "" {
			errs = append(errs, s.set(v, EnvName(s.name)))
		}
		if f := fs.Lookup(s.name); f != nil && f.Changed {
			errs = append(errs, s.set(f.Value.String(), "--"+s.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range c.settings() {
		known[s.name] = s
	}
	var errs []error
	for key, node := range raw {
		s, ok := known[key]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("config file %s: unknown setting %q", path, key))
		case s.secret:
			errs = append(errs, fmt.Errorf("config file %s: %q is a secret; set %s instead", path, key, EnvName(key)))
		default:
			errs = append(errs, s.set(scalar(node), path+": "+key))
		}
	}
	return errors.Join(errs...)
}

// scalar is a YAML value as a setting's text: a list of scalars (roles:
// [issuer, verifier]) reads as its comma-separated items.
func scalar(n yaml.Node) string {
	if n.Kind != yaml.SequenceNode {
		return n.Value
	}
	items := make([]string, len(n.Content))
	for i, c := range n.Content {
		items[i] = c.Value
	}
	return strings.Join(items, ",")
}

func (s setting) set(v, source string) error {
	var err error
	switch {
	case s.field.Type() == reflect.TypeFor[time.Duration]():
		var d time.Duration
		if d, err = time.ParseDuration(v); err == nil {
			s.field.SetInt(int64(d))
		}
	case s.field.Kind() == reflect.Bool:
		var b bool
		if b, err = strconv.ParseBool(v); err == nil {
			s.field.SetBool(b)
		}
	case s.field.Kind() == reflect.Int64:
		var n int64
		if n, err = strconv.ParseInt(v, 10, 64); err == nil {
			s.field.SetInt(n)
		}
	default:
		s.field.SetString(v)
	}
	if err != nil {
		return fmt.Errorf("%s: invalid value for %s: %w", source, s.name, err)
	}
	return nil
}

// Validate checks every setting and derives PublicURL when it is empty.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s (%s): %s", name, EnvName(name), fmt.Sprintf(format, args...)))
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		bad("addr", "must be host:port, got %q", c.Addr)
	}
	if c.DataDir == "" {
		bad("data", "must not be empty")
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		bad("tls-cert", "--tls-cert and --tls-key go together")
	case c.TLSCert != "" && c.TLSSelfSigned:
		bad("tls-self-signed", "cannot be combined with --tls-cert")
	}
	for name, f := range map[string]string{"tls-cert": c.TLSCert, "tls-key": c.TLSKey} {
		if _, err := os.Stat(f); f != "" && err != nil {
			bad(name, "%v", err)
		}
	}
	if c.PublicURL == "" && err == nil {
		c.PublicURL = c.derivePublicURL(host, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		bad("public-url", "must be an absolute http(s) URL without query or fragment, got %q", c.PublicURL)
	}
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if c.Redis != "" {
		if _, err := redis.ParseURL(c.Redis); err != nil {
			bad("redis", "%v", err)
		}
	}
	c.validateRoles(bad)
	for _, p := range c.TrustedProxyList() {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("trusted-proxies", "%q is neither an IP address nor a CIDR", p)
			}
		}
	}
	if c.AnonymousRate < 0 || c.AnonymousRate > 6_000_000 {
		bad("anonymous-verify-rate", "must be between 0 (no limit) and 6000000 a minute, got %d", c.AnonymousRate)
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, "{}*?[] ") {
		bad("redis-prefix", "must be non-empty without braces, glob characters or spaces, got %q", c.RedisPrefix)
	}
	if !map[string]bool{"debug": true, "info": true, "warn": true, "error": true}[c.LogLevel] {
		bad("log-level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		bad("log-format", "must be json or text, got %q", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("max-body-bytes", "must be between 1 KiB and 64 MiB, got %d", c.MaxBodyBytes)
	}
	if c.WebMaxBytes < 1024 || c.WebMaxBytes > 16<<20 {
		bad("did-web-max-bytes", "must be between 1 KiB and 16 MiB, got %d", c.WebMaxBytes)
	}
	c.validateWitnesses(bad)
	for name, d := range map[string]time.Duration{"shutdown-timeout": c.ShutdownTimeout, "did-web-timeout": c.WebTimeout, "resolver-cache-ttl": c.CacheTTL, "status-max-age": c.StatusMaxAge} {
		if d <= 0 {
			bad(name, "must be a positive duration, got %s", d)
		}
	}
	return errors.Join(errs...)
}

// DefaultAnonymousRate is the default of --anonymous-verify-rate: 20
// verifications a second per client address, in bursts of 200.
const DefaultAnonymousRate = 1200

// TrustedProxyList is --trusted-proxies as a list (nil when empty).
func (c *Config) TrustedProxyList() []string {
	return splitList(c.TrustedProxies)
}

// StewardList is --steward-keys as a list.
func (c *Config) StewardList() []string { return splitList(c.StewardKeys) }

// RetiredStewardList is --retired-steward-keys as a list.
func (c *Config) RetiredStewardList() []string { return splitList(c.RetiredStewards) }

// splitList splits a comma-separated setting, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// TLS reports whether the server terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" || c.TLSSelfSigned }

func (c *Config) derivePublicURL(host, port string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	scheme := "http"
	if c.TLS() {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
