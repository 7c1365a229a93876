package server

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/trustapi"

	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/redisstore"
)

// ledgerIdentity is the registry's checkpoint key and origin, fixed on first start
// so checkpoints stay verifiable when the public URL changes.
type ledgerIdentity struct {
	KeyID  string `json:"keyId"`
	Origin string `json:"origin"`
}

// openLedger opens the registry store beside the service state (the same bbolt
// file, or the same Redis) and the Log that signs its checkpoints.
func (s *Server) openLedger(ctx context.Context, host string) error {
	st, err := s.ledgerStore(ctx)
	if err != nil {
		return err
	}
	id, err := s.ledgerIdentity(ctx, host)
	if err != nil {
		return err
	}
	k, err := s.keys.Key(ctx, id.KeyID)
	if err != nil {
		return fmt.Errorf("registry key: %w", err)
	}
	// Unseal the key now: a process started with another master key than
	// the one that sealed the shared store's keys fails here, not at its
	// first signature.
	if _, err := s.keys.Sign(ctx, id.KeyID, []byte("credence: master key check")); errors.Is(err, keys.ErrWrongMasterKey) {
		return fmt.Errorf("%w: every process on this store needs the master key that created it (CREDENCE_MASTER_KEY or --master-key-file)", err)
	} else if err != nil {
		return fmt.Errorf("registry key: %w", err)
	}
	pub, ok := k.Public.(ed25519.PublicKey)
	if !ok {
		return errors.New("registry key is not Ed25519")
	}
	signer, err := merkle.NewSigner(id.Origin, pub, func(msg []byte) ([]byte, error) {
		return s.keys.Sign(context.Background(), id.KeyID, msg)
	})
	if err != nil {
		return err
	}
	if s.LedgerKey, err = merkle.VerifierKey(id.Origin, pub); err != nil {
		return err
	}
	verifier, err := merkle.NewVerifier(s.LedgerKey)
	if err != nil {
		return err
	}
	gov, err := s.governance(ctx)
	if err != nil {
		return err
	}
	s.ledger = registry.NewLog(st, signer, verifier, registry.WithStewards(gov.stewards...), registry.WithRetiredStewards(gov.retired...),
		registry.WithWriteGate(s.writeGate), registry.WithCosignatures(cosignatures{s}))
	return nil
}

// governance is the trust registry's: the configured steward keys, or this
// server's own steward key (made on first start, kept in the key manager)
// when none are configured. The server signs accreditations when its own
// key is a steward.
type governance struct {
	stewards, retired []string
}

func (s *Server) governance(ctx context.Context) (governance, error) {
	own, err := s.stewardIdentity(ctx)
	if err != nil {
		return governance{}, err
	}
	g := governance{stewards: s.cfg.StewardList(), retired: s.cfg.RetiredStewardList()}
	if len(g.stewards) == 0 {
		g.stewards = []string{own.Multikey}
	}
	if err := registry.CheckStewards(g.stewards); err != nil {
		return governance{}, fmt.Errorf("--steward-keys: %w", err)
	}
	if err := registry.CheckStewards(g.retired); len(g.retired) > 0 && err != nil {
		return governance{}, fmt.Errorf("--retired-steward-keys: %w", err)
	}
	// Recorded for `credence registry verify --data`, which replays trust
	// ops against the governance the server ran with.
	rec, _ := json.Marshal(registry.Governance{Stewards: g.stewards, Retired: g.retired})
	if err := s.store.Put(ctx, "registry", "governance", rec); err != nil {
		return governance{}, err
	}
	if slices.Contains(g.stewards, own.Multikey) {
		k, err := s.keys.Signer(ctx, own.KeyID)
		if err != nil {
			return governance{}, fmt.Errorf("steward key: %w", err)
		}
		if s.steward, err = trustapi.NewKeySigner(k); err != nil {
			return governance{}, err
		}
	} else {
		s.log.Info("this server's steward key is not in --steward-keys: accreditations are made by the stewards' own tools")
	}
	return g, nil
}

// stewardIdentity is this server's steward key, made once and shared by
// every replica (the kv store is shared in the Redis mode).
type stewardIdentity struct {
	KeyID    string `json:"keyId"`
	Multikey string `json:"multikey"`
}

func (s *Server) stewardIdentity(ctx context.Context) (stewardIdentity, error) {
	return registryRecord(ctx, s.store, "steward", func() (stewardIdentity, error) {
		k, err := s.keys.Generate(ctx, keys.Ed25519, "trust registry steward")
		if err != nil {
			return stewardIdentity{}, err
		}
		mk, err := did.EncodeMultikey(k.Public)
		return stewardIdentity{KeyID: k.ID, Multikey: mk}, err
	})
}

func (s *Server) ledgerStore(ctx context.Context) (registry.Store, error) {
	if s.redis == nil {
		return boltstore.New(s.bolt.DB())
	}
	rs := redisstore.New(s.redis, s.cfg.RedisPrefix)
	if err := rs.Verify(ctx); err != nil {
		// The store now refuses writes; reads (and audits) still work.
		s.log.Error("registry in Redis is not consistent with its last signed checkpoint; refusing writes", "err", err)
	}
	if !rs.Durable() {
		s.log.Warn("Redis does not fsync before acknowledging (appendonly/appendfsync always is off): registry appends can be lost in a crash")
	}
	return rs, nil
}

func (s *Server) ledgerIdentity(ctx context.Context, host string) (ledgerIdentity, error) {
	return registryRecord(ctx, s.store, "identity", func() (ledgerIdentity, error) {
		k, err := s.keys.Generate(ctx, keys.Ed25519, "registry checkpoints")
		return ledgerIdentity{KeyID: k.ID, Origin: host + "/registry"}, err
	})
}

// registryRecord returns the JSON record under key in the "registry"
// bucket, made by mk when there is none yet (on first start); when another
// replica stores one first, that one wins (the kv store is shared in the
// Redis mode).
func registryRecord[T any](ctx context.Context, store kv.Store, key string, mk func() (T, error)) (T, error) {
	var rec T
	b, err := store.Get(ctx, "registry", key)
	if errors.Is(err, kv.ErrNotFound) {
		if rec, err = mk(); err != nil {
			return rec, err
		}
		b, _ = json.Marshal(rec)
		if err = store.Create(ctx, "registry", key, b); err == nil {
			return rec, nil
		}
		if errors.Is(err, kv.ErrExists) {
			b, err = store.Get(ctx, "registry", key)
		}
	}
	if err != nil {
		return rec, err
	}
	return rec, json.Unmarshal(b, &rec)
}
