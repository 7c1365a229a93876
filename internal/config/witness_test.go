package config

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
)

func witnessKey(t *testing.T, name string, seed byte) string {
	t.Helper()
	priv := ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+seed)), 32)))
	k, err := witness.VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWitnessSettings(t *testing.T) {
	w1, w2 := witnessKey(t, "w1.example/witness", 1), witnessKey(t, "w2.example/witness", 2)
	logPriv := ed25519.NewKeyFromSeed(make([]byte, 32))
	logKey, err := merkle.VerifierKey("board.example/registry", logPriv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	c, err := load(t, []string{"--witnesses", "https://w1.example/witness/=" + w1 + ", https://w2.example/w=" + w2, "--witness-logs", logKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := c.WitnessList()
	if len(got) != 2 || got[0] != (Witness{URL: "https://w1.example/witness", Key: w1}) || got[1] != (Witness{URL: "https://w2.example/w", Key: w2}) {
		t.Errorf("witnesses = %+v", got)
	}
	if c.Quorum() != 2 {
		t.Errorf("default quorum = %d, want every witness (2)", c.Quorum())
	}
	if l := c.WitnessLogList(); len(l) != 1 || l[0] != logKey {
		t.Errorf("witness logs = %v", l)
	}
	c, err = load(t, []string{"--witnesses", "https://w1.example=" + w1 + ",https://w2.example=" + w2, "--witness-quorum", "1"}, nil)
	if err != nil || c.Quorum() != 1 {
		t.Errorf("quorum 1 of 2: %d, %v", c.Quorum(), err)
	}

	for name, args := range map[string][]string{
		"no key":         {"--witnesses", "https://w1.example"},
		"relative url":   {"--witnesses", "w1.example=" + w1},
		"query":          {"--witnesses", "https://w1.example/?a=" + w1},
		"bad key":        {"--witnesses", "https://w1.example=w1.example+00000000+AAAA"},
		"log key":        {"--witnesses", "https://w1.example=" + logKey},
		"listed twice":   {"--witnesses", "https://w1.example=" + w1 + ",https://w1.example=" + w1},
		"same key twice": {"--witnesses", "https://w1.example=" + w1 + ",https://w3.example=" + witnessKey(t, "w3.example/witness", 1)},
		"quorum too big": {"--witnesses", "https://w1.example=" + w1, "--witness-quorum", "2"},
		"quorum < 0":     {"--witnesses", "https://w1.example=" + w1, "--witness-quorum", "-1"},
		"bad log key":    {"--witness-logs", "board.example/registry+00+xyz"},
		"witness as log": {"--witness-logs", w1},
	} {
		if _, err := load(t, args, nil); err == nil || !strings.Contains(err.Error(), "witness") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
