package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/registryapi"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/mod/sumdb/note"
)

// Witnessing (c2sp.org/tlog-witness), both ways:
//
//   - --witnesses: this registry's checkpoints go to other organizations'
//     witnesses (witness.Publisher), in every process that appends to the
//     ledger (issuer and registry roles). GET /registry/checkpoint carries
//     the cosignatures collected for it, GET /registry/checkpoint/witnessed is
//     the latest checkpoint a quorum cosigned. When a witness holds a
//     checkpoint this registry signed that its tree does not extend (the
//     store rolled back or forked), the ledger refuses writes
//     (registry.WithWriteGate) until that witness cosigns again.
//   - --witness-logs: this server witnesses other registries' logs, with its
//     own Ed25519 key (made on first start in the key manager), at
//     POST /witness/add-checkpoint and GET /witness/{origin hash}/checkpoint
//     (registry role). A request is authorized by the log's signature on the
//     checkpoint: the witness cosigns only checkpoints signed by a configured
//     log key and consistent with the last one it cosigned for that log.

// witnessBucket holds the publisher's cosigned checkpoints ("cosigned" and
// "witnessed"), beside the registry's identity records.
const witnessBucket = "registry"

// writeGate is the ledger's write gate: a fault the publisher found or a
// process sharing the store stored, if any (witness.Publisher.Gate).
func (s *Server) writeGate(ctx context.Context) error {
	if s.publisher == nil {
		return nil
	}
	return s.publisher.Gate(ctx)
}

// cosignatures gives the ledger's proof bundles the publisher's
// cosignatures (none without --witnesses).
type cosignatures struct{ s *Server }

func (c cosignatures) Attach(ctx context.Context, signed []byte) ([]byte, error) {
	if c.s.publisher == nil {
		return signed, nil
	}
	return c.s.publisher.Attach(ctx, signed)
}

func (c cosignatures) Witnessed(ctx context.Context) ([]byte, error) {
	if c.s.publisher == nil {
		return nil, witness.ErrNotFound
	}
	return c.s.publisher.Witnessed(ctx)
}

