package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"golang.org/x/mod/sumdb/note"
)

// witnessCheck is `registry verify --witness ... --quorum N`: the ledger's
// witnessed checkpoint must carry cosignatures by quorum of the pinned
// witnesses and be a prefix of the audited tree. A witness given as
// url=key is also asked for the latest checkpoint it cosigned (its
// tlog-witness monitoring endpoint), which must be a prefix of the audited
// tree too: a ledger that shows the auditor an older or other tree than it
// showed its witnesses fails even if it hides their newer cosignatures.
type witnessCheck struct {
	keys   []string
	quorum int
	// latest is what each url=key witness answered (ask), by URL.
	latest map[string][]byte
}

// pinnedWitness is one --witness.
type pinnedWitness struct {
	url string // "" when only the key is pinned
	v   note.Verifier
}

// witnessReport is what the check found (verifyOutput.Witnessed).
type witnessReport struct {
	Size       uint64   `json:"size"`
	Root       string   `json:"root"`
	Quorum     int      `json:"quorum"`
	CosignedBy []string `json:"cosignedBy"`
	// Asked are the witnesses asked directly (url=key), with the size of
	// the latest checkpoint each cosigned.
	Asked map[string]uint64 `json:"asked,omitempty"`
}

func (w witnessCheck) enabled() bool { return len(w.keys) > 0 }

// pinned parses the --witness values and settles the quorum (0: all).
func (w *witnessCheck) pinned() ([]pinnedWitness, error) {
	out := make([]pinnedWitness, len(w.keys))
	seen := map[string]string{}
	for i, k := range w.keys {
		var u string
		if strings.HasPrefix(k, "http://") || strings.HasPrefix(k, "https://") {
			u, k, _ = strings.Cut(k, "=")
		}
		v, err := witness.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("--witness %q: %w", w.keys[i], err)
		}
		// A cosignature does not sign the witness's name: one key pinned
		// under two names would count twice towards --quorum.
		if other, dup := seen[witness.KeyMaterial(k)]; dup {
			return nil, fmt.Errorf("--witness %s and %s have the same key", other, v.Name())
		}
		seen[witness.KeyMaterial(k)] = v.Name()
		out[i] = pinnedWitness{url: strings.TrimSuffix(u, "/"), v: v}
	}
	if w.quorum == 0 {
		w.quorum = len(out)
	}
	if w.quorum < 0 || w.quorum > len(out) {
		return nil, fmt.Errorf("--quorum must be between 1 and the number of --witness keys (%d), got %d", len(out), w.quorum)
	}
	return out, nil
}

// witnessTimeout bounds each question to a witness.
const witnessTimeout = 30 * time.Second

// ask fetches from each witness pinned with its URL the latest checkpoint of
// the log origin it cosigned. An auditor of a live registry asks before it
// reads the ledger: the registry pushes a checkpoint to its witnesses only
// once it has signed it, so the ledger read afterwards is at least as large
// unless it rolled back, however long the audit takes.
func (w *witnessCheck) ask(ctx context.Context, origin string) error {
	pins, err := w.pinned()
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: witnessTimeout}
	w.latest = map[string][]byte{}
	for _, p := range pins {
		if p.url == "" {
			continue
		}
		latest, err := witness.Latest(ctx, client, p.url, origin)
		if err != nil {
			return fmt.Errorf("witness %s: %w", p.v.Name(), err)
		}
		w.latest[p.url] = latest
	}
	return nil
}

