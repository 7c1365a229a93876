package wallet

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/credence/credence/internal/auth"
	"github.com/credence/credence/internal/keys"
	"github.com/credence/credence/internal/kv"
	"github.com/credence/credence/internal/kv/boltkv"
	"github.com/credence/credence/internal/kv/rediskv"
	"github.com/credence/credence/internal/testredis"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/secure"
)

// rawEntry is one key and value as the driver stores it.
type rawEntry struct{ where, key, value string }

// TestNoPlaintextAtRest reads every raw value and key of the store (bbolt
// file, Redis hashes) after a holder received credentials in every format
// and made disclosures: nothing of the credentials is in clear.
func TestNoPlaintextAtRest(t *testing.T) {
	type rawStore struct {
		name  string
		store kv.Store
		dump  func(t *testing.T) []rawEntry
	}
	bolt, err := boltkv.Open(filepath.Join(t.TempDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bolt.Close() })
	client, prefix := testredis.Client(t), testredis.Prefix(t)
	for _, rs := range []rawStore{
		{"bolt", bolt, func(t *testing.T) []rawEntry { return dumpBolt(t, bolt.DB()) }},
		{"redis", rediskv.New(client, prefix), func(t *testing.T) []rawEntry {
			var out []rawEntry
			ctx := t.Context()
			iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
			for iter.Next(ctx) {
				fields, err := client.HGetAll(ctx, iter.Val()).Result()
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range fields {
					out = append(out, rawEntry{iter.Val(), k, v})
				}
			}
			if err := iter.Err(); err != nil {
				t.Fatal(err)
			}
			return out
		}},
	} {
		t.Run(rs.name, func(t *testing.T) {
			ctx := t.Context()
			s, _ := newService(t, rs.store, newMaster(t))
			board := newIssuer(t)
			h, _ := mustHolder(t, s, HolderInput{Label: "Ana Bailey, MD"})
			var secrets []string
			for i, f := range []secure.Format{secure.DataIntegrity, secure.DataIntegrityJCS, secure.JWT, secure.SDJWT} {
				st, err := s.AddCredential(ctx, h.ID, board.issue(t, s, h, cred{format: f, seed: 7 + uint64(i)}))
				if err != nil {
					t.Fatal(err)
				}
				sub := st.Claims.Subjects()[0]
				lic := sub["license"].(map[string]any)
				name := sub["name"].(map[string]any)
				secrets = append(secrets, st.CredentialID, `"family":"`+name["family"].(string)+`"`, lic["licenseNumber"].(string),
					sub["npi"].(string), lic["issuingBoard"].(map[string]any)["name"].(string), st.Format)
				if tok, ok := jsonString(st.Credential); ok {
					secrets = append(secrets, tok[len(tok)-40:]) // the signature or last disclosure
				}
			}
			if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{Verifier: "mercy-general", Audience: "verify.mercy.example",
				Credentials: []DisclosedCredential{{ID: newID('c'), Types: []string{"DEARegistrationCredential"}, Issuer: "did:web:dea.example"}}}); err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, board.did, healthcare.MedicalLicense, "Ana Bailey", "mercy-general",
				"verify.mercy.example", "DEARegistrationCredential", "did:web:dea.example", "vc+jwt")
			for _, secret := range secrets {
				if len(secret) < 6 { // shorter ones could be in random base64 by chance
					t.Fatalf("fragment %q is too short to look for", secret)
				}
			}
			raw := rs.dump(t)
			sawHolder := false
			for _, e := range raw {
				for _, secret := range secrets {
					if strings.Contains(e.where+e.key+e.value, secret) {
						t.Errorf("%q in clear at %s / %s", secret, e.where, e.key)
					}
				}
				sawHolder = sawHolder || strings.Contains(e.value, h.DID)
			}
			// The scan reads what is stored: the holder's DID is public metadata.
			if len(raw) < 8 || !sawHolder {
				t.Errorf("the scan saw %d values and the holder DID %v: it does not read the store", len(raw), sawHolder)
			}
		})
	}
}

func jsonString(b []byte) (string, bool) {
	var s string
	return s, json.Unmarshal(b, &s) == nil
}

