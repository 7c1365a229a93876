package server

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/merkle"
)

type opKey struct {
	priv ed25519.PrivateKey
	mk   string
}

func newOpKey(t *testing.T) opKey {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return opKey{priv, mk}
}

func (k opKey) sign(t *testing.T, op *registry.Op) []byte {
	t.Helper()
	if err := registry.AddProof(op, "#"+k.mk, k.priv.Public(), registry.SignerFunc(k.priv)); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(op)
	return b
}

func credenceDoc(subject, mk, note string) json.RawMessage {
	doc := map[string]any{"@context": []string{did.ContextDIDv1, did.ContextMultikey}, "id": subject,
		"verificationMethod": []map[string]string{{"id": subject + "#key-1", "type": "Multikey", "controller": subject, "publicKeyMultibase": mk}},
		"assertionMethod":    []string{subject + "#key-1"}, "alsoKnownAs": []string{"urn:note:" + note}}
	b, _ := json.Marshal(doc)
	return b
}

func TestLedgerOverHTTP(t *testing.T) {
	for _, mode := range []string{"embedded", "redis"} {
		t.Run(mode, func(t *testing.T) {
			cfg := testConfig(t)
			if mode == "redis" {
				cfg.Redis = "redis://" + testredis.Addr(t) + "/0"
				cfg.RedisPrefix = testredis.Prefix(t)
			}
			_, ts := newServer(t, cfg)
			ledgerScenario(t, ts.URL)
		})
	}
}

func ledgerScenario(t *testing.T, base string) {
	upd, rec, upd2 := newOpKey(t), newOpKey(t), newOpKey(t)
	now := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	placeholder := registry.MethodPrefix + registry.SCIDPlaceholder
	create := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: placeholder, Seq: 1,
		Time: now.Format(registry.TimeLayout), Doc: credenceDoc(placeholder, upd.mk, "v1"),
		UpdateKeys: []string{upd.mk}, RecoveryKeys: []string{rec.mk}}
	if err := registry.NewCreate(create); err != nil {
		t.Fatal(err)
	}
	subject := create.Subject
	raw := upd.sign(t, create)

	if resp, body := do(t, "POST", base+"/registry/ops", "", string(raw)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated submit: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, "POST", base+"/registry/ops", adminToken, string(raw))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var r1 registry.Receipt
	_ = json.Unmarshal(body, &r1)
	resp, body = do(t, "POST", base+"/registry/ops", adminToken, string(raw))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "registry:replay") {
		t.Errorf("replay: %d %s", resp.StatusCode, body)
	}
	update := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: subject, Seq: 2, Prev: r1.Hash,
		Time: now.Add(time.Second).Format(registry.TimeLayout), Doc: credenceDoc(subject, upd2.mk, "v2"), UpdateKeys: []string{upd2.mk}}
	if resp, body := do(t, "POST", base+"/registry/ops", adminToken, string(upd.sign(t, update))); resp.StatusCode != http.StatusCreated {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	bad := &registry.Op{V: registry.OpVersion, Type: registry.DIDUpdate, Subject: subject, Seq: 3, Prev: strings.Repeat("0", 64),
		Time: now.Add(2 * time.Second).Format(registry.TimeLayout), Doc: credenceDoc(subject, upd.mk, "v3")}
	if resp, body := do(t, "POST", base+"/registry/ops", adminToken, string(upd.sign(t, bad))); resp.StatusCode != http.StatusConflict {
		t.Errorf("fork by a rotated-out key: %d %s", resp.StatusCode, body)
	}

	// Resolution of both versions, with a proof bundle that verifies offline
	// against the published verifier key.
	_, keyBody := do(t, "GET", base+"/registry/key", "", "")
	var key struct{ Origin, VerifierKey string }
	_ = json.Unmarshal(keyBody, &key)
	verifier, err := merkle.NewVerifier(key.VerifierKey)
	if err != nil {
		t.Fatalf("verifier key %q: %v", key.VerifierKey, err)
	}
	for version, note := range map[string]string{"": "v2", "?versionId=1": "v1"} {
		resp, body := do(t, "GET", base+"/1.0/identifiers/"+subject+version, "", "")
		var res did.Resolution
		if resp.StatusCode != 200 || json.Unmarshal(body, &res) != nil || res.Document == nil {
			t.Fatalf("resolve %s: %d %s", version, resp.StatusCode, body)
		}
		if res.Document.AlsoKnownAs[0] != "urn:note:"+note {
			t.Errorf("resolve %s: got version %v", version, res.Document.AlsoKnownAs)
		}
		st, err := registry.VerifyLedgerProof(res.DocumentMetadata.LedgerProof, verifier)
		if err != nil || fmt.Sprint(st.Seq) != res.DocumentMetadata.VersionID {
			t.Errorf("resolve %s: bundle %v, state seq %d vs version %s", version, err, st.Seq, res.DocumentMetadata.VersionID)
		}
	}

	// Checkpoint, entries, proofs, history.
	_, cpText := do(t, "GET", base+"/registry/checkpoint", "", "")
	cp, err := merkle.Open(cpText, verifier)
	if err != nil || cp.Size != 2 || cp.Origin != key.Origin {
		t.Fatalf("checkpoint %+v %v", cp, err)
	}
	_, entry := do(t, "GET", base+"/registry/entries/1", "", "")
	var ev struct {
		Op json.RawMessage
	}
	_ = json.Unmarshal(entry, &ev)
	_, pb := do(t, "GET", base+"/registry/proofs/inclusion?index=1&size=2", "", "")
	var ip merkle.InclusionProof
	if err := json.Unmarshal(pb, &ip); err != nil || merkle.VerifyCheckpointInclusion(cp, ip, ev.Op) != nil {
		t.Errorf("inclusion proof %s does not verify: %v", pb, err)
	}
	_, cb := do(t, "GET", base+"/registry/proofs/consistency?from=1&to=2", "", "")
	var cons merkle.ConsistencyProof
	old, _ := merkle.Open([]byte(r1.Checkpoint), verifier)
	if err := json.Unmarshal(cb, &cons); err != nil || merkle.VerifyCheckpointConsistency(old, cp, cons) != nil {
		t.Errorf("consistency proof %s does not verify: %v", cb, err)
	}
	for _, q := range []string{"/registry/proofs/inclusion?index=0&size=3", "/registry/proofs/inclusion?index=5&size=2",
		"/registry/proofs/consistency?from=1&to=9", "/registry/proofs/consistency?from=2&to=1", "/registry/proofs/inclusion?index=x&size=1"} {
		if resp, body := do(t, "GET", base+q, "", ""); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "GET", base+"/registry/entries/2", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing entry: %d", resp.StatusCode)
	}
	resp, body = do(t, "GET", base+"/registry/subjects/"+subject+"/history", "", "")
	if resp.StatusCode != 200 || strings.Count(string(body), `"seq":`) < 2 {
		t.Errorf("history: %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "GET", base+"/1.0/identifiers/did:credence:"+base64.RawURLEncoding.EncodeToString([]byte("x")), "", ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed did:credence: %d", resp.StatusCode)
	}
}
