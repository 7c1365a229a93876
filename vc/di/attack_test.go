package di

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/credence/credence/vc"
)

var suites = []Suite{EdDSARDFC2022, EdDSAJCS2022, Ed25519Signature2020}

// clone deep-copies a JSON document.
func clone(t *testing.T, doc map[string]any) map[string]any {
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// firstProof returns the (only) proof of doc.
func firstProof(doc map[string]any) map[string]any { return doc["proof"].(map[string]any) }

func subject(doc map[string]any) map[string]any { return doc["credentialSubject"].(map[string]any) }

// TestTamper: any change to a signed document or its proof fails with the
// sentinel that names what is wrong.
func TestTamper(t *testing.T) {
	e := testEngine(t)
	signer, keys := vectorKey(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name   string
		tamper func(doc map[string]any)
		keys   vc.KeyResolver
		opts   VerifyOptions
		want   error
	}{
		{"unchanged", func(map[string]any) {}, keys, verifyAt, nil},
		{"subject value", func(d map[string]any) { subject(d)["familyName"] = "Roe" }, keys, verifyAt, vc.ErrSignature},
		{"nested subject value", func(d map[string]any) { subject(d)["address"].(map[string]any)["postalCode"] = "10001" }, keys, verifyAt, vc.ErrSignature},
		{"number", func(d map[string]any) { subject(d)["maxPatients"] = 131073.0 }, keys, verifyAt, vc.ErrSignature},
		{"issuer", func(d map[string]any) { d["issuer"].(map[string]any)["id"] = "did:example:mallory" }, keys, verifyAt, vc.ErrSignature},
		{"validFrom", func(d map[string]any) { d["validFrom"] = "2020-01-01T00:00:00Z" }, keys, verifyAt, vc.ErrSignature},
		{"member added", func(d map[string]any) { subject(d)["extra"] = "x" }, keys, verifyAt, vc.ErrSignature},
		{"member removed", func(d map[string]any) { delete(subject(d), "npi") }, keys, verifyAt, vc.ErrSignature},
		{"type added", func(d map[string]any) { d["type"] = append(d["type"].([]any), "Other") }, keys, verifyAt, vc.ErrSignature},
		{"other key, same method", func(map[string]any) {}, vc.StaticKeys{vectorVM: other.Public()}, verifyAt, vc.ErrSignature},
		{"P-256 key", func(map[string]any) {}, vc.StaticKeys{vectorVM: &p256.PublicKey}, verifyAt, vc.ErrKey},
		{"unknown method", func(d map[string]any) { firstProof(d)["verificationMethod"] = "did:example:x#k" }, keys, verifyAt, vc.ErrKey},
		{"created changed", func(d map[string]any) { firstProof(d)["created"] = "2023-02-25T00:00:00Z" }, keys, verifyAt, vc.ErrSignature},
		{"created in the future", func(map[string]any) {}, keys, VerifyOptions{Now: vectorTime.Add(-time.Hour)}, vc.ErrProofOptions},
		{"created not a date", func(d map[string]any) { firstProof(d)["created"] = "yesterday" }, keys, verifyAt, vc.ErrMalformed},
		{"purpose changed", func(d map[string]any) { firstProof(d)["proofPurpose"] = vc.PurposeAuthentication }, keys, verifyAt, vc.ErrProofOptions},
		{"purpose changed, verifier agrees", func(d map[string]any) { firstProof(d)["proofPurpose"] = vc.PurposeAuthentication }, keys, VerifyOptions{Now: verifyAt.Now, Purpose: vc.PurposeAuthentication}, vc.ErrSignature},
		{"verifier wants authentication", func(map[string]any) {}, keys, VerifyOptions{Now: verifyAt.Now, Purpose: vc.PurposeAuthentication}, vc.ErrProofOptions},
		{"challenge expected", func(map[string]any) {}, keys, VerifyOptions{Now: verifyAt.Now, Challenge: "abc"}, vc.ErrProofOptions},
		{"domain expected", func(map[string]any) {}, keys, VerifyOptions{Now: verifyAt.Now, Domain: "example.org"}, vc.ErrProofOptions},
		{"challenge added", func(d map[string]any) { firstProof(d)["challenge"] = "abc" }, keys, VerifyOptions{Now: verifyAt.Now, Challenge: "abc"}, vc.ErrSignature},
		{"unknown cryptosuite", func(d map[string]any) {
			firstProof(d)["cryptosuite"] = "eddsa-2099"
			firstProof(d)["type"] = "DataIntegrityProof"
		}, keys, verifyAt, vc.ErrUnsupported},
		{"unknown proof type", func(d map[string]any) { firstProof(d)["type"] = "RsaSignature2018" }, keys, verifyAt, vc.ErrUnsupported},
		{"proofValue not multibase", func(d map[string]any) { firstProof(d)["proofValue"] = "uAAAA" }, keys, verifyAt, vc.ErrMalformed},
		{"proofValue not base58", func(d map[string]any) { firstProof(d)["proofValue"] = "z0OIl" }, keys, verifyAt, vc.ErrMalformed},
		{"proofValue missing", func(d map[string]any) { delete(firstProof(d), "proofValue") }, keys, verifyAt, vc.ErrMalformed},
		{"signature truncated", func(d map[string]any) {
			pv := firstProof(d)["proofValue"].(string)
			firstProof(d)["proofValue"] = pv[:len(pv)-4]
		}, keys, verifyAt, vc.ErrSignature},
		{"no proof", func(d map[string]any) { delete(d, "proof") }, keys, verifyAt, vc.ErrMalformed},
		{"proof not an object", func(d map[string]any) { d["proof"] = "x" }, keys, verifyAt, vc.ErrMalformed},
		{"no verification method", func(d map[string]any) { delete(firstProof(d), "verificationMethod") }, keys, verifyAt, vc.ErrMalformed},
		{"proof @context differs", func(d map[string]any) { firstProof(d)["@context"] = []any{"https://www.w3.org/2018/credentials/v1"} }, keys, verifyAt, vc.ErrMalformed},
		{"proof set with a bad proof", func(d map[string]any) {
			bad := clone(t, firstProof(d))
			bad["created"] = "2023-01-01T00:00:00Z"
			d["proof"] = []any{firstProof(d), bad}
		}, keys, verifyAt, vc.ErrSignature},
	}
	for _, s := range suites {
		signed, err := e.Sign(bg, readJSON(t, "large.json"), signer, Options{Suite: s, Created: vectorTime})
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(string(s)+"/"+tt.name, func(t *testing.T) {
				doc := clone(t, signed)
				tt.tamper(doc)
				_, err := e.Verify(bg, doc, tt.keys, tt.opts)
				if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
					t.Errorf("got %v, want %v", err, tt.want)
				}
			})
		}
	}
}

