package merkle

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"golang.org/x/mod/sumdb/tlog"
)

var (
	// ErrOutOfRange is wrapped by Prove* and TreeRoot errors for requests outside
	// the tree: an index not below the size, a zero size for an inclusion proof,
	// a consistency proof from size 0 or from a size larger than the target, or a
	// tree size the reader does not hold.
	ErrOutOfRange = errors.New("merkle: out of range")
	// ErrBadProof is wrapped by every Verify* error.
	ErrBadProof = errors.New("merkle: invalid proof")
)

// InclusionProof proves that the leaf at Index is in the tree of Size leaves
// (RFC 6962 §2.1.1 audit path, as tlog.RecordProof orders it). In JSON each hash
// is a padded standard base64 string.
type InclusionProof struct {
	Index  uint64      `json:"index"`
	Size   uint64      `json:"size"`
	Hashes []tlog.Hash `json:"hashes"`
}

// ConsistencyProof proves that the tree of From leaves is a prefix of the tree of
// To leaves (RFC 6962 §2.1.2, as tlog.TreeProof orders it). In JSON each hash is
// a padded standard base64 string.
type ConsistencyProof struct {
	From   uint64      `json:"from"`
	To     uint64      `json:"to"`
	Hashes []tlog.Hash `json:"hashes"`
}

// sizer is implemented by hash readers that know their tree size (MemoryTree).
type sizer interface{ Size() uint64 }

// checkStored reports whether r holds a tree of the given size. A reader with a
// Size() uint64 method is asked directly; any other reader must return the
// stored hash of leaf size-1, and a read error (or an all-zero hash, which no
// stored hash can be) is reported as ErrOutOfRange wrapping the reader's error.
func checkStored(r tlog.HashReader, size uint64) error {
	if size > math.MaxInt64 {
		return fmt.Errorf("%w: tree size %d exceeds 2^63-1", ErrOutOfRange, size)
	}
	if size == 0 {
		return nil
	}
	if s, ok := r.(sizer); ok {
		if n := s.Size(); size > n {
			return fmt.Errorf("%w: tree size %d beyond the stored tree of size %d", ErrOutOfRange, size, n)
		}
		return nil
	}
	hs, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(size-1))})
	if err != nil {
		return fmt.Errorf("%w: tree size %d not stored: %w", ErrOutOfRange, size, err)
	}
	if len(hs) != 1 {
		return fmt.Errorf("merkle: ReadHashes(1 index) returned %d hashes", len(hs))
	}
	if hs[0] == (tlog.Hash{}) {
		return fmt.Errorf("%w: tree size %d not stored: leaf %d has no hash", ErrOutOfRange, size, size-1)
	}
	return nil
}

// TreeRoot returns the RFC 6962 root of the first size leaves stored in r. The
// root of the empty tree is SHA-256 of the empty string (r is not read).
//
// How TreeRoot, ProveInclusion and ProveConsistency decide that a size is beyond
// the stored tree (ErrOutOfRange): a reader with a Size() uint64 method, such as
// MemoryTree, is trusted to report its size; any other reader (such as
// registry.HashReader) is asked for the stored hash of leaf size-1, and a read
// error or an all-zero hash means the tree is not that big. The returned error
// then wraps both ErrOutOfRange and the reader's error (so errors.Is still finds,
// say, registry.ErrNotFound or an I/O error); callers that must tell a missing
// tree from a failing store should compare size with the store's Size first.
func TreeRoot(r tlog.HashReader, size uint64) (tlog.Hash, error) {
	if err := checkStored(r, size); err != nil {
		return tlog.Hash{}, err
	}
	h, err := tlog.TreeHash(int64(size), r)
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("merkle: root of tree size %d: %w", size, err)
	}
	return h, nil
}

// ProveInclusion returns the proof that leaf index is in the tree of size leaves
// stored in r. It needs index < size and size no larger than the stored tree;
// otherwise the error wraps ErrOutOfRange.
func ProveInclusion(r tlog.HashReader, index, size uint64) (InclusionProof, error) {
	if index >= size {
		return InclusionProof{}, fmt.Errorf("%w: leaf %d not in a tree of size %d", ErrOutOfRange, index, size)
	}
	if err := checkStored(r, size); err != nil {
		return InclusionProof{}, err
	}
	p, err := tlog.ProveRecord(int64(size), int64(index), r)
	if err != nil {
		return InclusionProof{}, fmt.Errorf("merkle: proving leaf %d in tree size %d: %w", index, size, err)
	}
	return InclusionProof{Index: index, Size: size, Hashes: nonNil(p)}, nil
}

// ProveConsistency returns the proof that the tree of from leaves is a prefix of
// the tree of to leaves stored in r. Following RFC 9162 §2.1.4 it needs
// 1 <= from <= to (every tree extends the empty tree, so there is nothing to
// prove from size 0); from == to gives an empty proof. to must not exceed the
// stored tree. Violations wrap ErrOutOfRange.
func ProveConsistency(r tlog.HashReader, from, to uint64) (ConsistencyProof, error) {
	if from == 0 || from > to {
		return ConsistencyProof{}, fmt.Errorf("%w: no consistency proof from size %d to size %d (need 1 <= from <= to)", ErrOutOfRange, from, to)
	}
	if err := checkStored(r, to); err != nil {
		return ConsistencyProof{}, err
	}
	p, err := tlog.ProveTree(int64(to), int64(from), r)
	if err != nil {
		return ConsistencyProof{}, fmt.Errorf("merkle: proving consistency %d -> %d: %w", from, to, err)
	}
	return ConsistencyProof{From: from, To: to, Hashes: nonNil(p)}, nil
}

func nonNil(hs []tlog.Hash) []tlog.Hash {
	if hs == nil {
		return []tlog.Hash{}
	}
	return hs
}

