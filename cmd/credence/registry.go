package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/boltstore"
	"github.com/credence/credence/registry/merkle"
	"github.com/gowebpki/jcs"
	"github.com/spf13/cobra"
	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"golang.org/x/mod/sumdb/note"
)

func registryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "registry", Short: "Audit the ledger"}
	cmd.AddCommand(registryVerifyCmd())
	return cmd
}

// verifyOutput is what `registry verify --json` prints: the audit report and the
// verifier key the checkpoint was checked with.
type verifyOutput struct {
	registry.AuditReport
	VerifierKey string `json:"verifierKey"`
	// Witnessed is the witnessed checkpoint's check (--witness).
	Witnessed *witnessReport `json:"witnessed,omitempty"`
}

func registryVerifyCmd() *cobra.Command {
	var serverURL, data, pinned string
	var asJSON bool
	var wc witnessCheck
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Replay the whole ledger under the rules and check it against its signed checkpoint",
		Long: `Replays every ledger operation in log order, re-checking every rule and
signature, recomputes the Merkle tree and compares its root with the log's
signed checkpoint.

With --server the log is read over HTTP (its published verifier key, latest
checkpoint and every entry it covers). With --data the ledger of a stopped
server's data dir is read from a snapshot of its credence.db (the file is never
written, and no master key is needed). --verifier-key pins the log key to trust
instead of the one the server publishes or the data dir holds.

With --witness (once per pinned witness cosignature key) the ledger's latest
witnessed checkpoint (GET /registry/checkpoint/witnessed, or the one the data
dir keeps) must carry cosignatures by --quorum of them (default: all) and be a
prefix of the audited tree: a ledger that rolled back or forked behind its
witnesses' backs fails here. Given as url=key, the witness itself is also
asked for the latest checkpoint it cosigned, which must be a prefix of the
audited tree too (a ledger cannot hide newer cosignatures from the auditor).

Exits non-zero, naming the leaf, when the ledger does not verify.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if serverURL != "" && cmd.Flags().Changed("server") && cmd.Flags().Changed("data") {
				return errors.New("--server and --data are exclusive")
			}
			var out verifyOutput
			var err error
			if serverURL != "" && !cmd.Flags().Changed("data") {
				out, err = verifyRemote(cmd.Context(), strings.TrimSuffix(serverURL, "/"), pinned, wc)
			} else {
				out, err = verifyLocal(cmd.Context(), data, pinned, wc)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			r := out.AuditReport
			fmt.Fprintf(cmd.OutOrStdout(), "ledger OK: %d ops over %d subjects, tree size %d, root %s, checkpoint signed by %s\n",
				r.Ops, r.Subjects, r.Size, r.Root, r.Origin)
			if r.CheckpointSize < r.Size {
				fmt.Fprintf(cmd.OutOrStdout(), "  the checkpoint covers the first %d (root %s); the last %d replayed but are not signed yet\n",
					r.CheckpointSize, r.CheckpointRoot, r.Size-r.CheckpointSize)
			}
			printWitnessed(cmd.OutOrStdout(), out.Witnessed)
			return nil
		},
	}
	cmd.Flags().StringVar(&serverURL, "server", os.Getenv("CREDENCE_SERVER"), "Credence server URL (env CREDENCE_SERVER)")
	cmd.Flags().StringVar(&data, "data", config.Defaults().DataDir, "data dir of a stopped server (without --server)")
	cmd.Flags().StringVar(&pinned, "verifier-key", "", "the log's note verifier key (origin+hash+key) to trust, instead of the published one")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringArrayVar(&wc.keys, "witness", nil, "a witness's cosignature verifier key to require, or url=key to also ask the witness for its latest cosigned checkpoint (repeatable)")
	cmd.Flags().IntVar(&wc.quorum, "quorum", 0, "how many of the --witness keys must have cosigned (default: all)")
	return cmd
}

// auditFailed marks an error of registry.Audit (the ledger does not verify), as
// opposed to one reading it.
func auditFailed(err error) error { return fmt.Errorf("ledger verification FAILED: %w", err) }

// chooseVerifier returns the verifier for the log's published (or stored) key, or
// for the pinned key, which must then be that one.
func chooseVerifier(published, pinned, where string) (note.Verifier, string, error) {
	vkey := published
	if pinned != "" {
		if _, err := merkle.NewVerifier(pinned); err != nil {
			return nil, "", fmt.Errorf("--verifier-key: %w", err)
		}
		if pinned != published {
			return nil, "", auditFailed(fmt.Errorf("%s has verifier key %s, not the pinned %s", where, published, pinned))
		}
		vkey = pinned
	}
	v, err := merkle.NewVerifier(vkey)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", where, err)
	}
	return v, vkey, nil
}

// --- over HTTP ---

func verifyRemote(ctx context.Context, base, pinned string, wc witnessCheck) (verifyOutput, error) {
	var key struct {
		Origin      string `json:"origin"`
		VerifierKey string `json:"verifierKey"`
	}
	if err := call(ctx, http.MethodGet, base+"/registry/key", "", nil, &key); err != nil {
		return verifyOutput{}, fmt.Errorf("registry key: %w", err)
	}
	v, vkey, err := chooseVerifier(key.VerifierKey, pinned, "the server")
	if err != nil {
		return verifyOutput{}, err
	}
	if v.Name() != key.Origin {
		return verifyOutput{}, fmt.Errorf("the server's registry origin %q is not its key's name %q", key.Origin, v.Name())
	}
	// The witnesses and the witnessed checkpoint first: the latest one is
	// then at least as large.
	var witnessed []byte
	if wc.enabled() {
		if err := wc.ask(ctx, v.Name()); err != nil {
			return verifyOutput{}, err
		}
		if witnessed, err = fetchWitnessed(ctx, base); err != nil {
			return verifyOutput{}, err
		}
	}
	signed, err := getText(ctx, base+"/registry/checkpoint")
	if err != nil {
		return verifyOutput{}, fmt.Errorf("registry checkpoint: %w", err)
	}
	cp, err := merkle.Open(signed, v)
	if err != nil {
		return verifyOutput{}, auditFailed(fmt.Errorf("checkpoint: %w", err))
	}
	var gov registry.Governance
	if err := call(ctx, http.MethodGet, base+"/registry/governance", "", nil, &gov); err != nil {
		return verifyOutput{}, fmt.Errorf("registry governance: %w", err)
	}
	rl := &remoteLeaves{ctx: ctx, base: base, size: cp.Size}
	rep, err := registry.Audit(ctx, rl.leaf, cp.Size, signed, v, registry.AuditStewards(append(gov.Stewards, gov.Retired...)...))
	if err != nil {
		return verifyOutput{}, auditFailed(err)
	}
	out := verifyOutput{AuditReport: rep, VerifierKey: vkey}
	if wc.enabled() {
		if out.Witnessed, err = wc.verify(ctx, witnessed, v, cp, remoteConsistency(ctx, base)); err != nil {
			return verifyOutput{}, err
		}
	}
	return out, nil
}

// getText GETs a small text resource.
func getText(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp.StatusCode, b)
	}
	return b, nil
}

// Entries are fetched ahead in batches, several at a time; Audit asks for them
// in order.
const (
	entryBatch   = 64
	entryWorkers = 8
)

// remoteLeaves is the leaves function of registry.Audit over a server's entries.
type remoteLeaves struct {
	ctx   context.Context
	base  string
	size  uint64
	start uint64
	data  [][]byte
	errs  []error
}

func (r *remoteLeaves) leaf(i uint64) ([]byte, error) {
	if i >= r.size {
		return nil, fmt.Errorf("beyond the checkpoint's %d leaves", r.size)
	}
	if i < r.start || i >= r.start+uint64(len(r.data)) {
		r.fill(i)
	}
	return r.data[i-r.start], r.errs[i-r.start]
}

func (r *remoteLeaves) fill(from uint64) {
	n := min(uint64(entryBatch), r.size-from)
	r.start, r.data, r.errs = from, make([][]byte, n), make([]error, n)
	sem := make(chan struct{}, entryWorkers)
	var wg sync.WaitGroup
	for k := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r.data[k], r.errs[k] = fetchEntry(r.ctx, r.base, from+k)
		})
	}
	wg.Wait()
}

// fetchEntry returns the op bytes of entry i once its record (index, hash,
// subject, seq) agrees with them.
func fetchEntry(ctx context.Context, base string, i uint64) ([]byte, error) {
	var ev struct {
		Index   uint64          `json:"index"`
		Subject string          `json:"subject"`
		Seq     uint64          `json:"seq"`
		Hash    string          `json:"hash"`
		Op      json.RawMessage `json:"op"`
	}
	if err := call(ctx, http.MethodGet, base+"/registry/entries/"+strconv.FormatUint(i, 10), "", nil, &ev); err != nil {
		return nil, err
	}
	// The op travels as a JSON value, which the server's encoder may escape
	// differently (for example "&" as "\u0026"); JCS gives back the canonical
	// bytes the log stores. Stored bytes that were not canonical would not hash
	// to the served hash, nor to the signed root.
	data, err := jcs.Transform(ev.Op)
	if err != nil {
		return nil, fmt.Errorf("the served op is not JSON: %w", err)
	}
	if err := registry.CheckLeaf(i, registry.Leaf{Index: ev.Index, Subject: ev.Subject, Seq: ev.Seq, Hash: ev.Hash, Data: data}); err != nil {
		return nil, err
	}
	return data, nil
}

// --- from a data dir ---

// ledgerIdentity is the registry's checkpoint key and origin as the server keeps
// them (kv bucket "registry", key "identity").
type ledgerIdentity struct {
	KeyID  string `json:"keyId"`
	Origin string `json:"origin"`
}

func verifyLocal(ctx context.Context, dir, pinned string, wc witnessCheck) (verifyOutput, error) {
	path := filepath.Join(dir, "credence.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return verifyOutput{}, fmt.Errorf("no ledger in %s: %s does not exist (a server on Redis keeps its ledger there: use --server)", dir, path)
	} else if err != nil {
		return verifyOutput{}, err
	}
	snap, cleanup, err := snapshot(path, dir)
	if err != nil {
		return verifyOutput{}, err
	}
	defer cleanup()
	kvs, err := boltkv.Open(snap)
	if err != nil {
		return verifyOutput{}, err
	}
	defer kvs.Close()
	st, err := boltstore.New(kvs.DB())
	if err != nil {
		return verifyOutput{}, err
	}
	defer st.Close()

	b, err := kvs.Get(ctx, "registry", "identity")
	if errors.Is(err, kv.ErrNotFound) {
		return verifyOutput{}, fmt.Errorf("no ledger in %s: it has no registry identity (was a server ever started on it?)", dir)
	}
	if err != nil {
		return verifyOutput{}, err
	}
	var id ledgerIdentity
	if err := json.Unmarshal(b, &id); err != nil {
		return verifyOutput{}, fmt.Errorf("registry identity in %s: %w", dir, err)
	}
	// Key returns public information only and never decrypts, so any master key
	// opens the manager; the key's id is the hash of its public key.
	throwaway, err := keys.GenerateMasterKey()
	if err != nil {
		return verifyOutput{}, err
	}
	km, err := keys.NewLocal(kvs, throwaway)
	if err != nil {
		return verifyOutput{}, err
	}
	k, err := km.Key(ctx, id.KeyID)
	if err != nil {
		return verifyOutput{}, fmt.Errorf("registry key: %w", err)
	}
	pub, ok := k.Public.(ed25519.PublicKey)
	if !ok {
		return verifyOutput{}, fmt.Errorf("registry key %s is not Ed25519", id.KeyID)
	}
	stored, err := merkle.VerifierKey(id.Origin, pub)
	if err != nil {
		return verifyOutput{}, err
	}
	v, vkey, err := chooseVerifier(stored, pinned, "the data dir")
	if err != nil {
		return verifyOutput{}, err
	}

	size, err := st.Size(ctx)
	if err != nil {
		return verifyOutput{}, err
	}
	_, signed, err := st.Checkpoint(ctx)
	if errors.Is(err, registry.ErrNotFound) {
		return verifyOutput{}, fmt.Errorf("the ledger in %s has no signed checkpoint yet (%d ops): nothing to verify against", dir, size)
	}
	if err != nil {
		return verifyOutput{}, err
	}
	var gov registry.Governance
	if b, err := kvs.Get(ctx, "registry", "governance"); err == nil {
		if err := json.Unmarshal(b, &gov); err != nil {
			return verifyOutput{}, fmt.Errorf("registry governance in %s: %w", dir, err)
		}
	} else if !errors.Is(err, kv.ErrNotFound) {
		return verifyOutput{}, err
	}
	rep, err := registry.Audit(ctx, registry.StoreLeaves(ctx, st), size, signed, v, registry.AuditStewards(append(gov.Stewards, gov.Retired...)...))
	if err != nil {
		return verifyOutput{}, auditFailed(err)
	}
	// The tree hashes the server keeps (and builds proofs from) must be those of
	// the leaves.
	root, err := merkle.TreeRoot(registry.HashReader(ctx, st), size)
	if err != nil {
		return verifyOutput{}, auditFailed(fmt.Errorf("stored tree hashes: %w", err))
	}
	if got := base64.StdEncoding.EncodeToString(root[:]); got != rep.Root {
		return verifyOutput{}, auditFailed(fmt.Errorf("the stored tree hashes give root %s, but the leaves hash to %s: proofs from this store would not verify", got, rep.Root))
	}
	out := verifyOutput{AuditReport: rep, VerifierKey: vkey}
	if wc.enabled() {
		witnessed, err := kvs.Get(ctx, "registry", "witnessed")
		if errors.Is(err, kv.ErrNotFound) {
			return verifyOutput{}, auditFailed(errNoWitnessed)
		} else if err != nil {
			return verifyOutput{}, err
		}
		// The whole tree, whose stored hashes match the replayed leaves.
		all := merkle.Checkpoint{Origin: v.Name(), Size: size, Root: root}
		prove := func(from, to uint64) (merkle.ConsistencyProof, error) {
			return merkle.ProveConsistency(registry.HashReader(ctx, st), from, to)
		}
		if out.Witnessed, err = wc.verify(ctx, witnessed, v, all, prove); err != nil {
			return verifyOutput{}, err
		}
	}
	return out, nil
}

// snapshot copies the bbolt file at path, opened read-only (a shared lock, which
// a running server's exclusive lock refuses), to a private temporary file, and
// returns it with a function removing it. The drivers only open files
// read-write, and the original must not be written.
func snapshot(path, dir string) (string, func(), error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return "", nil, fmt.Errorf("data dir %s is locked by a running server; use --server", dir)
	}
	if err != nil {
		return "", nil, fmt.Errorf("failed to open %s: %w", path, err)
	}
	defer db.Close()
	tmp, err := os.MkdirTemp("", "credence-verify-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	snap := filepath.Join(tmp, "credence.db")
	if err := db.View(func(tx *bbolt.Tx) error { return tx.CopyFile(snap, 0o600) }); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("failed to snapshot %s: %w", path, err)
	}
	return snap, cleanup, nil
}
