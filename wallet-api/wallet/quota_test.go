package wallet

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc/secure"
)

// checkCounted fails unless the holder record counts exactly the
// credentials stored: their number and sealed bytes.
func checkCounted(t *testing.T, s *Service, holderID string) *holderRecord {
	t.Helper()
	r, err := s.record(t.Context(), holderID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.storedBytes(t.Context(), holderID)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := s.keysOf(t.Context(), bucketCredentials+holderID)
	if r.CredentialBytes != n || r.Credentials != len(keys) {
		t.Errorf("counted %d credentials of %d bytes, stored %d of %d", r.Credentials, r.CredentialBytes, len(keys), n)
	}
	return r
}

// TestCredentialStoreQuota: a holder's credentials take at most
// MaxCredentialStoreBytes; deleting one frees its bytes.
func TestCredentialStoreQuota(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		iss := newIssuer(t)
		h, _ := mustHolder(t, s, HolderInput{})
		in := func(seed uint64) json.RawMessage { return iss.issue(t, s, h, cred{format: secure.JWT, seed: seed}) }
		a, err := s.AddCredential(ctx, h.ID, in(1))
		if err != nil {
			t.Fatal(err)
		}
		one := checkCounted(t, s, h.ID).CredentialBytes
		if one < int64(len(a.Credential)) {
			t.Fatalf("one credential of %d bytes counted as %d", len(a.Credential), one)
		}
		s.maxStoreBytes = 2*one + one/2 // two fit, not three
		if _, err := s.AddCredential(ctx, h.ID, in(2)); err != nil {
			t.Fatal(err)
		}
		_, err = s.AddCredential(ctx, h.ID, in(3))
		if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "does not fit") {
			t.Fatalf("a third credential: %v, want ErrLimit", err)
		}
		checkCounted(t, s, h.ID)
		if again, err := s.AddCredential(ctx, h.ID, in(1)); err != nil || again.ID != a.ID {
			t.Errorf("adding a stored credential at the limit: %v", err)
		}
		if err := s.DeleteCredential(ctx, h.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		checkCounted(t, s, h.ID)
		if _, err := s.AddCredential(ctx, h.ID, in(3)); err != nil {
			t.Errorf("after a deletion: %v", err)
		}
		checkCounted(t, s, h.ID)
	})
}

// TestConcurrentAddsQuota: two services (processes) add at once to a
// holder with room for a few credentials' bytes; the byte limit holds and
// the count stays exact.
func TestConcurrentAddsQuota(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store, master := b.open(t), newMaster(t)
			s1, _ := newService(t, store, master)
			s2, _ := newService(t, store, master)
			iss := newIssuer(t)
			h, _ := mustHolder(t, s1, HolderInput{})
			var ins []json.RawMessage
			for i := range 12 {
				ins = append(ins, iss.issue(t, s1, h, cred{format: secure.JWT, seed: uint64(i)}))
			}
			limit := int64(len(ins[0])) * 5 // a sealed credential is larger: fewer than 5 fit
			s1.maxStoreBytes, s2.maxStoreBytes = limit, limit
			added, refused := addConcurrently(t, []*Service{s1, s2}, h.ID, ins)
			r := checkCounted(t, s1, h.ID)
			if r.CredentialBytes > limit || added == 0 || refused == 0 || added+refused != len(ins) {
				t.Errorf("%d added (%d bytes, limit %d), %d refused", added, r.CredentialBytes, limit, refused)
			}
		})
	}
}
