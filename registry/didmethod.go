package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry/merkle"
	"github.com/gowebpki/jcs"
	"golang.org/x/mod/sumdb/note"
)

// DIDMethod resolves did:credence DIDs from the ledger: the latest version, or the
// one named by versionId (a seq) or versionTime, with DID Core document metadata
// (and recovered, for a version a did.recover wrote) and a proof bundle a client
// can check offline (VerifyBundle).
type DIDMethod struct {
	Log *Log
	// Current resolves the latest version from the ledger's cached state,
	// without the proof bundle, the history or the recovered flag: what
	// verifying a signature needs, at a hundredth of the cost. Versioned
	// resolution (which vc.DIDKeys asks for a key the latest version no
	// longer authorizes) is unchanged.
	Current bool
}

// Resolve implements did.Method.
func (m DIDMethod) Resolve(ctx context.Context, d did.DID, opts did.Options) (*did.Resolution, error) {
	if d.Method != "credence" || !isMultihash256(d.ID) {
		return nil, fmt.Errorf("%w: did:credence id must be a base58btc sha2-256 multihash", did.ErrInvalidDID)
	}
	if m.Current && opts.VersionID == "" && opts.VersionTime == "" {
		return m.current(ctx, d)
	}
	ops, err := m.Log.History(ctx, d.String())
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: %s is not on the ledger", did.ErrNotFound, d)
	}
	if err != nil {
		return nil, err
	}
	upTo, err := version(ops, opts)
	if err != nil {
		return nil, err
	}
	st, err := m.Log.State(ctx, d.String(), upTo)
	if err != nil {
		return nil, err
	}
	var doc did.Document
	if err := json.Unmarshal(st.Doc, &doc); err != nil {
		return nil, fmt.Errorf("stored document of %s: %w", d, err)
	}
	bundle, err := m.Log.Bundle(ctx, ops[:upTo])
	if err != nil {
		return nil, err
	}
	meta := did.DocumentMetadata{Created: st.Created, Updated: st.Updated, Deactivated: st.Deactivated,
		VersionID: strconv.FormatUint(st.Seq, 10), Recovered: ops[upTo-1].Op.Type == DIDRecover,
		LedgerProof: base64.RawURLEncoding.EncodeToString(bundle)}
	if int(upTo) < len(ops) {
		meta.NextVersionID = strconv.FormatUint(upTo+1, 10)
		meta.NextUpdate = ops[upTo].Op.Time
	}
	return &did.Resolution{Document: &doc, DocumentMetadata: meta, Metadata: did.ResolutionMetadata{ContentType: did.MediaDIDLDJSON}}, nil
}

// current resolves the latest version from the cached subject state. The
// Document is shared by every resolution of the same version (decoded once,
// see docCache): callers must not modify it.
func (m DIDMethod) current(ctx context.Context, d did.DID) (*did.Resolution, error) {
	st, err := m.Log.State(ctx, d.String(), 0)
	if err != nil {
		return nil, err
	}
	if st.Seq == 0 || st.Doc == nil {
		return nil, fmt.Errorf("%w: %s is not on the ledger", did.ErrNotFound, d)
	}
	doc, err := m.Log.docs.get(d.String(), st)
	if err != nil {
		return nil, err
	}
	meta := did.DocumentMetadata{Created: st.Created, Updated: st.Updated, Deactivated: st.Deactivated,
		VersionID: strconv.FormatUint(st.Seq, 10)}
	return &did.Resolution{Document: doc, DocumentMetadata: meta, Metadata: did.ResolutionMetadata{ContentType: did.MediaDIDLDJSON}}, nil
}

