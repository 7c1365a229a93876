package rediskv_test

import (
	"context"
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/kvtest"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
)

func TestMain(m *testing.M) { testredis.Main(m) }

func TestConformance(t *testing.T) {
	client := testredis.Client(t)
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return rediskv.New(client, testredis.Prefix(t))
	})
}

func TestLayout(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	prefix := testredis.Prefix(t)
	s := rediskv.New(client, prefix)
	if err := s.Put(ctx, "tokens", "k:1", []byte("v")); err != nil {
		t.Fatal(err)
	}
	got, err := client.HGet(ctx, prefix+"{kv}:tokens", "k:1").Result()
	if err != nil || got != "v" {
		t.Fatalf("HGET %s{kv}:tokens k:1 = %q, %v", prefix, got, err)
	}
	if err := s.Delete(ctx, "tokens", "k:1"); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Exists(ctx, prefix+"{kv}:tokens").Result(); err != nil || n != 0 {
		t.Fatalf("emptied bucket hash still exists (%d, %v)", n, err)
	}
}

func TestPrefixesIsolate(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	a := rediskv.New(client, testredis.Prefix(t))
	b := rediskv.New(client, testredis.Prefix(t))
	if err := a.Put(ctx, "bucket", "k", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "bucket", "k"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("store with another prefix sees the key: %v", err)
	}
}

func TestCloseLeavesClientOpen(t *testing.T) {
	client := testredis.Client(t)
	s := rediskv.New(client, testredis.Prefix(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("client unusable after Store.Close: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	s := rediskv.New(client, "x:")
	ctx := context.Background()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping of an unreachable Redis succeeded")
	}
	if _, err := s.Get(ctx, "b", "k"); err == nil || errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get on an unreachable Redis = %v, want a connection error", err)
	}
	update := func([]byte) ([]byte, error) { return []byte("v"), nil }
	if err := s.Update(ctx, "b", "k", update); err == nil {
		t.Fatal("Update on an unreachable Redis succeeded")
	}
}