// TestProofOptions: challenge, domain and expires round-trip and are
// enforced.
func TestProofOptions(t *testing.T) {
	e := testEngine(t)
	signer, keys := vectorKey(t)
	for _, s := range suites {
		signed, err := e.Sign(bg, readJSON(t, "unsigned.json"), signer, Options{
			Suite: s, Created: vectorTime, Expires: vectorTime.Add(24 * time.Hour),
			Challenge: "c-123", Domain: "verifier.example", ID: "urn:uuid:proof-1",
		})
		if err != nil {
			t.Fatal(err)
		}
		in := VerifyOptions{Now: vectorTime.Add(time.Hour), Challenge: "c-123", Domain: "verifier.example"}
		tests := []struct {
			name string
			opts VerifyOptions
			want error
		}{
			{"expected", in, nil},
			{"no expectations", VerifyOptions{Now: in.Now}, nil},
			{"wrong challenge", VerifyOptions{Now: in.Now, Challenge: "c-999"}, vc.ErrProofOptions},
			{"wrong domain", VerifyOptions{Now: in.Now, Domain: "evil.example"}, vc.ErrProofOptions},
			{"expired", VerifyOptions{Now: vectorTime.Add(48 * time.Hour)}, vc.ErrProofOptions},
		}
		for _, tt := range tests {
			_, err := e.Verify(bg, signed, keys, tt.opts)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("%s/%s: got %v, want %v", s, tt.name, err, tt.want)
			}
		}
	}
}

