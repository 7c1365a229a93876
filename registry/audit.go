package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/credence/credence/registry/merkle"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrRootMismatch is wrapped by the Audit error when the leaves, although each
// one replays under the rules, do not hash to the root the checkpoint signed:
// some leaf below the checkpoint's size was altered, reordered, inserted or
// removed in a way the rules alone cannot see.
var ErrRootMismatch = errors.New("recomputed tree root does not match the signed checkpoint")

// LeafError is an Audit failure at one leaf of the log: Err says why (a
// *RuleError for a leaf the rules reject).
type LeafError struct {
	Index uint64
	Err   error
}

func (e *LeafError) Error() string { return fmt.Sprintf("leaf %d: %v", e.Index, e.Err) }
func (e *LeafError) Unwrap() error { return e.Err }

// AuditReport describes a log that passed Audit.
type AuditReport struct {
	// Size is the number of leaves replayed: every leaf of the log, in index order.
	Size uint64 `json:"size"`
	// Root is the RFC 6962 root of those Size leaves, in the padded standard
	// base64 that checkpoints use; RootHex is the same hash in hex.
	Root    string `json:"root"`
	RootHex string `json:"rootHex"`
	// Subjects is the number of distinct subjects; Ops the number of ops applied
	// (one per leaf, so equal to Size); OpsByType counts them by type.
	Subjects  int            `json:"subjects"`
	Ops       int            `json:"ops"`
	OpsByType map[OpType]int `json:"opsByType"`
	// Deactivated is the number of DIDs whose chain ends deactivated;
	// StatusLists the number of subjects that are status lists;
	// Accreditations the number that are accreditations, Withdrawn those of
	// them that were withdrawn.
	Deactivated    int `json:"deactivated"`
	StatusLists    int `json:"statusLists"`
	Accreditations int `json:"accreditations"`
	Withdrawn      int `json:"withdrawn"`
	// Origin is the checkpoint's origin (the name of the key that signed it).
	Origin string `json:"origin"`
	// CheckpointSize and CheckpointRoot are the signed checkpoint's tree, which
	// the recomputed tree of its first CheckpointSize leaves matched. Leaves past
	// CheckpointSize (Size - CheckpointSize of them) were replayed but are not yet
	// covered by a signature.
	CheckpointSize uint64 `json:"checkpointSize"`
	CheckpointRoot string `json:"checkpointRoot"`
}

// AuditOption configures Audit.
type AuditOption func(*auditConfig)

type auditConfig struct {
	stewards []string
}

// AuditStewards gives Audit the registry's governance: every steward key that
// may have signed the log's trust ops (current and retired, as the server's
// GET /registry/governance lists them). Without it every trust op fails the
// audit (ErrUnauthorizedKey).
func AuditStewards(keys ...string) AuditOption {
	return func(c *auditConfig) { c.stewards = append(c.stewards, keys...) }
}

// auditSubject is a subject's replayed state and the hashes of its ops by seq.
type auditSubject struct {
	st     SubjectState
	hashes []string
}

