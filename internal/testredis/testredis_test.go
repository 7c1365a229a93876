package testredis

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestAddr(t *testing.T) {
	addr := Addr(t)
	if env := os.Getenv(EnvAddr); env != "" {
		if addr != env {
			t.Fatalf("Addr = %q, want %s=%q", addr, EnvAddr, env)
		}
		return
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") || addr == "127.0.0.1:6379" {
		t.Fatalf("Addr = %q, want a private 127.0.0.1 port", addr)
	}
	if again := Addr(t); again != addr {
		t.Fatalf("second Addr = %q, want the same server %q", again, addr)
	}
	cfg, err := Client(t).ConfigGet(t.Context(), "*").Result()
	if err != nil {
		t.Fatalf("CONFIG GET: %v", err)
	}
	for k, want := range map[string]string{"save": "", "appendonly": "no", "bind": "127.0.0.1"} {
		if cfg[k] != want {
			t.Errorf("private server %s = %q, want %q", k, cfg[k], want)
		}
	}
}

func TestPrefix(t *testing.T) {
	c := Client(t)
	ctx := context.Background()
	var p1, p2 string
	t.Run("sub/test name{*?[", func(t *testing.T) {
		p1, p2 = Prefix(t), Prefix(t)
		if p1 == p2 {
			t.Fatalf("two Prefix calls gave %q", p1)
		}
		if strings.ContainsAny(p1, "{}*?[]\\ /") {
			t.Fatalf("Prefix %q has glob, hash-tag or separator characters", p1)
		}
		for _, k := range []string{p1 + "a", p1 + "b:c", p2 + "x"} {
			if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
	n, err := c.Exists(ctx, p1+"a", p1+"b:c", p2+"x").Result()
	if err != nil || n != 0 {
		t.Fatalf("%d test keys left after the test ended (err %v)", n, err)
	}
}

func TestStartWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := start()
	if !errors.Is(err, errNoRedis) {
		t.Fatalf("start without redis-server = %v", err)
	}
	want := "no Redis for tests: set REDIS_ADDR or install redis-server (apt-get install redis-server)"
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}

func TestStopKillsServer(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil && os.Getenv(EnvAddr) != "" {
		t.Logf("redis-server not on PATH; %s is set, nothing private to stop", EnvAddr)
		return
	}
	s, err := start()
	if err != nil {
		t.Fatal(err)
	}
	s.stop()
	select {
	case <-s.exited:
	default:
		t.Fatal("redis-server still running after stop")
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Fatalf("server dir %s not removed: %v", s.dir, err)
	}
}
