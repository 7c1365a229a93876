package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/redisstore"
	"github.com/credence/credence/registry/storetest"
)

func TestMain(m *testing.M) { testredis.Main(m) }

func TestConformance(t *testing.T) {
	client := testredis.Client(t)
	storetest.Run(t, func(t *testing.T) registry.Store {
		return redisstore.New(client, testredis.Prefix(t))
	})
}

// appendAll appends leaves in order, each on its subject's current head.
func appendAll(t testing.TB, s registry.Store, leaves []registry.Leaf) {
	t.Helper()
	for _, l := range leaves {
		h, err := s.Head(t.Context(), l.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(t.Context(), h, l); err != nil {
			t.Fatalf("Append(%s seq %d): %v", l.Subject, l.Seq, err)
		}
	}
}

func rootHex(t testing.TB, s registry.Store, n uint64) string {
	t.Helper()
	h, err := tlog.TreeHash(int64(n), registry.HashReader(t.Context(), s))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h[:])
}

// TestLayout pins the documented key layout.
func TestLayout(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	prefix := testredis.Prefix(t)
	s := redisstore.New(client, prefix)
	l := registry.Leaf{Subject: "did:credence:a", Seq: 1, Hash: "h1", Data: []byte("op\n1")}
	if _, err := s.Append(ctx, registry.Head{}, l); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, 1, []byte("signed")); err != nil {
		t.Fatal(err)
	}
	base := prefix + "{" + prefix + "log}:"
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, base) {
			t.Errorf("key %q is not under %q (one hash tag per log)", k, base)
		}
	}
	if len(keys) != 6 {
		t.Errorf("keys = %q, want size, leaves, hashes, heads, one history and checkpoint", keys)
	}
	check := func(what string, got string, err error, want string) {
		t.Helper()
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", what, got, err, want)
		}
	}
	got, err := client.Get(ctx, base+"size").Result()
	check("size", got, err, "1")
	got, err = client.HGet(ctx, base+"leaves", "0").Result()
	check("leaves[0]", got, err, `{"index":0,"subject":"did:credence:a","seq":1,"hash":"h1"}`+"\nop\n1")
	h := tlog.RecordHash(l.Data)
	got, err = client.HGet(ctx, base+"hashes", "0").Result()
	check("hashes[0]", got, err, string(h[:]))
	got, err = client.HGet(ctx, base+"heads", l.Subject).Result()
	check("heads[subject]", got, err, "1 h1")
	hist, err := client.LRange(ctx, base+"history:"+l.Subject, 0, -1).Result()
	check("history", strings.Join(hist, ","), err, "0")
	cp, err := client.HGetAll(ctx, base+"checkpoint").Result()
	if err != nil || cp["size"] != "1" || cp["root"] != string(h[:]) || cp["signed"] != "signed" {
		t.Errorf("checkpoint = %q, %v", cp, err)
	}
}

