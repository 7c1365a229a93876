package witness

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/credence/credence/registry/merkle"
)

// liar is a witness that answers every checkpoint with status (409 with
// size, 422, or 200 with its cosignature of another checkpoint) and serves
// checkpoint (404 if nil) to monitors.
type liar struct {
	status     int
	size       uint64
	checkpoint []byte
}

func (l liar) start(t *testing.T) Target {
	t.Helper()
	cos := newCosigner(t, "witness.credence.test/liar")
	wrongCosig, err := cos.Cosign(merkle.Checkpoint{Origin: ledgerOrigin, Size: 1, Root: emptyRoot}.Marshal(), 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && l.status == http.StatusConflict:
			rw.Header().Set("Content-Type", ContentTypeSize)
			rw.WriteHeader(http.StatusConflict)
			_, _ = rw.Write([]byte(strconv.FormatUint(l.size, 10) + "\n"))
		case r.Method == http.MethodPost && l.status == http.StatusOK:
			_, _ = rw.Write(wrongCosig)
		case r.Method == http.MethodPost:
			http.Error(rw, "no", l.status)
		case l.checkpoint == nil:
			http.NotFound(rw, r)
		default:
			_, _ = rw.Write(l.checkpoint)
		}
	}))
	t.Cleanup(srv.Close)
	return Target{URL: srv.URL, Verifier: cos.Verifier()}
}

// staleSource always serves one old checkpoint of a log that grew since.
type staleSource struct {
	*swapSource
	stale []byte
}

func (s staleSource) Checkpoint(context.Context) ([]byte, error) { return s.stale, nil }

// TestPublishNoFaultWithoutProof: a witness's word is never a fault. Liars
// that claim a larger tree or a bad proof, but cannot show a checkpoint
// signed by the log that the log's tree does not extend, get a LastError;
// the honest witnesses still make the quorum. A log whose stored checkpoint
// lags behind its tree is no rollback either.
func TestPublishNoFaultWithoutProof(t *testing.T) {
	k := newLedgerKey(t)
	ledger := grow(t, newLedger(t, k), 3)
	older := checkpointOf(t, ledger)
	grow(t, ledger, 2)
	current := checkpointOf(t, ledger)
	impostor := newLedgerKey(t) // same origin and key name, another key
	forged := func(size uint64) []byte {
		signed, err := merkle.Sign(merkle.Checkpoint{Origin: ledgerOrigin, Size: size, Root: sha256.Sum256([]byte("x"))}, impostor.signer)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	const huge = 1 << 40
	for name, l := range map[string]liar{
		"409, forged larger checkpoint":     {http.StatusConflict, huge, forged(huge)},
		"409, no checkpoint":                {http.StatusConflict, huge, nil},
		"409, the log's older checkpoint":   {http.StatusConflict, huge, older},
		"422, the log's older checkpoint":   {http.StatusUnprocessableEntity, 0, older},
		"422, the log's current checkpoint": {http.StatusUnprocessableEntity, 0, current},
		"422, forged fork":                  {http.StatusUnprocessableEntity, 0, forged(5)},
		"422, garbage":                      {http.StatusUnprocessableEntity, 0, []byte("not a checkpoint\n")},
		"200, a cosignature of another one": {http.StatusOK, 0, nil},
	} {
		t.Run(name, func(t *testing.T) {
			targets := append(targetsOf(startWitnesses(t, k, 2)), l.start(t))
			p := newPublisher(t, ledger, targets, 2, nil)
			for range 2 { // the second round starts from what the liar claimed
				if r := publish(t, p); !r.Witnessed || r.Failed[targets[2].Verifier.Name()] == nil {
					t.Fatalf("round: witnessed %v, failed %v", r.Witnessed, r.Failed)
				}
			}
			wantNoFault(t, p)
			if st := p.Status(); st[2].LastError == "" {
				t.Errorf("the liar's status has no error: %+v", st[2])
			}
		})
	}

	t.Run("stale checkpoint", func(t *testing.T) {
		ws := startWitnesses(t, k, 1)
		if r := publish(t, newPublisher(t, ledger, targetsOf(ws), 1, nil)); !r.Witnessed {
			t.Fatal(r.Failed)
		}
		p := newPublisher(t, staleSource{newSwapSource(ledger), older}, targetsOf(ws), 1, nil)
		r := publish(t, p)
		wantNoFault(t, p)
		if err := r.Failed[ws[0].Cosigner().Name()]; err == nil || !strings.Contains(err.Error(), "lags behind its tree") {
			t.Errorf("round failure = %v, want the checkpoint lagging", err)
		}
	})
}
