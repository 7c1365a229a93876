package di

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

// TestProofSetAndChain signs the proof-set-chain vectors step by step, each
// step giving the published document, and verifies every step.
func TestProofSetAndChain(t *testing.T) {
	e := testEngine(t)
	pairs := readJSON(t, "proof-set-chain/multiKeyPairs.json")
	keys := vc.StaticKeys{}
	steps := []struct{ config, key, want string }{
		{"proofSetConfig1", "keyPair1", "signedProofSet1"},
		{"proofSetConfig2", "keyPair2", "signedProofSet2"},
		{"proofChainConfig1", "keyPair3", "signedProofChain1"},
		{"proofChainConfig2", "keyPair4", "signedProofChain2"},
	}
	doc := readJSON(t, "proof-set-chain/unsigned.json")
	for _, step := range steps {
		config := readJSON(t, "proof-set-chain/"+step.config+".json")
		priv := keyPair(t, pairs[step.key].(map[string]any))
		vm := config["verificationMethod"].(string)
		keys[vm] = priv.Public()
		created, err := time.Parse(time.RFC3339, config["created"].(string))
		if err != nil {
			t.Fatal(err)
		}
		previous, _ := previousProofs(config)
		id, _ := config["id"].(string)
		doc, err = e.Sign(bg, doc, vc.Signer{Key: priv, VerificationMethod: vm}, Options{Created: created, ID: id, PreviousProof: previous})
		if err != nil {
			t.Fatalf("%s: %v", step.config, err)
		}
		if want := readJSON(t, "proof-set-chain/"+step.want+".json"); !reflect.DeepEqual(doc, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", step.want, doc, want)
		}
		if _, err := e.Verify(bg, doc, keys, verifyAt); err != nil {
			t.Errorf("%s: %v", step.want, err)
		}
	}
}

// TestChainBroken: a chained proof whose previous proof is gone fails; the
// order of a proof set does not matter; signing with an unknown previous
// proof fails.
func TestChainBroken(t *testing.T) {
	e := testEngine(t)
	doc := readJSON(t, "proof-set-chain/signedProofChain2.json")
	all := doc["proof"].([]any)
	tests := []struct {
		name  string
		proof []any
		want  error
	}{
		{"previous proof removed", []any{all[0], all[1], all[3]}, vc.ErrMalformed},
		{"first two swapped", []any{all[1], all[0], all[2], all[3]}, nil},
		{"chained proof alone", []any{all[3]}, vc.ErrMalformed},
	}
	keys := chainKeys(t)
	for _, tt := range tests {
		_, err := e.Verify(bg, withProof(doc, tt.proof), keys, verifyAt)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	signer, _ := vectorKey(t)
	if _, err := e.Sign(bg, doc, signer, Options{PreviousProof: []string{"urn:nope"}}); !errors.Is(err, vc.ErrMalformed) {
		t.Errorf("signed with an unknown previous proof: %v", err)
	}
}

func chainKeys(t testing.TB) vc.StaticKeys {
	pairs := readJSON(t, "proof-set-chain/multiKeyPairs.json")
	keys := vc.StaticKeys{}
	for i := 1; i <= 4; i++ {
		priv := keyPair(t, pairs[fmt.Sprintf("keyPair%d", i)].(map[string]any))
		pub := multikeyString(priv)
		keys["did:key:"+pub+"#"+pub] = priv.Public()
	}
	return keys
}

func withProof(doc map[string]any, proof any) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	out["proof"] = proof
	return out
}