// TestReplicasShareOneLog runs two Stores (two clients, as two server
// replicas would) on one prefix, appending concurrently: distinct subjects
// all land, a contested subject has one winner, and the tree is consistent.
func TestReplicasShareOneLog(t *testing.T) {
	ctx := t.Context()
	prefix := testredis.Prefix(t)
	replicas := []*redisstore.Store{
		redisstore.New(testredis.Client(t), prefix),
		redisstore.New(testredis.Client(t), prefix),
	}
	const workers, per = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers+2*8)
	for r, s := range replicas {
		for w := range workers {
			wg.Go(func() {
				subject := fmt.Sprintf("did:credence:r%d-w%d", r, w)
				var head registry.Head
				for seq := uint64(1); seq <= per; seq++ {
					l := registry.Leaf{Subject: subject, Seq: seq, Hash: fmt.Sprint(seq), Data: fmt.Appendf(nil, "%s#%d", subject, seq)}
					if _, err := s.Append(ctx, head, l); err != nil {
						errs <- fmt.Errorf("%s seq %d: %w", subject, seq, err)
						return
					}
					head = registry.Head{Seq: seq, Hash: l.Hash}
				}
			})
		}
	}
	// Both replicas race for seq 1 of one subject, 8 times each.
	var (
		winMu sync.Mutex
		wins  int
	)
	for r, s := range replicas {
		for i := range 8 {
			wg.Go(func() {
				l := registry.Leaf{Subject: "did:credence:contested", Seq: 1, Hash: fmt.Sprintf("r%d-%d", r, i), Data: []byte("x")}
				_, err := s.Append(ctx, registry.Head{}, l)
				switch {
				case err == nil:
					winMu.Lock()
					wins++
					winMu.Unlock()
				case !errors.Is(err, registry.ErrConflict):
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if wins != 1 {
		t.Fatalf("%d racers appended seq 1 of the contested subject, want 1", wins)
	}
	want := uint64(2*workers*per + 1)
	for _, s := range replicas {
		if n, err := s.Size(ctx); err != nil || n != want {
			t.Fatalf("Size = %d, %v; want %d", n, err, want)
		}
	}
	root := storetest.CheckTree(t, replicas[0])
	if got := rootHex(t, replicas[1], want); got != fmt.Sprintf("%x", root[:]) {
		t.Fatalf("replicas disagree on the root")
	}
	for r := range replicas {
		for w := range workers {
			subject := fmt.Sprintf("did:credence:r%d-w%d", r, w)
			hist, err := replicas[1-r].History(ctx, subject)
			if err != nil || len(hist) != per {
				t.Fatalf("History(%s) = %v, %v", subject, hist, err)
			}
			for i, idx := range hist {
				l, err := replicas[0].Leaf(ctx, idx)
				if err != nil || l.Subject != subject || l.Seq != uint64(i+1) {
					t.Fatalf("Leaf(%d) = %+v, %v; want %s seq %d", idx, l, err, subject, i+1)
				}
			}
		}
	}
	// Both replicas keep appending after the race.
	for i, s := range replicas {
		subject := fmt.Sprintf("did:credence:after-%d", i)
		if _, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: subject, Seq: 1, Data: []byte(subject)}); err != nil {
			t.Fatal(err)
		}
	}
	storetest.CheckTree(t, replicas[1])
}

func TestInconsistentTreeIsReadOnly(t *testing.T) {
	cases := []struct {
		name string
		fn   func(ctx context.Context, c *redis.Client, base string) error
	}{
		{"corrupted hash", func(ctx context.Context, c *redis.Client, base string) error {
			// The level-3 hash of leaves 0..7, which the root at size 10 reads.
			idx := strconv.FormatInt(tlog.StoredHashIndex(3, 0), 10)
			return c.HSet(ctx, base+"hashes", idx, make([]byte, 32)).Err()
		}},
		{"missing hash", func(ctx context.Context, c *redis.Client, base string) error {
			return c.HDel(ctx, base+"hashes", strconv.FormatInt(tlog.StoredHashIndex(1, 4), 10)).Err()
		}},
		{"shrunk tree", func(ctx context.Context, c *redis.Client, base string) error {
			return c.Set(ctx, base+"size", "9", 0).Err()
		}},
		{"lost tree", func(ctx context.Context, c *redis.Client, base string) error {
			return c.Del(ctx, base+"size", base+"hashes", base+"leaves").Err()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			client := testredis.Client(t)
			prefix := testredis.Prefix(t)
			s := redisstore.New(client, prefix)
			appendAll(t, s, storetest.DeterministicLeaves(10, 3))
			if err := s.SaveCheckpoint(ctx, 10, []byte("cp")); err != nil {
				t.Fatal(err)
			}
			if err := s.Verify(ctx); err != nil {
				t.Fatalf("Verify of a sound tree: %v", err)
			}
			if err := tc.fn(ctx, client, prefix+"{"+prefix+"log}:"); err != nil {
				t.Fatal(err)
			}

			if err := s.Verify(ctx); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("Verify = %v, want ErrReadOnly", err)
			}
			l := registry.Leaf{Subject: "new", Seq: 1, Data: []byte("x")}
			if _, err := s.Append(ctx, registry.Head{}, l); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("Append after a failed Verify = %v, want ErrReadOnly", err)
			}
			if err := s.SaveCheckpoint(ctx, 9, []byte("cp")); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("SaveCheckpoint after a failed Verify = %v, want ErrReadOnly", err)
			}
			// A fresh Store (a restarted server) refuses on first use.
			fresh := redisstore.New(client, prefix)
			if _, err := fresh.Append(ctx, registry.Head{}, l); !errors.Is(err, registry.ErrReadOnly) {
				t.Fatalf("first Append of a fresh Store = %v, want ErrReadOnly", err)
			}
			if n, _, err := fresh.Checkpoint(ctx); err != nil || n != 10 {
				t.Fatalf("Checkpoint on a read-only store = %d, %v", n, err)
			}
		})
	}
}

