package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/vctest"
)

// TestMain stops the private redis-server of the Redis-backed tests.
func TestMain(m *testing.M) { testredis.Main(m) }

var (
	engine   = secure.New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))
	resolver = vc.DIDKeys{Resolver: did.NewResolver()}
	testNow  = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// backend opens a fresh store of one driver.
type backend struct {
	name string
	open func(t testing.TB) kv.Store
}

var backends = []backend{
	{"bolt", func(t testing.TB) kv.Store {
		s, err := boltkv.Open(filepath.Join(t.TempDir(), "data.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"redis", func(t testing.TB) kv.Store {
		return rediskv.New(testredis.Client(t), testredis.Prefix(t))
	}},
}

// forEachBackend runs f once per driver.
func forEachBackend(t *testing.T, f func(t *testing.T, store kv.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

func newMaster(t testing.TB) keys.MasterKey {
	m, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newService is a wallet over store, verifying with a real engine at
// testNow (its clock starts there too).
func newService(t testing.TB, store kv.Store, master keys.MasterKey) (*Service, *clock) {
	t.Helper()
	km, err := keys.NewLocal(store, master)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: testNow}
	return &Service{
		Store: store, Keys: km, Master: master, Tokens: auth.NewStore(store), Now: clk.Now,
		Verify: func(ctx context.Context, in any) (*secure.Verified, error) {
			return engine.VerifyCredential(ctx, in, resolver, secure.VerifyOptions{Now: testNow})
		},
	}, clk
}

func mustHolder(t testing.TB, s *Service, in HolderInput) (Holder, string) {
	t.Helper()
	h, secret, err := s.CreateHolder(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return h, secret
}

// issuer is a did:key issuer (a medical board).
type issuer struct {
	did    string
	signer vc.Signer
}

func newIssuer(t testing.TB) issuer {
	t.Helper()
	d, s := vctest.KeySigner(t, nil)
	return issuer{did: d, signer: s}
}

// cred describes a credential to issue to a holder.
type cred struct {
	format secure.Format
	typ    string // healthcare type; "" MedicalLicenseCredential
	seed   uint64
	// subject is the credentialSubject id ("" the holder's DID); cnf the
	// SD-JWT holder key (nil the holder's).
	subject string
	noCnf   bool
	cnfOf   *Holder
}

// subject builds a realistic credentialSubject of typ.
func subject(typ string, seed uint64) map[string]any {
	p := synth.New(seed, synth.WithNow(testNow)).Provider()
	switch typ {
	case healthcare.BoardCertification:
		return p.BoardCertificationSubject()
	case healthcare.DEARegistration:
		return p.DEASubject("TX")
	}
	return p.LicenseSubject("TX")
}

// issue issues c to h and returns the JSON a holder receives.
func (iss issuer) issue(t testing.TB, s *Service, h Holder, c cred) json.RawMessage {
	t.Helper()
	if c.typ == "" {
		c.typ = healthcare.MedicalLicense
	}
	sub := subject(c.typ, c.seed)
	sub["id"] = h.DID
	if c.subject != "" {
		sub["id"] = c.subject
	}
	doc := map[string]any{
		"@context":          []any{vc.ContextV2, healthcare.ContextURL},
		"id":                fmt.Sprintf("urn:uuid:0b5d4e2c-8f6a-4d51-9b39-%012d", c.seed),
		"type":              []any{vc.TypeCredential, c.typ},
		"issuer":            iss.did,
		"validFrom":         "2025-01-01T00:00:00Z",
		"credentialSubject": sub,
	}
	o := secure.IssueOptions{Format: c.format, Now: testNow}
	if c.format == secure.SDJWT && !c.noCnf {
		ho := h
		if c.cnfOf != nil {
			ho = *c.cnfOf
		}
		k, err := s.Keys.Key(t.Context(), ho.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		o.HolderKey = k.Public
	}
	out, err := engine.Issue(t.Context(), doc, iss.signer, o)
	if err != nil {
		t.Fatalf("issue %s: %v", c.format, err)
	}
	b, err := vc.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// token is the compact token of an enveloped credential, as a JSON string.
func token(t testing.TB, env json.RawMessage) json.RawMessage {
	t.Helper()
	var m struct{ ID string }
	if err := json.Unmarshal(env, &m); err != nil {
		t.Fatal(err)
	}
	_, tok, ok := strings.Cut(m.ID, ",")
	if !ok {
		t.Fatalf("not enveloped: %s", env)
	}
	b, _ := json.Marshal(tok)
	return b
}
