// Package auth keeps API tokens. A token is a random secret shown once to its owner;
// the store keeps only its SHA-256 hash (the secret has 256 bits of entropy, so a
// slow hash adds nothing) with the subject and scopes it grants.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
)

// Scopes. ScopeAdmin grants every scope.
const (
	ScopeAdmin = "admin"
	prefix     = "crd_"
	bucket     = "tokens"
	settings   = "auth"
	bootKey    = "bootstrap-admin"
	// MinSecretLength is the shortest operator-chosen token accepted.
	MinSecretLength = 24
)

// ErrInvalidToken is returned for an unknown, revoked or malformed token.
var ErrInvalidToken = errors.New("invalid token")

// Token is what a secret grants. It never contains the secret.
type Token struct {
	ID      string    `json:"id"`
	Subject string    `json:"subject"`
	Scopes  []string  `json:"scopes"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
}

// Allows reports whether the token grants scope.
func (t Token) Allows(scope string) bool {
	return slices.Contains(t.Scopes, ScopeAdmin) || slices.Contains(t.Scopes, scope)
}

// Store keeps hashed tokens in a kv.Store.
type Store struct {
	kv  kv.Store
	now func() time.Time
}

// NewStore returns a token store over s.
func NewStore(s kv.Store) *Store { return &Store{kv: s, now: time.Now} }

func hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewSecret returns a fresh random token secret.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Issue creates a token for subject with scopes and returns its secret, which is not
// stored and cannot be recovered.
func (s *Store) Issue(ctx context.Context, subject, label string, scopes ...string) (string, Token, error) {
	secret := NewSecret()
	tok, err := s.put(ctx, secret, subject, label, scopes)
	return secret, tok, err
}

func (s *Store) put(ctx context.Context, secret, subject, label string, scopes []string) (Token, error) {
	h := hash(secret)
	tok := Token{ID: "tok_" + h[:16], Subject: subject, Scopes: scopes, Label: label, Created: s.now().UTC().Truncate(time.Second)}
	b, err := json.Marshal(tok)
	if err != nil {
		return Token{}, err
	}
	if err := s.kv.Create(ctx, bucket, h, b); err != nil {
		return Token{}, fmt.Errorf("failed to store token: %w", err)
	}
	return tok, nil
}

// Authenticate returns the token a secret grants, or ErrInvalidToken.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	if len(secret) < MinSecretLength || len(secret) > 512 {
		return Token{}, ErrInvalidToken
	}
	b, err := s.kv.Get(ctx, bucket, hash(secret))
	if errors.Is(err, kv.ErrNotFound) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("failed to read token: %w", err)
	}
	var tok Token
	if err := json.Unmarshal(b, &tok); err != nil {
		return Token{}, fmt.Errorf("failed to decode token: %w", err)
	}
	return tok, nil
}

// Revoke deletes the token with the given id.
func (s *Store) Revoke(ctx context.Context, id string) error {
	if !strings.HasPrefix(id, "tok_") || len(id) != 20 {
		return ErrInvalidToken
	}
	var key string
	err := s.kv.List(ctx, bucket, id[4:], func(k string, _ []byte) error { key = k; return nil })
	if err != nil {
		return err
	}
	if key == "" {
		return ErrInvalidToken
	}
	return s.kv.Delete(ctx, bucket, key)
}

// Bootstrap makes sure an admin token exists. When secret is set (from
// CREDENCE_ADMIN_TOKEN) it becomes the bootstrap admin token, replacing an earlier
// one. When it is empty and no admin token was ever made, a random one is created
// and returned so the caller can show it once; otherwise Bootstrap returns "".
func (s *Store) Bootstrap(ctx context.Context, secret string) (string, error) {
	prev, err := s.kv.Get(ctx, settings, bootKey)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return "", fmt.Errorf("failed to read bootstrap state: %w", err)
	}
	switch {
	case secret != "" && len(secret) < MinSecretLength:
		return "", fmt.Errorf("admin token must be at least %d characters", MinSecretLength)
	case secret != "" && string(prev) == hash(secret):
		return "", nil
	case secret == "" && prev != nil:
		return "", nil
	case secret == "":
		return s.mint(ctx)
	}
	if _, err := s.put(ctx, secret, "admin", "bootstrap admin", []string{ScopeAdmin}); err != nil && !errors.Is(err, kv.ErrExists) {
		return "", err
	}
	if err := s.kv.Put(ctx, settings, bootKey, []byte(hash(secret))); err != nil {
		return "", fmt.Errorf("failed to record bootstrap admin: %w", err)
	}
	if prev != nil && string(prev) != hash(secret) {
		if err := s.kv.Delete(ctx, bucket, string(prev)); err != nil && !errors.Is(err, kv.ErrNotFound) {
			return "", fmt.Errorf("failed to retire the previous admin token: %w", err)
		}
	}
	return "", nil
}

// mint makes the first admin token, once for every process sharing the
// store: of processes starting together on one Redis, the one whose
// bootstrap record is created first wins and shows its token; the others
// remove the token they made and show none, so exactly one admin token
// exists, the one bootstrap records.
func (s *Store) mint(ctx context.Context) (string, error) {
	secret := NewSecret()
	if _, err := s.put(ctx, secret, "admin", "bootstrap admin", []string{ScopeAdmin}); err != nil {
		return "", err
	}
	err := s.kv.Create(ctx, settings, bootKey, []byte(hash(secret)))
	if err == nil {
		return secret, nil
	}
	if derr := s.kv.Delete(ctx, bucket, hash(secret)); derr != nil && !errors.Is(derr, kv.ErrNotFound) {
		return "", fmt.Errorf("failed to remove an unused admin token: %w", derr)
	}
	if errors.Is(err, kv.ErrExists) {
		return "", nil // another process made it first
	}
	return "", fmt.Errorf("failed to record bootstrap admin: %w", err)
}
