package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/credence/credence/internal/kv"
)

// readBatch is how many entries a walk reads ahead, concurrently: a round
// trip per entry to Redis would otherwise bound a long export.
const (
	readBatch    = 64
	readParallel = 8
)

// parseEntry decodes one stored or exported entry and checks that raw is its
// canonical form and that its hash is right. The error is a reason for a
// person ("the hash does not match the entry").
func parseEntry(raw []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return Entry{}, errors.New("not a JSON audit entry")
	}
	c, err := canonicalEntry(&e)
	if err != nil || !bytes.Equal(c, raw) {
		return Entry{}, errors.New("not the canonical (JCS) form of an audit entry: a field was added, changed or reformatted")
	}
	if in := withoutHash(c, e.Hash); in == nil || Digest(in) != e.Hash {
		return Entry{}, errors.New("the hash does not match the entry: the entry was changed")
	}
	return e, nil
}

// withoutHash cuts the "hash" member out of c, an entry's canonical form,
// giving what EntryHash hashes without a second canonicalization: members
// are sorted ("chain" always precedes "hash") and no other object of an
// entry has a "hash" member. It returns nil when the member is not there as
// hash would be written.
func withoutHash(c []byte, hash string) []byte {
	if strings.ContainsAny(hash, "\\\"") || hash == "" {
		return nil
	}
	m := `,"hash":"` + hash + `"`
	i := bytes.Index(c, []byte(m))
	if i < 0 {
		return nil
	}
	return append(c[:i:i], c[i+len(m):]...)
}

// get reads and checks entry seq of chain.
func (l *Log) get(ctx context.Context, chain string, seq uint64) (Entry, error) {
	raw, err := l.store.Get(ctx, bucket, entryKey(chain, seq))
	if errors.Is(err, kv.ErrNotFound) {
		return Entry{}, err
	}
	if err != nil {
		return Entry{}, fmt.Errorf("failed to read audit entry %q/%d: %w", chain, seq, err)
	}
	return checkStored(chain, seq, raw)
}

func checkStored(chain string, seq uint64, raw []byte) (Entry, error) {
	e, err := parseEntry(raw)
	if err == nil && (e.Chain != chain || e.Seq != seq) {
		err = errors.New("the entry is stored under another chain or seq")
	}
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %q: entry %d: %v", ErrCorrupt, chain, seq, err)
	}
	return e, nil
}

// Entries calls fn with the chain's entries in order, from seq from (1 when
// from is 0) to the last, checking every hash and link on the way: a
// stored chain that does not hold together stops the walk with ErrCorrupt.
// An error from fn stops the walk and is returned.
func (l *Log) Entries(ctx context.Context, chain string, from uint64, fn func(Entry) error) error {
	if !ValidChain(chain) {
		return ErrInvalidChain
	}
	return l.walk(ctx, chain, max(from, 1), 0, func(e Entry, _ []byte) error { return fn(e) })
}

// walk calls fn with entries from..to (to 0: until the first missing one)
// and their stored bytes. Entries up to to must exist.
func (l *Log) walk(ctx context.Context, chain string, from, to uint64, fn func(Entry, []byte) error) error {
	prev := ""
	if from > 1 {
		e, err := l.get(ctx, chain, from-1)
		if errors.Is(err, kv.ErrNotFound) && to == 0 {
			return nil // the chain is shorter than from-1
		}
		if err != nil {
			return missing(err, chain, from-1)
		}
		prev = e.Hash
	}
	for seq := from; to == 0 || seq <= to; {
		n := uint64(readBatch)
		if to != 0 {
			n = min(n, to-seq+1)
		}
		raws, err := l.fetch(ctx, chain, seq, n)
		if err != nil {
			return err
		}
		for _, raw := range raws {
			if raw == nil {
				if to != 0 {
					return missing(kv.ErrNotFound, chain, seq)
				}
				return nil
			}
			e, err := checkStored(chain, seq, raw)
			if err != nil {
				return err
			}
			if e.Prev != prev {
				return fmt.Errorf("%w: %q: entry %d does not link to entry %d", ErrCorrupt, chain, seq, seq-1)
			}
			if err := fn(e, raw); err != nil {
				return err
			}
			prev = e.Hash
			seq++
		}
	}
	return nil
}

func missing(err error, chain string, seq uint64) error {
	if errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("%w: %q: entry %d is missing", ErrCorrupt, chain, seq)
	}
	return err
}

// fetch reads entries seq..seq+n-1 concurrently; a missing entry is nil.
func (l *Log) fetch(ctx context.Context, chain string, seq, n uint64) ([][]byte, error) {
	raws := make([][]byte, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readParallel)
	for i := range n {
		g.Go(func() error {
			raw, err := l.store.Get(gctx, bucket, entryKey(chain, seq+i))
			if errors.Is(err, kv.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("failed to read audit entry %q/%d: %w", chain, seq+i, err)
			}
			raws[i] = raw
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return raws, nil
}
