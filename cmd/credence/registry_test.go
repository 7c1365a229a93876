package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
	"github.com/gowebpki/jcs"
	"go.etcd.io/bbolt"
)

// ledgerKey is a key that signs did:credence ops.
type ledgerKey struct {
	priv ed25519.PrivateKey
	mk   string
}

func newLedgerKey(t *testing.T) ledgerKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ledgerKey{priv, mk}
}

// ledgerDoc is a DID document for subject with key mk; note varies it, and its
// "&" is one the server's JSON encoder escapes.
func ledgerDoc(t *testing.T, subject, mk, note string) json.RawMessage {
	t.Helper()
	doc := map[string]any{"@context": []string{did.ContextDIDv1, did.ContextMultikey}, "id": subject,
		"verificationMethod": []map[string]string{{"id": subject + "#key-1", "type": "Multikey", "controller": subject, "publicKeyMultibase": mk}},
		"assertionMethod":    []string{subject + "#key-1"}, "alsoKnownAs": []string{"https://example.com/" + note + "?a=1&b=2"}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// submitOp signs op with k and submits it to the server with the admin token.
func submitOp(t *testing.T, base string, op *registry.Op, k ledgerKey) registry.Receipt {
	t.Helper()
	if err := registry.AddProof(op, "#"+k.mk, k.priv.Public(), registry.SignerFunc(k.priv)); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	code, body := httpDo(t, http.MethodPost, base+"/registry/ops", testAdminToken, string(raw))
	if code != http.StatusCreated {
		t.Fatalf("submit %s seq %d: %d %s", op.Type, op.Seq, code, body)
	}
	var r registry.Receipt
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// createSubject submits a did:credence create by a fresh key and returns the
// key and the receipt.
func createSubject(t *testing.T, base string, at time.Time, note string) (ledgerKey, registry.Receipt) {
	t.Helper()
	upd, rec := newLedgerKey(t), newLedgerKey(t)
	placeholder := registry.MethodPrefix + registry.SCIDPlaceholder
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: placeholder, Seq: 1,
		Time: at.Format(registry.TimeLayout), Doc: ledgerDoc(t, placeholder, upd.mk, note),
		UpdateKeys: []string{upd.mk}, RecoveryKeys: []string{rec.mk}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	return upd, submitOp(t, base, op, upd)
}

// updateSubject submits the next update of the subject of prev, signed by k.
func updateSubject(t *testing.T, base string, k ledgerKey, prev registry.Receipt, at time.Time, note string) registry.Receipt {
	t.Helper()
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: prev.Subject, Seq: prev.Seq + 1, Prev: prev.Hash,
		Time: at.Format(registry.TimeLayout), Doc: ledgerDoc(t, prev.Subject, k.mk, note)}
	return submitOp(t, base, op, k)
}

// populateLedger submits four ops over two subjects: 0 create A, 1 update A,
// 2 create B, 3 update A.
func populateLedger(t *testing.T, base string) {
	t.Helper()
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	a, r := createSubject(t, base, now, "a1")
	r = updateSubject(t, base, a, r, now.Add(time.Second), "a2")
	createSubject(t, base, now, "b1")
	updateSubject(t, base, a, r, now.Add(2*time.Second), "a3")
}

type verifyJSON struct {
	registry.AuditReport
	VerifierKey string `json:"verifierKey"`
}

// tamperProxy serves base, passing every response body through alter.
func tamperProxy(t *testing.T, base string, alter func(path string, body []byte) []byte) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := http.Get(base + r.URL.RequestURI())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		w.Write(alter(r.URL.Path, body))
	}))
	t.Cleanup(ts.Close)
	return ts
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestRegistryVerify(t *testing.T) {
	srv, ts, cfg := testServer(t)
	populateLedger(t, ts.URL)

	// Over HTTP.
	got := decode[verifyJSON](t, mustRun(t, "registry", "verify", "--server", ts.URL, "--json"))
	code, cpText := httpDo(t, http.MethodGet, ts.URL+"/registry/checkpoint", "", "")
	if code != http.StatusOK {
		t.Fatalf("checkpoint: %d %s", code, cpText)
	}
	v, err := merkle.NewVerifier(srv.LedgerKey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := merkle.Open(cpText, v)
	if err != nil {
		t.Fatal(err)
	}
	wantRoot := base64.StdEncoding.EncodeToString(cp.Root[:])
	if got.Size != 4 || got.Ops != 4 || got.Subjects != 2 || got.CheckpointSize != 4 || got.Deactivated != 0 ||
		got.OpsByType[registry.DIDCreate] != 2 || got.OpsByType[registry.DIDUpdate] != 2 ||
		got.Root != wantRoot || got.CheckpointRoot != wantRoot || got.Origin != cp.Origin || got.VerifierKey != srv.LedgerKey {
		t.Errorf("verify --server --json = %+v\nwant size 4 over 2 subjects, root %s, origin %s, key %s", got, wantRoot, cp.Origin, srv.LedgerKey)
	}
	out := mustRun(t, "registry", "verify", "--server", ts.URL+"/")
	if want := "ledger OK: 4 ops over 2 subjects, tree size 4, root " + wantRoot + ", checkpoint signed by " + cp.Origin + "\n"; out != want {
		t.Errorf("readable output:\n%s\nwant\n%s", out, want)
	}

	// Pinning the log key: the right one passes, another fails.
	mustRun(t, "registry", "verify", "--server", ts.URL, "--verifier-key", srv.LedgerKey)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := merkle.VerifierKey(cp.Origin, otherPub)
	runErr(t, []string{"registry", "verify", "--server", ts.URL, "--verifier-key", otherKey}, "FAILED", "not the pinned")
	runErr(t, []string{"registry", "verify", "--server", ts.URL, "--verifier-key", "nonsense"}, "--verifier-key")

	// A server that alters entry 0 on the way: its record no longer matches it.
	flip := tamperProxy(t, ts.URL, func(path string, body []byte) []byte {
		if path == "/registry/entries/0" {
			return bytes.Replace(body, []byte("example.com/a1"), []byte("example.com/a9"), 1)
		}
		return body
	})
	runErr(t, []string{"registry", "verify", "--server", flip.URL}, "FAILED", "leaf 0:", "hash")
	// One that alters entry 1 and serves the matching hash: the signature fails.
	forge := tamperProxy(t, ts.URL, func(path string, body []byte) []byte {
		if path != "/registry/entries/1" {
			return body
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("entry: %v", err)
			return body
		}
		op, err := jcs.Transform(bytes.Replace(ev["op"], []byte("example.com/a2"), []byte("example.com/a7"), 1))
		if err != nil {
			t.Errorf("entry op: %v", err)
		}
		ev["op"] = op
		ev["hash"], _ = json.Marshal(registry.OpHash(op))
		b, _ := json.Marshal(ev)
		return b
	})
	runErr(t, []string{"registry", "verify", "--server", forge.URL, "--json"}, "FAILED", "leaf 1:", "signature")
	// One that drops an entry.
	drop := tamperProxy(t, ts.URL, func(path string, body []byte) []byte {
		if path == "/registry/entries/3" {
			return []byte(`{"type":"about:blank","title":"Not Found","status":404}`)
		}
		return body
	})
	runErr(t, []string{"registry", "verify", "--server", drop.URL}, "leaf 3:")

	// The data dir is locked while the server runs.
	runErr(t, []string{"registry", "verify", "--data", cfg.DataDir}, "locked by a running server", "use --server")
	runErr(t, []string{"registry", "verify", "--server", ts.URL, "--data", cfg.DataDir}, "exclusive")

	// Offline, once the server stopped: the same ledger, and the file untouched.
	ts.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(cfg.DataDir, "credence.db")
	before := fileSum(t, dbPath)
	local := decode[verifyJSON](t, mustRun(t, "registry", "verify", "--data", cfg.DataDir, "--json"))
	if local.Root != got.Root || local.Size != 4 || local.Subjects != 2 || local.CheckpointSize != 4 || local.VerifierKey != srv.LedgerKey {
		t.Errorf("verify --data = %+v, want the server's %+v", local, got)
	}
	if fileSum(t, dbPath) != before {
		t.Error("verify --data modified credence.db")
	}
	out = mustRun(t, "registry", "verify", "--data", cfg.DataDir, "--verifier-key", srv.LedgerKey)
	if !strings.HasPrefix(out, "ledger OK: 4 ops over 2 subjects, tree size 4, root "+wantRoot) {
		t.Errorf("readable --data output:\n%s", out)
	}
	// CREDENCE_SERVER does not override an explicit --data.
	t.Setenv("CREDENCE_SERVER", "http://127.0.0.1:1")
	mustRun(t, "registry", "verify", "--data", cfg.DataDir)

	// A copy of the file with leaf 2's op altered in place.
	tampered := t.TempDir()
	b, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tampered, "credence.db"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(tampered, "credence.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		leaves := tx.Bucket([]byte("registry.leaves"))
		key := binary.BigEndian.AppendUint64(nil, 2)
		rec := bytes.Clone(leaves.Get(key))
		if !bytes.Contains(rec, []byte("example.com/b1")) {
			t.Fatalf("leaf 2 is not B's create: %s", rec)
		}
		return leaves.Put(key, bytes.Replace(rec, []byte("example.com/b1"), []byte("example.com/b0"), 1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	runErr(t, []string{"registry", "verify", "--data", tampered}, "FAILED", "leaf 2:")

	runErr(t, []string{"registry", "verify", "--data", t.TempDir()}, "no ledger", "credence.db")
}

// TestRegistryVerifyWithAccreditations: trust ops are replayed against the
// governance the server publishes (--server) or recorded (--data); without
// it their steward signatures could not be checked.
func TestRegistryVerifyWithAccreditations(t *testing.T) {
	srv, ts, cfg := testServer(t)
	populateLedger(t, ts.URL)
	code, b := httpDo(t, http.MethodPost, ts.URL+"/admin/accreditations", testAdminToken,
		`{"issuer":"did:example:texas-board","types":["MedicalLicenseCredential"],"jurisdictions":["TX"]}`)
	if code != http.StatusCreated {
		t.Fatalf("accredit: %d %s", code, b)
	}
	got := decode[verifyJSON](t, mustRun(t, "registry", "verify", "--server", ts.URL, "--json"))
	if got.Size != 5 || got.OpsByType[registry.TrustAccredit] != 1 {
		t.Errorf("verify --server = %+v, want 5 ops with one trust.accredit", got)
	}
	ts.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	local := decode[verifyJSON](t, mustRun(t, "registry", "verify", "--data", cfg.DataDir, "--json"))
	if local.Root != got.Root || local.OpsByType[registry.TrustAccredit] != 1 {
		t.Errorf("verify --data = %+v, want the server's %+v", local, got)
	}
}
