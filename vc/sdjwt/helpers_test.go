package sdjwt_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/sdjwt"
)

const (
	issuerDID = "did:example:county-hospital"
	holderDID = "did:example:maria"
	vct       = "https://credentials.example.org/patient-identity"
	verifier  = "https://frontdesk.clinic.example"
	nonce     = "4rXnZQ1a-Uo"
)

// now is the time of every test: issuance, presentation and verification.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// disclose are the selectively disclosable claims of the patient
// credential: ten top-level claims, two nested in address, two elements.
var disclose = []string{
	"/given_name", "/family_name", "/birthdate", "/gender", "/address",
	"/address/street_address", "/address/postal_code", "/phone_number",
	"/email", "/mrn", "/insurance", "/allergies/0", "/allergies/1",
}

func edKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func keyFor(tb testing.TB, alg string, seed byte) crypto.Signer {
	if alg == "EdDSA" {
		return edKey(seed)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

type parties struct {
	issuer, holder vc.Signer
	keys           vc.StaticKeys
}

func newParties(tb testing.TB, alg string) parties {
	p := parties{
		issuer: vc.Signer{Key: keyFor(tb, alg, 1), VerificationMethod: issuerDID + "#key-1"},
		holder: vc.Signer{Key: keyFor(tb, alg, 2), VerificationMethod: holderDID + "#key-1"},
	}
	p.keys = vc.StaticKeys{p.issuer.VerificationMethod: p.issuer.Key.Public()}
	return p
}

func patient(tb testing.TB) map[string]any {
	b, err := os.ReadFile("testdata/patient.json")
	if err != nil {
		tb.Fatal(err)
	}
	m, err := vc.DecodeObject(b)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// counter is a deterministic "random" source, so fuzz workers rebuild the
// same seeds.
type counter struct{ n uint64 }

func (c *counter) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 32 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], c.n)
		c.n++
		sum := sha256.Sum256(b[:])
		copy(p[i:], sum[:])
	}
	return len(p), nil
}

func (p parties) issue(tb testing.TB, opts ...sdjwt.Option) string {
	tb.Helper()
	c := sdjwt.Credential{
		VCT: vct, Claims: patient(tb), Disclose: disclose, Holder: p.holder.Key.Public(),
		Expires: now.AddDate(1, 0, 0),
		Status:  map[string]any{"status_list": map[string]any{"idx": 412, "uri": "https://hospital.example/status/1"}},
	}
	tok, err := sdjwt.Issue(context.Background(), c, p.issuer, append([]sdjwt.Option{sdjwt.WithClock(clock)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func (p parties) present(tb testing.TB, issued string, paths ...string) string {
	tb.Helper()
	tok, err := sdjwt.Present(context.Background(), issued, paths, p.holder, verifier, nonce, sdjwt.WithClock(clock))
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func kbOptions() sdjwt.VerifyOptions {
	return sdjwt.VerifyOptions{Now: now, KeyBinding: true, Audience: verifier, Nonce: nonce}
}

func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error %v, want one wrapping %v", err, want)
	}
}
