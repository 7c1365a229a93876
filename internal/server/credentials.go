package server

import (
	"context"
	"crypto"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/didapi"
	"github.com/credence/credence/internal/issuerapi"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/issuer"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/verifier"
)

// NewProcessor is the JSON-LD processor of the service: the embedded
// standard contexts plus the healthcare context.
func NewProcessor() *ld.Processor {
	return ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context))
}

// Assets are the contexts and schemas the service publishes.
func Assets() *issuerapi.Assets {
	ctx := maps.Clone(ld.Contexts())
	ctx[healthcare.ContextURL] = healthcare.Context
	return &issuerapi.Assets{Contexts: ctx, Schemas: healthcare.Schemas(),
		Aliases: map[string]string{"/contexts/healthcare/v1": healthcare.ContextURL}}
}

// newIssuer wires the issuance service to the hosted DIDs, the key manager,
// the token store and the resolver.
func (s *Server) newIssuer(hosted *didapi.Hosted, resolver *did.Resolver) *issuer.Service {
	return issuer.New(s.store, issuerDIDs{hosted}, s.keys, issuerTokens{s.tokens}, s.engine, holderKeys{resolver},
		issuer.WithStatusLists(s.ledger, issuerDIDs{hosted}, s.cfg.PublicURL))
}

// newVerifier wires the verifier: proofs resolve keys through the resolver;
// status lists are fetched (this server's own lists without HTTP), checked
// against the ledger, and dropped from the cache by registry events.
func (s *Server) newVerifier(ctx context.Context, iss *issuer.Service, resolver *did.Resolver) *verifier.Verifier {
	keys := vc.DIDKeys{Resolver: resolver}
	checker := &verifier.StatusChecker{
		Fetch: localLists{prefix: strings.TrimRight(s.cfg.PublicURL, "/") + "/status/", issuer: iss,
			remote: verifier.HTTPFetcher{Client: did.PublicHTTPClient(s.cfg.WebTimeout, s.cfg.WebAllowPrivate)}},
		Verify: verifier.EngineListVerifier(s.engine, keys, secure.VerifyOptions{}),
		Ledger: s.ledger,
		MaxAge: s.cfg.StatusMaxAge,
	}
	iss.OnStatusChange(checker.Invalidate)
	go checker.Watch(s.ledger.Subscribe(ctx))
	s.verifier = &verifier.Verifier{Engine: s.engine, Keys: keys, Status: checker, Trust: s.trust, Skew: time.Minute}
	return s.verifier
}

// localLists serves this server's own status lists from the issuer service
// and fetches every other list over HTTP.
type localLists struct {
	prefix string
	issuer *issuer.Service
	remote verifier.Fetcher
}

func (l localLists) Fetch(ctx context.Context, url string) ([]byte, error) {
	rest, ok := strings.CutPrefix(url, l.prefix)
	if !ok {
		return l.remote.Fetch(ctx, url)
	}
	tenant, list, ok := strings.Cut(rest, "/")
	if !ok || strings.Contains(list, "/") {
		return nil, fmt.Errorf("%s is not a status list of this server", url)
	}
	doc, err := l.issuer.StatusList(ctx, tenant, list)
	if err != nil {
		return nil, err
	}
	return doc.Credential, nil
}

type issuerDIDs struct{ h *didapi.Hosted }

func (d issuerDIDs) CreateIssuerDID(ctx context.Context, alg, label string) (string, error) {
	a, err := keys.ParseAlgorithm(alg)
	if err != nil {
		return "", err
	}
	res, err := d.h.CreateCredence(ctx, a, label)
	if err != nil {
		return "", err
	}
	return res.Record.DID, nil
}

func (d issuerDIDs) SignOp(ctx context.Context, id string, op *registry.Op) error {
	return d.h.SignOp(ctx, id, op)
}

func (d issuerDIDs) AssertionKey(ctx context.Context, id string) (string, string, error) {
	return d.h.AssertionKey(ctx, id)
}

type issuerTokens struct{ s *auth.Store }

func (t issuerTokens) IssueToken(ctx context.Context, subject, label string, scopes ...string) (string, error) {
	secret, _, err := t.s.Issue(ctx, subject, label, scopes...)
	return secret, err
}

// holderKeys finds a holder's key: the first authentication method of the
// subject's DID document.
type holderKeys struct{ r *did.Resolver }

func (h holderKeys) HolderKey(ctx context.Context, id string) (crypto.PublicKey, error) {
	res, err := h.r.Resolve(ctx, id, did.Options{})
	if err != nil {
		return nil, err
	}
	if res.Document == nil || len(res.Document.Authentication) == 0 {
		return nil, fmt.Errorf("%s has no authentication method", id)
	}
	m, ok := res.Document.Method(res.Document.Authentication[0].ID())
	if !ok {
		return nil, fmt.Errorf("%s: authentication method not found", id)
	}
	return m.PublicKey()
}