func dumpBolt(t *testing.T, db *bbolt.DB) []rawEntry {
	var out []rawEntry
	var walk func(path string, b *bbolt.Bucket) error
	walk = func(path string, b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(path+"/"+string(k), b.Bucket(k))
			}
			out = append(out, rawEntry{path, string(k), string(v)})
			return nil
		})
	}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error { return walk(string(name), b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCiphertextMoved: a record copied to another holder or another record
// id, or a wrapped data key copied to another holder, does not decrypt.
func TestCiphertextMoved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		iss := newIssuer(t)
		a, _ := mustHolder(t, s, HolderInput{Label: "A"})
		b, _ := mustHolder(t, s, HolderInput{Label: "B"})
		st, err := s.AddCredential(ctx, a.ID, iss.issue(t, s, a, cred{format: secure.JWT, seed: 1}))
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.RecordDisclosure(ctx, a.ID, Disclosure{Verifier: "v"})
		if err != nil {
			t.Fatal(err)
		}
		sealed, _ := store.Get(ctx, bucketCredentials+a.ID, st.ID)
		other := newID('c')
		_ = store.Put(ctx, bucketCredentials+b.ID, st.ID, sealed)
		_ = store.Put(ctx, bucketCredentials+a.ID, other, sealed)
		sealedD, _ := store.Get(ctx, bucketDisclosures+a.ID, d.ID)
		_ = store.Put(ctx, bucketDisclosures+b.ID, d.ID, sealedD)
		_ = store.Put(ctx, bucketDisclosures+a.ID, st.ID, sealedD) // a disclosure where a credential is
		for name, err := range map[string]error{
			"credential to another holder": second(s.Credential(ctx, b.ID, st.ID)),
			"credential to another id":     second(s.Credential(ctx, a.ID, other)),
			"listing with a moved record":  second(s.Credentials(ctx, b.ID, Filter{})),
			"disclosure to another holder": second(s.Disclosures(ctx, b.ID)),
		} {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: %v, want ErrCorrupt", name, err)
			}
		}
		// A disclosure under a credential id in the disclosure bucket of a is
		// bound to kind "disclosure" and id d.ID: it fails too.
		if _, err := s.Disclosures(ctx, a.ID); !errors.Is(err, ErrCorrupt) {
			t.Errorf("disclosure under another id: %v", err)
		}
		// The label and the wrapped key of a, copied into b's record.
		ra, _ := s.record(ctx, a.ID)
		fresh, _ := newService(t, store, s.Master) // no cached keys
		for _, tc := range []struct {
			name string
			edit func(r *holderRecord)
		}{ // in this order: the label test needs b's own data key
			{"label", func(r *holderRecord) { r.Label = ra.Label }},
			{"wrapped data key", func(r *holderRecord) { r.DEK = ra.DEK }},
		} {
			if err := s.updateHolder(ctx, b.ID, func(r *holderRecord) error { tc.edit(r); return nil }); err != nil {
				t.Fatal(err)
			}
			if _, err := fresh.Holder(ctx, b.ID); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s of another holder: %v, want ErrCorrupt", tc.name, err)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

// TestWrongMasterKey: a service with another master key reads nothing.
func TestWrongMasterKey(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		s, _ := newService(t, store, newMaster(t))
		iss := newIssuer(t)
		h, _ := mustHolder(t, s, HolderInput{Label: "x"})
		st, err := s.AddCredential(ctx, h.ID, iss.issue(t, s, h, cred{format: secure.SDJWT, seed: 1}))
		if err != nil {
			t.Fatal(err)
		}
		wrong, _ := newService(t, store, newMaster(t))
		for name, err := range map[string]error{
			"Holder":           second(wrong.Holder(ctx, h.ID)),
			"Credential":       second(wrong.Credential(ctx, h.ID, st.ID)),
			"Credentials":      second(wrong.Credentials(ctx, h.ID, Filter{})),
			"Disclosures":      second(wrong.Disclosures(ctx, h.ID)),
			"AddCredential":    second(wrong.AddCredential(ctx, h.ID, iss.issue(t, s, h, cred{format: secure.JWT, seed: 2}))),
			"RecordDisclosure": second(wrong.RecordDisclosure(ctx, h.ID, Disclosure{})),
		} {
			if !errors.Is(err, keys.ErrWrongMasterKey) {
				t.Errorf("%s: %v, want ErrWrongMasterKey", name, err)
			}
		}
		// A wrapped key altered in place fails to open.
		_ = s.updateHolder(ctx, h.ID, func(r *holderRecord) error { r.DEK[len(r.DEK)-1] ^= 1; return nil })
		fresh, _ := newService(t, store, s.Master)
		if _, err := fresh.Holder(ctx, h.ID); !errors.Is(err, ErrCorrupt) {
			t.Errorf("altered wrapped key: %v, want ErrCorrupt", err)
		}
	})
}

