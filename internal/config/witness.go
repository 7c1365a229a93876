package config

import (
	"net/url"
	"strings"

	"github.com/credence/credence/registry/merkle"
	"github.com/credence/credence/registry/witness"
)

// Witness is one entry of --witnesses: a witness's URL prefix (it serves
// <URL>/add-checkpoint) and its cosignature verifier key.
type Witness struct {
	URL, Key string
}

// WitnessList is --witnesses as a list. An entry is url=verifier-key, split at
// its first "=" (a verifier key's base64 may end in "=", a witness URL has
// none); Validate reports entries that do not parse.
func (c *Config) WitnessList() []Witness {
	var out []Witness
	for _, e := range splitList(c.Witnesses) {
		u, k, _ := strings.Cut(e, "=")
		out = append(out, Witness{URL: strings.TrimSuffix(strings.TrimSpace(u), "/"), Key: strings.TrimSpace(k)})
	}
	return out
}

// WitnessLogList is --witness-logs as a list of checkpoint verifier keys.
func (c *Config) WitnessLogList() []string { return splitList(c.WitnessLogs) }

// Quorum is the effective --witness-quorum: all the witnesses when 0.
func (c *Config) Quorum() int {
	if c.WitnessQuorum == 0 {
		return len(c.WitnessList())
	}
	return int(c.WitnessQuorum)
}

func (c *Config) validateWitnesses(bad func(name, format string, args ...any)) {
	ws := c.WitnessList()
	seenURL, seenKey := map[string]bool{}, map[string]bool{}
	for _, w := range ws {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || w.Key == "" {
			bad("witnesses", "%q is not url=verifier-key with an absolute http(s) URL without query or fragment", w.URL+"="+w.Key)
			continue
		}
		if _, err := witness.NewVerifier(w.Key); err != nil {
			bad("witnesses", "the key of %s: %v", w.URL, err)
		}
		// The same key under two names would count twice towards the quorum.
		key := witness.KeyMaterial(w.Key)
		if seenURL[w.URL] || seenKey[key] {
			bad("witnesses", "%s is listed twice (the same URL or the same key)", w.URL)
		}
		seenURL[w.URL], seenKey[key] = true, true
	}
	if q := c.WitnessQuorum; q < 0 || q > int64(len(ws)) {
		bad("witness-quorum", "must be between 0 (all) and the number of --witnesses (%d), got %d", len(ws), q)
	}
	for _, k := range c.WitnessLogList() {
		if _, err := merkle.NewVerifier(k); err != nil {
			bad("witness-logs", "%q: %v", k, err)
		}
	}
}
