package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/did"
)

func TestDIDCredenceResolutionVersionsAndBundle(t *testing.T) {
	ctx := context.Background()
	log, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	upd, rec, upd2, rec2 := edKey(t, 1), edKey(t, 2), edKey(t, 3), p256Key(t)
	create := newCreate(t, []testKey{upd}, []testKey{rec}, nil)
	if _, err := submit(t, log, create); err != nil {
		t.Fatal(err)
	}
	st, _ := log.State(ctx, create.Subject, 0)
	update := nextOp(t, st, DIDUpdate, 10)
	update.Doc = testDoc(t, create.Subject, "v2", upd2)
	update.UpdateKeys = mks(upd2)
	if _, err := submit(t, log, sign(t, update, upd)); err != nil {
		t.Fatal(err)
	}
	st, _ = log.State(ctx, create.Subject, 0)
	recov := nextOp(t, st, DIDRecover, 20)
	recov.Doc = testDoc(t, create.Subject, "v3", upd)
	recov.UpdateKeys, recov.RecoveryKeys = mks(upd), mks(rec2)
	if _, err := submit(t, log, sign(t, recov, rec)); err != nil {
		t.Fatal(err)
	}
	st, _ = log.State(ctx, create.Subject, 0)
	if _, err := submit(t, log, sign(t, nextOp(t, st, DIDDeactivate, 30), rec2)); err != nil {
		t.Fatal(err)
	}
	r := did.NewResolver(did.WithMethod("credence", DIDMethod{Log: log}, 0))
	tests := []struct {
		opts                   did.Options
		version, next          string
		deactivated, recovered bool
		note                   string // marks the document version (testDoc's note member)
	}{
		{did.Options{}, "4", "", true, false, "v3"},
		{did.Options{VersionID: "1"}, "1", "2", false, false, ""},
		{did.Options{VersionID: "2"}, "2", "3", false, false, "v2"},
		{did.Options{VersionID: "3"}, "3", "4", false, true, "v3"},
		{did.Options{VersionTime: "2026-03-01T12:15:00Z"}, "2", "3", false, false, "v2"},
		{did.Options{VersionTime: "2026-03-01T12:20:00Z"}, "3", "4", false, true, "v3"},
	}
	for _, tt := range tests {
		res, err := r.Resolve(ctx, create.Subject, tt.opts)
		if err != nil {
			t.Fatalf("%+v: %v", tt.opts, err)
		}
		m := res.DocumentMetadata
		if m.VersionID != tt.version || m.NextVersionID != tt.next || m.Deactivated != tt.deactivated ||
			m.Recovered != tt.recovered || m.Created != tm(0) {
			t.Errorf("%+v: metadata %+v", tt.opts, m)
		}
		if res.Document.ID != create.Subject {
			t.Errorf("%+v: document id %s", tt.opts, res.Document.ID)
		}
		vst, _ := log.State(ctx, create.Subject, mustUint(t, tt.version))
		if tt.note != "" && !strings.Contains(string(vst.Doc), tt.note) {
			t.Errorf("%+v: state of version %s lacks %q", tt.opts, tt.version, tt.note)
		}
		if len(res.Document.VerificationMethod) != 1 {
			t.Errorf("%+v: document %+v", tt.opts, res.Document)
		}
		bst, err := VerifyLedgerProof(m.LedgerProof, log.Verifier())
		if err != nil {
			t.Fatalf("%+v: bundle does not verify: %v", tt.opts, err)
		}
		if bst.Seq != mustUint(t, tt.version) || bst.Hash != vst.Hash {
			t.Errorf("%+v: bundle replays to seq %d", tt.opts, bst.Seq)
		}
	}
	for _, bad := range []struct {
		id   string
		opts did.Options
		want error
	}{
		{create.Subject, did.Options{VersionID: "9"}, did.ErrNotFound},
		{create.Subject, did.Options{VersionID: "x"}, did.ErrInvalidOptions},
		{create.Subject, did.Options{VersionTime: "2020-01-01T00:00:00Z"}, did.ErrNotFound},
		{"did:credence:zzz", did.Options{}, did.ErrInvalidDID},
		{"did:credence:QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", did.Options{}, did.ErrNotFound},
	} {
		if _, err := r.Resolve(ctx, bad.id, bad.opts); !errors.Is(err, bad.want) {
			t.Errorf("%s %+v: err = %v, want %v", bad.id, bad.opts, err, bad.want)
		}
	}
}

