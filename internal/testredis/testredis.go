// Package testredis gives tests a real Redis.
//
// Addr returns the REDIS_ADDR environment variable when it is set. Otherwise
// it starts one private redis-server for the whole test process, on a free
// 127.0.0.1 port with persistence off and a temporary --dir, and waits until
// it answers PING. Without REDIS_ADDR and without redis-server on PATH, tests
// fail (they are never skipped).
//
// A helper cannot stop the server when the process exits, so every package
// using testredis must stop it from TestMain:
//
//	func TestMain(m *testing.M) { testredis.Main(m) }
//
// As a backstop on Linux the server is also killed when the test process dies
// (for example on a panic or a go test timeout, when TestMain never returns);
// only its empty temporary directory is then left behind.
//
// Tests share the server (and, with REDIS_ADDR, possibly other packages' test
// processes), so nothing is ever flushed globally: use Prefix for a unique
// per-test key prefix whose keys are deleted when the test ends.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvAddr names the environment variable with the address of an existing Redis.
const EnvAddr = "REDIS_ADDR"

const (
	startTimeout = 10 * time.Second
	startTries   = 3
)

var (
	errNoRedis = errors.New("no Redis for tests: set REDIS_ADDR or install redis-server (apt-get install redis-server)")
	errStopped = errors.New("testredis: the private redis-server was already stopped by Cleanup")
)

var (
	startOnce sync.Once
	mu        sync.Mutex // guards srv and srvErr
	srv       *server
	srvErr    error
)

// Addr returns the host:port of a Redis for tests, starting the private
// server on first use when REDIS_ADDR is unset. It fails the test if there is
// no Redis.
func Addr(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvAddr); addr != "" {
		return addr
	}
	addr, err := privateAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// privateAddr starts the private server once and returns its address.
func privateAddr() (string, error) {
	startOnce.Do(func() {
		s, err := start()
		mu.Lock()
		srv, srvErr = s, err
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	if srvErr != nil {
		return "", srvErr
	}
	return srv.addr, nil
}

// Client returns a client for Addr, checked with PING and closed when the
// test ends. It uses logical DB 0: isolate keys with Prefix.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	addr := Addr(t)
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("failed to ping Redis at %s: %v", addr, err)
	}
	return c
}

// Prefix returns a key prefix unique to this test and this call, such as
// "test:TestX_sub:1f2e3d4c5b6a:", and deletes every key starting with it
// when the test ends. It contains no glob or hash-tag characters.
func Prefix(t testing.TB) string {
	t.Helper()
	c := Client(t)
	p := "test:" + sanitize(t.Name()) + ":" + randomHex(6) + ":"
	t.Cleanup(func() {
		if err := deletePrefix(context.Background(), c, p); err != nil {
			t.Errorf("failed to delete test keys %s*: %v", p, err)
		}
	})
	return p
}

// sanitize keeps a test name's letters, digits, '-' and '_' (others become
// '_'), cut to 64 bytes.
func sanitize(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// deletePrefix deletes the keys starting with p, which must contain no glob
// characters.
func deletePrefix(ctx context.Context, c *redis.Client, p string) error {
	iter := c.Scan(ctx, 0, p+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("failed to scan: %w", err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		if err := c.Unlink(ctx, keys[:n]...).Err(); err != nil {
			return fmt.Errorf("failed to unlink: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

// Main runs the tests, stops the private server and exits with their status.
// Call it from TestMain in every package that uses testredis.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer Cleanup()
	return m.Run()
}

// Cleanup stops the private redis-server, if one was started, and removes its
// directory. Later calls to Addr fail. It is safe to call more than once and
// does nothing to a Redis given by REDIS_ADDR.
func Cleanup() {
	startOnce.Do(func() {
		mu.Lock()
		srvErr = errStopped
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	if srv != nil {
		srv.stop()
		srv, srvErr = nil, errStopped
	}
}

// server is a running private redis-server.
type server struct {
	addr    string
	dir     string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been reaped
	release chan struct{} // closed to let the starting thread exit
}

// start launches the private server, retrying on another port if the chosen
// one was taken in the meantime.
func start() (*server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errNoRedis
	}
	var lastErr error
	for range startTries {
		dir, err := os.MkdirTemp("", "testredis-")
		if err != nil {
			return nil, fmt.Errorf("failed to create redis-server dir: %w", err)
		}
		s, err := launch(bin, dir)
		if err == nil {
			return s, nil
		}
		_ = os.RemoveAll(dir)
		lastErr = err
	}
	return nil, lastErr
}

// launch starts redis-server in dir on a free port and waits for PING.
func launch(bin, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		return nil, fmt.Errorf("failed to create redis-server log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--save", "", "--appendonly", "no",
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	setParentDeathSignal(cmd)
	s := &server{
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:     dir,
		cmd:     cmd,
		exited:  make(chan struct{}),
		release: make(chan struct{}),
	}
	if err := s.startProcess(); err != nil {
		return nil, fmt.Errorf("failed to start redis-server: %w", err)
	}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(); err != nil {
		s.stop()
		return nil, fmt.Errorf("failed to start redis-server on %s: %w\n%s", s.addr, err, s.log())
	}
	return s, nil
}

// startProcess starts the process from an OS thread that stays alive until
// stop: the parent-death signal is tied to the starting thread, not to the
// process, so that thread must not exit while the server is wanted.
func (s *server) startProcess() error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
		err := s.cmd.Start()
		started <- err
		if err == nil {
			<-s.release
		}
	}()
	return <-started
}

// waitReady polls PING until the server answers, exits, or startTimeout.
func (s *server) waitReady() error {
	c := redis.NewClient(&redis.Options{Addr: s.addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 500 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("redis-server exited: %s", s.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PING answer within %v: %w", startTimeout, err)
		}
	}
}

// log returns the server's output, for error messages.
func (s *server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return strings.TrimSpace(string(b))
}

// stop kills the server, reaps it and removes its directory.
func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
	}
	close(s.release)
	_ = os.RemoveAll(s.dir)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("failed to find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
