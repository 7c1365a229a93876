package registry

import (
	"context"
	"errors"
	"fmt"
)

// Receipt says where an accepted op landed and carries the checkpoint that
// includes it.
type Receipt struct {
	Index      uint64 `json:"index"`
	Hash       string `json:"hash"`
	Subject    string `json:"subject"`
	Seq        uint64 `json:"seq"`
	Checkpoint string `json:"checkpoint"`
}

// Submit validates and appends one encoded op. Rule violations are *RuleError.
func (l *Log) Submit(ctx context.Context, raw []byte) (Receipt, error) {
	op, canonical, err := Decode(raw)
	if err != nil {
		return Receipt{}, err
	}
	if err := CheckTime(op, l.now(), l.skew); err != nil {
		return Receipt{}, err
	}
	for attempt := 0; ; attempt++ {
		rec, err := l.append(ctx, op, canonical)
		if errors.Is(err, ErrConflict) && attempt < 3 {
			continue // the subject moved between read and append: revalidate
		}
		return rec, err
	}
}

func (l *Log) append(ctx context.Context, op *Op, canonical []byte) (Receipt, error) {
	c, err := l.current(ctx, op.Subject)
	if err != nil {
		return Receipt{}, err
	}
	env := Env{Prior: priorOf(c.hashes), Stewards: l.stewards}
	var guards []Guard
	if isStatusOp(op.Type) {
		// The issuer's current state, whose head then guards the append: the op
		// lands where that state holds (see GuardedAppender).
		env.Controller = func(did string) (SubjectState, error) {
			ic, err := l.current(ctx, did)
			if err != nil {
				return SubjectState{}, err
			}
			guards = append(guards, Guard{Subject: did, Head: ic.head()})
			return ic.st, nil
		}
	}
	next, err := ApplyEnv(c.st, op, canonical, env)
	if err != nil {
		return Receipt{}, err
	}
	hash := OpHash(canonical)
	leaf := Leaf{Subject: op.Subject, Seq: op.Seq, Hash: hash, Data: canonical}
	idx, err := l.appendLeaf(ctx, c.head(), guards, leaf, op.Type)
	if err != nil {
		return Receipt{}, err
	}
	l.cache.advance(op.Subject, c, next, idx)
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		return Receipt{}, fmt.Errorf("op %d appended but the checkpoint failed: %w", idx, err)
	}
	return Receipt{Index: idx, Hash: hash, Subject: op.Subject, Seq: op.Seq, Checkpoint: string(cp)}, nil
}

// appendLeaf appends with the store's compare-and-append (guarded when there
// are guards and the store can) and, when the store reports no events itself,
// publishes the append's event.
func (l *Log) appendLeaf(ctx context.Context, want Head, guards []Guard, leaf Leaf, typ OpType) (uint64, error) {
	if l.gate != nil {
		if err := l.gate(ctx); err != nil {
			return 0, fmt.Errorf("%w: %v", ErrReadOnly, err)
		}
	}
	do := func() (uint64, error) {
		if ga, ok := l.store.(GuardedAppender); ok && len(guards) > 0 {
			return ga.AppendGuarded(ctx, want, guards, leaf)
		}
		return l.store.Append(ctx, want, leaf)
	}
	if l.events.src != nil {
		return do()
	}
	l.events.appendMu.Lock()
	defer l.events.appendMu.Unlock()
	idx, err := do()
	if err == nil {
		l.events.bus.Publish(Event{Index: idx, Subject: leaf.Subject, Seq: leaf.Seq, Type: typ, Hash: leaf.Hash})
	}
	return idx, err
}