// version picks how many ops of the chain the requested version covers.
func version(ops []SubjectOp, opts did.Options) (uint64, error) {
	switch {
	case opts.VersionID != "" && opts.VersionTime != "":
		return 0, fmt.Errorf("%w: versionId and versionTime are exclusive", did.ErrInvalidOptions)
	case opts.VersionID != "":
		n, err := strconv.ParseUint(opts.VersionID, 10, 64)
		if err != nil || n == 0 {
			return 0, fmt.Errorf("%w: versionId must be a positive integer", did.ErrInvalidOptions)
		}
		if n > uint64(len(ops)) {
			return 0, fmt.Errorf("%w: version %d does not exist", did.ErrNotFound, n)
		}
		return n, nil
	case opts.VersionTime != "":
		t, err := time.Parse(time.RFC3339, opts.VersionTime)
		if err != nil {
			return 0, fmt.Errorf("%w: versionTime must be RFC 3339", did.ErrInvalidOptions)
		}
		var n uint64
		for _, so := range ops {
			if ot, _ := time.Parse(TimeLayout, so.Op.Time); ot.After(t) {
				break
			}
			n++
		}
		if n == 0 {
			return 0, fmt.Errorf("%w: no version at %s", did.ErrNotFound, opts.VersionTime)
		}
		return n, nil
	}
	return uint64(len(ops)), nil
}

// Bundle is an offline-verifiable proof of a subject's op chain: a signed
// checkpoint and, for each op, its canonical bytes and inclusion proof.
type Bundle struct {
	Checkpoint string     `json:"checkpoint"`
	Ops        []BundleOp `json:"ops"`
}

// BundleOp is one op of a bundle.
type BundleOp struct {
	Index     uint64                `json:"index"`
	Op        json.RawMessage       `json:"op"`
	Inclusion merkle.InclusionProof `json:"inclusion"`
}

// Bundle builds the proof bundle of ops against the latest checkpoint, as
// JSON, or against the latest witnessed one (see WithCosignatures).
func (l *Log) Bundle(ctx context.Context, ops []SubjectOp) (json.RawMessage, error) {
	signed, cp, err := l.bundleCheckpoint(ctx, ops)
	if err != nil {
		return nil, err
	}
	b := Bundle{Checkpoint: string(signed)}
	for _, so := range ops {
		p, err := merkle.ProveInclusion(HashReader(ctx, l.store), so.Index, cp.Size)
		if err != nil {
			return nil, err
		}
		b.Ops = append(b.Ops, BundleOp{Index: so.Index, Op: so.Data, Inclusion: p})
	}
	return marshalNoEscape(b)
}

// bundleCheckpoint is the checkpoint a bundle of ops is proved against: the
// latest witnessed one if it covers them, else the latest (signed now if
// the ops are newer than the saved one), with the cosignatures it has.
func (l *Log) bundleCheckpoint(ctx context.Context, ops []SubjectOp) ([]byte, merkle.Checkpoint, error) {
	covers := func(cp merkle.Checkpoint) bool { return len(ops) == 0 || ops[len(ops)-1].Index < cp.Size }
	if l.cosigs != nil {
		if w, err := l.cosigs.Witnessed(ctx); err == nil {
			if cp, err := merkle.Open(w, l.verifier); err == nil && covers(cp) {
				return w, cp, nil
			}
		}
	}
	signed, err := l.Checkpoint(ctx)
	if err != nil {
		return nil, merkle.Checkpoint{}, err
	}
	cp, err := merkle.Open(signed, l.verifier)
	if err != nil {
		return nil, merkle.Checkpoint{}, fmt.Errorf("the log's own checkpoint does not verify: %w", err)
	}
	if !covers(cp) { // appended after the latest checkpoint
		if signed, err = l.SignCheckpoint(ctx); err != nil {
			return nil, merkle.Checkpoint{}, err
		}
		if cp, err = merkle.Open(signed, l.verifier); err != nil {
			return nil, merkle.Checkpoint{}, err
		}
	}
	if l.cosigs != nil {
		if attached, err := l.cosigs.Attach(ctx, signed); err == nil {
			signed = attached
		}
	}
	return signed, cp, nil
}