// openPublisher builds the publisher of --witnesses (none configured: nil).
func (s *Server) openPublisher() error {
	ws := s.cfg.WitnessList()
	if len(ws) == 0 {
		return nil
	}
	targets := make([]witness.Target, len(ws))
	for i, w := range ws {
		v, err := witness.NewVerifier(w.Key)
		if err != nil {
			return fmt.Errorf("--witnesses: %s: %w", w.URL, err)
		}
		targets[i] = witness.Target{URL: w.URL, Verifier: v}
	}
	p, err := witness.NewPublisher(signingSource{s.ledger}, targets, s.cfg.Quorum(), s.store, witnessBucket,
		witness.WithPublishLogger(s.log), witness.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	if err != nil {
		return fmt.Errorf("--witnesses: %w", err)
	}
	s.publisher = p
	return nil
}

// signingSource is the ledger as the publisher's Source, whose Checkpoint
// signs one for the current size when the saved one is older: the append's
// event (the publisher's wake-up) comes before the appending process signs
// the new checkpoint, and that process may die in between.
type signingSource struct{ *registry.Log }

func (s signingSource) Checkpoint(ctx context.Context) ([]byte, error) { return s.SignCheckpoint(ctx) }

// runPublisher publishes every new checkpoint to the witnesses until ctx
// ends, when this process appends to the ledger.
func (s *Server) runPublisher(ctx context.Context) {
	if s.publisher == nil || !appends(s.cfg) {
		return
	}
	events := s.ledger.Subscribe(ctx)
	wake := make(chan struct{}, 1)
	go func() {
		for range events {
			select {
			case wake <- struct{}{}:
			default: // a round is already due
			}
		}
	}()
	go s.publisher.Run(ctx, wake)
}

// witnessIdentity is this server's witness key and name, fixed on first
// start (the name is part of the key's ID, which verifiers pin).
type witnessIdentity struct {
	KeyID string `json:"keyId"`
	Name  string `json:"name"`
}

func (s *Server) witnessIdentity(ctx context.Context, host string) (witnessIdentity, error) {
	return registryRecord(ctx, s.store, "witness", func() (witnessIdentity, error) {
		k, err := s.keys.Generate(ctx, keys.Ed25519, "witness cosignatures")
		return witnessIdentity{KeyID: k.ID, Name: host + "/witness"}, err
	})
}

// openWitness builds the witness of --witness-logs (none configured: nil).
func (s *Server) openWitness(ctx context.Context, host string) error {
	keys := s.cfg.WitnessLogList()
	if len(keys) == 0 {
		return nil
	}
	byOrigin := map[string][]note.Verifier{}
	var origins []string
	for _, k := range keys {
		if k == s.LedgerKey {
			return errors.New("--witness-logs: a registry cannot witness its own log")
		}
		v, err := merkle.NewVerifier(k)
		if err != nil {
			return fmt.Errorf("--witness-logs: %w", err)
		}
		if _, ok := byOrigin[v.Name()]; !ok {
			origins = append(origins, v.Name())
		}
		byOrigin[v.Name()] = append(byOrigin[v.Name()], v)
	}
	logs := make([]witness.Log, len(origins))
	for i, o := range origins {
		logs[i] = witness.Log{Origin: o, Keys: byOrigin[o]}
	}
	id, err := s.witnessIdentity(ctx, host)
	if err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	signer, err := s.keys.Signer(ctx, id.KeyID)
	if err != nil {
		return fmt.Errorf("witness key: %w", err)
	}
	cos, err := witness.NewCosigner(id.Name, signer)
	if err != nil {
		return err
	}
	if s.witness, err = witness.New(cos, witness.NewKVStore(s.store, ""), logs, witness.WithLogger(s.log)); err != nil {
		return fmt.Errorf("--witness-logs: %w", err)
	}
	s.WitnessKey = cos.VerifierKey()
	return nil
}

// witnessRoutes mounts the witness's endpoints under /witness (its body
// limit is witness.MaxRequestSize, which its handler enforces).
func (s *Server) witnessRoutes(e gin.IRoutes) {
	if s.witness == nil {
		return
	}
	h := gin.WrapH(http.StripPrefix("/witness", s.witness.Handler()))
	e.POST(WitnessAddRoute, h)
	e.GET("/witness/:hash/checkpoint", h)
}

// WitnessAddRoute is the witness's add-checkpoint endpoint.
const WitnessAddRoute = "/witness/add-checkpoint"

// registryWitnessing is what the registry API publishes about witnessing.
func (s *Server) registryWitnessing(a *registryapi.API) {
	a.WitnessKey = s.WitnessKey
	if s.publisher == nil {
		return
	}
	a.Cosigned, a.Quorum = s.publisher, s.publisher.Quorum()
	for _, w := range s.cfg.WitnessList() {
		a.Witnesses = append(a.Witnesses, registryapi.WitnessKey{URL: w.URL, VerifierKey: w.Key})
	}
}

// witnessCollector exports the publisher's view of each witness.
type witnessCollector struct {
	p                    *witness.Publisher
	size, success, fault *prometheus.Desc
}

func newWitnessCollector(p *witness.Publisher) *witnessCollector {
	l := []string{"witness"}
	return &witnessCollector{p: p,
		size:    prometheus.NewDesc("credence_ledger_witness_cosigned_size", "Tree size of the latest checkpoint of this ledger the witness cosigned.", l, nil),
		success: prometheus.NewDesc("credence_ledger_witness_last_success_timestamp_seconds", "When the witness last cosigned a checkpoint of this ledger (0: never since start).", l, nil),
		fault:   prometheus.NewDesc("credence_ledger_witness_fault", "1 while the witness holds proof that this ledger rolled back or forked (writes are refused).", l, nil)}
}

func (c *witnessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.size
	ch <- c.success
	ch <- c.fault
}

func (c *witnessCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c.p.Status() {
		var ts, fault float64
		if !t.LastSuccess.IsZero() {
			ts = float64(t.LastSuccess.UnixNano()) / 1e9
		}
		if t.Fault != nil {
			fault = 1
		}
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(t.Size), t.Name)
		ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, ts, t.Name)
		ch <- prometheus.MustNewConstMetric(c.fault, prometheus.GaugeValue, fault, t.Name)
	}
}

// appends reports whether this process's roles append to the ledger.
func appends(cfg config.Config) bool {
	return cfg.Serves(config.RoleIssuer) || cfg.Serves(config.RoleRegistry)
}
