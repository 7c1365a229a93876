package server

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/internal/httpx"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/verifier/audit"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier/watch"

	"github.com/credence/credence/internal/verifierapi"
	"github.com/credence/credence/verifier"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// verifierRoutes mounts the verifier role: VC-API verify (anyone, or a
// verifier tenant with its policy), verifier tenants (admin), presentation
// requests and challenges.
func (s *Server) verifierRoutes(w *wiring, v *verifier.Verifier) error {
	ctx, e, admin := w.ctx, w.engine, w.admin
	tenants := &verifier.Tenants{Store: s.store, Tokens: issuerTokens{s.tokens}}
	requests := &verifier.Requests{Store: s.store, BaseURL: s.cfg.PublicURL}
	signer, err := s.auditSigner(ctx)
	if err != nil {
		return err
	}
	decisions := audit.New(s.store, signer)
	s.decisions = decisions
	w.prom.MustRegister(auditCollector{decisions})
	api := &verifierapi.API{Verifier: v, Tenants: tenants, Requests: requests, Log: s.log,
		FHIR:   verifier.FHIROptions{Watchable: true}, // every tenant can register watch-lists
		Record: func(ctx context.Context, d verifierapi.Decision) error { return recordDecision(ctx, decisions, d) }}
	// Anyone may verify, and every decision is audited: requests without a
	// token are rate limited per client address. A request with a token
	// passes (OptionalTenant refuses an invalid one); the wallets' answers
	// to presentation requests carry none, so they always count.
	var anonymous, answers []gin.HandlerFunc
	if r := s.cfg.AnonymousRate; r > 0 {
		limit := httpx.NewLimiter(float64(r)/60, int(max(r/6, 1)), 0)
		anonymous = append(anonymous, httpx.RateLimit(limit, func(c *gin.Context) bool { return c.GetHeader("Authorization") != "" }))
		answers = append(answers, httpx.RateLimit(limit, nil))
	}
	public := e.Group("/", append(anonymous, verifierapi.OptionalTenant(s.tokens, s.log))...)
	tenant := e.Group("/", verifierapi.RequireTenant(s.tokens, s.log))
	api.Routes(public, tenant, admin)
	(&verifierapi.Audit{Log: decisions, Logger: s.log}).Routes(tenant, admin)
	(&verifierapi.Requests{Requests: requests, Check: api.Check, Record: api.RecordAnswer, Refused: api.Refused, Log: s.log}).Routes(tenant, e.Group("/", answers...))
	go s.sweep(ctx, requests)

	watches := watch.New(s.store, s.ledger, watch.WithLogger(s.log), watch.WithSealer(s.master),
		watch.WithPolling(v.Status, s.cfg.StatusMaxAge), watch.WithHTTP(s.cfg.WebTimeout, s.cfg.WebAllowPrivate))
	go func() {
		if err := watches.Run(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("watch-lists stopped", "err", err)
		}
	}()
	(&verifierapi.Watches{Service: watches, Verify: watchable(v, api.TenantPolicy), Log: s.log}).Routes(tenant)
	return nil
}

// recordDecision appends a decision to its tenant's audit chain: who asked,
// the credentials by id, type, issuer and digest, the checks, the decision
// and the reason codes — no messages (they can quote personal data), no
// subjects.
func recordDecision(ctx context.Context, l *audit.Log, d verifierapi.Decision) error {
	e := audit.Entry{Chain: d.Tenant, Requester: d.Requester, Request: d.Request, Kind: d.Kind, Holder: d.Holder,
		Verified: d.Result.Verified, Decision: d.Result.Decision, Credentials: []audit.CredentialRef{}, Checks: []audit.Check{}}
	if e.Chain == "" {
		e.Chain = audit.DefaultChain
	}
	if !strings.HasPrefix(e.Holder, "did:") {
		e.Holder = ""
	}
	ref := func(c vc.Credential, raw []byte) audit.CredentialRef {
		r := audit.CredentialRef{Digest: audit.Digest(raw)}
		if c != nil {
			r.ID, r.Types, r.Issuer = c.ID(), c.Types(), c.Issuer()
		}
		return r
	}
	switch d.Kind {
	case audit.KindCredential:
		e.Credentials = append(e.Credentials, ref(d.Result.Credential, d.Inputs[0]))
	default:
		for _, cr := range d.Credentials {
			raw, _ := vc.Marshal(map[string]any(cr.Credential))
			e.Credentials = append(e.Credentials, ref(cr.Credential, raw))
		}
	}
	for _, r := range d.Result.Results {
		e.Checks = append(e.Checks, audit.Check{Name: r.Name, Passed: r.Passed})
	}
	for _, p := range d.Result.Errors {
		e.Errors = appendCode(e.Errors, p.Code)
	}
	for _, p := range d.Result.Warnings {
		e.Warnings = appendCode(e.Warnings, p.Code)
	}
	_, err := l.Append(ctx, e)
	return err
}

