// Package server wires the Credence roles of --roles (every role by default)
// into one HTTP server: storage (the embedded bbolt store, or Redis), the key
// manager, tokens, the DID layer, health, readiness and metrics. Which routes
// and background work each role owns is in roles.go. cmd/credence only parses
// configuration and calls it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/didapi"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/issuerapi"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/internal/trustapi"
	"github.com/credence/credence/internal/verifierapi"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/witness"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
	"github.com/credence/credence/verifier/audit"
	walletapi "github.com/credence/credence/wallet-api"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Server is a configured Credence instance.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	store  kv.Store
	redis  *redis.Client
	keys   keys.Manager
	master keys.MasterKey
	tokens *auth.Store
	bolt   *boltkv.Store
	ledger *registry.Log
	engine *secure.Engine
	// steward signs trust registry ops (nil when this server's key is not
	// a steward).
	steward *trustapi.KeySigner
	trust   *registry.TrustIndex
	// publisher sends the ledger's checkpoints to --witnesses (nil: none);
	// witness cosigns the logs of --witness-logs (nil: none). See witness.go.
	publisher *witness.Publisher
	witness   *witness.Witness
	// verifier is the verification pipeline the HTTP routes run.
	verifier *verifier.Verifier
	// decisions is the verifier role's audit log (nil in other roles).
	decisions *audit.Log
	// stop ends background work (registry event watchers) on Close.
	stop context.CancelFunc
	// routeTable is every route served, with its role (Routes).
	routeTable []Route
	// openAPI is what GET /openapi.json serves: the document of routeTable.
	openAPI struct {
		doc  []byte
		etag string
	}
	// LedgerKey is the note verifier key of the registry's checkpoints.
	LedgerKey string
	// WitnessKey is the cosignature verifier key of this server as a
	// witness of --witness-logs ("" when it witnesses none).
	WitnessKey string
	// BootstrapToken is the admin token made on this start, to be shown once; empty
	// when one already existed or CREDENCE_ADMIN_TOKEN set it.
	BootstrapToken string
	// ServiceDID is the service's own did:web.
	ServiceDID string
	// MasterKeyCreated reports that this start created the master key file.
	MasterKeyCreated bool
	handler          http.Handler
}

// New opens storage and keys, bootstraps the admin token and the service DID, and
// builds the HTTP handler.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	s := &Server{cfg: cfg, log: log}
	if err := checkRoles(cfg); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create data dir: %w", err)
	}
	if err := s.openStore(ctx); err != nil {
		return nil, err
	}
	if err := s.bootstrap(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) openStore(ctx context.Context) error {
	if s.cfg.Redis == "" {
		st, err := boltkv.Open(filepath.Join(s.cfg.DataDir, "credence.db"))
		if err != nil {
			return err
		}
		s.store, s.bolt = st, st
		return nil
	}
	opts, err := redis.ParseURL(s.cfg.Redis)
	if err != nil {
		return fmt.Errorf("--redis: %w", err)
	}
	s.redis = redis.NewClient(opts)
	if err := s.redis.Ping(ctx).Err(); err != nil {
		s.redis.Close()
		return fmt.Errorf("failed to reach Redis at %s: %w", opts.Addr, err)
	}
	s.store = rediskv.New(s.redis, s.cfg.RedisPrefix)
	return nil
}

func (s *Server) bootstrap(ctx context.Context) error {
	master, err := s.masterKey()
	if err != nil {
		return err
	}
	s.master = master
	if s.keys, err = keys.NewLocal(s.store, master); err != nil {
		return err
	}
	pub, _ := url.Parse(s.cfg.PublicURL)
	if err := s.openLedger(ctx, pub.Host); err != nil {
		return err
	}
	if err := s.openPublisher(); err != nil {
		return err
	}
	if err := s.openWitness(ctx, pub.Host); err != nil {
		return err
	}
	hosted := didapi.NewHosted(s.store, s.keys, pub.Host, didapi.WithLedger(s.ledger))
	if _, err := hosted.EnsureServiceDID(ctx); err != nil {
		return fmt.Errorf("failed to create the service DID: %w", err)
	}
	doc, err := hosted.WebDocument(ctx, nil)
	if err != nil {
		return fmt.Errorf("failed to build the service DID document: %w", err)
	}
	s.ServiceDID = doc.ID
	// Last step that can fail before serving: a token made here is shown right after.
	pepper, err := s.master.DeriveKey("auth/token-pepper")
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	s.tokens = auth.NewStore(s.store, auth.WithPepper(pepper))
	if s.BootstrapToken, err = s.tokens.Bootstrap(ctx, s.cfg.AdminToken); err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	s.engine = secure.New(NewProcessor())
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = stop
	if s.handler, err = s.routes(bg, hosted); err != nil {
		stop()
		return err
	}
	return nil
}

