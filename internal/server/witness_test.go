package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/credence/credence/internal/config"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// otherLog is another registry's log, which test servers witness
// (--witness-logs). The test holds its key, so it can sign its checkpoints.
var otherLogPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))

const otherLogOrigin = "other-registry.example/registry"

func otherLogKey(t testing.TB) string {
	t.Helper()
	k, err := merkle.VerifierKey(otherLogOrigin, otherLogPriv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherLogCheckpoint is otherLog's signed checkpoint of the empty tree,
// signed by priv (otherLogPriv, or an impostor's key).
func otherLogCheckpoint(t testing.TB, priv ed25519.PrivateKey) []byte {
	t.Helper()
	signer, err := merkle.NewSigner(otherLogOrigin, priv.Public().(ed25519.PublicKey), func(msg []byte) ([]byte, error) {
		return ed25519.Sign(priv, msg), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := merkle.TreeRoot(tlog.HashReaderFunc(func([]int64) ([]tlog.Hash, error) { return nil, nil }), 0)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := merkle.Sign(merkle.Checkpoint{Origin: otherLogOrigin, Size: 0, Root: root}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// otherLogHash is the witness's path segment for otherLog.
func otherLogHash() string {
	h := sha256.Sum256([]byte(otherLogOrigin))
	return hex.EncodeToString(h[:])
}

// witnessingConfig is testConfig witnessing otherLog as well.
func witnessingConfig(t testing.TB) config.Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.WitnessLogs = otherLogKey(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openAPIWitnessPath has the server cosign otherLog's checkpoint and serve it.
func openAPIWitnessPath(c *apiClient) {
	c.call("POST", "/witness/add-checkpoint", "", "old 0\n\n"+string(otherLogCheckpoint(c.t, otherLogPriv)), http.StatusOK, "Content-Type", "text/plain")
	c.call("GET", "/witness/"+otherLogHash()+"/checkpoint", "", nil, http.StatusOK)
	c.call("GET", "/registry/checkpoint/witnessed", "", nil, http.StatusNotFound)
}

func TestServerWitnessesOtherRegistries(t *testing.T) {
	cfg := witnessingConfig(t)
	s, ts := newServer(t, cfg)
	if s.WitnessKey == "" {
		t.Fatal("a server with --witness-logs has no witness key")
	}
	wv, err := witness.NewVerifier(s.WitnessKey)
	if err != nil {
		t.Fatal(err)
	}
	logV, err := merkle.NewVerifier(otherLogKey(t))
	if err != nil {
		t.Fatal(err)
	}
	var key struct{ WitnessKey string }
	if resp, b := do(t, "GET", ts.URL+"/registry/key", "", ""); resp.StatusCode != http.StatusOK || json.Unmarshal(b, &key) != nil || key.WitnessKey != s.WitnessKey {
		t.Errorf("GET /registry/key = %d %s, want witnessKey %s", resp.StatusCode, b, s.WitnessKey)
	}

	// Only a checkpoint the log signed is cosigned: the signature is the
	// request's authorization.
	impostor := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x66}, ed25519.SeedSize))
	if resp, b := do(t, "POST", ts.URL+"/witness/add-checkpoint", "", "old 0\n\n"+string(otherLogCheckpoint(t, impostor)), "Content-Type", "text/plain"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("impostor's checkpoint: %d %s", resp.StatusCode, b)
	}
	signed := otherLogCheckpoint(t, otherLogPriv)
	resp, lines := do(t, "POST", ts.URL+"/witness/add-checkpoint", "", "old 0\n\n"+string(signed), "Content-Type", "text/plain")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add-checkpoint: %d %s", resp.StatusCode, lines)
	}
	cosigned, err := witness.AppendCosignatures(signed, lines, wv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := witness.VerifyCosigned(cosigned, logV, []note.Verifier{wv}, 1); err != nil {
		t.Errorf("the witness's cosignature does not verify under its published key: %v", err)
	}
	resp, latest := do(t, "GET", ts.URL+"/witness/"+otherLogHash()+"/checkpoint", "", "")
	if _, err := witness.VerifyCosigned(latest, logV, []note.Verifier{wv}, 1); resp.StatusCode != http.StatusOK || err != nil {
		t.Errorf("monitoring endpoint: %d %s: %v", resp.StatusCode, latest, err)
	}
	// A body over the limit is refused before it is read whole.
	if resp, b := do(t, "POST", ts.URL+"/witness/add-checkpoint", "", string(bytes.Repeat([]byte("a"), witness.MaxRequestSize+1)), "Content-Type", "text/plain"); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d %.100s", resp.StatusCode, b)
	}

	// The witness's key and state survive a restart.
	ts.Close()
	s.Close()
	s2, ts2 := newServer(t, cfg)
	if s2.WitnessKey != s.WitnessKey {
		t.Errorf("witness key after restart %s, was %s", s2.WitnessKey, s.WitnessKey)
	}
	if resp, b := do(t, "GET", ts2.URL+"/witness/"+otherLogHash()+"/checkpoint", "", ""); resp.StatusCode != http.StatusOK || !bytes.Equal(b, latest) {
		t.Errorf("cosigned state after restart: %d %s", resp.StatusCode, b)
	}
}

// TestWitnessedAcrossProcesses runs the issuer and the registry as separate
// processes on one Redis, both publishing to another organization's
// witness: the issuer's appends (a new board's DID) get
// cosigned, and the registry serves the witnessed checkpoint both share.
func TestWitnessedAcrossProcesses(t *testing.T) {
	prefix, master := testredis.Prefix(t), newMasterKey()
	first, _ := newServer(t, redisRoleConfig(t, prefix, master, config.RoleRegistry))
	wcfg := testConfig(t)
	wcfg.WitnessLogs = first.LedgerKey
	w, wts := newServer(t, wcfg)
	start := func(role string) string {
		cfg := redisRoleConfig(t, prefix, master, role)
		cfg.Witnesses = wts.URL + "/witness=" + w.WitnessKey
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		_, ts := newServer(t, cfg)
		return ts.URL
	}
	reg, iss := start(config.RoleRegistry), start(config.RoleIssuer)
	board := createTenant(t, iss, `{"name":"Witnessed Board","jurisdictions":["TX"],"types":["MedicalLicenseCredential"]}`)

	logV, _ := merkle.NewVerifier(first.LedgerKey)
	wv, _ := witness.NewVerifier(w.WitnessKey)
	size := func(path string) (int, uint64) {
		resp, b := do(t, "GET", reg+path, "", "")
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode, 0
		}
		cp, err := merkle.Open(b, logV)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp.StatusCode, cp.Size
	}
	_, latest := size("/registry/checkpoint")
	if latest < 1 {
		t.Fatalf("the issuer appended %d ops", latest)
	}
	code, witnessed := eventually(t, func() (int, uint64) { return size("/registry/checkpoint/witnessed") },
		func(code int, n uint64) bool { return code == http.StatusOK && n >= latest })
	if code != http.StatusOK || witnessed < latest {
		t.Fatalf("witnessed checkpoint: %d, size %d of %d", code, witnessed, latest)
	}
	quorum := func(signed []byte) error {
		_, err := witness.VerifyCosigned(signed, logV, []note.Verifier{wv}, 1)
		return err
	}
	_, signed := do(t, "GET", reg+"/registry/checkpoint/witnessed", "", "")
	if err := quorum(signed); err != nil {
		t.Errorf("witnessed checkpoint: %v\n%s", err, signed)
	}
	// The board's DID resolves with a ledger proof an offline verifier can
	// hold to the witness's cosignature.
	resp, body := do(t, "GET", reg+"/1.0/identifiers/"+board.Issuer.DID, "", "")
	var res struct {
		DIDDocumentMetadata struct{ LedgerProof string } `json:"didDocumentMetadata"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil {
		t.Fatalf("resolve the board: %d %s", resp.StatusCode, body)
	}
	if _, err := registry.VerifyLedgerProof(res.DIDDocumentMetadata.LedgerProof, logV, quorum); err != nil {
		t.Errorf("the board's ledger proof is not witnessed: %v", err)
	}
}
