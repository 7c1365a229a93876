package issuer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/secure"
)

func TestMain(m *testing.M) { testredis.Main(m) }

// sweepStores opens two handles on one empty store of each driver, as two
// processes sharing it would.
var sweepStores = []struct {
	name string
	open func(t *testing.T) (kv.Store, kv.Store)
}{
	{"memkv", func(*testing.T) (kv.Store, kv.Store) { s := memkv.New(); return s, s }},
	{"boltkv", func(t *testing.T) (kv.Store, kv.Store) {
		s, err := boltkv.Open(filepath.Join(t.TempDir(), "kv.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s, s
	}},
	{"rediskv", func(t *testing.T) (kv.Store, kv.Store) {
		p := testredis.Prefix(t)
		return rediskv.New(testredis.Client(t), p), rediskv.New(testredis.Client(t), p)
	}},
}

// forEachStore runs fn on an offer env over each driver; other is a second
// Offers on the same store.
func forEachStore(t *testing.T, fn func(t *testing.T, e *offerEnv, other *Offers)) {
	for _, s := range sweepStores {
		t.Run(s.name, func(t *testing.T) {
			a, b := s.open(t)
			e := newOfferEnvOn(t, a)
			svc := New(b, e.dids, e.dids, e.tokens, e.eng, resolverKeys{e.resolver}, WithClock(func() time.Time { return e.now }))
			fn(t, e, NewOffers(svc, vc.DIDKeys{Resolver: e.resolver}, testBase, testNonceKey))
		})
	}
}

// newOfferEnvOn is newOfferEnv (the board tenant only) over store.
func newOfferEnvOn(t *testing.T, store kv.Store) *offerEnv {
	e := &env{dids: &fakeDIDs{keys: map[string]ed25519.PrivateKey{}}, tokens: &fakeTokens{},
		eng: secure.New(processor), resolver: did.NewResolver(), now: time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)}
	e.svc = New(store, e.dids, e.dids, e.tokens, e.eng, resolverKeys{e.resolver}, WithClock(func() time.Time { return e.now }))
	oe := &offerEnv{env: e, offers: NewOffers(e.svc, vc.DIDKeys{Resolver: e.resolver}, testBase, testNonceKey)}
	oe.board = e.tenant(t, TenantInput{Name: "Arizona Medical Board", Jurisdictions: []string{"AZ"}, Types: []string{"MedicalLicenseCredential"}})
	return oe
}

const sweepConfig = "MedicalLicenseCredential_di"

// redeem takes an offer through the flow with the c_nonce n.
func (e *offerEnv) redeem(t *testing.T, off *CreatedOffer, n string) error {
	t.Helper()
	h := newHolderKey(t)
	_, err := e.offers.Credential(context.Background(), e.board.ID, e.token(t, e.board, off), request(sweepConfig, e.proof(t, h, e.board, n, nil)))
	return err
}

func (e *offerEnv) sweep(t *testing.T, want SweepStats) {
	t.Helper()
	if got, err := e.offers.Sweep(context.Background(), e.now); err != nil || got != want {
		t.Fatalf("Sweep at %v = %+v, %v; want %+v", e.now, got, err, want)
	}
}

func TestOfferSweepEmpty(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *offerEnv, _ *Offers) {
		e.sweep(t, SweepStats{})
		e.now = e.now.Add(365 * 24 * time.Hour)
		e.sweep(t, SweepStats{})
		// A key another process deleted first is no error.
		if n, err := e.offers.deleteKeys(context.Background(), bucketNonces, []string{"gone"}); n != 0 || err != nil {
			t.Errorf("deleteKeys of a missing key = %d, %v", n, err)
		}
	})
}

