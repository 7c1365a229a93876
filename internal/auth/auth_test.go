package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/internal/kv/memkv"
)

func TestIssueAuthenticateRevoke(t *testing.T) {
	ctx := context.Background()
	mem := memkv.New()
	s := NewStore(mem)
	secret, tok, err := s.Issue(ctx, "issuer:tx-board", "ci", "issuer")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.ID != tok.ID || !got.Allows("issuer") || got.Allows(ScopeAdmin) || got.Allows("wallet") {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "short", secret + "x", strings.Repeat("a", 600)} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Authenticate(%q) err = %v", bad, err)
		}
	}
	_ = mem.List(ctx, bucket, "", func(k string, v []byte) error {
		if strings.Contains(k+string(v), secret) || strings.Contains(k+string(v), secret[len(prefix):]) {
			t.Errorf("token secret stored in clear")
		}
		return nil
	})
	if err := s.Revoke(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("revoked token still valid: %v", err)
	}
	if err := s.Revoke(ctx, tok.ID); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("second revoke err = %v", err)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	s := NewStore(memkv.New())
	shown, err := s.Bootstrap(ctx, "")
	if err != nil || !strings.HasPrefix(shown, prefix) {
		t.Fatalf("first bootstrap = %q, %v", shown, err)
	}
	if tok, err := s.Authenticate(ctx, shown); err != nil || !tok.Allows("anything") {
		t.Fatalf("bootstrap token = %+v, %v", tok, err)
	}
	if again, err := s.Bootstrap(ctx, ""); err != nil || again != "" {
		t.Fatalf("second bootstrap printed a token again: %q, %v", again, err)
	}
	chosen := "operator-chosen-admin-token-0123456789"
	if out, err := s.Bootstrap(ctx, chosen); err != nil || out != "" {
		t.Fatalf("env bootstrap = %q, %v", out, err)
	}
	if _, err := s.Authenticate(ctx, chosen); err != nil {
		t.Fatalf("chosen token rejected: %v", err)
	}
	if _, err := s.Authenticate(ctx, shown); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("replaced bootstrap token still valid: %v", err)
	}
	if out, err := s.Bootstrap(ctx, chosen); err != nil || out != "" {
		t.Fatalf("idempotent env bootstrap = %q, %v", out, err)
	}
	if _, err := s.Bootstrap(ctx, "too-short"); err == nil {
		t.Errorf("short admin token accepted")
	}
}

// TestPepper: with a pepper, the stored digest is not the secret's plain
// SHA-256 (someone reading the store cannot test guesses of a chosen admin
// token without the pepper); tokens stored before peppering still work and
// can be revoked; a chosen admin token is moved to the peppered digest at
// the next bootstrap; another pepper finds no peppered token.
func TestPepper(t *testing.T) {
	ctx := context.Background()
	mem := memkv.New()
	plain := NewStore(mem)
	oldSecret, oldTok, err := plain.Issue(ctx, "verifier:mercy", "", "verifier")
	if err != nil {
		t.Fatal(err)
	}
	chosen := "operator-chosen-admin-token-0123456789"
	if _, err := plain.Bootstrap(ctx, chosen); err != nil {
		t.Fatal(err)
	}

	pepper := []byte(strings.Repeat("p", 32))
	s := NewStore(mem, WithPepper(pepper))
	if tok, err := s.Authenticate(ctx, oldSecret); err != nil || tok.ID != oldTok.ID {
		t.Errorf("a token stored before peppering: %+v, %v", tok, err)
	}
	if _, err := s.Bootstrap(ctx, chosen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, chosen); err != nil {
		t.Errorf("the chosen admin token after peppering: %v", err)
	}
	newSecret, newTok, err := s.Issue(ctx, "issuer:tx", "", "issuer")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{chosen, newSecret} {
		if _, err := mem.Get(ctx, bucket, legacyHash(secret)); err == nil {
			t.Errorf("%.8s… is stored under its plain SHA-256", secret)
		}
		if _, err := mem.Get(ctx, bucket, s.hash(secret)); err != nil {
			t.Errorf("%.8s… is not stored under its peppered digest: %v", secret, err)
		}
	}
	if _, err := plain.Authenticate(ctx, chosen); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("the admin token is still found under its plain digest: %v", err)
	}
	other := NewStore(mem, WithPepper([]byte(strings.Repeat("q", 32))))
	if _, err := other.Authenticate(ctx, newSecret); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("another pepper authenticated a peppered token: %v", err)
	}
	for _, id := range []string{oldTok.ID, newTok.ID} {
		if err := s.Revoke(ctx, id); err != nil {
			t.Errorf("Revoke(%s): %v", id, err)
		}
	}
	for _, secret := range []string{oldSecret, newSecret} {
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("revoked token still valid: %v", err)
		}
	}
}
