package verifier

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/credence/credence/did"
	"github.com/credence/credence/registry"
	"github.com/credence/credence/registry/registrytest"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/ld"
	"github.com/credence/credence/vc/secure"
)

// newLedger returns a ledger on bbolt with a fresh checkpoint key.
func newLedger(t *testing.T) *registry.Log {
	t.Helper()
	return registrytest.NewLog(t)
}

// ledgerDID is a did:credence DID whose update key is its one verification
// method (#key-n, n counting its keys), as the hosted DIDs have it.
type ledgerDID struct {
	t        *testing.T
	log      *registry.Log
	id       string
	keys     []ed25519.PrivateKey // keys[n-1] is #key-n
	recovery ed25519.PrivateKey
}

func newKey() ed25519.PrivateKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return k
}

func multikey(t *testing.T, k ed25519.PrivateKey) string {
	mk, err := did.EncodeMultikey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

// document is subject's document with key as #key-n, for every purpose.
func document(t *testing.T, subject string, n int, key ed25519.PrivateKey) json.RawMessage {
	vm := fmt.Sprintf("%s#key-%d", subject, n)
	doc := did.Document{Context: did.Context{did.ContextDIDv1, did.ContextMultikey}, ID: subject,
		VerificationMethod: []did.VerificationMethod{{ID: vm, Type: did.TypeMultikey, Controller: subject, PublicKeyMultibase: multikey(t, key)}},
		AssertionMethod:    []did.Relationship{{Ref: vm}}, Authentication: []did.Relationship{{Ref: vm}}}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func createDID(t *testing.T, log *registry.Log, at time.Time) *ledgerDID {
	t.Helper()
	d := &ledgerDID{t: t, log: log, keys: []ed25519.PrivateKey{newKey()}, recovery: newKey()}
	ph := registry.MethodPrefix + registry.SCIDPlaceholder
	op := &registry.Op{V: registry.OpVersion, Type: registry.DIDCreate, Subject: ph, Seq: 1, Time: at.Format(registry.TimeLayout),
		Doc: document(t, ph, 1, d.keys[0]), UpdateKeys: []string{multikey(t, d.keys[0])}, RecoveryKeys: []string{multikey(t, d.recovery)}}
	if err := registry.NewCreate(op); err != nil {
		t.Fatal(err)
	}
	d.id = op.Subject
	d.submit(op, d.keys[0])
	return d
}

// submit signs op with key and appends it.
func (d *ledgerDID) submit(op *registry.Op, key ed25519.PrivateKey) {
	d.t.Helper()
	sign := func(msg []byte) ([]byte, error) { return ed25519.Sign(key, msg), nil }
	if err := registry.AddProof(op, "#"+multikey(d.t, key), key.Public(), sign); err != nil {
		d.t.Fatal(err)
	}
	raw, _ := json.Marshal(op)
	if _, err := d.log.Submit(context.Background(), raw); err != nil {
		d.t.Fatal(err)
	}
}

// next starts the DID's next op of typ at at.
func (d *ledgerDID) next(typ registry.OpType, at time.Time) *registry.Op {
	d.t.Helper()
	st, err := d.log.State(context.Background(), d.id, 0)
	if err != nil {
		d.t.Fatal(err)
	}
	return &registry.Op{V: registry.OpVersion, Type: typ, Subject: d.id, Seq: st.Seq + 1, Prev: st.Hash, Time: at.Format(registry.TimeLayout)}
}

// rotate replaces the key with a new one, #key-(n+1): a did.update signed
// by the current update key, or a did.recover signed by the recovery key
// (which the recovery replaces too).
func (d *ledgerDID) rotate(typ registry.OpType, at time.Time) {
	d.t.Helper()
	key := newKey()
	op := d.next(typ, at)
	op.Doc, op.UpdateKeys = document(d.t, d.id, len(d.keys)+1, key), []string{multikey(d.t, key)}
	signer := d.keys[len(d.keys)-1]
	if typ == registry.DIDRecover {
		signer, d.recovery = d.recovery, newKey()
		op.RecoveryKeys = []string{multikey(d.t, d.recovery)}
	}
	d.submit(op, signer)
	d.keys = append(d.keys, key)
}

func (d *ledgerDID) deactivate(at time.Time) {
	d.submit(d.next(registry.DIDDeactivate, at), d.recovery)
}

func (d *ledgerDID) signer(n int) vc.Signer {
	return vc.Signer{Key: d.keys[n-1], VerificationMethod: fmt.Sprintf("%s#key-%d", d.id, n)}
}

var historyEngine = secure.New(ld.New(ld.WithContext(healthcare.ContextURL, healthcare.Context)))

// issue has d sign a TX license of holder with #key-n, in format f, at at.
func (d *ledgerDID) issue(f secure.Format, n int, holder *ledgerDID, at time.Time) any {
	d.t.Helper()
	s := synth.New(7, synth.WithNow(at)).Provider().LicenseSubject("TX")
	s["id"] = holder.id
	cred := map[string]any{"@context": []any{vc.ContextV2, healthcare.ContextURL}, "type": []any{vc.TypeCredential, "MedicalLicenseCredential"},
		"issuer": d.id, "validFrom": at.Format(time.RFC3339), "credentialSubject": s}
	out, err := historyEngine.Issue(context.Background(), cred, d.signer(n), secure.IssueOptions{Format: f, Now: at, HolderKey: holder.keys[0].Public()})
	if err != nil {
		d.t.Fatal(err)
	}
	return reparsed(d.t, out)
}

// reparsed is v as a verifier receives it: parsed from bytes.
func reparsed(t *testing.T, v any) any {
	t.Helper()
	b, err := vc.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	in, err := secure.ParseInput(b)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestRotatedIssuerKeyOnTheLedger is issue 6's "issuer DID resolution as of
// issuance" on a real ledger, through the verifier as the server wires it
// (DIDMethod{Current: true}, vc.DIDKeys): a credential signed before its
// issuer rotated the key verifies; the old key signing after the rotation,
// a deactivated issuer and a key a did.recover removed do not; a
// presentation's holder proof needs the holder's current key.
func TestRotatedIssuerKeyOnTheLedger(t *testing.T) {
	log := newLedger(t)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-30 * 24 * time.Hour)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	v := &Verifier{Engine: historyEngine, Skew: time.Minute,
		Keys: vc.DIDKeys{Resolver: did.NewResolver(did.WithMethod("credence", registry.DIDMethod{Log: log, Current: true}, 0))}}
	holder := createDID(t, log, day(0))
	formats := []secure.Format{secure.DataIntegrity, secure.DataIntegrityJCS, secure.JWT, secure.SDJWT}

	rotated := createDID(t, log, day(0))
	signedBefore := map[secure.Format]any{}
	for _, f := range formats {
		signedBefore[f] = rotated.issue(f, 1, holder, day(1))
	}
	oldKeyAfter := rotated.issue(secure.DataIntegrity, 1, holder, day(3))
	oldKeyRotationSecond := rotated.issue(secure.JWT, 1, holder, day(2))
	rotated.rotate(registry.DIDUpdate, day(2))
	newKeyCred := rotated.issue(secure.DataIntegrity, 2, holder, day(3))

	deactivated := createDID(t, log, day(0))
	deactivatedCred := deactivated.issue(secure.DataIntegrity, 1, holder, day(1))
	deactivated.rotate(registry.DIDUpdate, day(2))
	deactivated.deactivate(day(4))

	recovered := createDID(t, log, day(0))
	recoveredCred := recovered.issue(secure.JWT, 1, holder, day(1))
	recovered.rotate(registry.DIDRecover, day(2))

	updatedThenRecovered := createDID(t, log, day(0))
	updatedCred := updatedThenRecovered.issue(secure.DataIntegrity, 1, holder, day(1))
	updatedThenRecovered.rotate(registry.DIDUpdate, day(2))
	updatedThenRecovered.rotate(registry.DIDRecover, day(3))

	tests := []struct {
		name string
		in   any
		want string // "" verified, else the proof check's code
	}{
		{"old key, signed before the rotation: " + string(secure.DataIntegrity), signedBefore[secure.DataIntegrity], ""},
		{"old key, signed before the rotation: " + string(secure.DataIntegrityJCS), signedBefore[secure.DataIntegrityJCS], ""},
		{"old key, signed before the rotation: " + string(secure.JWT), signedBefore[secure.JWT], ""},
		{"old key, signed before the rotation: " + string(secure.SDJWT), signedBefore[secure.SDJWT], ""},
		{"new key", newKeyCred, ""},
		{"old key, signed after the rotation", oldKeyAfter, CodeIssuerNotResolved},
		{"old key, signed in the rotation's second", oldKeyRotationSecond, ""},
		{"deactivated issuer", deactivatedCred, CodeIssuerNotResolved},
		{"key removed by a did.recover", recoveredCred, CodeIssuerNotResolved},
		{"key removed by a did.update, then a did.recover", updatedCred, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := v.VerifyCredential(context.Background(), tt.in, Options{})
			switch {
			case tt.want == "" && !r.Verified:
				t.Fatalf("not verified: %+v", r.Errors)
			case tt.want != "" && (r.Verified || !r.Has(tt.want)):
				t.Fatalf("verified %v with %+v, want %s", r.Verified, r.Errors, tt.want)
			}
		})
	}

	t.Run("presentation", func(t *testing.T) {
		creds := []any{signedBefore[secure.DataIntegrity], signedBefore[secure.JWT]}
		present := func(n int, at time.Time) any {
			out, err := historyEngine.Present(context.Background(), holder.id, creds, holder.signer(n),
				secure.PresentOptions{Challenge: "c-1", Domain: "https://hospital.example", Now: at})
			if err != nil {
				t.Fatal(err)
			}
			return reparsed(t, out)
		}
		o := PresentationOptions{Challenge: "c-1", Domain: "https://hospital.example"}
		oldProof := present(1, day(1))
		holder.rotate(registry.DIDUpdate, day(2))
		if r := v.VerifyPresentation(context.Background(), oldProof, o); r.Verified || !r.Has(CodePresentationInvalid) {
			t.Errorf("a holder proof by a rotated key: verified %v, %+v", r.Verified, r.Errors)
		}
		if r := v.VerifyPresentation(context.Background(), present(2, time.Now()), o); !r.Verified {
			t.Errorf("a holder proof by the current key, with credentials signed before the issuer's rotation: %+v", r.Errors)
		}
	})
}
