package witness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/credence/credence/internal/kv"
)

// keyFaults is the Publisher's bucket key of the faults its targets prove:
// a JSON object from target name to storedFault. A fault kept only in memory
// would be forgotten by a restart, and the log would take writes until the
// next round found it again; and a replica sharing the store would take
// writes until its own round found it.
const keyFaults = "faults"

// storedFault is a target's fault as stored. KeyHash ties it to the
// target's key: a witness replaced under the same name does not inherit it.
type storedFault struct {
	KeyHash  uint32    `json:"keyHash"`
	Rollback bool      `json:"rollback,omitempty"` // else a fork
	Fault    string    `json:"fault"`
	Size     uint64    `json:"size"` // the log's checkpoint size when found
	Since    time.Time `json:"since"`
}

// Gate is the log's write gate: nil, or the fault of a configured target,
// known to this process (Fault) or stored by any process sharing the store
// (until that target cosigns the log again). A store that cannot be read is
// an error too: the gate does not open on a failed read.
func (p *Publisher) Gate(ctx context.Context) error {
	if err := p.Fault(); err != nil {
		return err
	}
	faults, err := p.storedFaults(ctx)
	if err != nil {
		return err
	}
	for _, t := range p.targets {
		if f, ok := faults[t.name]; ok && f.KeyHash == t.Verifier.KeyHash() {
			return f.err(t.name)
		}
	}
	return nil
}

// err is the stored fault as an error wrapping ErrRollback or ErrFork.
func (f storedFault) err(name string) error {
	kind := ErrFork
	if f.Rollback {
		kind = ErrRollback
	}
	return &faultError{fmt.Errorf("%w: %s (recorded for witness %s when the log had size %d, %s)",
		kind, f.Fault, name, f.Size, f.Since.UTC().Format(time.RFC3339))}
}

// storedFaults reads the stored faults (none stored: an empty map).
func (p *Publisher) storedFaults(ctx context.Context) (map[string]storedFault, error) {
	v, err := p.store.Get(ctx, p.bucket, keyFaults)
	if errors.Is(err, kv.ErrNotFound) {
		return map[string]storedFault{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: reading the stored faults: %w", err)
	}
	return decodeFaults(v)
}

func decodeFaults(v []byte) (map[string]storedFault, error) {
	faults := map[string]storedFault{}
	if len(v) == 0 {
		return faults, nil
	}
	if err := json.Unmarshal(v, &faults); err != nil {
		return nil, fmt.Errorf("witness: the stored faults: %w", err)
	}
	return faults, nil
}

// remember stores the round's outcome per target: errs[i] a fault of
// p.targets[i] stores it, nil (a cosignature) clears a stored one. Other
// failures change nothing. The store is written only when this changes
// what it holds, or to replace stored faults that do not decode.
func (p *Publisher) remember(ctx context.Context, size uint64, errs []error) error {
	if stored, err := p.storedFaults(ctx); err == nil && !p.changes(stored, errs) {
		return nil
	}
	err := p.store.Update(ctx, p.bucket, keyFaults, func(old []byte) ([]byte, error) {
		faults, err := decodeFaults(old)
		switch {
		case err != nil:
			p.log.WarnContext(ctx, "witness: rewriting stored faults that do not decode", "error", err)
			faults = map[string]storedFault{}
		case !p.changes(faults, errs):
			return nil, errUnchanged
		}
		for i, t := range p.targets {
			var fault *faultError
			switch {
			case errs[i] == nil:
				delete(faults, t.name)
			case errors.As(errs[i], &fault):
				if f, ok := faults[t.name]; ok && f.KeyHash == t.Verifier.KeyHash() {
					continue // keep when it was first found
				}
				kind := ErrFork
				if errors.Is(fault, ErrRollback) {
					kind = ErrRollback
				}
				faults[t.name] = storedFault{KeyHash: t.Verifier.KeyHash(), Rollback: kind == ErrRollback,
					Fault: strings.TrimPrefix(fault.Error(), kind.Error()+": "), Size: size, Since: time.Now().UTC()}
			}
		}
		return json.Marshal(faults)
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return fmt.Errorf("witness: storing the faults: %w", err)
	}
	return nil
}

// changes reports whether the round's outcome errs changes the stored
// faults: a cosignature by a target with a stored fault, or a fault of a
// target without one (under its current key).
func (p *Publisher) changes(stored map[string]storedFault, errs []error) bool {
	for i, t := range p.targets {
		f, ok := stored[t.name]
		var fault *faultError
		switch {
		case errs[i] == nil && ok:
			return true
		case errors.As(errs[i], &fault) && (!ok || f.KeyHash != t.Verifier.KeyHash()):
			return true
		}
	}
	return false
}
