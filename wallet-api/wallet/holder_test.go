package wallet

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/did"
	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc"
)

func TestCreateHolder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		s, _ := newService(t, store, newMaster(t))
		for _, tc := range []struct {
			in         HolderInput
			method     string
			didPrefix  string
			vmFragment func(did string) string
		}{
			{HolderInput{Label: "Dr. Ana Bailey"}, "key", "did:key:z6Mk", func(d string) string { return "#" + strings.TrimPrefix(d, "did:key:") }},
			{HolderInput{DIDMethod: "key"}, "key", "did:key:z6Mk", func(d string) string { return "#" + strings.TrimPrefix(d, "did:key:") }},
			{HolderInput{Label: "Pat Doe", DIDMethod: "jwk"}, "jwk", "did:jwk:", func(string) string { return "#0" }},
		} {
			t.Run(tc.method+"/"+tc.in.Label, func(t *testing.T) {
				ctx := t.Context()
				h, secret, err := s.CreateHolder(ctx, tc.in)
				if err != nil {
					t.Fatal(err)
				}
				if !validID(h.ID, 'h') || h.DIDMethod != tc.method || !strings.HasPrefix(h.DID, tc.didPrefix) ||
					h.VerificationMethod != h.DID+tc.vmFragment(h.DID) || h.Label != tc.in.Label || !h.Created.Equal(testNow) {
					t.Errorf("holder %+v", h)
				}
				got, err := s.Holder(ctx, h.ID)
				if err != nil || got != h {
					t.Errorf("Holder = %+v, %v; want %+v", got, err, h)
				}
				tok, err := s.Tokens.Authenticate(ctx, secret)
				if err != nil {
					t.Fatal(err)
				}
				if id, ok := HolderOf(tok); !ok || id != h.ID || tok.Subject != Scope(h.ID) || tok.Allows(Scope("h"+strings.Repeat("a", 26))) {
					t.Errorf("token %+v scoped to %q, %v", tok, id, ok)
				}
				if tc.in.Label != "" && strings.Contains(tok.Label, tc.in.Label) {
					t.Errorf("the token label %q shows the holder label", tok.Label)
				}
				checkSigner(t, s, h)
			})
		}
	})
}

// checkSigner signs with the holder's Signer and verifies with the key its
// verification method resolves to in the DID document.
func checkSigner(t *testing.T, s *Service, h Holder) {
	t.Helper()
	sg, err := s.Signer(t.Context(), h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sg.VerificationMethod != h.VerificationMethod {
		t.Errorf("signer vm %s, holder vm %s", sg.VerificationMethod, h.VerificationMethod)
	}
	d := did.MustParse(h.DID)
	var doc *did.Document
	if h.DIDMethod == MethodJWK {
		doc, err = did.JWKDocument(d)
	} else {
		doc, err = did.KeyDocument(d, "", false)
	}
	if err != nil {
		t.Fatal(err)
	}
	vm, ok := doc.Method(sg.VerificationMethod)
	if !ok || !doc.Authorizes(vc.PurposeAuthentication, vm.ID) || !doc.Authorizes(vc.PurposeAssertion, vm.ID) {
		t.Fatalf("%s does not resolve to an authentication and assertion method of %s", sg.VerificationMethod, h.DID)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("presentation to Mercy General")
	switch k := pub.(type) {
	case ed25519.PublicKey:
		sig, err := sg.Key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil || !ed25519.Verify(k, msg, sig) {
			t.Errorf("Ed25519 signature does not verify with the did:key: %v", err)
		}
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(msg)
		sig, err := sg.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(k, digest[:], sig) {
			t.Errorf("P-256 signature does not verify with the did:jwk: %v", err)
		}
	default:
		t.Errorf("key type %T", pub)
	}
}

func TestCreateHolderRefuses(t *testing.T) {
	s, _ := newService(t, backends[0].open(t), newMaster(t))
	for _, in := range []HolderInput{
		{DIDMethod: "web"},
		{DIDMethod: "KEY"},
		{Label: "two\nlines"},
		{Label: strings.Repeat("x", MaxLabel+1)},
		{Label: "bad \xff utf-8"},
	} {
		_, _, err := s.CreateHolder(t.Context(), in)
		var ie *vc.InvalidError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ie) {
			t.Errorf("CreateHolder(%+v) = %v, want ErrInvalid with field errors", in, err)
		}
	}
}

func TestHolderNotFound(t *testing.T) {
	s, _ := newService(t, backends[0].open(t), newMaster(t))
	ctx := t.Context()
	for _, id := range []string{"", "h", "../x", newID('h'), newID('d'), strings.ToUpper(newID('h'))} {
		if _, err := s.Holder(ctx, id); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("Holder(%q) = %v", id, err)
		}
		if _, err := s.Signer(ctx, id); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("Signer(%q) = %v", id, err)
		}
		if _, err := s.Credentials(ctx, id, Filter{}); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("Credentials(%q) = %v", id, err)
		}
		if err := s.DeleteHolder(ctx, id); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("DeleteHolder(%q) = %v", id, err)
		}
	}
}

func TestHolderOf(t *testing.T) {
	h1, h2 := newID('h'), newID('h')
	for _, tc := range []struct {
		scopes []string
		want   string
		ok     bool
	}{
		{[]string{Scope(h1)}, h1, true},
		{[]string{"other", Scope(h1)}, h1, true},
		{[]string{Scope(h1), Scope(h1)}, h1, true},
		{[]string{Scope(h1), Scope(h2)}, "", false},
		{[]string{auth.ScopeAdmin}, "", false},
		{[]string{"verifier:mercy"}, "", false},
		{[]string{"holder:"}, "", false},
		{[]string{"holder:../../x"}, "", false},
		{nil, "", false},
	} {
		got, ok := HolderOf(auth.Token{Scopes: tc.scopes})
		if got != tc.want || ok != tc.ok {
			t.Errorf("HolderOf(%v) = %q, %v; want %q, %v", tc.scopes, got, ok, tc.want, tc.ok)
		}
	}
}
