package registry

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Leaf is one accepted op as the log stores it.
type Leaf struct {
	Index   uint64 `json:"index"`
	Subject string `json:"subject"`
	Seq     uint64 `json:"seq"`
	// Hash is the op's hash (OpHash): the next op's prev.
	Hash string `json:"hash"`
	// Data is the canonical op (JCS, with proofs); its RFC 6962 leaf hash is
	// tlog.RecordHash(Data).
	Data []byte `json:"data"`
}

// Head is a subject's latest op; the zero Head means the subject is unknown.
type Head struct {
	Seq  uint64 `json:"seq"`
	Hash string `json:"hash"`
}

// Store is the append-only log. Drivers must pass registry/storetest.
//
// Append is compare-and-append: it appends leaf at index Size() only if the
// subject's head still equals want (otherwise ErrConflict, nothing written), stores
// the RFC 6962 tree hashes of the new leaf (tlog.StoredHashes) in the same atomic
// step, and returns only after the write is durable. Concurrent appends for other
// subjects never conflict with each other. leaf.Index is ignored and assigned.
type Store interface {
	Append(ctx context.Context, want Head, leaf Leaf) (uint64, error)
	// Leaf returns the leaf at index, or ErrNotFound.
	Leaf(ctx context.Context, index uint64) (Leaf, error)
	// Size is the number of leaves.
	Size(ctx context.Context) (uint64, error)
	// Head returns the subject's head (zero Head for an unknown subject).
	Head(ctx context.Context, subject string) (Head, error)
	// History returns the indexes of the subject's leaves in seq order.
	History(ctx context.Context, subject string) ([]uint64, error)
	// ReadHashes returns stored tree hashes by stored-hash index (tlog.StoredHashIndex).
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// SaveCheckpoint records a signed checkpoint for tree size size.
	SaveCheckpoint(ctx context.Context, size uint64, signed []byte) error
	// Checkpoint returns the latest saved checkpoint, or ErrNotFound.
	Checkpoint(ctx context.Context) (size uint64, signed []byte, err error)
	Close() error
}

// Guard is another subject's head that must still be current when a leaf is
// appended: a statuslist op is validated against its issuer's state, and the
// issuer's head guards the append so the op lands where that state holds.
type Guard struct {
	Subject string `json:"subject"`
	// Head is the head the subject must have (the zero Head: no ops).
	Head Head `json:"head"`
}

// CheckAppend checks the arguments of an AppendGuarded (or an Append, with
// no guards) before a driver touches its storage: the leaf names a subject
// and follows the expected head's seq, and no guard is on an empty subject
// or on the leaf's own.
func CheckAppend(want Head, guards []Guard, leaf Leaf) error {
	if leaf.Subject == "" {
		return errors.New("registry: leaf has an empty subject")
	}
	if leaf.Seq <= want.Seq {
		return fmt.Errorf("registry: leaf seq %d does not follow the expected head's seq %d", leaf.Seq, want.Seq)
	}
	for _, g := range guards {
		if g.Subject == "" || g.Subject == leaf.Subject {
			return fmt.Errorf("registry: invalid guard on subject %q", g.Subject)
		}
	}
	return nil
}

// GuardedAppender is a Store whose compare-and-append can also compare the
// heads of other subjects in the same atomic step: AppendGuarded is Append,
// except that it also fails with ErrConflict (writing nothing) unless every
// guard's subject has exactly the guard's head. Both drivers implement it; the
// Log appends statuslist ops with it when the store has it (without it, an
// issuer key rotation racing a status op could leave that op on the ledger
// after the rotation, where it no longer validates).
type GuardedAppender interface {
	AppendGuarded(ctx context.Context, want Head, guards []Guard, leaf Leaf) (uint64, error)
}

// SubjectLister is a Store that can enumerate its subjects: Subjects calls fn
// for every subject with at least one leaf whose name starts with prefix (""
// lists every subject), in byte order of the names, and stops at the first
// error fn returns, returning it. fn runs outside any store transaction and
// may read the store; subjects appended during the walk may or may not be
// listed. Both drivers implement it; the trust registry (TrustIndex) needs it.
type SubjectLister interface {
	Subjects(ctx context.Context, prefix string, fn func(subject string) error) error
}

// HashReader adapts a Store to tlog.HashReader for a context.
func HashReader(ctx context.Context, s Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) { return s.ReadHashes(ctx, idx) })
}
