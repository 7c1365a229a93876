package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/credence/credence/internal/kv"
)

// raiseHint records that seq exists. A failure only leaves the hint stale,
// which readers tolerate, so it is not reported.
func (l *Log) raiseHint(ctx context.Context, chain string, seq uint64) {
	_ = l.store.Put(ctx, bucket, hintKey(chain), []byte(strconv.FormatUint(seq, 10)))
}

// hint returns the seq the hint names, 0 when there is none (or it is
// unreadable: the walk then starts from the beginning).
func (l *Log) hint(ctx context.Context, chain string) (uint64, error) {
	b, err := l.store.Get(ctx, bucket, hintKey(chain))
	if errors.Is(err, kv.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read the audit head of %q: %w", chain, err)
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, nil
	}
	return n, nil
}

// Head returns the chain's current head.
func (l *Log) Head(ctx context.Context, chain string) (Head, error) {
	if !ValidChain(chain) {
		return Head{}, ErrInvalidChain
	}
	return l.head(ctx, chain, 0)
}

// head finds the last entry. Entries are gapless, so "entry n exists" holds
// exactly up to the size: from the hint, or floor when that is further (a
// seq known to exist), head gallops forward (+1, +2, +4, ...) to a missing
// entry and bisects back, a few reads even from a stale hint.
func (l *Log) head(ctx context.Context, chain string, floor uint64) (Head, error) {
	lo, err := l.hint(ctx, chain)
	if err != nil {
		return Head{}, err
	}
	lo = max(lo, floor)
	if lo > 0 {
		if ok, err := l.exists(ctx, chain, lo); err != nil {
			return Head{}, err
		} else if !ok {
			return Head{}, fmt.Errorf("%w: %q: entry %d, known to exist, is missing", ErrCorrupt, chain, lo)
		}
	}
	hi, step := lo+1, uint64(1)
	for {
		ok, err := l.exists(ctx, chain, hi)
		if err != nil {
			return Head{}, err
		}
		if !ok {
			break
		}
		lo, hi, step = hi, hi+step, step*2
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		ok, err := l.exists(ctx, chain, mid)
		if err != nil {
			return Head{}, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return Head{Chain: chain}, nil
	}
	e, err := l.get(ctx, chain, lo)
	if err != nil {
		return Head{}, missing(err, chain, lo)
	}
	return Head{Chain: chain, Size: lo, Hash: e.Hash, Time: e.Time}, nil
}

// exists reports whether entry seq of chain is stored.
func (l *Log) exists(ctx context.Context, chain string, seq uint64) (bool, error) {
	_, err := l.store.Get(ctx, bucket, entryKey(chain, seq))
	if errors.Is(err, kv.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to read audit entry %q/%d: %w", chain, seq, err)
	}
	return true, nil
}
