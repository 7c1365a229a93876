package auth

import (
	"context"
	"sync"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/memkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
)

func TestMain(m *testing.M) { testredis.Main(m) }

// TestBootstrapTogether: processes that start at once on one store without
// CREDENCE_ADMIN_TOKEN make one admin token between them, shown by one.
func TestBootstrapTogether(t *testing.T) {
	stores := map[string]func(t *testing.T) kv.Store{
		"memory": func(*testing.T) kv.Store { return memkv.New() },
		"redis":  func(t *testing.T) kv.Store { return rediskv.New(testredis.Client(t), testredis.Prefix(t)) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for round := range 20 {
				shared := open(t)
				const processes = 8
				shown := make([]string, processes)
				errs := make([]error, processes)
				var wg sync.WaitGroup
				for i := range processes {
					wg.Go(func() { shown[i], errs[i] = NewStore(shared).Bootstrap(ctx, "") })
				}
				wg.Wait()
				var token string
				for i := range processes {
					if errs[i] != nil {
						t.Fatalf("round %d: process %d: %v", round, i, errs[i])
					}
					if shown[i] != "" {
						if token != "" {
							t.Fatalf("round %d: two processes showed admin tokens", round)
						}
						token = shown[i]
					}
				}
				if token == "" {
					t.Fatalf("round %d: no process showed the admin token", round)
				}
				if tok, err := NewStore(shared).Authenticate(ctx, token); err != nil || !tok.Allows(ScopeAdmin) {
					t.Fatalf("round %d: the shown token: %+v, %v", round, tok, err)
				}
				n := 0
				if err := shared.List(ctx, bucket, "", func(string, []byte) error { n++; return nil }); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Fatalf("round %d: %d tokens stored, want the one shown", round, n)
				}
				if again, err := NewStore(shared).Bootstrap(ctx, ""); err != nil || again != "" {
					t.Fatalf("round %d: a later start showed %q, %v", round, again, err)
				}
			}
		})
	}
}
