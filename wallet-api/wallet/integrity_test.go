package wallet

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/vc/secure"
)

// putRecord overwrites a holder record in the store as it is, as someone
// with write access to the store but no master key could.
func putRecord(t *testing.T, store kv.Store, r *holderRecord) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(t.Context(), bucketHolders, r.ID, b); err != nil {
		t.Fatal(err)
	}
}

// TestHolderRecordAltered: holder B's record pointed at holder A's key,
// DID or verification method no longer opens, so B's token cannot sign as
// A; neither for a service that had B's data key cached nor for a fresh one.
func TestHolderRecordAltered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		a, _ := mustHolder(t, s, HolderInput{})
		b, _ := mustHolder(t, s, HolderInput{})
		ra, _ := s.record(ctx, a.ID)
		rb, _ := s.record(ctx, b.ID)
		if _, err := s.Signer(ctx, b.ID); err != nil { // B's data key is cached
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name string
			edit func(r *holderRecord)
		}{
			{"key id", func(r *holderRecord) { r.KeyID = ra.KeyID }},
			{"key id, DID and verification method", func(r *holderRecord) {
				r.KeyID, r.DID, r.VerificationMethod = ra.KeyID, ra.DID, ra.VerificationMethod
			}},
			{"DID", func(r *holderRecord) { r.DID = ra.DID }},
			{"verification method", func(r *holderRecord) { r.VerificationMethod = ra.VerificationMethod }},
			{"DID method", func(r *holderRecord) { r.DIDMethod = MethodJWK }},
			{"version 1, binding the holder id only", func(r *holderRecord) { r.V, r.KeyID = holderVersion1, ra.KeyID }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				altered := *rb
				tc.edit(&altered)
				putRecord(t, store, &altered)
				defer putRecord(t, store, rb)
				fresh, _ := newService(t, store, s.Master)
				for name, svc := range map[string]*Service{"cached": s, "fresh": fresh} {
					if signer, err := svc.Signer(ctx, b.ID); !errors.Is(err, ErrCorrupt) {
						t.Errorf("%s: Signer = %s, %v; want ErrCorrupt", name, signer.VerificationMethod, err)
					}
					if h, err := svc.Holder(ctx, b.ID); !errors.Is(err, ErrCorrupt) {
						t.Errorf("%s: Holder = %+v, %v; want ErrCorrupt", name, h, err)
					}
				}
			})
		}
		// Put back, B is B again.
		if signer, err := s.Signer(ctx, b.ID); err != nil || signer.VerificationMethod != b.VerificationMethod {
			t.Errorf("B restored: %s, %v", signer.VerificationMethod, err)
		}
	})
}

// TestHolderRecordUpgrade: a holder stored before the data key was bound
// to the holder's identity (version 1: additional data of the holder id
// only, no byte count) still opens; its first open rewrites it as version
// 2, bound and counted, and from then on an altered record fails.
func TestHolderRecordUpgrade(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		iss := newIssuer(t)
		a, _ := mustHolder(t, s, HolderInput{})
		h, _ := mustHolder(t, s, HolderInput{Label: "Dr. Old Record"})
		st, err := s.AddCredential(ctx, h.ID, iss.issue(t, s, h, cred{format: secure.JWT, seed: 1}))
		if err != nil {
			t.Fatal(err)
		}
		// Rewrite the record as the previous version wrote it.
		r, _ := s.record(ctx, h.ID)
		dek, err := s.Master.Open(r.DEK, r.dekAAD())
		if err != nil {
			t.Fatal(err)
		}
		old := *r
		old.V, old.CredentialBytes = holderVersion1, 0
		if old.DEK, err = s.Master.Seal(dek, dekAADv1(h.ID)); err != nil {
			t.Fatal(err)
		}
		putRecord(t, store, &old)

		fresh, _ := newService(t, store, s.Master)
		got, err := fresh.Holder(ctx, h.ID)
		if err != nil || !sameJSON(t, got, h) {
			t.Fatalf("Holder of a version 1 record = %+v, %v; want %+v", got, err, h)
		}
		up, _ := fresh.record(ctx, h.ID)
		if up.V != holderVersion || bytes.Equal(up.DEK, old.DEK) {
			t.Fatalf("after the first open: version %d, wrapped key rewritten %v", up.V, !bytes.Equal(up.DEK, old.DEK))
		}
		if k, err := s.Master.Open(up.DEK, up.dekAAD()); err != nil || !bytes.Equal(k, dek) {
			t.Errorf("the upgraded wrapped key does not open bound to the holder: %v", err)
		}
		checkCounted(t, fresh, h.ID)
		if c, err := fresh.Credential(ctx, h.ID, st.ID); err != nil || c.ID != st.ID {
			t.Errorf("a credential after the upgrade: %v", err)
		}
		if signer, err := fresh.Signer(ctx, h.ID); err != nil || signer.VerificationMethod != h.VerificationMethod {
			t.Errorf("Signer after the upgrade: %s, %v", signer.VerificationMethod, err)
		}

		ra, _ := s.record(ctx, a.ID)
		altered := *up
		altered.KeyID = ra.KeyID
		putRecord(t, store, &altered)
		if _, err := fresh.Signer(ctx, h.ID); !errors.Is(err, ErrCorrupt) {
			t.Errorf("an upgraded record altered: %v, want ErrCorrupt", err)
		}
	})
}