func mustUint(t *testing.T, s string) uint64 {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestVerifyBundleRejectsTampering(t *testing.T) {
	ctx := context.Background()
	log, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := range 3 { // other subjects so proofs have hashes
		if _, err := submit(t, log, newCreate(t, []testKey{edKey(t, byte(50+i))}, []testKey{edKey(t, byte(60+i))}, nil)); err != nil {
			t.Fatal(err)
		}
	}
	create := newCreate(t, []testKey{edKey(t, 1)}, []testKey{edKey(t, 2)}, nil)
	if _, err := submit(t, log, create); err != nil {
		t.Fatal(err)
	}
	ops, _ := log.History(ctx, create.Subject)
	raw, err := log.Bundle(ctx, ops)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyBundle(raw, log.Verifier()); err != nil {
		t.Fatalf("genuine bundle: %v", err)
	}
	other, _ := newTestLog(t, time.Now())
	if _, err := VerifyBundle(raw, other.Verifier()); err == nil {
		t.Error("bundle verified under another log's key")
	}
	var b Bundle
	_ = json.Unmarshal(raw, &b)
	mutations := map[string]func(*Bundle){
		"op bytes": func(b *Bundle) {
			b.Ops[0].Op = []byte(strings.Replace(string(b.Ops[0].Op), `"time":"2026`, `"time":"2025`, 1))
		},
		"proof hash": func(b *Bundle) { b.Ops[0].Inclusion.Hashes[0][0] ^= 1 },
		"index":      func(b *Bundle) { b.Ops[0].Index, b.Ops[0].Inclusion.Index = 0, 0 },
		"checkpoint": func(b *Bundle) { b.Checkpoint = strings.Replace(b.Checkpoint, "\n4\n", "\n5\n", 1) },
		"no ops":     func(b *Bundle) { b.Ops = nil },
		"foreign doc": func(b *Bundle) {
			b.Ops[0].Op = []byte(strings.Replace(string(b.Ops[0].Op), "did:credence:", "did:credenc3:", 1))
		},
	}
	for name, mutate := range mutations {
		cp := b
		cp.Ops = append([]BundleOp(nil), b.Ops...)
		cp.Ops[0].Inclusion.Hashes = append(cp.Ops[0].Inclusion.Hashes[:0:0], b.Ops[0].Inclusion.Hashes...)
		mutate(&cp)
		tampered, _ := json.Marshal(cp)
		if _, err := VerifyBundle(tampered, log.Verifier()); err == nil {
			t.Errorf("%s: tampered bundle verified", name)
		}
	}
}

// A document with "&", "<" or ">" survives transports that HTML-escape JSON
// (Go's encoding/json does): bundles are checked on the ops' canonical form.
func TestBundleSurvivesHTMLEscapingTransports(t *testing.T) {
	log, res := resolveNewDID(t, "Smith & Jones <board>")
	raw, err := base64.RawURLEncoding.DecodeString(res.DocumentMetadata.LedgerProof)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "Smith & Jones <board>") {
		t.Errorf("bundle escaped the op bytes: %s", raw)
	}
	escaped, _ := json.Marshal(struct{ P json.RawMessage }{raw})
	if !strings.Contains(string(escaped), `\u0026`) {
		t.Fatal("encoding/json no longer escapes HTML; the test would not exercise the transport")
	}
	var back struct{ P json.RawMessage }
	_ = json.Unmarshal(escaped, &back)
	if _, err := VerifyBundle(back.P, log.Verifier()); err != nil {
		t.Errorf("HTML-escaped bundle does not verify: %v", err)
	}
}

