package witness

import (
	"testing"
	"time"

	"github.com/credence/credence/internal/kv/memkv"
)

// TestNewPublisherConfig refuses configurations under which a quorum would
// not mean what it says.
func TestNewPublisherConfig(t *testing.T) {
	k := newLedgerKey(t)
	ledger := newLedger(t, k)
	w1 := Target{URL: "https://w1.example/witness", Verifier: newCosigner(t, "w1.example").Verifier()}
	w2 := Target{URL: "https://w2.example/", Verifier: newCosigner(t, "w2.example").Verifier()}
	sameName := newCosigner(t, "w1.example").Verifier() // another key
	with := func(t Target, f func(*Target)) Target { f(&t); return t }
	tests := []struct {
		name    string
		targets []Target
		quorum  int
		opts    []PublisherOption
		ok      bool
	}{
		{"two of two", []Target{w1, w2}, 2, nil, true},
		{"no targets", nil, 1, nil, false},
		{"quorum 0", []Target{w1, w2}, 0, nil, false},
		{"quorum above targets", []Target{w1, w2}, 3, nil, false},
		{"relative URL", []Target{with(w2, func(t *Target) { t.URL = "/witness" })}, 1, nil, false},
		{"ftp URL", []Target{with(w2, func(t *Target) { t.URL = "ftp://w2.example" })}, 1, nil, false},
		{"same URL", []Target{w1, with(w2, func(t *Target) { t.URL = w1.URL + "/" })}, 1, nil, false},
		{"same key", []Target{w1, with(w1, func(t *Target) { t.URL = w2.URL })}, 1, nil, false},
		{"same name", []Target{w1, with(w2, func(t *Target) { t.Verifier = sameName })}, 1, nil, false},
		{"nil verifier", []Target{with(w1, func(t *Target) { t.Verifier = nil })}, 1, nil, false},
		{"the log's key", []Target{w1, with(w2, func(t *Target) { t.Verifier = k.verifier })}, 1, nil, false},
		{"zero interval", []Target{w1}, 1, []PublisherOption{WithInterval(0)}, false},
		{"backoff max below min", []Target{w1}, 1, []PublisherOption{WithBackoff(time.Minute, time.Second)}, false},
		{"nil client", []Target{w1}, 1, []PublisherOption{WithHTTPClient(nil)}, false},
	}
	for _, tc := range tests {
		p, err := NewPublisher(ledger, tc.targets, tc.quorum, memkv.New(), testBucket, tc.opts...)
		if (err == nil) != tc.ok {
			t.Errorf("%s: NewPublisher = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err == nil && (p.Quorum() != tc.quorum || len(p.Status()) != len(tc.targets)) {
			t.Errorf("%s: quorum %d, %d targets", tc.name, p.Quorum(), len(p.Status()))
		}
	}
	if _, err := NewPublisher(ledger, []Target{w1}, 1, memkv.New(), ""); err == nil {
		t.Error("NewPublisher with no bucket succeeded")
	}
}
