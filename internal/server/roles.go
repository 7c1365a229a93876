package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/didapi"
	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/issuerapi"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/internal/trustapi"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Roles. A process serves the roles of --roles (config.AllRoles by
// default); a route of a role it does not serve is not mounted, so it
// answers the same 404 problem as any unknown path. What each role owns:
//
//	every role  GET /healthz, /readyz, /metrics, /openapi.json, and
//	            /.well-known/did.json (the service's did:web)
//	issuer      /admin/issuers; /issuers/{issuer}/... (issue, batch,
//	            inventory, status changes, OpenID4VCI offers, token,
//	            nonce and credential endpoints); the OpenID4VCI metadata
//	            under /.well-known/openid-credential-issuer/ and
//	            /.well-known/oauth-authorization-server/; the JSON-LD
//	            contexts and JSON Schemas (/contexts/, /schemas/)
//	verifier    /credentials/verify, /presentations/verify, /verifier/...
//	            (policy, presentation requests, audit, watch-lists),
//	            /challenges, /admin/verifiers, /admin/audit/{chain}
//	registry    /1.0/identifiers/{did} and every other hosted did:web
//	            document (.../did.json), /admin/dids; /status/{issuer}/{list}
//	            (the signed status lists); /registry/... (ops, checkpoint,
//	            entries, proofs, histories, governance);
//	            /trust/accreditations, /admin/accreditations; /witness/...
//	            when it witnesses other registries (--witness-logs)
//	wallet      /wallet/...
//
// Background work runs where its role is served, and every piece of it is
// safe with several replicas of that role on one Redis:
//
//   - verifier: the status-list cache follows registry events (Redis
//     pub/sub, so a revocation made by any issuer process reaches it); the
//     presentation-request sweeper (deletes are idempotent); the watch-list
//     runner (events, expiry and webhook deliveries claimed with leases in
//     the kv store, polling by the holder of a lease; see verifier/watch).
//   - verifier and registry: the trust index, loaded from the ledger and
//     kept current by its events.
//   - issuer and registry (the roles that append): publishing each new
//     checkpoint to --witnesses (witness.go); every such process does, and
//     the witnesses' compare-and-swap makes the repeats harmless.
//
// There is no sequencer process: whichever process appends to the ledger
// (the issuer for tenant DIDs and status lists, the registry for submitted
// ops, hosted DIDs and accreditations) appends with the store's
// compare-and-append and signs the checkpoint for the new size with the
// registry key from the shared key manager; the store never lets the saved
// checkpoint go backwards, so concurrent signers agree.

// Route is one route of a server.
type Route struct {
	Method, Path string
	// Role is the role that serves the route; "" for a route of every role.
	Role string
}

// Routes lists the routes this server mounts, in mount order. Hosted did:web
// documents other than the service's (.../did.json, registry role) are
// served by the not-found handler and not listed.
func (s *Server) Routes() []Route { return slices.Clone(s.routeTable) }

// wiring is what the roles' routes share.
type wiring struct {
	ctx    context.Context // background work ends with it (Close)
	engine *gin.Engine
	prom   prometheus.Registerer // GET /metrics
	admin  gin.IRoutes           // requires the admin scope
	dids   *didapi.API
	keys   *did.Resolver // verification keys: the ledger's current state
	issuer *issuer.Service
}

// roleMounts mount each role's routes and start its background work.
var roleMounts = map[string]func(*Server, *wiring) error{
	config.RoleIssuer:   (*Server).mountIssuer,
	config.RoleVerifier: (*Server).mountVerifier,
	config.RoleRegistry: (*Server).mountRegistry,
	config.RoleWallet:   (*Server).mountWallet,
}

// checkRoles refuses a configuration without roles, and a subset of the
// roles on the embedded store or without a given master key
// (config.Validate says why).
func checkRoles(cfg config.Config) error {
	roles := cfg.RoleList()
	switch {
	case len(roles) == 0:
		return errors.New("no role to serve: --roles names none of " + fmt.Sprint(config.AllRoles()))
	case len(roles) == len(config.AllRoles()):
		return nil
	case cfg.Redis == "":
		return fmt.Errorf("serving only %v needs --redis", roles)
	case cfg.MasterKey == "" && cfg.MasterKeyFile == "":
		return fmt.Errorf("serving only %v needs the deployment's master key (CREDENCE_MASTER_KEY or --master-key-file)", roles)
	}
	return nil
}

// mountRoles mounts the configured roles and records which role each route
// belongs to (the routes mounted so far belong to every role).
func (s *Server) mountRoles(w *wiring) error {
	seen := map[string]bool{}
	record := func(role string) {
		for _, r := range w.engine.Routes() {
			if k := r.Method + " " + r.Path; !seen[k] {
				seen[k] = true
				s.routeTable = append(s.routeTable, Route{Method: r.Method, Path: r.Path, Role: role})
			}
		}
	}
	record("")
	for _, role := range s.cfg.RoleList() {
		if err := roleMounts[role](s, w); err != nil {
			return fmt.Errorf("failed to start the %s role: %w", role, err)
		}
		record(role)
	}
	return nil
}

// noRoute answers paths without a route: a hosted did:web document in the
// registry role, else the 404 problem.
func (s *Server) noRoute(w *wiring) gin.HandlerFunc {
	hosted := s.cfg.Serves(config.RoleRegistry)
	return func(c *gin.Context) {
		if hosted && w.dids.NoRoute(c) {
			return
		}
		httpx.WriteProblem(c, httpx.NotFound("no such endpoint"))
	}
}

func (s *Server) mountIssuer(w *wiring) error {
	nonceKey, err := s.master.DeriveKey("issuer/oid4vci-c-nonce")
	if err != nil {
		return err
	}
	offers := issuer.NewOffers(w.issuer, vc.DIDKeys{Resolver: w.keys}, s.cfg.PublicURL, nonceKey)
	if err := offers.DropStoredNonceKey(w.ctx); err != nil {
		return err
	}
	ia := &issuerapi.API{Issuer: w.issuer, Log: s.log, Ledger: s.ledger, Offers: offers}
	ia.Routes(w.admin, w.engine.Group("/", httpx.RequireScope(s.tokens, s.log, issuerapi.TenantScope)))
	ia.ProtocolRoutes(w.engine)
	Assets().Routes(w.engine)
	go s.sweepOffers(w.ctx, offers)
	return nil
}

// sweepOffers deletes spent c_nonce markers and ended credential offers
// every hour (issuer.Offers.Sweep keeps them as long as they matter; safe in
// every issuer replica).
func (s *Server) sweepOffers(ctx context.Context, offers *issuer.Offers) {
	hourly(ctx, func(now time.Time) {
		st, err := offers.Sweep(ctx, now)
		switch {
		case err != nil:
			s.log.Warn("failed to sweep credential offers", "err", err)
		case st != (issuer.SweepStats{}):
			s.log.Info("swept credential offers", "nonces", st.Nonces, "offers", st.Offers, "templates", st.Templates)
		}
	})
}

func (s *Server) mountVerifier(w *wiring) error {
	if err := s.openTrustIndex(w.ctx); err != nil {
		return err
	}
	return s.verifierRoutes(w, s.newVerifier(w.ctx, w.issuer, w.keys))
}

func (s *Server) mountRegistry(w *wiring) error {
	w.dids.ResolverRoutes(w.engine, w.admin)
	// The status lists are read from the ledger and signed with their
	// issuer's key (the shared key manager): no issuer process needed.
	(&issuerapi.API{Issuer: w.issuer, Log: s.log, Ledger: s.ledger}).StatusRoutes(w.engine)
	if err := s.openTrustIndex(w.ctx); err != nil {
		return err
	}
	ta := &trustapi.API{Log: s.ledger, Index: s.trust, Logger: s.log}
	if s.steward != nil {
		ta.Steward = s.steward
	}
	ta.Routes(w.engine, w.admin)
	s.witnessRoutes(w.engine)
	reg := &registryapi.API{Log: s.ledger, VerifierKey: s.LedgerKey, Logger: s.log}
	s.registryWitnessing(reg)
	reg.Routes(w.engine, w.engine.Group("/", httpx.Require(s.tokens, s.log, registryapi.ScopeRegistry)))
	return nil
}

func (s *Server) mountWallet(w *wiring) error {
	s.walletRoutes(w.engine, w.keys)
	return nil
}

// openTrustIndex loads the trust registry once (the verifier and the
// registry share it); it follows the ledger until ctx ends.
func (s *Server) openTrustIndex(ctx context.Context) error {
	if s.trust != nil {
		return nil
	}
	t, err := registry.NewTrustIndex(ctx, s.ledger, s.log)
	if err != nil {
		return fmt.Errorf("trust registry: %w", err)
	}
	s.trust = t
	return nil
}