func appendCode(codes []string, c string) []string {
	if slices.Contains(codes, c) {
		return codes
	}
	return append(codes, c)
}

// auditSigner signs audit exports' heads with the service's audit key
// (Ed25519, in the key manager; made on first start, shared by replicas).
func (s *Server) auditSigner(ctx context.Context) (audit.Signer, error) {
	var rec struct {
		KeyID string `json:"keyId"`
	}
	b, err := s.store.Get(ctx, "audit-key", "key")
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, err
		}
	case errors.Is(err, kv.ErrNotFound):
		k, err := s.keys.Generate(ctx, keys.Ed25519, "audit log heads")
		if err != nil {
			return nil, err
		}
		rec.KeyID = k.ID
		b, _ = json.Marshal(rec)
		if err := s.store.Create(ctx, "audit-key", "key", b); errors.Is(err, kv.ErrExists) {
			return s.auditSigner(ctx) // another replica made it first
		} else if err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	k, err := s.keys.Key(ctx, rec.KeyID)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return auditKey{m: s.keys, id: rec.KeyID, pub: k.Public}, nil
}

type auditKey struct {
	m   keys.Manager
	id  string
	pub crypto.PublicKey
}

func (a auditKey) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	return a.m.Sign(ctx, a.id, msg)
}
func (a auditKey) Public() crypto.PublicKey { return a.pub }

// watchable is the check a credential passes before its tenant watches it:
// its proof verifies and, when the tenant's policy checks issuers (rules
// on, or "issuer" among its checks), its issuer is accredited for it (rules
// 1 and 2), as the tenant's own verifications would judge it. A tenant thus
// watches only credentials it could rely on, and the shared poller fetches
// only the status lists of issuers the tenant trusts. A revoked, suspended
// or expired credential may still be watched: Add reports its state.
func watchable(v *verifier.Verifier, policyOf func(context.Context, string) (verifier.PolicyConfig, error)) func(context.Context, string, json.RawMessage) (vc.Credential, error) {
	return func(ctx context.Context, tenant string, raw json.RawMessage) (vc.Credential, error) {
		in, err := secure.ParseInput(raw)
		if err != nil {
			return nil, err
		}
		policy, err := policyOf(ctx, tenant)
		if err != nil {
			return nil, err
		}
		r := v.VerifyCredential(ctx, in, verifier.Options{Checks: []string{verifier.CheckProof, verifier.CheckIssuer}, Policy: policy})
		if !r.Verified {
			msg := "the credential does not verify"
			if len(r.Errors) > 0 {
				msg = r.Errors[0].Code + ": " + r.Errors[0].Message
			}
			return nil, fmt.Errorf("%w: %s", verifierapi.ErrNotVerified, msg)
		}
		return r.Credential, nil
	}
}

// requestRetention is how long finished presentation requests and used
// challenges are kept (a used challenge must outlive its expiry, or a
// replay after the sweep would look unknown rather than replayed: both
// are refused).
const requestRetention = 24 * time.Hour

// sweep deletes expired presentation requests and challenges every hour.
func (s *Server) sweep(ctx context.Context, requests *verifier.Requests) {
	hourly(ctx, func(now time.Time) {
		if n, err := requests.Sweep(ctx, now.Add(-requestRetention)); err != nil {
			s.log.Warn("failed to sweep expired presentation requests", "err", err)
		} else if n > 0 {
			s.log.Info("swept expired presentation requests", "deleted", n)
		}
	})
}

// hourly calls fn every hour until ctx ends.
func hourly(ctx context.Context, fn func(now time.Time)) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// auditCollector exports how the decision audit log's group commit shares
// its store writes.
type auditCollector struct{ l *audit.Log }

var (
	auditAppends = prometheus.NewDesc("credence_audit_appends_total", "Verification decisions stored in the audit log by this process.", nil, nil)
	auditWrites  = prometheus.NewDesc("credence_audit_writes_total", "Store writes (batches; an fsync each on the embedded store) that stored them.", nil, nil)
)

func (c auditCollector) Describe(ch chan<- *prometheus.Desc) { ch <- auditAppends; ch <- auditWrites }

func (c auditCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.l.Stats()
	ch <- prometheus.MustNewConstMetric(auditAppends, prometheus.CounterValue, float64(st.Appends))
	ch <- prometheus.MustNewConstMetric(auditWrites, prometheus.CounterValue, float64(st.Writes))
}
