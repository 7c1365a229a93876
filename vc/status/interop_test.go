package status

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

const interopDir = "testdata/interop"

// interopModules makes sure the npm dependencies of the interop driver are
// installed (npm ci, from package-lock.json), failing when node or npm is
// missing: the test is part of the suite and is never skipped.
func interopModules(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("TestInteropDigitalBazaar needs Node.js (node >= 18) on PATH to run the independent implementation @digitalbazaar/vc-bitstring-status-list: %v", err)
	}
	if _, err := os.Stat(filepath.Join(interopDir, "node_modules", "@digitalbazaar", "vc-bitstring-status-list", "package.json")); err == nil {
		return node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("%s/node_modules is missing and npm is not on PATH: install npm, or run `npm ci --prefix vc/status/testdata/interop` (scripts/test does): %v", interopDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = interopDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", interopDir, err, out)
	}
	return node
}

type interopList struct {
	Length int   `json:"length"`
	Set    []int `json:"set"`
}

type interopCredential struct {
	ID            string `json:"id"`
	StatusPurpose string `json:"statusPurpose"`
	Length        int    `json:"length"`
	Set           []int  `json:"set"`
}

type interopCheck struct {
	Credential           vc.Credential `json:"credential"`
	StatusListCredential vc.Credential `json:"statusListCredential"`
}

type interopRequest struct {
	Decode      []string            `json:"decode"`
	Encode      []interopList       `json:"encode"`
	Credentials []interopCredential `json:"credentials"`
	Check       []interopCheck      `json:"check"`
}

type interopResponse struct {
	Decoded     []interopList     `json:"decoded"`
	Encoded     []string          `json:"encoded"`
	Credentials []json.RawMessage `json:"credentials"`
	Check       []struct {
		Verified bool   `json:"verified"`
		Statuses []bool `json:"statuses"`
		Error    string `json:"error"`
	} `json:"check"`
}

