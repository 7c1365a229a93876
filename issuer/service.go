package issuer

import (
	"context"
	"crypto"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

// Securer checks JSON-LD terms and secures credentials (vc/secure.Engine).
type Securer interface {
	CheckTerms(cred map[string]any) error
	Issue(ctx context.Context, cred map[string]any, s vc.Signer, o secure.IssueOptions) (any, error)
}

// HolderKeys finds a subject's public key, for formats that bind the
// credential to its holder (SD-JWT's cnf).
type HolderKeys interface {
	HolderKey(ctx context.Context, did string) (crypto.PublicKey, error)
}

// Service issues credentials for tenants.
type Service struct {
	kv      kv.Store
	dids    DIDs
	keys    Keys
	tokens  Tokens
	sec     Securer
	holders HolderKeys
	now     func() time.Time
	terms   *termCache

	ledger   StatusLedger
	opSigner OpSigner
	baseURL  string
	listBits int
	status   statusState
	onChange func(url string)
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns an issuance service over its seams.
func New(store kv.Store, dids DIDs, keys Keys, tokens Tokens, sec Securer, holders HolderKeys, opts ...Option) *Service {
	s := &Service{kv: store, dids: dids, keys: keys, tokens: tokens, sec: sec, holders: holders, now: time.Now, terms: newTermCache(4096)}
	s.status.pools = map[string]*reserved{}
	for _, o := range opts {
		o(s)
	}
	return s
}

// signer is the tenant's current assertion key, read from the ledger.
func (s *Service) signer(ctx context.Context, t Tenant) (vc.Signer, error) {
	vm, keyID, err := s.dids.AssertionKey(ctx, t.DID)
	if err != nil {
		return vc.Signer{}, err
	}
	k, err := s.keys.Signer(ctx, keyID)
	if err != nil {
		return vc.Signer{}, err
	}
	return vc.Signer{Key: k, VerificationMethod: vm}, nil
}
