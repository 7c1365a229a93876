package ld

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestContextDigests: every embedded context has the SHA-256 recorded in
// contexts/README.md, and every row of that table is embedded.
func TestContextDigests(t *testing.T) {
	f, err := os.Open("contexts/README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	for s := bufio.NewScanner(f); s.Scan(); {
		cells := strings.Split(s.Text(), "|")
		if len(cells) == 6 && strings.HasPrefix(strings.TrimSpace(cells[1]), "http") {
			want[strings.TrimSpace(cells[1])] = strings.TrimSpace(cells[4])
		}
	}
	got := Contexts()
	if len(got) != len(want) {
		t.Errorf("%d contexts embedded, %d in the README", len(got), len(want))
	}
	for url, b := range got {
		sum := sha256.Sum256(b)
		if h := hex.EncodeToString(sum[:]); h != want[url] {
			t.Errorf("%s: sha256 %s, README says %q", url, h, want[url])
		}
	}
}

func TestContextsIsACopy(t *testing.T) {
	a := Contexts()
	a[CredentialsV2][0] = 'X'
	delete(a, CredentialsV1)
	b := Contexts()
	if b[CredentialsV2][0] != '{' || b[CredentialsV1] == nil {
		t.Error("Contexts shares its map or bytes")
	}
}

// TestEveryContextProcesses: each embedded context is valid JSON-LD.
func TestEveryContextProcesses(t *testing.T) {
	p := New()
	for _, url := range URLs() {
		if _, err := p.Canonicalize(map[string]any{"@context": url, "@id": "urn:x", "https://example.org/#p": "v"}); err != nil {
			t.Errorf("%s: %v", url, err)
		}
	}
}