func TestOfferSweepNonces(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *offerEnv, _ *Offers) {
		ctx := context.Background()
		in := template(t, "MedicalLicenseCredential", "di")
		in.ExpiresIn = int(MaxOfferTTL.Seconds())
		start := e.now
		n := e.nonce(t, e.board)
		if err := e.redeem(t, e.create(t, e.board, in), n); err != nil {
			t.Fatal(err)
		}
		if err := e.redeem(t, e.create(t, e.board, in), n); code(err) != CodeInvalidNonce || !strings.Contains(err.Error(), "already used") {
			t.Errorf("reuse before the sweep: %v", err)
		}
		// A later now than the service's clock is capped.
		if got, err := e.offers.Sweep(ctx, start.Add(2*OfferRetention)); got != (SweepStats{}) || err != nil {
			t.Errorf("Sweep ahead of the clock = %+v, %v", got, err)
		}
		last := start.Add(NonceTTL + ProofSkew + NonceRetention) // the marker's last moment
		for _, c := range []struct {
			at   time.Time
			want SweepStats
		}{
			{start, SweepStats{}},
			{start.Add(NonceTTL), SweepStats{Templates: 1}}, // of the offer of the refused reuse
			{last, SweepStats{}},
		} {
			e.now = c.at
			e.sweep(t, c.want)
			if _, err := e.svc.kv.Get(ctx, bucketNonces, n); err != nil {
				t.Fatalf("marker at %v: %v", c.at, err)
			}
		}
		e.now = last.Add(time.Second)
		e.sweep(t, SweepStats{Nonces: 1})
		if _, err := e.svc.kv.Get(ctx, bucketNonces, n); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("marker after the sweep: %v", err)
		}
		if err := e.redeem(t, e.create(t, e.board, in), n); code(err) != CodeInvalidNonce || !strings.Contains(err.Error(), "expired") {
			t.Errorf("reuse after the sweep: %v", err)
		}
	})
}

// TestOfferUseNonceAfterSweep: a use checked while the c_nonce was valid
// whose marker is written after it expired (and so after a sweep may have
// deleted the marker of an earlier use) is refused.
func TestOfferUseNonceAfterSweep(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	n := e.nonce(t, e.board)
	checked := e.now
	if err := e.offers.checkNonce(ctx, e.board.ID, n, checked); err != nil {
		t.Fatal(err)
	}
	e.now = checked.Add(NonceTTL + time.Second)
	if err := e.offers.useNonce(ctx, n, checked); code(err) != CodeInvalidNonce || !strings.Contains(err.Error(), "expired") {
		t.Errorf("use written after expiry: %v", err)
	}
	fresh := e.nonce(t, e.board)
	if err := e.offers.useNonce(ctx, fresh, e.now); err != nil {
		t.Errorf("use of a fresh c_nonce: %v", err)
	}
}

// sweepOffers are offers of every end state, made at the same time with
// the default TTL, and one that expires a day later.
type sweepOffers struct {
	redeemed, expired, burned, token, late *CreatedOffer
	accessToken                            string
}

func makeSweepOffers(t *testing.T, e *offerEnv) sweepOffers {
	ctx := context.Background()
	in := template(t, "MedicalLicenseCredential", "di")
	var s sweepOffers
	s.redeemed, s.expired, s.token = e.create(t, e.board, in), e.create(t, e.board, in), e.create(t, e.board, in)
	if err := e.redeem(t, s.redeemed, e.nonce(t, e.board)); err != nil {
		t.Fatal(err)
	}
	s.accessToken = e.token(t, e.board, s.token)
	withTx := in
	withTx.TxCode = &TxCodeInput{}
	s.burned = e.create(t, e.board, withTx)
	req := TokenRequest{Code: s.burned.Offer.Grants[GrantPreAuthorized].Code, TxCode: wrongDigits(s.burned.TxCode), HasTxCode: true}
	for range MaxTxAttempts {
		_, _ = e.offers.Token(ctx, e.board.ID, req)
	}
	late := in
	late.ExpiresIn = int(MaxOfferTTL.Seconds())
	s.late = e.create(t, e.board, late)
	return s
}

func (e *offerEnv) states(t *testing.T, offers ...*CreatedOffer) []string {
	t.Helper()
	var out []string
	for _, off := range offers {
		st, err := e.offers.Status(context.Background(), e.board.ID, off.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			out = append(out, "not found")
		case err != nil:
			t.Fatalf("Status: %v", err)
		default:
			out = append(out, st.State)
		}
	}
	return out
}