// VerifyLedgerProof verifies the ledgerProof of a did:credence resolution's
// document metadata: the base64url (no padding) of a Bundle (VerifyBundle).
func VerifyLedgerProof(proof string, v note.Verifier, checks ...func(signed []byte) error) (SubjectState, error) {
	raw, err := base64.RawURLEncoding.DecodeString(proof)
	if err != nil {
		return SubjectState{}, fmt.Errorf("%w: ledgerProof is not base64url: %w", merkle.ErrBadProof, err)
	}
	return VerifyBundle(raw, v, checks...)
}

// VerifyBundle checks a bundle offline: the checkpoint is signed by the log key,
// every op is included in that checkpoint's tree, and the chain replays under the
// ledger rules. It returns the subject's state at the last op. Each check is
// run on the bundle's signed checkpoint after the log's signature verified:
// a verifier that requires witnesses passes one that checks their
// cosignatures (witness.VerifyCosigned with a quorum).
func VerifyBundle(raw []byte, v note.Verifier, checks ...func(signed []byte) error) (SubjectState, error) {
	var b Bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return SubjectState{}, fmt.Errorf("%w: bundle: %w", merkle.ErrBadProof, err)
	}
	cp, err := merkle.Open([]byte(b.Checkpoint), v)
	if err != nil {
		return SubjectState{}, err
	}
	for _, check := range checks {
		if err := check([]byte(b.Checkpoint)); err != nil {
			return SubjectState{}, err
		}
	}
	var st SubjectState
	var hashes []string
	for _, bo := range b.Ops {
		if bo.Inclusion.Index != bo.Index {
			return SubjectState{}, fmt.Errorf("%w: op %d carries the proof of leaf %d", merkle.ErrBadProof, bo.Index, bo.Inclusion.Index)
		}
		// Transports may re-encode JSON (e.g. escape "&" as \u0026): the leaf is the
		// op's JCS form, so canonicalize before checking inclusion.
		leaf, err := jcs.Transform(bo.Op)
		if err != nil {
			return SubjectState{}, fmt.Errorf("%w: op %d: %w", merkle.ErrBadProof, bo.Index, err)
		}
		if err := merkle.VerifyCheckpointInclusion(cp, bo.Inclusion, leaf); err != nil {
			return SubjectState{}, err
		}
		op, canonical, err := Decode(leaf)
		if err != nil {
			return SubjectState{}, err
		}
		if st, err = Apply(st, op, canonical, priorOf(hashes)); err != nil {
			return SubjectState{}, err
		}
		hashes = append(hashes, st.Hash)
	}
	if len(b.Ops) == 0 {
		return SubjectState{}, fmt.Errorf("%w: bundle has no ops", merkle.ErrBadProof)
	}
	return st, nil
}

// marshalNoEscape encodes v without HTML escaping, so embedded canonical ops keep
// their exact bytes.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// docCache keeps the decoded document of each DID's latest version, keyed
// by the subject's head hash, so that verifying many credentials of one
// issuer decodes its document once per version instead of once per
// signature. It is bounded; when full, an arbitrary entry makes room.
type docCache struct {
	mu    sync.Mutex
	items map[string]cachedDoc
}

type cachedDoc struct {
	head string
	doc  *did.Document
}

const maxCachedDocs = 4096

func (c *docCache) get(subject string, st SubjectState) (*did.Document, error) {
	c.mu.Lock()
	e, ok := c.items[subject]
	c.mu.Unlock()
	if ok && e.head == st.Hash {
		return e.doc, nil
	}
	doc := new(did.Document)
	if err := json.Unmarshal(st.Doc, doc); err != nil {
		return nil, fmt.Errorf("stored document of %s: %w", subject, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = make(map[string]cachedDoc)
	}
	if _, ok := c.items[subject]; !ok && len(c.items) >= maxCachedDocs {
		for k := range c.items {
			delete(c.items, k)
			break
		}
	}
	c.items[subject] = cachedDoc{head: st.Hash, doc: doc}
	return doc, nil
}