func TestSign(t *testing.T) {
	e := testEngine(t)
	signer, _ := vectorKey(t)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	doc := readJSON(t, "unsigned.json")
	before := clone(t, doc)
	tests := []struct {
		name   string
		signer vc.Signer
		opts   Options
		want   error
	}{
		{"P-256 signer", vc.Signer{Key: p256, VerificationMethod: vectorVM}, Options{}, vc.ErrUnsupported},
		{"no key", vc.Signer{VerificationMethod: vectorVM}, Options{}, vc.ErrUnsupported},
		{"no verification method", vc.Signer{Key: signer.Key}, Options{}, vc.ErrMalformed},
		{"unknown suite", signer, Options{Suite: "ecdsa-rdfc-2019"}, vc.ErrUnsupported},
	}
	for _, tt := range tests {
		if _, err := e.Sign(bg, doc, tt.signer, tt.opts); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	for _, s := range suites {
		if _, err := e.Sign(bg, doc, signer, Options{Suite: s}); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(doc, before) {
		t.Error("Sign modified its input")
	}
}

// TestDataLoss: terms no context defines are not signed silently.
func TestDataLoss(t *testing.T) {
	e := testEngine(t)
	signer, _ := vectorKey(t)
	doc := readJSON(t, "unsigned.json")
	doc["@context"] = []any{"https://www.w3.org/ns/credentials/v2"} // alumniOf is now undefined
	for _, s := range []Suite{EdDSARDFC2022, Ed25519Signature2020} {
		if _, err := e.Sign(bg, doc, signer, Options{Suite: s}); !errors.Is(err, vc.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", s, err)
		}
	}
}

// TestSuiteContext: signing a VC 1.1 credential adds the context defining
// the proof's terms.
func TestSuiteContext(t *testing.T) {
	e := testEngine(t)
	signer, keys := vectorKey(t)
	doc := map[string]any{
		"@context":          []any{"https://www.w3.org/2018/credentials/v1"},
		"type":              []any{"VerifiableCredential"},
		"issuer":            "did:example:issuer",
		"issuanceDate":      "2020-01-01T00:00:00Z",
		"credentialSubject": map[string]any{"id": "did:example:subject"},
	}
	for _, s := range []Suite{EdDSARDFC2022, Ed25519Signature2020} {
		signed, err := e.Sign(bg, doc, signer, Options{Suite: s})
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		want := s.suiteContexts()[0]
		if got := signed["@context"].([]any); len(got) != 2 || got[1] != want {
			t.Errorf("%s: @context %v, want %s added", s, got, want)
		}
		if _, err := e.Verify(bg, signed, keys, VerifyOptions{}); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestVerifyDoesNotModify(t *testing.T) {
	e := testEngine(t)
	_, keys := vectorKey(t)
	for _, name := range signedSeeds {
		doc := readJSON(t, name)
		before := clone(t, doc)
		if _, err := e.Verify(bg, doc, chainAndVectorKeys(t, keys), verifyAt); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(doc, before) {
			t.Errorf("%s: Verify modified its input", name)
		}
	}
}

func chainAndVectorKeys(t *testing.T, keys vc.StaticKeys) vc.StaticKeys {
	all := vc.StaticKeys{}
	for vm, k := range keys {
		all[vm] = k
	}
	for vm, k := range chainKeys(t) {
		all[vm] = k
	}
	return all
}
