package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Durability is how the Redis node owning the log persists writes, as detected
// by the Store (see the package documentation).
type Durability struct {
	// Version is the server's redis_version.
	Version string
	// AOF reports appendonly yes (INFO persistence aof_enabled).
	AOF bool
	// AppendFsync is the appendfsync setting, or "" when CONFIG GET is refused.
	AppendFsync string
	// WaitAOF reports that the server supports WAITAOF (Redis 7.2 and later)
	// and the client type lets the Store send it on the script's connection.
	WaitAOF bool
}

// Durable reports whether an acknowledged Append is on disk: AOF on, and
// either WAITAOF confirms each append's fsync or appendfsync is always.
func (d Durability) Durable() bool {
	return d.AOF && (d.WaitAOF || d.AppendFsync == "always")
}

// waitAOF reports whether Append confirms fsyncs with WAITAOF.
func (d Durability) waitAOF() bool { return d.AOF && d.WaitAOF }

// String describes the mode for logs.
func (d Durability) String() string {
	fsync := d.AppendFsync
	if fsync == "" {
		fsync = "unknown (CONFIG GET refused)"
	}
	switch {
	case !d.AOF:
		return fmt.Sprintf("Redis %s without AOF: appends are acknowledged once in memory and are lost if Redis stops before a snapshot", d.Version)
	case d.WaitAOF:
		return fmt.Sprintf("Redis %s with AOF (appendfsync %s): each append waits for WAITAOF to confirm its fsync", d.Version, fsync)
	case d.AppendFsync == "always":
		return fmt.Sprintf("Redis %s with AOF, appendfsync always, no WAITAOF: Redis fsyncs before it acknowledges each append", d.Version)
	default:
		return fmt.Sprintf("Redis %s with AOF, appendfsync %s, no WAITAOF: acknowledged appends may be lost in a crash (about a second's worth)", d.Version, fsync)
	}
}

// Durable reports whether acknowledged appends are on disk (see Durability).
// It detects the mode if Verify or an Append has not yet, waiting at most 5
// seconds; it reports false if Redis cannot be asked.
func (s *Store) Durable() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d, err := s.Durability(ctx)
	return err == nil && d.Durable()
}

// Durability returns the detected persistence mode, detecting it on first
// use (and again after a WAITAOF failure).
func (s *Store) Durability(ctx context.Context) (Durability, error) {
	s.mu.Lock()
	d := s.dur
	s.mu.Unlock()
	if d != nil {
		return *d, nil
	}
	det, err := s.detect(ctx)
	if err != nil {
		return Durability{}, fmt.Errorf("failed to detect Redis persistence: %w", err)
	}
	s.mu.Lock()
	s.dur = &det
	s.mu.Unlock()
	return det, nil
}

// forgetDurability makes the next Append detect the mode again.
func (s *Store) forgetDurability() {
	s.mu.Lock()
	s.dur = nil
	s.mu.Unlock()
}

// node returns a client for the node owning the log's slot, on which a
// connection can be pinned.
func (s *Store) node(ctx context.Context) (*redis.Client, bool) {
	switch c := s.client.(type) {
	case *redis.Client:
		return c, true
	case *redis.ClusterClient:
		n, err := c.MasterForKey(ctx, s.sizeKey())
		return n, err == nil
	}
	return nil, false
}

// commander is a client that also sends arbitrary commands.
type commander interface {
	redis.Cmdable
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// detect asks the node owning the log how it persists writes.
func (s *Store) detect(ctx context.Context) (Durability, error) {
	var cmd commander = s.client
	node, pinnable := s.node(ctx)
	if node != nil {
		cmd = node
	}
	var d Durability
	info, err := cmd.Info(ctx, "server").Result()
	if err != nil {
		return d, err
	}
	d.Version = infoField(info, "redis_version")
	if info, err = cmd.Info(ctx, "persistence").Result(); err != nil {
		return d, err
	}
	d.AOF = infoField(info, "aof_enabled") == "1"
	if cfg, err := cmd.ConfigGet(ctx, "appendfsync").Result(); err == nil {
		d.AppendFsync = cfg["appendfsync"]
	}
	d.WaitAOF = pinnable && supportsWaitAOF(ctx, cmd, d.Version)
	return d, nil
}

// supportsWaitAOF asks COMMAND INFO WAITAOF, falling back to the version when
// COMMAND is refused.
func supportsWaitAOF(ctx context.Context, cmd commander, version string) bool {
	v, err := cmd.Do(ctx, "COMMAND", "INFO", "WAITAOF").Slice()
	if err == nil {
		return len(v) == 1 && v[0] != nil
	}
	return versionAtLeast(version, 7, 2)
}

// versionAtLeast compares a "major.minor.patch" version.
func versionAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// infoField returns a field of an INFO reply.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), name+":"); ok {
			return v
		}
	}
	return ""
}

// waitAOF sends WAITAOF 1 0 on conn, the connection that ran the script, and
// fails unless the local fsync is confirmed.
func (s *Store) waitAOF(ctx context.Context, conn *redis.Conn) error {
	timeout := WaitAOFTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout < time.Millisecond {
		return context.DeadlineExceeded
	}
	res, err := conn.WaitAOF(ctx, 1, 0, timeout).Result()
	if err != nil {
		s.forgetDurability() // e.g. AOF turned off, or the node changed
		return err
	}
	if len(res) < 1 || res[0] < 1 {
		return errors.New("WAITAOF timed out before the local fsync")
	}
	return nil
}