func (s *Server) masterKey() (keys.MasterKey, error) {
	if s.cfg.MasterKey != "" {
		k, err := keys.ParseMasterKey(s.cfg.MasterKey)
		if err != nil {
			return keys.MasterKey{}, fmt.Errorf("CREDENCE_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	path := s.cfg.MasterKeyFile
	if path == "" {
		path = filepath.Join(s.cfg.DataDir, "master.key")
	}
	k, created, err := keys.LoadOrCreateMasterKey(path)
	s.MasterKeyCreated = created
	return k, err
}

func (s *Server) routes(ctx context.Context, hosted *didapi.Hosted) (http.Handler, error) {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.UseRawPath = true
	e.UnescapePathValues = false
	e.RemoveExtraSlash = false
	e.ContextWithFallback = true
	// The client address (access log, rate limits) is the peer's, or the
	// one a trusted proxy forwards; never an X-Forwarded-For from anyone.
	if err := e.SetTrustedProxies(s.cfg.TrustedProxyList()); err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	prom := prometheus.NewRegistry()
	prom.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.publisher != nil {
		prom.MustRegister(newWitnessCollector(s.publisher))
	}
	e.Use(httpx.RequestIDs(), httpx.Recover(s.log), httpx.NewMetrics(prom).Handler(), httpx.AccessLog(s.log), httpx.LimitBody(s.cfg.MaxBodyBytes, map[string]int64{issuerapi.BatchRoute: issuerapi.MaxBatchBytes, issuerapi.StatusRoute: issuerapi.MaxStatusBytes, registryapi.SubmitRoute: registryapi.MaxSubmitBytes, verifierapi.ResponseRoute: verifierapi.MaxResponseBytes, verifierapi.WatchesRoute: verifierapi.MaxWatchBytes,
		walletapi.CredentialsRoute: walletapi.MaxCredentialBytes, walletapi.PresentationsRoute: walletapi.MaxPresentBytes}))

	e.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(prom, promhttp.HandlerOpts{})))
	s.openAPIRoutes(e)

	w := s.wire(ctx, e, prom, hosted)
	w.dids.WebRoutes(e) // the service's did:web, in every role
	if err := s.mountRoles(w); err != nil {
		return nil, err
	}
	s.runPublisher(ctx)
	s.openAPIForRoles()
	e.NoRoute(s.noRoute(w))
	return e, nil
}

// wire builds what the roles' routes share; it starts no background work.
func (s *Server) wire(ctx context.Context, e *gin.Engine, prom prometheus.Registerer, hosted *didapi.Hosted) *wiring {
	web := did.WithMethod("web", didapi.LocalWeb{
		Hosted: hosted,
		Remote: did.NewWebMethod(s.cfg.WebTimeout, s.cfg.WebAllowPrivate, did.WithWebMaxBytes(s.cfg.WebMaxBytes)),
	}, s.cfg.CacheTTL)
	resolver := did.NewResolver(web, did.WithMethod("credence", registry.DIDMethod{Log: s.ledger}, 0))
	// Verification resolves keys from the ledger's current state (kept
	// current by the ledger, so a rotation or deactivation counts at once),
	// without the proof bundles the resolution API serves. A credential
	// signed before its issuer rotated the key is checked against the
	// version in effect when it was signed (a versioned resolution,
	// vc.DIDKeys); a deactivated issuer verifies nothing.
	keyResolver := did.NewResolver(web, did.WithMethod("credence", registry.DIDMethod{Log: s.ledger, Current: true}, 0))
	return &wiring{ctx: ctx, engine: e, prom: prom, admin: e.Group("/", httpx.Require(s.tokens, s.log, auth.ScopeAdmin)),
		dids: &didapi.API{Resolver: resolver, Hosted: hosted, Log: s.log}, keys: keyResolver,
		issuer: s.newIssuer(hosted, resolver)}
}

// ready reports 200 when every backing service answers, 503 otherwise.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks, status := gin.H{}, http.StatusOK
	name := "store"
	if s.redis != nil {
		name = "redis"
	}
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "check", name, "err", err)
		checks[name], status = "unavailable", http.StatusServiceUnavailable
	} else {
		checks[name] = "ok"
	}
	state := map[int]string{http.StatusOK: "ready", http.StatusServiceUnavailable: "not ready"}[status]
	c.JSON(status, gin.H{"status": state, "checks": checks})
}

// Handler is the server's HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// TLSConfig returns the TLS configuration, or nil when the server speaks plain HTTP.
func (s *Server) TLSConfig() (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case s.cfg.TLSCert != "":
		cert, err = tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	case s.cfg.TLSSelfSigned:
		pub, _ := url.Parse(s.cfg.PublicURL)
		cert, err = devCertificate(filepath.Join(s.cfg.DataDir, "tls"), []string{pub.Hostname()}, time.Now())
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to load the TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// Serve answers requests on ln until ctx is cancelled, then stops accepting, lets
// in-flight requests finish within the shutdown timeout and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	tlsCfg, err := s.TLSConfig()
	if err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: s.handler, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases storage.
func (s *Server) Close() error {
	if s.stop != nil {
		s.stop()
	}
	if s.trust != nil {
		s.trust.Close()
	}
	var errs []error
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	if s.redis != nil {
		errs = append(errs, s.redis.Close())
	}
	return errors.Join(errs...)
}

// OpenHosted opens the data dir's store and keys for offline CLI use (no HTTP, no
// admin bootstrap) and returns the hosted-DID registry with a close function. It
// fails with a clear message when a running server holds the data dir.
func OpenHosted(ctx context.Context, cfg config.Config) (*didapi.Hosted, func() error, error) {
	s := &Server{cfg: cfg, log: slog.New(slog.DiscardHandler)}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("failed to create data dir: %w", err)
	}
	if err := s.openStore(ctx); err != nil {
		return nil, nil, err
	}
	master, err := s.masterKey()
	if err == nil {
		s.keys, err = keys.NewLocal(s.store, master)
	}
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	pub, _ := url.Parse(cfg.PublicURL)
	return didapi.NewHosted(s.store, s.keys, pub.Host), s.Close, nil
}
