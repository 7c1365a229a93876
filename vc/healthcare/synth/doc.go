// Package synth generates synthetic healthcare credential subjects for tests
// and benchmarks: providers with valid NPIs and DEA numbers, licenses in
// several states (some lapsed, suspended or on probation), board
// certifications with NUCC specialties, DEA registrations, hospital
// privileges, and patients proofed at varied assurance levels. Every
// subject it returns passes healthcare.ValidateSubject and is shaped like
// the shared examples.
//
// A Generator is deterministic: the same seed and reference date give the
// same people and subjects. The reference date defaults to today (UTC), so
// that "active" and "expired" mean what they say when the credentials are
// verified now; WithNow fixes it for output that must never change.
//
// Generation is cheap (a few microseconds per subject), so a benchmark can
// make 100,000 license subjects without the generator showing. Real keys
// cost more (about 25 µs each) and are opt-in with WithKeys: without them
// DIDs are did:example identifiers that no resolver accepts.
//
// A Generator is not safe for concurrent use; Providers, Patients and
// Facilities are read-only once made, and their methods are.
package synth