func (e *offerEnv) sealed(t *testing.T, off *CreatedOffer) bool {
	t.Helper()
	rec, err := e.offers.load(context.Background(), off.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Sealed != nil
}

func TestOfferSweepRetention(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *offerEnv, other *Offers) {
		ctx := context.Background()
		start := e.now
		s := makeSweepOffers(t, e)
		all := []*CreatedOffer{s.redeemed, s.expired, s.burned, s.token, s.late}
		want := []string{stateRedeemed, stateExpired, stateBurned, stateExpired, stateOffered}

		// Once expired, an offer's template goes; its record stays.
		e.now = start.Add(DefaultOfferTTL)
		e.sweep(t, SweepStats{Templates: 2}) // expired and token
		if got := e.states(t, all...); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("states after the first sweep: %v, want %v", got, want)
		}
		if e.sealed(t, s.expired) || e.sealed(t, s.token) || !e.sealed(t, s.late) {
			t.Error("expected the templates of the expired and token offers erased, the late one's kept")
		}
		e.token(t, e.board, s.late) // a live offer still works

		// Records stay OfferRetention after they ended.
		e.now = start.Add(DefaultOfferTTL + OfferRetention)
		e.sweep(t, SweepStats{Nonces: 1, Templates: 1}) // the redeemed offer's c_nonce; late, whose token expired
		want[4] = stateExpired
		if got := e.states(t, all...); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("states inside retention: %v, want %v", got, want)
		}

		// Then they go, whichever process sweeps; late ended a day later.
		e.now = e.now.Add(time.Second)
		var wg sync.WaitGroup
		var got [2]SweepStats
		for i, o := range []*Offers{e.offers, other} {
			wg.Go(func() {
				var err error
				if got[i], err = o.Sweep(ctx, e.now); err != nil {
					t.Errorf("concurrent Sweep: %v", err)
				}
			})
		}
		wg.Wait()
		if n := got[0].Offers + got[1].Offers; n != 4 {
			t.Errorf("concurrent sweeps deleted %d offers (%+v), want 4", n, got)
		}
		want = []string{"not found", "not found", "not found", "not found", stateExpired}
		if got := e.states(t, all...); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("states past retention: %v, want %v", got, want)
		}
		for _, off := range all[:4] {
			if _, err := e.svc.kv.Get(ctx, bucketOffers, off.ID); !errors.Is(err, kv.ErrNotFound) {
				t.Errorf("offer %s still stored: %v", off.ID, err)
			}
		}
		e.checkGone(t, s)
		e.now = start.Add(MaxOfferTTL + OfferRetention + time.Second)
		e.sweep(t, SweepStats{Offers: 1})
		e.sweep(t, SweepStats{})
	})
}

// checkGone: the code, reference and access token of swept offers are refused.
func (e *offerEnv) checkGone(t *testing.T, s sweepOffers) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.offers.Token(ctx, e.board.ID, TokenRequest{Code: s.expired.Offer.Grants[GrantPreAuthorized].Code}); code(err) != CodeInvalidGrant {
		t.Errorf("code of a swept offer: %v", err)
	}
	u, _ := url.Parse(s.expired.OfferURI)
	if _, err := e.offers.Offer(ctx, e.board.ID, u.Query().Get("ref")); !errors.Is(err, ErrNotFound) {
		t.Errorf("reference of a swept offer: %v", err)
	}
	h := newHolderKey(t)
	if _, err := e.offers.Credential(ctx, e.board.ID, s.accessToken, request(sweepConfig, e.proof(t, h, e.board, e.nonce(t, e.board), nil))); code(err) != CodeInvalidToken {
		t.Errorf("access token of a swept offer: %v", err)
	}
}

// TestOfferNonceKeyNotStored: c_nonces are MACed under the key NewOffers is
// given, never under one kept in the store; DropStoredNonceKey deletes the
// plaintext key earlier versions stored, and a key of the wrong size is an
// error, not a weak MAC.
func TestOfferNonceKeyNotStored(t *testing.T) {
	e := newOfferEnv(t)
	ctx := context.Background()
	if err := e.svc.kv.Create(ctx, bucketOID4VCI, legacyNonceKey, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	e.nonce(t, e.board)
	if err := e.offers.DropStoredNonceKey(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.kv.Get(ctx, bucketOID4VCI, legacyNonceKey); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("the stored c_nonce key is still there: %v", err)
	}
	e.nonce(t, e.board)
	if _, err := e.svc.kv.Get(ctx, bucketOID4VCI, legacyNonceKey); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Nonce stored a key: %v", err)
	}
	if err := e.offers.DropStoredNonceKey(ctx); err != nil {
		t.Fatalf("nothing to drop: %v", err)
	}
	for _, k := range [][]byte{nil, make([]byte, NonceKeyBytes-1)} {
		if _, err := NewOffers(e.svc, nil, testBase, k).Nonce(ctx, e.board.ID); err == nil || !strings.Contains(err.Error(), "c_nonce key") {
			t.Errorf("a %d-byte key: %v", len(k), err)
		}
	}
}