// Audit checks a whole log against one of its signed checkpoints, trusting
// nothing but v (the log's checkpoint verifier key). leaves(i) returns the stored
// bytes of leaf i and is called once for each i in 0..size-1, in order; size is
// the number of leaves the caller says the log has.
//
// The checkpoint is opened with v first (merkle.Open: signature, strict body,
// origin). Then every leaf is replayed in index order: it must decode (Decode)
// and already be canonical (Decode's canonical form equals the stored bytes, so
// its leaf hash is that of the op), and it is applied with ApplyEnv to its
// subject's state so far, with the subject's earlier op hashes as priors, for
// a statuslist op its issuer's state so far as the controller, and for a trust
// op the steward keys of AuditStewards, so every rule and signature is checked
// again as the sequencer checked it. Each leaf is also appended to a
// merkle.MemoryTree, and the root of the first checkpoint-size leaves must
// equal the checkpoint's root.
//
// A failure at a leaf is a *LeafError naming the index (a checkpoint covering
// more leaves than size names the first missing one, wrapping ErrNotFound); a
// root that does not match wraps ErrRootMismatch; a checkpoint that does not
// verify wraps merkle.ErrBadCheckpoint. The first failure is returned.
func Audit(ctx context.Context, leaves func(i uint64) ([]byte, error), size uint64, signedCheckpoint []byte, v note.Verifier, opts ...AuditOption) (AuditReport, error) {
	var cfg auditConfig
	for _, o := range opts {
		o(&cfg)
	}
	if leaves == nil || v == nil {
		return AuditReport{}, errors.New("registry: Audit needs a leaves function and a verifier")
	}
	cp, err := merkle.Open(signedCheckpoint, v)
	if err != nil {
		return AuditReport{}, fmt.Errorf("checkpoint: %w", err)
	}
	if cp.Size > size {
		return AuditReport{}, &LeafError{Index: size, Err: fmt.Errorf("%w: the checkpoint signed by %s covers %d leaves, but the log has only %d",
			ErrNotFound, cp.Origin, cp.Size, size)}
	}
	var tree merkle.MemoryTree
	checkRoot := func() error {
		root, err := merkle.TreeRoot(&tree, cp.Size)
		if err != nil {
			return err
		}
		if root != cp.Root {
			return fmt.Errorf("%w: the first %d leaves hash to %s, but the checkpoint signed by %s says %s (a leaf below %d was altered, reordered, inserted or removed)",
				ErrRootMismatch, cp.Size, b64Hash(root), cp.Origin, b64Hash(cp.Root), cp.Size)
		}
		return nil
	}
	if cp.Size == 0 {
		if err := checkRoot(); err != nil {
			return AuditReport{}, err
		}
	}
	rep := AuditReport{Origin: cp.Origin, CheckpointSize: cp.Size, CheckpointRoot: b64Hash(cp.Root), OpsByType: map[OpType]int{}}
	subjects := make(map[string]*auditSubject)
	// A statuslist op is checked against its issuer's state at this point of
	// the replay: the issuer's ops with smaller indexes, as the sequencer had it.
	controller := func(did string) (SubjectState, error) {
		if s := subjects[did]; s != nil {
			return s.st, nil
		}
		return SubjectState{}, nil
	}
	for i := uint64(0); i < size; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return AuditReport{}, err
			}
		}
		raw, err := leaves(i)
		if err != nil {
			return AuditReport{}, &LeafError{Index: i, Err: err}
		}
		op, canonical, err := Decode(raw)
		if err != nil {
			return AuditReport{}, &LeafError{Index: i, Err: fmt.Errorf("does not decode: %w", err)}
		}
		if !bytes.Equal(canonical, raw) {
			return AuditReport{}, &LeafError{Index: i, Err: reject(ErrMalformed,
				"stored bytes (hash %s) are not the op's canonical form (hash %s)", OpHash(raw), OpHash(canonical))}
		}
		s := subjects[op.Subject]
		if s == nil {
			s = &auditSubject{}
		}
		next, err := ApplyEnv(s.st, op, canonical, Env{Prior: priorOf(s.hashes), Controller: controller, Stewards: cfg.stewards})
		if err != nil {
			return AuditReport{}, &LeafError{Index: i, Err: fmt.Errorf("%s seq %d of %s: %w", op.Type, op.Seq, op.Subject, err)}
		}
		if s.st.Seq == 0 {
			subjects[op.Subject] = s
		}
		s.st = next
		s.hashes = append(s.hashes, next.Hash)
		if _, err := tree.Append(raw); err != nil {
			return AuditReport{}, &LeafError{Index: i, Err: err}
		}
		rep.Ops++
		rep.OpsByType[op.Type]++
		if i+1 == cp.Size {
			if err := checkRoot(); err != nil {
				return AuditReport{}, err
			}
		}
	}
	root, err := merkle.TreeRoot(&tree, size)
	if err != nil {
		return AuditReport{}, err
	}
	rep.Size = size
	rep.Root, rep.RootHex = b64Hash(root), hex.EncodeToString(root[:])
	rep.Subjects = len(subjects)
	for _, s := range subjects {
		switch {
		case s.st.Accreditation != nil:
			rep.Accreditations++
			if s.st.Deactivated {
				rep.Withdrawn++
			}
		case s.st.StatusList != nil:
			rep.StatusLists++
		case s.st.Deactivated:
			rep.Deactivated++
		}
	}
	return rep, nil
}

func b64Hash(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }

// CheckLeaf checks that a leaf as a store keeps it (or a server serves it) at
// index i describes its own data: Index is i, Hash is OpHash(Data), and Subject
// and Seq are the op's. It does not validate the op; Audit does.
func CheckLeaf(i uint64, l Leaf) error {
	if l.Index != i {
		return fmt.Errorf("the record at index %d says index %d", i, l.Index)
	}
	if h := OpHash(l.Data); h != l.Hash {
		return fmt.Errorf("the record says hash %s, but its op hashes to %s", l.Hash, h)
	}
	var head struct {
		Subject string `json:"subject"`
		Seq     uint64 `json:"seq"`
	}
	if json.Unmarshal(l.Data, &head) != nil {
		return nil // not an op at all: Decode says why
	}
	if head.Subject != l.Subject || head.Seq != l.Seq {
		return fmt.Errorf("the record says %s seq %d, but its op is %s seq %d", l.Subject, l.Seq, head.Subject, head.Seq)
	}
	return nil
}

// StoreLeaves is the leaves function of Audit for a Store: the data of leaf i,
// once CheckLeaf agrees the store's record of it matches the data.
func StoreLeaves(ctx context.Context, s Store) func(i uint64) ([]byte, error) {
	return func(i uint64) ([]byte, error) {
		l, err := s.Leaf(ctx, i)
		if err != nil {
			return nil, err
		}
		if err := CheckLeaf(i, l); err != nil {
			return nil, err
		}
		return l.Data, nil
	}
}
