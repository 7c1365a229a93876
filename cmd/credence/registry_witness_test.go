package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"golang.org/x/mod/sumdb/note"
)

// checkpointOf GETs a checkpoint note of the node and opens it with the
// node's ledger key.
func (n *node) checkpointOf(t *testing.T, path string) (merkle.Checkpoint, []byte) {
	t.Helper()
	code, b := httpDo(t, http.MethodGet, n.ts.URL+path, "", "")
	if code != http.StatusOK {
		return merkle.Checkpoint{}, nil
	}
	v, err := merkle.NewVerifier(n.srv.LedgerKey)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := merkle.Open(b, v)
	if err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
	return cp, b
}

// createDID appends to the node's ledger and returns the status.
func (n *node) createDID(t *testing.T) (int, []byte) {
	t.Helper()
	return httpDo(t, http.MethodPost, n.ts.URL+"/admin/dids", testAdminToken, `{"method":"credence"}`)
}

// waitWitnessed waits until the node's witnessed checkpoint covers its
// latest one, and returns it.
func (n *node) waitWitnessed(t *testing.T) []byte {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		latest, _ := n.checkpointOf(t, "/registry/checkpoint")
		w, signed := n.checkpointOf(t, "/registry/checkpoint/witnessed")
		if signed != nil && w.Size == latest.Size {
			return signed
		}
		if time.Now().After(deadline) {
			t.Fatalf("the witnessed checkpoint (size %d) never caught up with the latest (size %d)", w.Size, latest.Size)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWitnessedLedger runs a registry (A) whose checkpoints another
// organization's Credence server (B) witnesses: A's checkpoints get B's
// cosignatures, `registry verify --witness` checks them over HTTP and in
// the data dir, and when A is restored from a backup older than what B
// cosigned, A refuses writes (and the audit fails) until the newer data is
// back.
func TestWitnessedLedger(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a := startNode(t, dirA)
	ledgerKey := a.srv.LedgerKey
	a.stop()
	b := startNode(t, dirB, func(c *config.Config) { c.WitnessLogs = ledgerKey })
	witnessKey := b.srv.WitnessKey
	witnessURL := b.ts.URL + "/witness"
	withWitness := func(c *config.Config) { c.Witnesses = witnessURL + "=" + witnessKey }

	a = startNode(t, dirA, withWitness)
	for range 2 {
		if code, body := a.createDID(t); code != http.StatusCreated {
			t.Fatalf("create DID: %d %s", code, body)
		}
	}
	signed := a.waitWitnessed(t)
	logV, _ := merkle.NewVerifier(ledgerKey)
	wv, err := witness.NewVerifier(witnessKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.VerifyCosigned(signed, logV, []note.Verifier{wv}, 1); err != nil {
		t.Fatalf("the witnessed checkpoint does not carry B's cosignature: %v", err)
	}
	if _, latest := a.checkpointOf(t, "/registry/checkpoint"); !bytes.Equal(latest, signed) {
		t.Errorf("GET /registry/checkpoint does not carry the cosignatures collected for it:\n%s\nwant\n%s", latest, signed)
	}
	var key struct {
		Witnesses []struct{ URL, VerifierKey string }
		Quorum    int
	}
	if code, body := httpDo(t, http.MethodGet, a.ts.URL+"/registry/key", "", ""); code != http.StatusOK || json.Unmarshal(body, &key) != nil ||
		len(key.Witnesses) != 1 || key.Witnesses[0].URL != witnessURL || key.Witnesses[0].VerifierKey != witnessKey || key.Quorum != 1 {
		t.Errorf("GET /registry/key = %d %s", code, body)
	}

	// The auditor pins B's key (and asks B itself).
	out := mustRun(t, "registry", "verify", "--server", a.ts.URL, "--witness", witnessURL+"="+witnessKey)
	if !strings.Contains(out, "ledger OK") || !strings.Contains(out, "witnessed: the checkpoint of size") || !strings.Contains(out, "is a prefix of the audited tree") {
		t.Errorf("registry verify --witness:\n%s", out)
	}
	stranger := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	strangerKey, _ := witness.VerifierKey("stranger.example/witness", stranger.Public().(ed25519.PublicKey))
	runErr(t, []string{"registry", "verify", "--server", a.ts.URL, "--witness", strangerKey}, "FAILED", "not enough cosignatures")
	runErr(t, []string{"registry", "verify", "--server", a.ts.URL, "--witness", witnessKey, "--witness", strangerKey}, "FAILED", "not enough cosignatures")
	mustRun(t, "registry", "verify", "--server", a.ts.URL, "--witness", witnessKey, "--witness", strangerKey, "--quorum", "1")
	runErr(t, []string{"registry", "verify", "--server", a.ts.URL, "--witness", witnessKey, "--quorum", "2"}, "--quorum")

	// A backup, then more ops that B cosigns.
	a.stop()
	backup := filepath.Join(t.TempDir(), "credence.db")
	copyFile(t, filepath.Join(dirA, "credence.db"), backup)
	a = startNode(t, dirA, withWitness)
	if code, body := a.createDID(t); code != http.StatusCreated {
		t.Fatalf("create DID: %d %s", code, body)
	}
	a.waitWitnessed(t)
	a.stop()
	out = mustRun(t, "registry", "verify", "--data", dirA, "--witness", witnessKey)
	if !strings.Contains(out, "witnessed: the checkpoint of size") {
		t.Errorf("registry verify --data --witness:\n%s", out)
	}
	current := filepath.Join(t.TempDir(), "credence.db")
	copyFile(t, filepath.Join(dirA, "credence.db"), current)

	// Restored from the older backup, A is behind what B cosigned: B holds
	// a checkpoint A signed that A's tree does not have. Writes stop; reads
	// and the audit go on, and the audit that asks B fails.
	copyFile(t, backup, filepath.Join(dirA, "credence.db"))
	a = startNode(t, dirA, withWitness)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := a.createDID(t)
		if code == http.StatusServiceUnavailable && strings.Contains(string(body), "registry:read-only") {
			break
		}
		if code != http.StatusCreated && code != http.StatusServiceUnavailable {
			t.Fatalf("create DID on the rolled-back ledger: %d %s", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rolled-back ledger still takes writes: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, cp := a.checkpointOf(t, "/registry/checkpoint"); cp == nil {
		t.Error("reads stopped with the writes")
	}
	if code, metrics := httpDo(t, http.MethodGet, a.ts.URL+"/metrics", "", ""); code != http.StatusOK ||
		!strings.Contains(string(metrics), `credence_ledger_witness_fault{witness="`+wv.Name()+`"} 1`) {
		t.Errorf("metrics do not show the fault: %d\n%s", code, grepLines(string(metrics), "credence_ledger_witness"))
	}
	runErr(t, []string{"registry", "verify", "--server", a.ts.URL, "--witness", witnessURL + "=" + witnessKey}, "FAILED", "rolled back")

	// The fault is stored: restarted while B cannot be reached (so no round
	// can find it again), A still refuses writes from its first request.
	a.stop()
	a = startNode(t, dirA, func(c *config.Config) { c.Witnesses = "http://127.0.0.1:1/witness=" + witnessKey })
	if code, body := a.createDID(t); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "rolled back") {
		t.Errorf("create DID after a restart of the rolled-back ledger: %d %s", code, body)
	}

	// The newer data restored, B cosigns again and writes resume.
	a.stop()
	copyFile(t, current, filepath.Join(dirA, "credence.db"))
	a = startNode(t, dirA, withWitness)
	deadline = time.Now().Add(15 * time.Second)
	for {
		code, body := a.createDID(t)
		if code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume after the restore: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.waitWitnessed(t)
	mustRun(t, "registry", "verify", "--server", a.ts.URL, "--witness", witnessURL+"="+witnessKey)
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestWitnessPinsRefuseOneKeyTwice: a cosignature does not sign the
// witness's name, so one key pinned under two names must not count twice
// towards --quorum.
func TestWitnessPinsRefuseOneKeyTwice(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	var keys []string
	for _, name := range []string{"w1.example/witness", "w2.example/witness"} {
		k, err := witness.VerifierKey(name, pub)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	wc := witnessCheck{keys: []string{keys[0], "https://w2.example/witness=" + keys[1]}, quorum: 2}
	if _, err := wc.pinned(); err == nil || !strings.Contains(err.Error(), "same key") {
		t.Errorf("one key under two names: %v", err)
	}
	wc = witnessCheck{keys: keys[:1]}
	if pins, err := wc.pinned(); err != nil || len(pins) != 1 || wc.quorum != 1 {
		t.Errorf("one witness: %v, %v, quorum %d", pins, err, wc.quorum)
	}
}