func randomSet(rng *rand.Rand, bits, k int) []int {
	set := map[int]bool{0: true, bits - 1: true}
	for len(set) < k {
		set[rng.IntN(bits)] = true
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// TestInteropDigitalBazaar holds the package to an independent
// implementation, @digitalbazaar/vc-bitstring-status-list (Node.js, pinned by
// testdata/interop/package-lock.json): their decoder reads exactly the bits
// set in lists we encode, we read exactly the bits set in lists they encode,
// their checkStatus agrees with our entries and list credentials, and we
// parse and check the list credentials they create.
func TestInteropDigitalBazaar(t *testing.T) {
	node := interopModules(t)
	rng := rand.New(rand.NewPCG(7, 11))

	ours := []interopList{
		{MinBits, nil},
		{MinBits, []int{0, 1, 7, 8, 9, 12345, 94567, MinBits - 1}},
		{2 * MinBits, randomSet(rng, 2*MinBits, 300)},
		{1 << 20, randomSet(rng, 1<<20, 1000)},
	}
	theirs := []interopList{
		{MinBits, []int{0, 3, 94567, MinBits - 1}},
		{1 << 20, randomSet(rng, 1<<20, 500)},
	}
	var req interopRequest
	for _, o := range ours {
		l, err := New(o.Length)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range o.Set {
			l.Set(i, true)
		}
		enc, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		req.Decode = append(req.Decode, enc)
	}
	req.Encode = theirs
	req.Credentials = []interopCredential{{"https://example.com/status/7", PurposeSuspension, MinBits, []int{5, 77777}}}

	// Our credentials and list credentials, checked by their checkStatus.
	const issuer = "did:example:12345"
	list, _ := New(MinBits)
	list.Set(42, true)
	revList, err := NewListCredential("https://example.com/status/1", issuer, PurposeRevocation, list, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	credential := func(entries ...Entry) vc.Credential {
		status := make([]any, len(entries))
		for i, e := range entries {
			status[i] = e.Object()
		}
		return vc.Credential{
			"@context":          []any{vc.ContextV2},
			"id":                "urn:uuid:0b0e8f0e-5a4e-4b9e-8d55-6f1a4f3c2d10",
			"type":              []any{vc.TypeCredential},
			"issuer":            issuer,
			"validFrom":         "2026-01-01T00:00:00Z",
			"credentialSubject": map[string]any{"id": "did:example:6789"},
			"credentialStatus":  status,
		}
	}
	entry := func(purpose string, index int) Entry {
		return Entry{ID: "urn:uuid:entry-" + purpose, Purpose: purpose, Index: index, ListCredential: "https://example.com/status/1"}
	}
	checks := []struct {
		entries  []Entry
		verified bool
		statuses []bool
	}{
		{[]Entry{entry(PurposeRevocation, 42)}, true, []bool{true}},
		{[]Entry{entry(PurposeRevocation, 43)}, true, []bool{false}},
		{[]Entry{entry(PurposeRevocation, 41), entry(PurposeRevocation, 42)}, true, []bool{false, true}},
		{[]Entry{entry(PurposeSuspension, 42)}, false, nil}, // purpose mismatch
	}
	for _, c := range checks {
		req.Check = append(req.Check, interopCheck{credential(c.entries...), revList})
	}

	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.mjs")
	cmd.Dir = interopDir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node interop.mjs: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("node interop.mjs ran in %v", time.Since(start).Round(time.Millisecond))
	var res interopResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("driver output: %v\n%.500s", err, out)
	}

	// (a) Our encoding, their decoder.
	if len(res.Decoded) != len(ours) {
		t.Fatalf("driver decoded %d lists, sent %d", len(res.Decoded), len(ours))
	}
	for i, o := range ours {
		got := res.Decoded[i]
		if got.Length != o.Length || !slices.Equal(got.Set, o.Set) {
			t.Errorf("our list %d (%d bits, %d set): their decoder read %d bits, set %v", i, o.Length, len(o.Set), got.Length, head(got.Set))
			continue
		}
		t.Logf("ours -> theirs: %d bits, %d set bits read back identically %v", o.Length, len(o.Set), head(o.Set))
	}

	// (b) Their encoding, our decoder.
	if len(res.Encoded) != len(theirs) {
		t.Fatalf("driver encoded %d lists, asked %d", len(res.Encoded), len(theirs))
	}
	for i, th := range theirs {
		l, err := Decode(res.Encoded[i])
		if err != nil {
			t.Errorf("their list %d: Decode: %v", i, err)
			continue
		}
		if got := setBitsOf(l); l.Len() != th.Length || !slices.Equal(got, th.Set) {
			t.Errorf("their list %d (%d bits): we read %d bits, set %v, want %v", i, th.Length, l.Len(), head(got), head(th.Set))
			continue
		}
		t.Logf("theirs -> ours: %d bits, %d set bits read back identically %v (encodedList %.24s...)", th.Length, len(th.Set), head(th.Set), res.Encoded[i])
	}

	// (c) Their list credential, our parser and Check.
	for i, rc := range req.Credentials {
		if i >= len(res.Credentials) {
			t.Fatalf("driver created %d credentials", len(res.Credentials))
		}
		m, err := vc.DecodeObject(res.Credentials[i])
		if err != nil {
			t.Fatal(err)
		}
		lc, err := ParseListCredential(m)
		if err != nil {
			t.Fatalf("their list credential: %v\n%s", err, res.Credentials[i])
		}
		for _, idx := range []int{rc.Set[0], rc.Set[0] + 1, rc.Set[1]} {
			set, err := Check(Entry{Purpose: rc.StatusPurpose, Index: idx, ListCredential: rc.ID}, lc)
			if err != nil || set != slices.Contains(rc.Set, idx) {
				t.Errorf("their credential, index %d: Check = %v, %v", idx, set, err)
			}
		}
		t.Logf("their createCredential -> our ParseListCredential+Check: %s %s, indexes %v set", lc.ID, lc.Purpose, rc.Set)
	}

	// (d) Our credential and list credential, their checkStatus; ours agrees.
	lc, err := ParseListCredential(revList)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Check) != len(checks) {
		t.Fatalf("driver checked %d credentials, sent %d", len(res.Check), len(checks))
	}
	for i, c := range checks {
		got := res.Check[i]
		if got.Verified != c.verified || !slices.Equal(got.Statuses, c.statuses) {
			t.Errorf("check %d: their checkStatus verified=%v statuses=%v error=%q; want verified=%v statuses=%v", i, got.Verified, got.Statuses, got.Error, c.verified, c.statuses)
			continue
		}
		entries, err := Entries(req.Check[i].Credential)
		if err != nil {
			t.Fatal(err)
		}
		var ourStatuses []bool
		var ourErr error
		for _, e := range entries {
			set, err := Check(e, lc)
			if err != nil {
				ourErr = err
				break
			}
			ourStatuses = append(ourStatuses, set)
		}
		if (ourErr == nil) != c.verified || (ourErr == nil && !slices.Equal(ourStatuses, c.statuses)) {
			t.Errorf("check %d: ours %v, %v; theirs %v, %v", i, ourStatuses, ourErr, got.Statuses, got.Error)
			continue
		}
		t.Logf("our credential -> their checkStatus: verified=%v statuses=%v error=%q; our Check agrees (%v)", got.Verified, got.Statuses, got.Error, ourErr)
	}
}

func head(s []int) []int {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}
