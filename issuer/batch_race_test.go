package issuer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
)

// beforeWriteKV runs hook once, just before the first multi-key write to the
// inventory: in the window between a batch's existence checks and its write.
// The hook may write to the inventory itself.
type beforeWriteKV struct {
	kv.Store
	fired atomic.Bool
	hook  func()
}

func (s *beforeWriteKV) before(bucket string) {
	if bucket == bucketIssued && s.hook != nil && s.fired.CompareAndSwap(false, true) {
		s.hook()
	}
}

func (s *beforeWriteKV) PutMany(ctx context.Context, bucket string, items []kv.Item) error {
	s.before(bucket)
	return s.Store.PutMany(ctx, bucket, items)
}

func (s *beforeWriteKV) CreateMany(ctx context.Context, bucket string, items []kv.Item) error {
	s.before(bucket)
	return s.Store.CreateMany(ctx, bucket, items)
}

// newLedgerEnvOn is newLedgerEnv over store.
func newLedgerEnvOn(t testing.TB, store kv.Store) *ledgerEnv {
	t.Helper()
	l := newTestLedger(t)
	e := &ledgerEnv{log: l, dids: &ledgerDIDs{log: l, keys: map[string]ed25519.PrivateKey{}}, eng: secure.New(processor), now: time.Now().UTC()}
	e.keys = vc.DIDKeys{Resolver: did.NewResolver(did.WithMethod("credence", registry.DIDMethod{Log: l}, 0))}
	e.svc = New(store, e.dids, e.dids, &fakeTokens{}, e.eng, nil, WithStatusLists(l, e.dids, testBaseURL))
	return e
}

// feed yields reqs, then io.EOF.
func feed(reqs ...IssueRequest) func() (IssueRequest, int, error) {
	return func() (IssueRequest, int, error) {
		if len(reqs) == 0 {
			return IssueRequest{}, 0, io.EOF
		}
		r := reqs[0]
		reqs = reqs[1:]
		return r, 0, nil
	}
}

// collect runs a batch and returns its results in order.
func collect(t *testing.T, e *ledgerEnv, tn Tenant, reqs ...IssueRequest) ([]BatchResult, BatchSummary) {
	t.Helper()
	var got []BatchResult
	sum, err := e.svc.IssueBatch(context.Background(), tn.ID, feed(reqs...), func(r BatchResult) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("IssueBatch: %v", err)
	}
	return got, sum
}

func withID(r IssueRequest, id string) IssueRequest {
	r.Options.CredentialID = id
	return r
}

// TestBatchDoesNotOverwriteARacingIssue issues a credential with the id of a
// batch item after the batch checked the id and before it recorded its
// chunk, by a single issue or another batch: the batch item fails as a
// duplicate, the rest of its chunk is issued, the inventory keeps the
// credential that was returned first, and revoking the id revokes it.
func TestBatchDoesNotOverwriteARacingIssue(t *testing.T) {
	const (
		taken = "urn:uuid:11111111-2222-4333-8444-555555555555"
		other = "urn:uuid:11111111-2222-4333-8444-666666666666"
	)
	intruders := []struct {
		name  string
		issue func(t *testing.T, e *ledgerEnv, tn Tenant, req IssueRequest) *Issued
	}{
		{"single", func(t *testing.T, e *ledgerEnv, tn Tenant, req IssueRequest) *Issued { return issueOne(t, e, tn, req) }},
		{"batch", func(t *testing.T, e *ledgerEnv, tn Tenant, req IssueRequest) *Issued {
			got, sum := collect(t, e, tn, req)
			if sum.Issued != 1 {
				t.Fatalf("racing batch: %+v %v", sum, got[0].Err)
			}
			return got[0].Issued
		}},
	}
	for _, s := range sweepStores {
		for _, in := range intruders {
			t.Run(s.name+"/"+in.name, func(t *testing.T) {
				store, _ := s.open(t)
				hooked := &beforeWriteKV{Store: store}
				e := newLedgerEnvOn(t, hooked)
				tx := e.tenant(t, "tmb", "TX")
				g := synth.New(7)
				var first *Issued
				hooked.hook = func() { first = in.issue(t, e, tx, withID(synthLicense(g, "di"), taken)) }

				got, sum := collect(t, e, tx, synthLicense(g, "jwt"), withID(synthLicense(g, "di"), taken), withID(synthLicense(g, "jwt"), other))
				if first == nil {
					t.Fatal("the racing issue did not run")
				}
				if sum.Total != 3 || sum.Issued != 2 || sum.Failed != 1 || len(got) != 3 {
					t.Fatalf("summary %+v, %d results", sum, len(got))
				}
				if !errors.Is(got[1].Err, ErrExists) || got[1].Issued != nil {
					t.Fatalf("the item whose id was taken: %v, issued %v", got[1].Err, got[1].Issued != nil)
				}
				for _, i := range []int{0, 2} {
					if got[i].Err != nil {
						t.Fatalf("item %d: %v", i, got[i].Err)
					}
					if r, err := e.svc.Record(context.Background(), tx.ID, got[i].Issued.Record.ID); err != nil || r.Digest != got[i].Issued.Record.Digest {
						t.Errorf("item %d: record %+v %v, want digest %s", i, r, err, got[i].Issued.Record.Digest)
					}
				}
				rec, err := e.svc.Record(context.Background(), tx.ID, taken)
				if err != nil || rec.Digest != first.Record.Digest {
					t.Fatalf("the inventory holds %+v %v, want the first credential's record (digest %s)", rec, err, first.Record.Digest)
				}
				if _, err := e.svc.UpdateStatus(context.Background(), tx.ID, StatusRequest{CredentialID: taken, Action: ActionRevoke}); err != nil {
					t.Fatal(err)
				}
				if ref := refOf(t, first.Record, "revocation"); !listBit(t, e, ref.List, ref.Index) {
					t.Error("revoking the id did not revoke the credential returned first")
				}
			})
		}
	}
}
