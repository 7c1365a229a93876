package server

import (
	"bufio"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// The deployment files at the repository root, checked against the code:
// docker compose cannot run here (nor in CI without Docker), so this test
// reads what it would run.
const (
	composeFile  = "../../docker-compose.yml"
	dockerfile   = "../../Dockerfile"
	envExample   = "../../deploy/credence.env.example"
	envIgnore    = "../../deploy/.gitignore"
	composeEnv   = "deploy/credence.env"        // relative to the compose file
	proxyConf    = "deploy/nginx/credence.conf" // relative to the compose file
	composeRedis = "redis"
)

type compose struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Build       string                                `yaml:"build"`
	Image       string                                `yaml:"image"`
	Command     []string                              `yaml:"command"`
	EnvFile     []string                              `yaml:"env_file"`
	Environment map[string]string                     `yaml:"environment"`
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck struct{ Test []string }               `yaml:"healthcheck"`
	Ports       []string                              `yaml:"ports"`
	Volumes     []string                              `yaml:"volumes"`
}

// credenceService is a compose service running `credence serve`, with the
// configuration it loads.
type credenceService struct {
	name string
	svc  composeService
	cfg  config.Config
}

// TestComposeMatchesTheServer checks docker-compose.yml, its proxy
// configuration and the Dockerfile against the code: the settings exist and
// validate, the roles are valid and all served, Redis persists as the
// registry needs, health checks probe /readyz on the listening port, the
// proxy sends every route of every role (the server's own route table) to
// a process serving that role, and the ports agree.
func TestComposeMatchesTheServer(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", composeFile, err)
	}
	secrets := checkEnvExample(t)
	roles := map[string][]string{} // service → roles
	var creds []credenceService
	for _, name := range slices.Sorted(maps.Keys(c.Services)) {
		svc := c.Services[name]
		if svc.Build != "." {
			continue
		}
		cs := loadService(t, name, svc, secrets)
		creds = append(creds, cs)
		roles[name] = cs.cfg.RoleList()
	}
	var served []string
	for _, cs := range creds {
		served = append(served, cs.cfg.RoleList()...)
		checkCredenceService(t, c, cs)
		if cs.cfg.PublicURL != creds[0].cfg.PublicURL {
			t.Errorf("%s: public URL %s, %s has %s: every role needs the one clients use", cs.name, cs.cfg.PublicURL, creds[0].name, creds[0].cfg.PublicURL)
		}
	}
	for _, r := range config.AllRoles() {
		if !slices.Contains(served, r) {
			t.Errorf("no service runs the %s role", r)
		}
	}
	if len(creds) == 0 {
		t.Fatal("no credence service (build: .)")
	}
	redisCmd := strings.Join(c.Services[composeRedis].Command, " ")
	for _, want := range []string{"--appendonly yes", "--appendfsync always"} {
		if !strings.Contains(redisCmd, want) {
			t.Errorf("%s: command %q lacks %s (the registry's writes are acknowledged after their fsync)", composeRedis, redisCmd, want)
		}
	}
	checkProxy(t, c, creds, roles)
	checkDockerfile(t, creds[0])
}

// checkEnvExample checks the env file template (settings that exist,
// no value committed, the real file ignored by git) and returns stand-in
// values for its settings.
func checkEnvExample(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.ReadFile(envExample)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(f)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if !slices.Contains(config.EnvNames(), k) {
			t.Errorf("%s: %s is not a setting", envExample, k)
		}
		if v != "" {
			t.Errorf("%s: %s has a value: the template must not carry a secret", envExample, k)
		}
		vals[k] = "stand-in-secret-0123456789abcdef"
	}
	vals["CREDENCE_MASTER_KEY"] = newMasterKey()
	for _, k := range []string{"CREDENCE_MASTER_KEY", "CREDENCE_ADMIN_TOKEN"} {
		if !strings.Contains(string(f), k+"=") {
			t.Errorf("%s lacks %s", envExample, k)
		}
	}
	ignore, err := os.ReadFile(envIgnore)
	if err != nil || !slices.Contains(strings.Fields(string(ignore)), filepath.Base(composeEnv)) {
		t.Errorf("%s does not keep %s out of git (%v)", envIgnore, composeEnv, err)
	}
	return vals
}

var interpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-([^}]*))?\}`)

// loadService loads a service's configuration as `credence serve` would:
// its command's flags, its environment (compose defaults interpolated) and
// the env file's settings.
func loadService(t *testing.T, name string, svc composeService, secrets map[string]string) credenceService {
	t.Helper()
	if len(svc.Command) == 0 || svc.Command[0] != "serve" {
		t.Fatalf("%s: command %q does not start with serve", name, svc.Command)
	}
	env := map[string]string{}
	for k, v := range secrets {
		env[k] = v
	}
	for k, v := range svc.Environment {
		if !slices.Contains(config.EnvNames(), k) {
			t.Errorf("%s: %s is not a setting (config.EnvNames)", name, k)
		}
		env[k] = interpolation.ReplaceAllStringFunc(v, func(m string) string {
			sub := interpolation.FindStringSubmatch(m)
			if sub[2] == "" {
				t.Errorf("%s: %s: %s has no default", name, k, m)
			}
			return sub[3]
		})
	}
	if !slices.Contains(svc.EnvFile, composeEnv) {
		t.Errorf("%s: env_file %v lacks %s (the shared master key and admin token)", name, svc.EnvFile, composeEnv)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse(svc.Command[1:]); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cfg, err := config.Load(fs, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("%s: the configuration does not load:\n%v", name, err)
	}
	if f := fs.Lookup("roles"); f == nil || !f.Changed {
		t.Errorf("%s: no --roles", name)
	}
	return credenceService{name: name, svc: svc, cfg: cfg}
}

// checkCredenceService checks a role's Redis and its health check.
func checkCredenceService(t *testing.T, c compose, cs credenceService) {
	t.Helper()
	u, err := url.Parse(cs.cfg.Redis)
	if err != nil || u.Hostname() != composeRedis {
		t.Errorf("%s: --redis %q is not the %s service", cs.name, cs.cfg.Redis, composeRedis)
	}
	if got := cs.svc.DependsOn[composeRedis].Condition; got != "service_healthy" {
		t.Errorf("%s: depends on %s with condition %q, want service_healthy", cs.name, composeRedis, got)
	}
	test := cs.svc.Healthcheck.Test
	if len(test) < 2 || test[0] != "CMD" {
		t.Fatalf("%s: health check %q is not an exec-form CMD", cs.name, test)
	}
	hu, err := url.Parse(test[len(test)-1])
	_, port, _ := net.SplitHostPort(cs.cfg.Addr)
	if err != nil || hu.Path != "/readyz" || hu.Port() != port || !slices.ContainsFunc(allRoutesOnce(t), func(r Route) bool {
		return r.Method == "GET" && r.Path == hu.Path && r.Role == ""
	}) {
		t.Errorf("%s: health check %q does not probe GET /readyz (a route of every role) on port %s", cs.name, test, port)
	}
}

var fullRouteTable []Route

// allRoutesOnce is the route table of a server with every role.
func allRoutesOnce(t *testing.T) []Route {
	if fullRouteTable == nil {
		fullRouteTable, _ = allRoutes(t)
	}
	return fullRouteTable
}

// proxy is the parsed nginx configuration.
type proxy struct {
	listen    string
	upstreams map[string][]string // name → host:port
	locations []location
}

type location struct{ mod, pattern, upstream string }

var (
	upstreamRE = regexp.MustCompile(`upstream\s+(\S+)\s*\{([^}]*)\}`)
	serverRE   = regexp.MustCompile(`(?m)^\s*server\s+([^\s;]+)`)
	locationRE = regexp.MustCompile(`location\s+(?:(=|~\*|~|\^~)\s+)?(\S+)\s*\{([^}]*)\}`)
	passRE     = regexp.MustCompile(`proxy_pass\s+([^;]+);`)
	listenRE   = regexp.MustCompile(`listen\s+(\d+)\s*;`)
	commentRE  = regexp.MustCompile(`(?m)#.*$`)
)

func parseProxy(t *testing.T, path string) proxy {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	conf := commentRE.ReplaceAllString(string(b), "")
	p := proxy{upstreams: map[string][]string{}}
	for _, m := range upstreamRE.FindAllStringSubmatch(conf, -1) {
		for _, s := range serverRE.FindAllStringSubmatch(m[2], -1) {
			p.upstreams[m[1]] = append(p.upstreams[m[1]], s[1])
		}
	}
	if m := listenRE.FindStringSubmatch(conf); m != nil {
		p.listen = m[1]
	}
	for _, m := range locationRE.FindAllStringSubmatch(conf, -1) {
		pass := passRE.FindStringSubmatch(m[3])
		if pass == nil {
			t.Errorf("%s: location %s has no proxy_pass", path, m[2])
			continue
		}
		// Without a URI part nginx passes the request URI as the client
		// sent it: percent-encoded DIDs must reach the server unchanged.
		up, ok := strings.CutPrefix(strings.TrimSpace(pass[1]), "http://")
		if !ok || strings.Contains(up, "/") || p.upstreams[up] == nil {
			t.Errorf("%s: location %s: proxy_pass %s is not http://<upstream> without a URI", path, m[2], pass[1])
		}
		p.locations = append(p.locations, location{mod: m[1], pattern: m[2], upstream: up})
	}
	return p
}

// route is the upstream nginx picks for path: an exact match, else the
// longest prefix if it is ^~, else the first matching regex, else the
// longest prefix.
func (p proxy) route(path string) string {
	var best *location
	for i, l := range p.locations {
		switch l.mod {
		case "=":
			if l.pattern == path {
				return l.upstream
			}
		case "", "^~":
			if strings.HasPrefix(path, l.pattern) && (best == nil || len(l.pattern) > len(best.pattern)) {
				best = &p.locations[i]
			}
		}
	}
	if best != nil && best.mod == "^~" {
		return best.upstream
	}
	for _, l := range p.locations {
		expr := l.pattern
		if l.mod == "~*" {
			expr = "(?i)" + expr
		}
		if (l.mod == "~" || l.mod == "~*") && regexp.MustCompile(expr).MatchString(path) {
			return l.upstream
		}
	}
	if best != nil {
		return best.upstream
	}
	return ""
}

