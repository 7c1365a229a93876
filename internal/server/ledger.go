package server

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"

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
	s.ledger = registry.NewLog(st, signer, verifier)
	return nil
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
	var id ledgerIdentity
	b, err := s.store.Get(ctx, "registry", "identity")
	if err == nil {
		return id, json.Unmarshal(b, &id)
	}
	if !errors.Is(err, kv.ErrNotFound) {
		return id, err
	}
	k, err := s.keys.Generate(ctx, keys.Ed25519, "registry checkpoints")
	if err != nil {
		return id, err
	}
	id = ledgerIdentity{KeyID: k.ID, Origin: host + "/registry"}
	b, _ = json.Marshal(id)
	if err := s.store.Create(ctx, "registry", "identity", b); errors.Is(err, kv.ErrExists) {
		return s.ledgerIdentity(ctx, host) // another replica made it first
	} else if err != nil {
		return id, err
	}
	return id, nil
}
