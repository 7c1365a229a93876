// Package auth keeps API tokens. A token is a random secret shown once to its owner;
// the store keeps only a digest of it with the subject and scopes it grants. The
// digest is HMAC-SHA256 under a pepper (WithPepper: a key derived from the master
// key, which the store does not hold), so that someone who reads the store cannot
// test guesses of an operator-chosen admin token offline; random secrets have 256
// bits of entropy, so a slow hash would add nothing. Stores made before peppering
// keep plain SHA-256 digests, which are still accepted (see Store.Authenticate).
package auth

import (
	"context"
	"crypto/hmac"
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
	kv     kv.Store
	now    func() time.Time
	pepper []byte
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithPepper makes the store key tokens by HMAC-SHA256 under pepper (at
// least 32 bytes, secret, the same for every process sharing the store)
// instead of plain SHA-256.
func WithPepper(pepper []byte) StoreOption {
	return func(s *Store) { s.pepper = slices.Clone(pepper) }
}

// NewStore returns a token store over s.
func NewStore(s kv.Store, opts ...StoreOption) *Store {
	st := &Store{kv: s, now: time.Now}
	for _, o := range opts {
		o(st)
	}
	return st
}

// hash is the digest a secret is stored under.
func (s *Store) hash(secret string) string {
	if s.pepper == nil {
		return legacyHash(secret)
	}
	m := hmac.New(sha256.New, s.pepper)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// legacyHash is the digest of stores made without a pepper.
func legacyHash(secret string) string {
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
	h := s.hash(secret)
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

// Authenticate returns the token a secret grants, or ErrInvalidToken. With
// a pepper, a token stored before peppering (under its plain SHA-256
// digest) is still found: those are random secrets, not guessable.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	if len(secret) < MinSecretLength || len(secret) > 512 {
		return Token{}, ErrInvalidToken
	}
	b, err := s.kv.Get(ctx, bucket, s.hash(secret))
	if errors.Is(err, kv.ErrNotFound) && s.pepper != nil {
		b, err = s.kv.Get(ctx, bucket, legacyHash(secret))
	}
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
	case secret != "" && string(prev) == s.hash(secret):
		return "", nil
	case secret == "" && prev != nil:
		return "", nil
	case secret == "":
		return s.mint(ctx)
	}
	if _, err := s.put(ctx, secret, "admin", "bootstrap admin", []string{ScopeAdmin}); err != nil && !errors.Is(err, kv.ErrExists) {
		return "", err
	}
	if err := s.kv.Put(ctx, settings, bootKey, []byte(s.hash(secret))); err != nil {
		return "", fmt.Errorf("failed to record bootstrap admin: %w", err)
	}
	if prev != nil && string(prev) != s.hash(secret) {
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
	err := s.kv.Create(ctx, settings, bootKey, []byte(s.hash(secret)))
	if err == nil {
		return secret, nil
	}
	if derr := s.kv.Delete(ctx, bucket, s.hash(secret)); derr != nil && !errors.Is(derr, kv.ErrNotFound) {
		return "", fmt.Errorf("failed to remove an unused admin token: %w", derr)
	}
	if errors.Is(err, kv.ErrExists) {
		return "", nil // another process made it first
	}
	return "", fmt.Errorf("failed to record bootstrap admin: %w", err)
}