func TestVerifyRestoresWrites(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	prefix := testredis.Prefix(t)
	s := redisstore.New(client, prefix)
	appendAll(t, s, storetest.DeterministicLeaves(10, 3))
	if err := s.SaveCheckpoint(ctx, 10, []byte("cp")); err != nil {
		t.Fatal(err)
	}
	key := prefix + "{" + prefix + "log}:hashes"
	field := strconv.FormatInt(tlog.StoredHashIndex(3, 0), 10)
	good, err := client.HGet(ctx, key, field).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := client.HSet(ctx, key, field, make([]byte, 32)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx); !errors.Is(err, registry.ErrReadOnly) {
		t.Fatalf("Verify = %v, want ErrReadOnly", err)
	}
	if err := client.HSet(ctx, key, field, good).Err(); err != nil { // repaired
		t.Fatal(err)
	}
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("Verify after repair: %v", err)
	}
	if _, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: "new", Seq: 1}); err != nil {
		t.Fatalf("Append after repair: %v", err)
	}
	storetest.CheckTree(t, s)
}

func TestUnreachable(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	s := redisstore.New(client, "x:")
	ctx := context.Background()
	if err := s.Verify(ctx); err == nil || errors.Is(err, registry.ErrReadOnly) {
		t.Fatalf("Verify on an unreachable Redis = %v, want a connection error", err)
	}
	if _, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: "s", Seq: 1}); err == nil || errors.Is(err, registry.ErrReadOnly) {
		t.Fatalf("Append on an unreachable Redis = %v, want a connection error", err)
	}
	if s.Durable() {
		t.Fatal("Durable() = true for an unreachable Redis")
	}
}

