package audit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/verifier/audit"
)

func TestMain(m *testing.M) { testredis.Main(m) }

// keySigner signs with an in-memory Ed25519 key.
type keySigner struct{ priv ed25519.PrivateKey }

func newSigner(seed string) keySigner {
	s := sha256.Sum256([]byte(seed))
	return keySigner{priv: ed25519.NewKeyFromSeed(s[:])}
}

func (k keySigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, msg), nil
}

func (k keySigner) Public() crypto.PublicKey { return k.priv.Public() }

// clock is a deterministic clock that advances a millisecond per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// drivers opens a fresh store of each driver.
var drivers = []struct {
	name string
	open func(t testing.TB) kv.Store
}{
	{"memkv", func(testing.TB) kv.Store { return memkv.New() }},
	{"boltkv", func(t testing.TB) kv.Store {
		s, err := boltkv.Open(filepath.Join(t.TempDir(), "audit.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"rediskv", func(t testing.TB) kv.Store {
		return rediskv.New(testredis.Client(t), testredis.Prefix(t))
	}},
}

// decision is a plausible entry of chain, distinguished by i.
func decision(chain string, i int) audit.Entry {
	return audit.Entry{
		Chain:     chain,
		Requester: "tok_0123456789abcdef",
		Request:   fmt.Sprintf("req-%d", i),
		Kind:      audit.KindPresentation,
		Credentials: []audit.CredentialRef{{
			ID:     fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i),
			Types:  []string{"VerifiableCredential", "MedicalLicenseCredential"},
			Issuer: "did:credence:zBoard",
			Digest: audit.Digest([]byte(fmt.Sprint("credential ", i))),
		}},
		Holder:   "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		Checks:   []audit.Check{{Name: "proof", Passed: true}, {Name: "status", Passed: i%3 != 0}},
		Verified: i%3 != 0,
		Decision: map[bool]string{true: "accept", false: "reject"}[i%3 != 0],
		Errors:   map[bool][]string{false: {"CREDENTIAL_REVOKED"}}[i%3 != 0],
	}
}

// appendN appends n decisions to chain.
func appendN(t testing.TB, l *audit.Log, chain string, n int) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for i := range n {
		e, err := l.Append(context.Background(), decision(chain, i))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// export returns the export of chain.
func export(t testing.TB, l *audit.Log, chain string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := l.Export(context.Background(), chain, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