// resolveNewDID puts a did:credence whose document names name on a fresh
// log and resolves it.
func resolveNewDID(t *testing.T, name string) (*Log, *did.Resolution) {
	t.Helper()
	log, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	upd, rec := edKey(t, 1), edKey(t, 2)
	placeholder := MethodPrefix + SCIDPlaceholder
	create := &Op{V: OpVersion, Type: DIDCreate, Subject: placeholder, Seq: 1, Time: tm(0),
		Doc: testDoc(t, placeholder, name, upd), UpdateKeys: mks(upd), RecoveryKeys: mks(rec)}
	if err := NewCreate(create); err != nil {
		t.Fatal(err)
	}
	if _, err := submit(t, log, sign(t, create, upd)); err != nil {
		t.Fatal(err)
	}
	res, err := DIDMethod{Log: log}.Resolve(context.Background(), mustDID(t, create.Subject), did.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return log, res
}

func mustDID(t *testing.T, s string) did.DID {
	d, err := did.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDIDCredenceCurrentResolution: the Current resolver answers the latest
// version from the cached state — each change at once, the same document as
// the full resolution, no bundle — and leaves versioned resolution to the
// full path.
func TestDIDCredenceCurrentResolution(t *testing.T) {
	ctx := context.Background()
	log, _ := newTestLog(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	upd, rec, upd2 := edKey(t, 1), edKey(t, 2), edKey(t, 3)
	create := newCreate(t, []testKey{upd}, []testKey{rec}, nil)
	if _, err := submit(t, log, create); err != nil {
		t.Fatal(err)
	}
	full := did.NewResolver(did.WithMethod("credence", DIDMethod{Log: log}, 0))
	cur := did.NewResolver(did.WithMethod("credence", DIDMethod{Log: log, Current: true}, 0))
	same := func(wantVersion string, deactivated bool) {
		t.Helper()
		a, err := full.Resolve(ctx, create.Subject, did.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := cur.Resolve(ctx, create.Subject, did.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ja, _ := json.Marshal(a.Document)
		jb, _ := json.Marshal(b.Document)
		if string(ja) != string(jb) || b.DocumentMetadata.VersionID != wantVersion || b.DocumentMetadata.Deactivated != deactivated ||
			b.DocumentMetadata.Created != a.DocumentMetadata.Created || b.DocumentMetadata.Updated != a.DocumentMetadata.Updated {
			t.Fatalf("current resolution %s %+v differs from the full one %s %+v", jb, b.DocumentMetadata, ja, a.DocumentMetadata)
		}
		if b.DocumentMetadata.LedgerProof != "" {
			t.Error("the current resolution carries a bundle")
		}
		if again, err := cur.Resolve(ctx, create.Subject, did.Options{}); err != nil || again.Document != b.Document {
			t.Errorf("a second resolution of version %s decoded the document again (%v)", wantVersion, err)
		}
	}
	same("1", false)
	st, _ := log.State(ctx, create.Subject, 0)
	update := nextOp(t, st, DIDUpdate, 10)
	update.Doc = testDoc(t, create.Subject, "v2", upd2)
	update.UpdateKeys = mks(upd2)
	if _, err := submit(t, log, sign(t, update, upd)); err != nil {
		t.Fatal(err)
	}
	same("2", false)
	st, _ = log.State(ctx, create.Subject, 0)
	if _, err := submit(t, log, sign(t, nextOp(t, st, DIDDeactivate, 20), rec)); err != nil {
		t.Fatal(err)
	}
	same("3", true)
	v1, err := cur.Resolve(ctx, create.Subject, did.Options{VersionID: "1"})
	if err != nil || v1.DocumentMetadata.VersionID != "1" || v1.DocumentMetadata.LedgerProof == "" {
		t.Fatalf("versioned resolution through the Current resolver: %+v, %v", v1, err)
	}
	if _, err := cur.Resolve(ctx, "did:credence:QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", did.Options{}); !errors.Is(err, did.ErrNotFound) {
		t.Fatalf("an unknown DID: %v", err)
	}
}

// TestMetadataHasNoNumbers: DID Core §7.3: every value in DID document
// metadata, at any depth, is a string, map, list, boolean or null. The
// ledger proof has indexes and sizes, so it travels as one base64url string.
func TestMetadataHasNoNumbers(t *testing.T) {
	log, res := resolveNewDID(t, "Texas Medical Board")
	raw, _ := json.Marshal(res.DocumentMetadata)
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var meta any
	if err := dec.Decode(&meta); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case json.Number:
			t.Errorf("%s is the number %s", path, v)
		case map[string]any:
			for k, e := range v {
				walk(path+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(path+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("didDocumentMetadata", meta)
	if _, err := VerifyLedgerProof(res.DocumentMetadata.LedgerProof, log.Verifier()); err != nil {
		t.Errorf("ledgerProof: %v", err)
	}
	if _, err := VerifyLedgerProof("{not base64", log.Verifier()); err == nil {
		t.Error("a ledgerProof that is not base64url verified")
	}
}
