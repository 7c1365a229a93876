package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credence/credence/registry"
	"github.com/credence/credence/vc"
	"github.com/credence/credence/vc/healthcare/synth"
	"github.com/credence/credence/vc/secure"
	"github.com/credence/credence/vc/status"
)

func synthLicense(g *synth.Generator, format string) IssueRequest {
	p := g.Provider()
	for p.License("TX").Expired(time.Now()) {
		p = g.Provider()
	}
	return IssueRequest{Credential: credential("MedicalLicenseCredential", p.LicenseSubject("TX")), Options: IssueOptions{Format: format}}
}

func issueOne(t testing.TB, e *ledgerEnv, tn Tenant, req IssueRequest) *Issued {
	t.Helper()
	out, err := e.svc.Issue(context.Background(), tn.ID, req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return out
}

// listBit reads a bit from the ledger's state of a list.
func listBit(t testing.TB, e *ledgerEnv, url string, i int) bool {
	t.Helper()
	st, err := e.log.State(context.Background(), url, 0)
	if err != nil || st.StatusList == nil {
		t.Fatalf("ledger state of %s: %v %+v", url, err, st)
	}
	return registry.StatusBit(st.StatusList.Bits, i)
}

func TestStatusEntriesAtIssuance(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	g := synth.New(1)
	ctx := context.Background()

	out := issueOne(t, e, tx, synthLicense(g, "di"))
	c := out.Credential.(map[string]any)
	entries, err := status.Entries(vc.Credential(c))
	if err != nil || len(entries) != 2 {
		t.Fatalf("license entries: %v %+v", err, entries)
	}
	for _, en := range entries {
		if !strings.HasPrefix(en.ListCredential, testBaseURL+"/status/tmb/"+en.Purpose+"-") || en.ID != fmt.Sprintf("%s#%d", en.ListCredential, en.Index) {
			t.Errorf("entry %+v", en)
		}
		if listBit(t, e, en.ListCredential, en.Index) {
			t.Errorf("a fresh credential's %s bit is set", en.Purpose)
		}
	}
	if len(out.Record.Status) != 2 {
		t.Errorf("inventory record has status %+v", out.Record.Status)
	}
	if _, err := e.eng.VerifyCredential(ctx, c, e.keys, secure.VerifyOptions{}); err != nil {
		t.Fatalf("credential with status does not verify: %v", err)
	}

	// A non-license type gets none unless asked; asking works; false disables.
	other := IssueRequest{Credential: map[string]any{"@context": []any{vc.ContextV2}, "type": []any{"VerifiableCredential"},
		"credentialSubject": map[string]any{"id": "did:example:123"}}}
	if out := issueOne(t, e, tx, other); out.Record.Status != nil {
		t.Errorf("plain credential got status %+v", out.Record.Status)
	}
	other.Options.CredentialStatus = json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}`)
	if out := issueOne(t, e, tx, other); len(out.Record.Status) != 1 || out.Record.Status[0].Purpose != "revocation" {
		t.Errorf("requested revocation entry: %+v", out.Record.Status)
	}
	lic := synthLicense(g, "jwt")
	lic.Options.CredentialStatus = json.RawMessage(`false`)
	if out := issueOne(t, e, tx, lic); out.Record.Status != nil {
		t.Errorf("credentialStatus:false still got %+v", out.Record.Status)
	}

	for _, bad := range []struct{ opt, field string }{
		{`{"type":"StatusList2021Entry","statusPurpose":"revocation"}`, "/options/credentialStatus/type"},
		{`[{"type":"BitstringStatusListEntry","statusPurpose":"refresh"}]`, "/options/credentialStatus/0/statusPurpose"},
		{`[{"type":"BitstringStatusListEntry","statusPurpose":"revocation"},{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}]`, "/options/credentialStatus/1/statusPurpose"},
		{`"yes"`, "/options/credentialStatus"},
	} {
		req := synthLicense(g, "di")
		req.Options.CredentialStatus = json.RawMessage(bad.opt)
		_, err := e.svc.Issue(ctx, tx.ID, req)
		var rej *Rejection
		if !errors.As(err, &rej) || !rej.Malformed || !slices.ContainsFunc(rej.Fields, func(f vc.FieldError) bool { return f.Field == bad.field }) {
			t.Errorf("options %s: %v", bad.opt, err)
		}
	}
	// A client cannot bring its own status entry.
	req := synthLicense(g, "di")
	req.Credential["credentialStatus"] = map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": "https://evil.example/list"}
	if _, err := e.svc.Issue(ctx, tx.ID, req); err == nil || !strings.Contains(err.Error(), "assigned by the issuer") {
		t.Errorf("client-supplied credentialStatus: %v", err)
	}
}

// TestAllocationIsRandomUniqueAndRollsOver hands out more indexes than a list
// holds: all distinct and not sequential within a list, and the next list is
// opened (and recorded on the ledger) when the first is full.
func TestAllocationIsRandomUniqueAndRollsOver(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	ctx := context.Background()
	seen := map[string]bool{}
	var first []int
	lists := map[string]int{}
	for i := 0; i < status.MinBits+10; i++ {
		ref, err := e.svc.allocate(ctx, tx, status.PurposeRevocation)
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		k := fmt.Sprintf("%s#%d", ref.List, ref.Index)
		if seen[k] {
			t.Fatalf("index %s handed out twice", k)
		}
		seen[k] = true
		lists[ref.List]++
		if len(first) < 1000 {
			first = append(first, ref.Index)
		}
	}
	sequential := 0
	for i := 1; i < len(first); i++ {
		if first[i] == first[i-1]+1 || first[i] == first[i-1]-1 {
			sequential++
		}
	}
	if sequential > 20 {
		t.Errorf("%d of the first 1000 indexes follow their predecessor: not random", sequential)
	}
	var urls []string
	for u, n := range lists {
		urls = append(urls, u)
		id := u[strings.LastIndex(u, "/")+1:]
		if k := listNumber(id, "revocation"); k == 1 && n != status.MinBits || k == 2 && n != 10 || k < 1 || k > 2 {
			t.Errorf("list %s (number %d) handed out %d indexes", u, k, n)
		}
		if len(id) < len("revocation-1-")+12 {
			t.Errorf("list id %s has no unguessable part", id)
		}
	}
	if len(lists) != 2 {
		t.Errorf("allocation per list: %v", lists)
	}
	for _, u := range urls {
		if st, err := e.log.State(ctx, u, 0); err != nil || st.StatusList == nil || st.StatusList.Issuer != tx.DID {
			t.Errorf("list %s on the ledger: %v %+v", u, err, st)
		}
	}
	// A restarted service (new process state, same store) never reuses.
	e2 := New(e.svc.kv, e.dids, e.dids, &fakeTokens{}, e.eng, nil, WithStatusLists(e.log, e.dids, testBaseURL))
	ref, err := e2.allocate(ctx, tx, status.PurposeRevocation)
	if err != nil || seen[fmt.Sprintf("%s#%d", ref.List, ref.Index)] {
		t.Errorf("after restart: %+v %v (reused: %v)", ref, err, seen[fmt.Sprintf("%s#%d", ref.List, ref.Index)])
	}
}

func refOf(t testing.TB, r Record, purpose string) StatusRef {
	t.Helper()
	for _, ref := range r.Status {
		if ref.Purpose == purpose {
			return ref
		}
	}
	t.Fatalf("%s has no %s entry", r.ID, purpose)
	return StatusRef{}
}

func TestRevokeSuspendReinstate(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	other := e.tenant(t, "other", "CA")
	g := synth.New(2)
	ctx := context.Background()
	a := issueOne(t, e, tx, synthLicense(g, "jwt")).Record
	b := issueOne(t, e, tx, synthLicense(g, "di-jcs")).Record
	revA, susB := refOf(t, a, "revocation"), refOf(t, b, "suspension")

	res, err := e.svc.UpdateStatus(ctx, tx.ID, StatusRequest{CredentialID: a.ID, Action: ActionRevoke, Reason: "board order"})
	if err != nil || res.Updated != 1 || len(res.Ops) != 1 || res.Ops[0].Set != 1 {
		t.Fatalf("revoke: %+v %v", res, err)
	}
	if !listBit(t, e, revA.List, revA.Index) {
		t.Fatal("revocation bit not set on the ledger")
	}
	rec, err := e.svc.Record(ctx, tx.ID, a.ID)
	if err != nil || rec.Status[0].Set == nil || len(rec.Events) != 1 || rec.Events[0].Reason != "board order" || rec.Events[0].Seq != res.Ops[0].Seq {
		t.Errorf("record after revoke: %+v %v", rec, err)
	}
	if got := refOf(t, rec, "revocation"); got.Set == nil || !*got.Set {
		t.Errorf("record does not show the revocation bit: %+v", got)
	}

	if _, err := e.svc.UpdateStatus(ctx, tx.ID, StatusRequest{CredentialID: b.ID, Action: ActionSuspend}); err != nil {
		t.Fatal(err)
	}
	if !listBit(t, e, susB.List, susB.Index) {
		t.Fatal("suspension bit not set")
	}
	if _, err := e.svc.UpdateStatus(ctx, tx.ID, StatusRequest{CredentialID: b.ID, Action: ActionReinstate}); err != nil {
		t.Fatal(err)
	}
	if listBit(t, e, susB.List, susB.Index) {
		t.Fatal("suspension bit still set after reinstate")
	}
	if !listBit(t, e, revA.List, revA.Index) {
		t.Fatal("reinstating B cleared A's revocation")
	}

	// Rejected calls change nothing.
	st0, _ := e.log.State(ctx, revA.List, 0)
	for name, req := range map[string]StatusRequest{
		"other tenant's id":   {CredentialID: a.ID, Action: ActionRevoke},
		"unknown id in batch": {CredentialIDs: []string{b.ID, "urn:uuid:nope"}, Action: ActionRevoke},
		"bad action":          {CredentialID: b.ID, Action: "delete"},
		"no ids":              {Action: ActionRevoke},
		"long reason":         {CredentialID: b.ID, Action: ActionRevoke, Reason: strings.Repeat("x", 501)},
	} {
		tenant := tx.ID
		if name == "other tenant's id" {
			tenant = other.ID
		}
		if _, err := e.svc.UpdateStatus(ctx, tenant, req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if st1, _ := e.log.State(ctx, revA.List, 0); st1.Seq != st0.Seq {
		t.Errorf("a rejected call reached the ledger: seq %d -> %d", st0.Seq, st1.Seq)
	}
	// A credential without a suspension entry cannot be suspended.
	plain := issueOne(t, e, tx, IssueRequest{Credential: map[string]any{"@context": []any{vc.ContextV2}, "type": []any{"VerifiableCredential"},
		"credentialSubject": map[string]any{"id": "did:example:1"}}, Options: IssueOptions{CredentialStatus: json.RawMessage(`{"type":"BitstringStatusListEntry","statusPurpose":"revocation"}`)}}).Record
	if _, err := e.svc.UpdateStatus(ctx, tx.ID, StatusRequest{CredentialID: plain.ID, Action: ActionSuspend}); err == nil || !strings.Contains(err.Error(), "no suspension status entry") {
		t.Errorf("suspending without an entry: %v", err)
	}
}

// TestAnotherIssuerCannotChangeAList: the ledger refuses a statuslist op on
// TX's list signed by another issuer's DID, and the service never builds one.
func TestAnotherIssuerCannotChangeAList(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	ca := e.tenant(t, "mbc", "CA")
	ctx := context.Background()
	a := issueOne(t, e, tx, synthLicense(synth.New(3), "jwt")).Record
	ref := refOf(t, a, "revocation")
	st, _ := e.log.State(ctx, ref.List, 0)
	bits := make([]byte, len(st.StatusList.Bits))
	copy(bits, st.StatusList.Bits)
	bits[ref.Index/8] |= 0x80 >> (ref.Index % 8)
	op := registry.NewStatusListOp(registry.StatusListUpdate, ref.List, st.Seq+1, st.Hash, time.Now().UTC().Format(registry.TimeLayout),
		registry.StatusListChange{Purpose: "revocation", Size: st.StatusList.Size, Set: []int{ref.Index}, ListHash: registry.ListHash(bits)})
	if err := e.dids.SignOp(ctx, ca.DID, op); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(op)
	if _, err := e.log.Submit(ctx, raw); !errors.Is(err, registry.ErrUnauthorizedKey) {
		t.Fatalf("CA's op on TX's list: %v", err)
	}
	if listBit(t, e, ref.List, ref.Index) {
		t.Fatal("the bit changed")
	}
}

func TestRenewalRevokesTheOldCredential(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	g := synth.New(4)
	ctx := context.Background()
	old := issueOne(t, e, tx, synthLicense(g, "jwt")).Record
	req := synthLicense(g, "jwt")
	req.Options.Supersedes = old.ID
	out := issueOne(t, e, tx, req)
	if out.Superseded == nil || out.Superseded.Updated != 1 {
		t.Fatalf("superseded: %+v", out.Superseded)
	}
	ref := refOf(t, old, "revocation")
	if !listBit(t, e, ref.List, ref.Index) {
		t.Fatal("the superseded credential is not revoked")
	}
	rec, _ := e.svc.Record(ctx, tx.ID, old.ID)
	if len(rec.Events) != 1 || !strings.Contains(rec.Events[0].Reason, out.Record.ID) {
		t.Errorf("event: %+v", rec.Events)
	}
	req = synthLicense(g, "jwt")
	req.Options.Supersedes = "urn:uuid:unknown"
	if _, err := e.svc.Issue(ctx, tx.ID, req); err == nil {
		t.Error("superseding an unknown credential was accepted")
	}
	// A predecessor that cannot be revoked (no revocation entry) is refused
	// before anything is issued.
	noStatus := synthLicense(g, "jwt")
	noStatus.Options.CredentialStatus = json.RawMessage(`false`)
	plain := issueOne(t, e, tx, noStatus).Record
	before, _, _ := e.svc.Inventory(ctx, tx.ID, Query{Limit: 1000})
	req = synthLicense(g, "jwt")
	req.Options.Supersedes = plain.ID
	if _, err := e.svc.Issue(ctx, tx.ID, req); err == nil || !strings.Contains(err.Error(), "no revocation status entry") {
		t.Errorf("superseding a credential without a revocation entry: %v", err)
	}
	if after, _, _ := e.svc.Inventory(ctx, tx.ID, Query{Limit: 1000}); len(after) != len(before) {
		t.Errorf("a refused renewal was recorded: %d -> %d", len(before), len(after))
	}

	// In a batch: the renewals of a chunk revoke their predecessors in one op.
	var olds []string
	for range 5 {
		olds = append(olds, issueOne(t, e, tx, synthLicense(g, "jwt")).Record.ID)
	}
	i := 0
	next := func() (IssueRequest, int, error) {
		if i == len(olds) {
			return IssueRequest{}, 0, io.EOF
		}
		r := synthLicense(g, "jwt")
		r.Options.Supersedes = olds[i]
		i++
		return r, 0, nil
	}
	st0, _ := e.log.State(ctx, ref.List, 0)
	sum, err := e.svc.IssueBatch(ctx, tx.ID, next, func(r BatchResult) error { return r.Err })
	if err != nil || sum.Issued != 5 {
		t.Fatalf("batch: %+v %v", sum, err)
	}
	if st1, _ := e.log.State(ctx, ref.List, 0); st1.Seq != st0.Seq+1 {
		t.Errorf("5 renewals in one chunk took %d ops, want 1", st1.Seq-st0.Seq)
	}
	for _, id := range olds {
		r, _ := e.svc.Record(ctx, tx.ID, id)
		if s := refOf(t, r, "revocation").Set; s == nil || !*s {
			t.Errorf("%s not revoked by its renewal", id)
		}
	}
}

func TestStatusListCredential(t *testing.T) {
	e := newLedgerEnv(t)
	tx := e.tenant(t, "tmb", "TX")
	ctx := context.Background()
	a := issueOne(t, e, tx, synthLicense(synth.New(5), "jwt")).Record
	ref := refOf(t, a, "revocation")
	id := ref.List[strings.LastIndex(ref.List, "/")+1:]
	doc, err := e.svc.StatusList(ctx, tx.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	check := func(doc *ListDocument, want bool) {
		t.Helper()
		in, err := secure.ParseInput(doc.Credential)
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.eng.VerifyCredential(ctx, in, e.keys, secure.VerifyOptions{})
		if err != nil {
			t.Fatalf("status list credential does not verify: %v", err)
		}
		lc, err := status.ParseListCredential(v.Credential)
		if err != nil || lc.Issuer != tx.DID || lc.ID != ref.List || lc.Purpose != "revocation" {
			t.Fatalf("list credential: %+v %v", lc, err)
		}
		got, _ := lc.List.Get(ref.Index)
		if got != want {
			t.Errorf("bit %d = %v, want %v", ref.Index, got, want)
		}
		st, _ := e.log.State(ctx, ref.List, 0)
		if registry.ListHash(lc.List.Bytes()) != st.StatusList.ListHash || doc.Seq != st.Seq {
			t.Error("served list does not match the ledger")
		}
	}
	check(doc, false)
	again, _ := e.svc.StatusList(ctx, tx.ID, id)
	if string(again.Credential) != string(doc.Credential) {
		t.Error("the list was signed again without a ledger change")
	}
	if _, err := e.svc.UpdateStatus(ctx, tx.ID, StatusRequest{CredentialID: a.ID, Action: ActionRevoke}); err != nil {
		t.Fatal(err)
	}
	after, err := e.svc.StatusList(ctx, tx.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	check(after, true)
	if _, err := e.svc.StatusList(ctx, tx.ID, "revocation-9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown list: %v", err)
	}
	if _, err := e.svc.StatusList(ctx, "nobody", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// BenchmarkBulkRevocation revokes 10,000 credentials in one call and reports
// the time and the number of ledger ops.
func BenchmarkBulkRevocation(b *testing.B) {
	const n = 10000
	for range b.N {
		b.StopTimer()
		e := newLedgerEnv(b)
		tx := e.tenant(b, "tmb", "TX")
		g := synth.New(9)
		ids := make([]string, 0, n)
		i := 0
		next := func() (IssueRequest, int, error) {
			if i == n {
				return IssueRequest{}, 0, io.EOF
			}
			i++
			return synthLicense(g, "jwt"), 0, nil
		}
		_, err := e.svc.IssueBatch(context.Background(), tx.ID, next, func(r BatchResult) error {
			if r.Err != nil {
				return r.Err
			}
			ids = append(ids, r.Issued.Record.ID)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		rec, _ := e.svc.loadRecord(context.Background(), tx.ID, ids[0])
		list := refOf(b, rec, "revocation").List
		st0, _ := e.log.State(context.Background(), list, 0)
		b.StartTimer()
		start := time.Now()
		res, err := e.svc.UpdateStatus(context.Background(), tx.ID, StatusRequest{CredentialIDs: ids, Action: ActionRevoke, Reason: "bulk"})
		el := time.Since(start)
		b.StopTimer()
		if err != nil || res.Updated != n {
			b.Fatalf("%+v %v", res, err)
		}
		st1, _ := e.log.State(context.Background(), list, 0)
		b.ReportMetric(float64(el.Milliseconds()), "ms/10k-revocations")
		b.ReportMetric(float64(st1.Seq-st0.Seq), "ledger-ops")
		b.ReportMetric(float64(len(res.Ops)), "status-ops")
	}
}