func checkProxy(t *testing.T, c compose, creds []credenceService, roles map[string][]string) {
	t.Helper()
	var name string
	for n, svc := range c.Services {
		if slices.ContainsFunc(svc.Volumes, func(v string) bool { return strings.HasPrefix(v, "./"+proxyConf+":") }) {
			name = n
		}
	}
	if name == "" {
		t.Fatalf("no service mounts ./%s", proxyConf)
	}
	p := parseProxy(t, filepath.Join(filepath.Dir(composeFile), proxyConf))
	svc := c.Services[name]
	if len(svc.Ports) != 1 {
		t.Fatalf("%s: ports %v, want one published port", name, svc.Ports)
	}
	host, container, _ := strings.Cut(svc.Ports[0], ":")
	if container != p.listen {
		t.Errorf("%s: publishes container port %s, nginx listens on %s", name, container, p.listen)
	}
	if pub, _ := url.Parse(creds[0].cfg.PublicURL); pub.Port() != host {
		t.Errorf("public URL %s is not on the proxy's published port %s", creds[0].cfg.PublicURL, host)
	}
	for _, cs := range creds {
		if got := svc.DependsOn[cs.name].Condition; got != "service_healthy" {
			t.Errorf("%s: depends on %s with condition %q, want service_healthy", name, cs.name, got)
		}
	}
	ports := map[string]string{}
	for _, cs := range creds {
		_, ports[cs.name], _ = net.SplitHostPort(cs.cfg.Addr)
	}
	for up, servers := range p.upstreams {
		for _, s := range servers {
			h, port, err := net.SplitHostPort(s)
			if err != nil || ports[h] == "" || ports[h] != port {
				t.Errorf("upstream %s: server %s is not a credence service on its port (%v)", up, s, ports)
			}
		}
	}
	// serves reports whether every server of upstream serves role ("":
	// any credence service).
	serves := func(upstream, role string) bool {
		servers := p.upstreams[upstream]
		for _, s := range servers {
			h, _, _ := net.SplitHostPort(s)
			if rs, ok := roles[h]; !ok || (role != "" && !slices.Contains(rs, role)) {
				return false
			}
		}
		return len(servers) > 0
	}
	for _, r := range allRoutesOnce(t) {
		paths := []string{samplePath(r.Path)}
		if strings.Contains(r.Path, "/*") {
			// A wildcard route answers everything below it, even what
			// looks like a hosted did:web document.
			paths = append(paths, paths[0]+"/did.json")
		}
		for _, path := range paths {
			if up := p.route(path); !serves(up, r.Role) {
				t.Errorf("%s %s (route %s, role %q) goes to upstream %q %v", r.Method, path, r.Path, r.Role, up, p.upstreams[up])
			}
		}
	}
	for _, path := range []string{"/boards/tx/did.json", "/issuers/x1/did.json"} { // hosted did:web (NoRoute)
		if up := p.route(path); !serves(up, config.RoleRegistry) {
			t.Errorf("GET %s (a hosted did:web document) goes to %q", path, up)
		}
	}
}

// checkDockerfile checks the image: built with the module's Go, run as a
// non-root user, `credence serve` on the port compose uses.
func checkDockerfile(t *testing.T, cs credenceService) {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	var stages, user, entry, cmd, expose, health string
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		rest := strings.Join(f[1:], " ")
		switch f[0] {
		case "FROM":
			stages += rest + "\n"
			user = "" // per stage
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entry = rest
		case "CMD":
			cmd = rest
		case "EXPOSE":
			expose = rest
		case "HEALTHCHECK":
			health = rest
		}
	}
	if goVersion == nil || !strings.HasPrefix(stages, "golang:"+string(goVersion[1])+" ") {
		t.Errorf("%s: the build stage is not golang:%s (go.mod): %q", dockerfile, goVersion, stages)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("%s: the runtime stage runs as %q, want a non-root user", dockerfile, user)
	}
	if entry != `["credence"]` || cmd != `["serve"]` {
		t.Errorf("%s: ENTRYPOINT %s CMD %s, want credence serve", dockerfile, entry, cmd)
	}
	_, port, _ := net.SplitHostPort(cs.cfg.Addr)
	if expose != port {
		t.Errorf("%s: EXPOSE %s, compose listens on %s", dockerfile, expose, port)
	}
	if !strings.Contains(health, `"http://127.0.0.1:`+port+`/readyz"]`) {
		t.Errorf("%s: HEALTHCHECK %q does not probe /readyz on port %s", dockerfile, health, port)
	}
	for _, m := range regexp.MustCompile(`CREDENCE_[A-Z_]+`).FindAllString(string(b), -1) {
		if !slices.Contains(config.EnvNames(), m) {
			t.Errorf("%s: %s is not a setting", dockerfile, m)
		}
	}
}
