package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// maxAppendAttempts bounds Append's retries when other appenders keep taking
// the next index first.
const maxAppendAttempts = 1000

// appendScript is the compare-and-append.
//
//	KEYS: size, leaves, hashes, heads, history:<subject>
//	ARGV: n, subject, want head (empty = none), new head, leaf record,
//	      events channel, event, number of guards g, then g guard
//	      subject/head pairs, then stored-hash index/hash pairs
//
// It returns {1, n} when it appended leaf n (and published its event), {-1,
// size} when the subject's head is not want or a guard's subject's head is
// not the guard's, {0, size} when the log's size is not n.
var appendScript = redis.NewScript(`
local head = redis.call('HGET', KEYS[4], ARGV[2]) or ''
local size = redis.call('GET', KEYS[1]) or '0'
if head ~= ARGV[3] then return {-1, size} end
local g = tonumber(ARGV[8])
for i = 0, g - 1 do
	local cur = redis.call('HGET', KEYS[4], ARGV[9 + 2 * i]) or ''
	if cur ~= ARGV[10 + 2 * i] then return {-1, size} end
end
if size ~= ARGV[1] then return {0, size} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[3], unpack(ARGV, 9 + 2 * g))
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
redis.call('RPUSH', KEYS[5], ARGV[1])
redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, size}
`)

// Append appends leaf if the subject's head is still want; see the package
// documentation for the compare-and-append and when it returns.
func (s *Store) Append(ctx context.Context, want registry.Head, leaf registry.Leaf) (uint64, error) {
	return s.AppendGuarded(ctx, want, nil, leaf)
}

// AppendGuarded is Append that also requires every guard's subject to have
// the guard's head, checked in the same script (registry.ErrConflict
// otherwise, nothing written).
func (s *Store) AppendGuarded(ctx context.Context, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	if err := registry.CheckAppend(want, guards, leaf); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dur, err := s.ready(ctx)
	if err != nil {
		return 0, err
	}
	var (
		runner redis.Scripter = s.client
		conn   *redis.Conn
	)
	if dur.waitAOF() {
		// WAITAOF waits for the writes of its own connection: run the script
		// and WAITAOF on one connection to the node owning the log.
		node, ok := s.node(ctx)
		if !ok {
			return 0, errors.New("redisstore: cannot pin a connection for WAITAOF")
		}
		conn = node.Conn()
		defer conn.Close()
		runner = conn
	}
	index, err := s.compareAndAppend(ctx, runner, want, guards, leaf)
	if err != nil {
		return 0, err
	}
	if conn != nil {
		if err := s.waitAOF(ctx, conn); err != nil {
			return 0, fmt.Errorf("%w: leaf %d: %v", ErrNotDurable, index, err)
		}
	}
	return index, nil
}

// compareAndAppend is the serialised read-compute-script step.
func (s *Store) compareAndAppend(ctx context.Context, runner redis.Scripter, want registry.Head, guards []registry.Guard, leaf registry.Leaf) (uint64, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.sem }()

	keys := []string{s.sizeKey(), s.leavesKey(), s.hashesKey(), s.headsKey(), s.historyKey(leaf.Subject)}
	wantEnc := encodeHead(want)
	newHead := encodeHead(registry.Head{Seq: leaf.Seq, Hash: leaf.Hash})
	recordHash := tlog.RecordHash(leaf.Data)
	ev := registry.LeafEvent(leaf)
	for range maxAppendAttempts {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !s.sizeKnown {
			n, err := s.Size(ctx)
			if err != nil {
				return 0, err
			}
			s.setSize(n)
		}
		n := s.size
		hashes, err := tlog.StoredHashesForRecordHash(int64(n), recordHash, s.edgeReader(ctx))
		if err != nil {
			return 0, fmt.Errorf("failed to compute tree hashes: %w", err)
		}
		l := leaf
		l.Index = n
		rec, err := registry.EncodeLeaf(l)
		if err != nil {
			return 0, err
		}
		ev.Index = n
		evData, err := json.Marshal(ev)
		if err != nil {
			return 0, err
		}
		args := make([]any, 0, 8+2*len(guards)+2*len(hashes))
		args = append(args, dec(n), leaf.Subject, wantEnc, newHead, rec, s.Channel(), evData, len(guards))
		for _, g := range guards {
			args = append(args, g.Subject, encodeHead(g.Head))
		}
		base := tlog.StoredHashIndex(0, int64(n))
		for i, h := range hashes {
			args = append(args, strconv.FormatInt(base+int64(i), 10), h[:])
		}
		v, err := appendScript.Run(ctx, runner, keys, args...).Result()
		if err != nil {
			s.sizeKnown = false // the script may or may not have run
			return 0, fmt.Errorf("failed to append leaf: %w", err)
		}
		code, cur, err := scriptResult(v)
		if err != nil {
			s.sizeKnown = false
			return 0, fmt.Errorf("failed to append leaf: %w", err)
		}
		switch code {
		case 1:
			s.advance(n, hashes)
			return n, nil
		case -1:
			s.learnSize(cur)
			return 0, registry.ErrConflict
		default: // another appender took index n
			s.learnSize(cur)
		}
	}
	return 0, ErrContention
}

// setSize records the size the next append expects, keeping only the cached
// hashes that are on the right edge of a tree of that size.
func (s *Store) setSize(n uint64) {
	s.size, s.sizeKnown = n, true
	keep := map[int64]bool{}
	for level := 0; level < 64; level++ {
		if n>>level&1 == 1 {
			keep[tlog.StoredHashIndex(level, int64(n>>level)-1)] = true
		}
	}
	for idx := range s.edge {
		if !keep[idx] {
			delete(s.edge, idx)
		}
	}
}

// learnSize records the size a script reported.
func (s *Store) learnSize(v string) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		s.sizeKnown = false
		return
	}
	s.setSize(n)
}

// advance records that leaf n was appended with the given stored hashes.
func (s *Store) advance(n uint64, hashes []tlog.Hash) {
	base := tlog.StoredHashIndex(0, int64(n))
	for i, h := range hashes {
		s.edge[base+int64(i)] = h
	}
	s.setSize(n + 1)
}

// edgeReader reads stored hashes from the edge cache, then Redis (caching
// what it reads: pruned by the next setSize).
func (s *Store) edgeReader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		var at []int
		for i, idx := range indexes {
			if h, ok := s.edge[idx]; ok {
				out[i] = h
			} else {
				missing = append(missing, idx)
				at = append(at, i)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		hs, err := s.ReadHashes(ctx, missing)
		if err != nil {
			return nil, err
		}
		for j, h := range hs {
			out[at[j]] = h
			s.edge[missing[j]] = h
		}
		return out, nil
	})
}