// verify checks the witnessed checkpoint signed against the log key, the
// pinned witnesses and the audited checkpoint (whose tree the audit
// recomputed); prove gives consistency proofs of the audited tree. The
// witnesses pinned with their URL are asked now unless ask ran.
func (w witnessCheck) verify(ctx context.Context, signed []byte, logKey note.Verifier, audited merkle.Checkpoint, prove func(from, to uint64) (merkle.ConsistencyProof, error)) (*witnessReport, error) {
	if w.latest == nil {
		if err := w.ask(ctx, logKey.Name()); err != nil {
			return nil, err
		}
	}
	pins, err := w.pinned()
	if err != nil {
		return nil, err
	}
	vs := make([]note.Verifier, len(pins))
	for i, p := range pins {
		vs[i] = p.v
	}
	cp, err := witness.VerifyCosigned(signed, logKey, vs, w.quorum)
	if err != nil {
		return nil, auditFailed(fmt.Errorf("witnessed checkpoint: %w", err))
	}
	rep := &witnessReport{Size: cp.Size, Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Quorum: w.quorum}
	for _, v := range vs {
		if _, err := witness.VerifyCosigned(signed, logKey, []note.Verifier{v}, 1); err == nil {
			rep.CosignedBy = append(rep.CosignedBy, v.Name())
		}
	}
	if err := checkPrefix(cp, audited, prove); err != nil {
		return nil, auditFailed(fmt.Errorf("the witnessed checkpoint: %w", err))
	}
	for _, p := range pins {
		if p.url == "" {
			continue
		}
		wcp, err := witness.VerifyCosigned(w.latest[p.url], logKey, []note.Verifier{p.v}, 1)
		if err != nil {
			return nil, fmt.Errorf("witness %s serves a checkpoint that does not verify: %w", p.v.Name(), err)
		}
		if err := checkPrefix(wcp, audited, prove); err != nil {
			return nil, auditFailed(fmt.Errorf("the latest checkpoint witness %s cosigned: %w", p.v.Name(), err))
		}
		if rep.Asked == nil {
			rep.Asked = map[string]uint64{}
		}
		rep.Asked[p.v.Name()] = wcp.Size
	}
	return rep, nil
}

// checkPrefix checks that the verified checkpoint cp is the audited tree or
// a prefix of it.
func checkPrefix(cp, audited merkle.Checkpoint, prove func(from, to uint64) (merkle.ConsistencyProof, error)) error {
	switch {
	case cp.Size > audited.Size:
		return fmt.Errorf("it has %d leaves, but the audited tree only %d: the ledger rolled back", cp.Size, audited.Size)
	case cp.Size == audited.Size:
		if cp.Root != audited.Root {
			return fmt.Errorf("its root at size %d is not the audited tree's: the ledger forked", cp.Size)
		}
	case cp.Size > 0:
		p, err := prove(cp.Size, audited.Size)
		if err != nil {
			return fmt.Errorf("consistency proof %d→%d: %w", cp.Size, audited.Size, err)
		}
		if err := merkle.VerifyCheckpointConsistency(cp, audited, p); err != nil {
			return fmt.Errorf("its tree of size %d is not a prefix of the audited tree: the ledger forked: %w", cp.Size, err)
		}
	}
	return nil
}

// remoteConsistency proves consistency with the server's proof endpoint.
func remoteConsistency(ctx context.Context, base string) func(from, to uint64) (merkle.ConsistencyProof, error) {
	return func(from, to uint64) (merkle.ConsistencyProof, error) {
		var p merkle.ConsistencyProof
		u := base + "/registry/proofs/consistency?from=" + strconv.FormatUint(from, 10) + "&to=" + strconv.FormatUint(to, 10)
		err := call(ctx, http.MethodGet, u, "", nil, &p)
		return p, err
	}
}

// fetchWitnessed GETs the server's latest witnessed checkpoint.
func fetchWitnessed(ctx context.Context, base string) ([]byte, error) {
	b, err := getText(ctx, base+"/registry/checkpoint/witnessed")
	if err != nil {
		return nil, fmt.Errorf("witnessed checkpoint: %w", err)
	}
	return b, nil
}

// printWitnessed adds the witness check's line to the human output.
func printWitnessed(out io.Writer, r *witnessReport) {
	if r == nil {
		return
	}
	fmt.Fprintf(out, "  witnessed: the checkpoint of size %d (root %s) is cosigned by %d of the pinned witnesses (quorum %d: %v) and is a prefix of the audited tree\n",
		r.Size, r.Root, len(r.CosignedBy), r.Quorum, r.CosignedBy)
	for name, size := range r.Asked {
		fmt.Fprintf(out, "  witness %s's latest cosigned checkpoint (size %d) is a prefix of the audited tree\n", name, size)
	}
}

var errNoWitnessed = errors.New("the data dir has no witnessed checkpoint (is --witnesses configured and has a quorum cosigned yet?)")
