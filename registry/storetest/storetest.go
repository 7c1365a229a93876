// Package storetest is the conformance suite every registry.Store driver must
// pass.
//
// A driver's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) registry.Store { return open(t) })
//	}
//
// Every subtest opens its own store and may run in parallel with the others,
// so stores returned by open must not share data (use a fresh file, a unique
// key prefix, ...). Run closes every store it opens.
//
// The Merkle tree is checked against an independent in-memory reference built
// with tlog.StoredHashes, stored hash for stored hash, and one fixed op sequence
// must give the hard-coded root ExpectedRoot, so that two drivers are compared
// byte for byte.
//
// Beyond the letter of registry.Store's documentation the suite pins down these
// readings of the contract:
//   - Append with an empty subject, or with leaf.Seq <= want.Seq, fails with an
//     error that is not ErrConflict, and writes nothing;
//   - Append with a cancelled context fails and writes nothing;
//   - Leaf returns a copy: Data is equal byte for byte (an empty Data may come
//     back nil or empty), and neither the caller's slice nor the returned one
//     aliases the store;
//   - History of an unknown subject is empty (nil or zero length), never an
//     error;
//   - ReadHashes of a stored-hash index that was never written fails;
//   - SaveCheckpoint refuses a size below the latest saved one or above Size,
//     and replaces the latest checkpoint for an equal size.
//
// Three capabilities beyond registry.Store are required (both drivers have
// them; a store without one fails the suite):
//   - registry.GuardedAppender: a guard's subject must have exactly the
//     guard's head (the zero Head: no ops), else ErrConflict and nothing
//     written;
//   - registry.EventSource: every subscription established before an append
//     gets its event (LeafEvent of the stored leaf, with its index), in index
//     order, once, from concurrent appenders too; a failed append is no event;
//     the channel closes when its context ends;
//   - registry.SubjectLister: every subject with the prefix exactly once, in
//     byte order, whatever bytes the prefix holds (no glob or range
//     semantics), across many subjects (paging); fn's error stops the walk
//     and is returned; fn may read and append to the store; a cancelled
//     context fails.
//
// Persistence (reopening a file, restarting a server) is driver-specific and
// tested by each driver.
package storetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/credence/credence/registry"
)

// ExpectedRoot is the hex tree hash of the fixed sequence of DeterministicLeaves
// (300 leaves over 7 subjects): every driver must produce exactly this root.
// It was computed with the reference (tlog.StoredHashes, tlog.TreeHash) and
// cross-checked once with an independent RFC 6962 computation (Python hashlib).
const ExpectedRoot = "34c3a5bd8886af134cf989f3dbb93e6ae8b46d4683d5909a039a18bdf98d1033"

// Run runs the conformance suite against the stores returned by open.
func Run(t *testing.T, open func(t *testing.T) registry.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"Empty", testEmpty},
		{"LeafBeyondSize", testLeafBeyondSize},
		{"FirstAppendNeedsZeroWant", testFirstAppendNeedsZeroWant},
		{"AppendRoundTrip", testAppendRoundTrip},
		{"StaleWant", testStaleWant},
		{"SubjectsIndependent", testSubjectsIndependent},
		{"InvalidLeaf", testInvalidLeaf},
		{"CancelledContext", testCancelledContext},
		{"NoAliasing", testNoAliasing},
		{"ReadHashesMissing", testReadHashesMissing},
		{"HashChain", testHashChain},
		{"DeterministicRootAndProofs", testDeterministicRootAndProofs},
		{"ConcurrentDistinctSubjects", testConcurrentDistinctSubjects},
		{"ConcurrentSameSubject", testConcurrentSameSubject},
		{"Checkpoints", testCheckpoints},
		{"GuardedAppend", testGuardedAppend},
		{"Events", testEvents},
		{"Subjects", testSubjects},
		{"SubjectsPaging", testSubjectsPaging},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// DeterministicLeaves returns the fixed sequence behind ExpectedRoot: n leaves
// round-robin over subjects subjects, leaf i being seq i/subjects+1 of subject
// "did:credence:subject-<i%subjects>" with Data the JSON of {subject, seq, i}.
// Appending them in order, each with the subject's previous head as want,
// gives ExpectedRoot for n = 300, subjects = 7.
func DeterministicLeaves(n, subjects int) []registry.Leaf {
	out := make([]registry.Leaf, n)
	for i := range out {
		subject := fmt.Sprintf("did:credence:subject-%d", i%subjects)
		seq := uint64(i/subjects + 1)
		data, err := json.Marshal(struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"seq"`
			I       int    `json:"i"`
		}{subject, seq, i})
		if err != nil {
			panic(err) // cannot happen
		}
		out[i] = registry.Leaf{
			Subject: subject,
			Seq:     seq,
			Hash:    fmt.Sprintf("op-%d-%s", i, tlog.RecordHash(data)),
			Data:    data,
		}
	}
	return out
}