// TestDeleteHolder: deletion crypto-shreds, erases the records and revokes
// the token, also for a process that had the data key cached.
func TestDeleteHolder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, store kv.Store) {
		ctx := t.Context()
		master := newMaster(t)
		s, _ := newService(t, store, master)
		elsewhere, _ := newService(t, store, master) // another process
		iss := newIssuer(t)
		h, secret := mustHolder(t, s, HolderInput{Label: "Pat"})
		keep, keepSecret := mustHolder(t, s, HolderInput{})
		var ids []string
		for i, f := range []secure.Format{secure.DataIntegrity, secure.JWT, secure.SDJWT} {
			st, err := s.AddCredential(ctx, h.ID, iss.issue(t, s, h, cred{format: f, seed: uint64(i)}))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, st.ID)
		}
		if _, err := s.AddCredential(ctx, keep.ID, iss.issue(t, s, keep, cred{format: secure.JWT, seed: 9})); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{Verifier: "v"}); err != nil {
			t.Fatal(err)
		}
		if _, err := elsewhere.Credentials(ctx, h.ID, Filter{}); err != nil { // caches the data key
			t.Fatal(err)
		}
		rec, _ := store.Get(ctx, bucketHolders, h.ID)
		sealed, _ := store.Get(ctx, bucketCredentials+h.ID, ids[0])

		if err := s.DeleteHolder(ctx, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Tokens.Authenticate(ctx, secret); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("the deleted holder's token: %v", err)
		}
		for _, b := range []string{bucketCredentials + h.ID, bucketDisclosures + h.ID} {
			if ks, err := s.keysOf(ctx, b); err != nil || len(ks) != 0 {
				t.Errorf("%s keeps %v, %v", b, ks, err)
			}
		}
		if _, err := store.Get(ctx, bucketHolders, h.ID); !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("holder record: %v", err)
		}
		for _, svc := range []*Service{s, elsewhere} {
			if _, err := svc.Holder(ctx, h.ID); !errors.Is(err, ErrHolderNotFound) {
				t.Errorf("Holder: %v", err)
			}
			if _, err := svc.Credential(ctx, h.ID, ids[1]); !errors.Is(err, ErrHolderNotFound) {
				t.Errorf("Credential: %v", err)
			}
		}
		if err := s.DeleteHolder(ctx, h.ID); !errors.Is(err, ErrHolderNotFound) {
			t.Errorf("deleting twice: %v", err)
		}
		// Crypto-shredding: with an old copy of a record and every ciphertext
		// restored, but not the wrapped key, nothing decrypts.
		var r holderRecord
		_ = json.Unmarshal(rec, &r)
		r.DEK = nil
		restored, _ := json.Marshal(r)
		_ = store.Put(ctx, bucketHolders, h.ID, restored)
		_ = store.Put(ctx, bucketCredentials+h.ID, ids[0], sealed)
		fresh, _ := newService(t, store, master)
		if _, err := fresh.Credential(ctx, h.ID, ids[0]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("a credential of a deleted holder: %v, want ErrCorrupt (no data key)", err)
		}
		// Other holders are untouched.
		if _, err := s.Tokens.Authenticate(ctx, keepSecret); err != nil {
			t.Errorf("another holder's token: %v", err)
		}
		if list, err := s.Credentials(ctx, keep.ID, Filter{}); err != nil || len(list) != 1 {
			t.Errorf("another holder's credentials: %d, %v", len(list), err)
		}
	})
}

// TestDeleteHolderResumes: a deletion that stopped after shredding is
// finished by the next call, and the holder is gone meanwhile.
func TestDeleteHolderResumes(t *testing.T) {
	ctx := t.Context()
	store := backends[0].open(t)
	s, _ := newService(t, store, newMaster(t))
	h, secret := mustHolder(t, s, HolderInput{})
	if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{}); err != nil {
		t.Fatal(err)
	}
	err := store.Update(ctx, bucketHolders, h.ID, func(old []byte) ([]byte, error) {
		r, _ := decodeHolder(h.ID, old)
		r.Deleting, r.DEK = true, nil
		return json.Marshal(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Holder(ctx, h.ID); !errors.Is(err, ErrHolderNotFound) {
		t.Errorf("a holder being deleted: %v", err)
	}
	if _, err := s.RecordDisclosure(ctx, h.ID, Disclosure{}); !errors.Is(err, ErrHolderNotFound) {
		t.Errorf("recording for a holder being deleted: %v", err)
	}
	if err := s.DeleteHolder(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if ks, _ := s.keysOf(ctx, bucketDisclosures+h.ID); len(ks) != 0 {
		t.Errorf("left %v", ks)
	}
	if _, err := s.Tokens.Authenticate(ctx, secret); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token: %v", err)
	}
}

// TestDataKeyNotPrinted: formatting or logging a data key or the cache
// shows the holder id, never key bytes.
func TestDataKeyNotPrinted(t *testing.T) {
	dek := bytes.Repeat([]byte{0xab}, dekSize)
	k, err := newDataKey("h123", dek)
	if err != nil {
		t.Fatal(err)
	}
	c := &dekCache{m: map[string]cachedKey{}}
	c.put("h123", []byte("wrapped"), []byte("aad"), k)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "k", k, "v", *k)
	out := fmt.Sprintf("%v %+v %#v %s %x %d %v %+v", k, k, k, k, k, k, *k, c.m) + logged.String()
	for _, secret := range [][]byte{dek, k.mac} {
		for _, enc := range []string{hex.EncodeToString(secret), string(secret), fmt.Sprint(secret), fmt.Sprintf("%x", secret[:8])} {
			if strings.Contains(out, enc) {
				t.Fatalf("key bytes printed: %s", out)
			}
		}
	}
	if !strings.Contains(out, "wallet.dataKey(holder=h123)") {
		t.Errorf("printed %s", out)
	}
}