// VerifyInclusion checks that leafData (leaf hash tlog.RecordHash(leafData)) is
// leaf p.Index of a tree of p.Size leaves whose root is root. Errors wrap
// ErrBadProof.
//
// The caller must know that root is the root of a tree of exactly p.Size leaves
// (for example because both come from one verified checkpoint): the same hashes
// can be a valid path for a different (index, size) pair against the same root,
// so a proof whose Size was not checked can misstate the leaf's index. Prefer
// VerifyCheckpointInclusion, which does that check.
func VerifyInclusion(p InclusionProof, leafData []byte, root tlog.Hash) error {
	if p.Size == 0 || p.Index >= p.Size || p.Size > math.MaxInt64 {
		return fmt.Errorf("%w: leaf %d cannot be in a tree of size %d", ErrBadProof, p.Index, p.Size)
	}
	if err := tlog.CheckRecord(tlog.RecordProof(p.Hashes), int64(p.Size), root, int64(p.Index), tlog.RecordHash(leafData)); err != nil {
		return fmt.Errorf("%w: leaf %d in tree size %d: %v", ErrBadProof, p.Index, p.Size, err)
	}
	return nil
}

// VerifyConsistency checks that oldRoot, the root of a tree of p.From leaves, and
// newRoot, the root of a tree of p.To leaves, describe the same log: the old tree
// is a prefix of the new one. It needs 1 <= p.From <= p.To; for p.From == p.To the
// proof must be empty and the roots equal. Errors wrap ErrBadProof. As with
// VerifyInclusion, the caller must know the roots belong to those sizes; prefer
// VerifyCheckpointConsistency.
func VerifyConsistency(p ConsistencyProof, oldRoot, newRoot tlog.Hash) error {
	if p.From == 0 || p.From > p.To || p.To > math.MaxInt64 {
		return fmt.Errorf("%w: no consistency proof from size %d to size %d (need 1 <= from <= to)", ErrBadProof, p.From, p.To)
	}
	if err := tlog.CheckTree(tlog.TreeProof(p.Hashes), int64(p.To), newRoot, int64(p.From), oldRoot); err != nil {
		return fmt.Errorf("%w: consistency %d -> %d: %v", ErrBadProof, p.From, p.To, err)
	}
	return nil
}

// VerifyCheckpointInclusion checks p against a verified checkpoint: p.Size must
// equal c.Size and leafData must be leaf p.Index of the tree with root c.Root.
// Errors wrap ErrBadProof.
func VerifyCheckpointInclusion(c Checkpoint, p InclusionProof, leafData []byte) error {
	if p.Size != c.Size {
		return fmt.Errorf("%w: proof is for tree size %d, checkpoint has size %d", ErrBadProof, p.Size, c.Size)
	}
	return VerifyInclusion(p, leafData, c.Root)
}

// VerifyCheckpointConsistency checks that the verified checkpoint newer extends
// older: same origin, p.From == older.Size, p.To == newer.Size and a valid proof
// between their roots. An empty older checkpoint (size 0) has no proof (see
// ProveConsistency); a client holding one only needs to check that its root is
// the empty tree's root, TreeRoot(nil, 0), and that the origins match. Errors wrap
// ErrBadProof.
func VerifyCheckpointConsistency(older, newer Checkpoint, p ConsistencyProof) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("%w: checkpoints from different logs %q and %q", ErrBadProof, older.Origin, newer.Origin)
	}
	if p.From != older.Size || p.To != newer.Size {
		return fmt.Errorf("%w: proof is for sizes %d -> %d, checkpoints have sizes %d -> %d", ErrBadProof, p.From, p.To, older.Size, newer.Size)
	}
	return VerifyConsistency(p, older.Root, newer.Root)
}

// JSON forms. tlog.Hash already marshals as a padded standard base64 string;
// these methods also emit [] rather than null for an empty proof and decode
// hashes strictly (canonical encoding of exactly 32 bytes).

type inclusionJSON struct {
	Index  uint64   `json:"index"`
	Size   uint64   `json:"size"`
	Hashes []string `json:"hashes"`
}

type consistencyJSON struct {
	From   uint64   `json:"from"`
	To     uint64   `json:"to"`
	Hashes []string `json:"hashes"`
}

// MarshalJSON encodes p as {"index":…,"size":…,"hashes":["base64",…]}.
func (p InclusionProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(inclusionJSON{p.Index, p.Size, encodeHashes(p.Hashes)})
}

// UnmarshalJSON decodes the form MarshalJSON produces, rejecting hashes that are
// not the canonical base64 encoding of 32 bytes.
func (p *InclusionProof) UnmarshalJSON(data []byte) error {
	var j inclusionJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	hs, err := decodeHashes(j.Hashes)
	if err != nil {
		return err
	}
	*p = InclusionProof{Index: j.Index, Size: j.Size, Hashes: hs}
	return nil
}

// MarshalJSON encodes p as {"from":…,"to":…,"hashes":["base64",…]}.
func (p ConsistencyProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(consistencyJSON{p.From, p.To, encodeHashes(p.Hashes)})
}

// UnmarshalJSON decodes the form MarshalJSON produces, rejecting hashes that are
// not the canonical base64 encoding of 32 bytes.
func (p *ConsistencyProof) UnmarshalJSON(data []byte) error {
	var j consistencyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	hs, err := decodeHashes(j.Hashes)
	if err != nil {
		return err
	}
	*p = ConsistencyProof{From: j.From, To: j.To, Hashes: hs}
	return nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		h, err := decodeHash(s)
		if err != nil {
			return nil, fmt.Errorf("merkle: proof hash %d: %v", i, err)
		}
		out[i] = h
	}
	return out, nil
}