// info returns a field of the server's INFO.
func info(t *testing.T, c *redis.Client, section, field string) string {
	t.Helper()
	s, err := c.Info(t.Context(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// hasWaitAOF asks the server itself whether it knows WAITAOF.
func hasWaitAOF(t *testing.T, c *redis.Client) bool {
	t.Helper()
	v, err := c.Do(t.Context(), "COMMAND", "INFO", "WAITAOF").Slice()
	if err != nil {
		t.Fatal(err)
	}
	return len(v) == 1 && v[0] != nil
}

// TestDurabilityMatchesServer checks the detected mode of the test Redis (the
// private one has no persistence; REDIS_ADDR may have any) against what the
// server says.
func TestDurabilityMatchesServer(t *testing.T) {
	ctx := t.Context()
	client := testredis.Client(t)
	s := redisstore.New(client, testredis.Prefix(t))
	d, err := s.Durability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test Redis: %s", d)
	want := redisstore.Durability{
		Version:     info(t, client, "server", "redis_version"),
		AOF:         info(t, client, "persistence", "aof_enabled") == "1",
		AppendFsync: client.ConfigGet(ctx, "appendfsync").Val()["appendfsync"],
		WaitAOF:     hasWaitAOF(t, client),
	}
	if d != want {
		t.Fatalf("Durability = %+v, want %+v", d, want)
	}
	if s.Durable() != (want.AOF && (want.WaitAOF || want.AppendFsync == "always")) {
		t.Fatalf("Durable() = %v for %+v", s.Durable(), d)
	}
	if !want.AOF && (s.Durable() || !strings.Contains(d.String(), "without AOF")) {
		t.Fatalf("no AOF: Durable() = %v, %q", s.Durable(), d)
	}
	// Appends work whatever the mode.
	if _, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: "s", Seq: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{
		"7.0.15": false, "7.2.0": true, "7.2.4": true, "7.4.1": true, "8.0.0": true,
		"6.2.14": false, "7": false, "": false, "x.y": false, "10.0.1": true,
	} {
		if got := redisstore.VersionAtLeast(v, 7, 2); got != want {
			t.Errorf("VersionAtLeast(%q, 7, 2) = %v, want %v", v, got, want)
		}
	}
}

// --- a private redis-server with AOF ---

type privateRedis struct {
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts redis-server with data in dir, killed when the test ends.
func startRedis(t *testing.T, dir string, args ...string) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not on PATH")
	}
	port := freePort(t)
	p := &privateRedis{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{}), log: filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""}, args...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	// Wait for the port with plain dials (a Redis client would log each
	// refused dial), then for PING (the AOF may still be loading).
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			_ = conn.Close()
			break
		}
		select {
		case <-p.exited:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("redis-server exited:\n%s", b)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s", p.addr)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: p.addr})
	defer c.Close()
	for c.Ping(t.Context()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer PING")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// kill stops the server with SIGKILL (no shutdown save) and reaps it.
func (p *privateRedis) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func (p *privateRedis) client(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestAOF runs the store on a private redis-server with appendonly yes and
// appendfsync always, checks the detected durability honestly for the
// installed version, and that the log survives a SIGKILL and restart.
func TestAOF(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	srv := startRedis(t, dir, "--appendonly", "yes", "--appendfsync", "always")
	client := srv.client(t)
	const prefix = "credence:"
	s := redisstore.New(client, prefix)
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := s.Durability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("AOF, appendfsync always: %s", d)
	waitAOF := hasWaitAOF(t, client)
	if waitAOF != redisstore.VersionAtLeast(d.Version, 7, 2) {
		t.Fatalf("COMMAND INFO WAITAOF = %v on Redis %s", waitAOF, d.Version)
	}
	if !d.AOF || d.AppendFsync != "always" || d.WaitAOF != waitAOF || !s.Durable() {
		t.Fatalf("Durability = %+v, Durable() = %v; want AOF, always, WaitAOF %v, durable", d, s.Durable(), waitAOF)
	}
	if !waitAOF && !strings.Contains(d.String(), "no WAITAOF") {
		t.Fatalf("String() = %q does not report the missing WAITAOF", d)
	}

	// appendfsync everysec: without WAITAOF an acknowledged append may be lost.
	if err := client.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	everysec := redisstore.New(client, prefix)
	if got := everysec.Durable(); got != waitAOF {
		t.Fatalf("appendfsync everysec: Durable() = %v, want %v (WAITAOF supported: %v)", got, waitAOF, waitAOF)
	}
	leaves := storetest.DeterministicLeaves(300, 7)
	appendAll(t, everysec, leaves[:20])
	if err := client.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	appendAll(t, s, leaves[20:])
	signed := []byte("origin\n300\nroot\n\n— sig\n")
	if err := s.SaveCheckpoint(ctx, 300, signed); err != nil {
		t.Fatal(err)
	}
	if got := rootHex(t, s, 300); got != storetest.ExpectedRoot {
		t.Fatalf("root = %s, want %s", got, storetest.ExpectedRoot)
	}

	srv.kill() // SIGKILL: only what reached the AOF survives
	srv = startRedis(t, dir, "--appendonly", "yes", "--appendfsync", "always")
	s = redisstore.New(srv.client(t), prefix)
	if err := s.Verify(ctx); err != nil {
		t.Fatalf("Verify after restart: %v", err)
	}
	if n, err := s.Size(ctx); err != nil || n != 300 {
		t.Fatalf("Size after restart = %d, %v", n, err)
	}
	if got := rootHex(t, s, 300); got != storetest.ExpectedRoot {
		t.Fatalf("root after restart = %s, want %s", got, storetest.ExpectedRoot)
	}
	storetest.CheckTree(t, s)
	for i, want := range leaves {
		got, err := s.Leaf(ctx, uint64(i))
		if err != nil || got.Subject != want.Subject || got.Seq != want.Seq || got.Hash != want.Hash || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("Leaf(%d) after restart = %+v, %v", i, got, err)
		}
	}
	if n, got, err := s.Checkpoint(ctx); err != nil || n != 300 || !bytes.Equal(got, signed) {
		t.Fatalf("Checkpoint after restart = %d, %q, %v", n, got, err)
	}
	head, err := s.Head(ctx, leaves[299].Subject)
	if err != nil || head != (registry.Head{Seq: leaves[299].Seq, Hash: leaves[299].Hash}) {
		t.Fatalf("Head after restart = %+v, %v", head, err)
	}
	if idx, err := s.Append(ctx, head, registry.Leaf{Subject: leaves[299].Subject, Seq: head.Seq + 1, Data: []byte("next")}); err != nil || idx != 300 {
		t.Fatalf("Append after restart = %d, %v", idx, err)
	}
}

// TestWaitAOFUnconfirmed forces the WAITAOF path on a server where WAITAOF
// cannot confirm an fsync (AOF off; on Redis before 7.2 the command does not
// exist): Append must fail with ErrNotDurable, say the leaf was written, and
// detect the mode again afterwards.
func TestWaitAOFUnconfirmed(t *testing.T) {
	ctx := t.Context()
	srv := startRedis(t, t.TempDir(), "--appendonly", "no")
	s := redisstore.New(srv.client(t), "p:")
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	s.SetDurability(redisstore.Durability{Version: "forced", AOF: true, WaitAOF: true})
	_, err := s.Append(ctx, registry.Head{}, registry.Leaf{Subject: "s", Seq: 1, Hash: "h", Data: []byte("d")})
	if !errors.Is(err, redisstore.ErrNotDurable) {
		t.Fatalf("Append with an unconfirmed WAITAOF = %v, want ErrNotDurable", err)
	}
	t.Logf("unconfirmed WAITAOF: %v", err)
	if n, err := s.Size(ctx); err != nil || n != 1 {
		t.Fatalf("Size = %d, %v; the script ran, so the leaf is in the log", n, err)
	}
	if s.DurabilityDetected() {
		t.Fatal("a failed WAITAOF left the forced mode cached")
	}
	if _, err := s.Append(ctx, registry.Head{Seq: 1, Hash: "h"}, registry.Leaf{Subject: "s", Seq: 2, Data: []byte("d2")}); err != nil {
		t.Fatalf("Append after re-detection: %v", err)
	}
	if s.Durable() {
		t.Fatal("Durable() = true without AOF")
	}
	storetest.CheckTree(t, s)
}

// BenchmarkAppendParallel measures appends from 16 goroutines per CPU, each
// on its own subject, against the test Redis.
func BenchmarkAppendParallel(b *testing.B) {
	s := redisstore.New(testredis.Client(b), testredis.Prefix(b))
	ctx := b.Context()
	data := bytes.Repeat([]byte("x"), 1024)
	var mu sync.Mutex
	worker := 0
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		worker++
		subject := fmt.Sprintf("did:credence:bench-%d", worker)
		mu.Unlock()
		var head registry.Head
		for seq := uint64(1); pb.Next(); seq++ {
			l := registry.Leaf{Subject: subject, Seq: seq, Hash: fmt.Sprint(seq), Data: data}
			if _, err := s.Append(ctx, head, l); err != nil {
				b.Error(err)
				return
			}
			head = registry.Head{Seq: seq, Hash: l.Hash}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}
