package issuer

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/credence/credence/vc/healthcare/synth"
)

func TestIssueBatch(t *testing.T) {
	e := newEnv(t)
	g := synth.New(1, synth.WithNow(e.now))
	tn := e.tenant(t, TenantInput{Name: "Texas Medical Board", Jurisdictions: []string{"TX"}, Types: []string{"MedicalLicenseCredential"}})
	const n = 600 // more than two chunks
	reqs := make([]IssueRequest, n)
	for i := range reqs {
		p := g.Provider()
		for p.License("TX").Expired(e.now) {
			p = g.Provider()
		}
		s := p.LicenseSubject("TX")
		reqs[i] = IssueRequest{Credential: credential("MedicalLicenseCredential", s), Options: IssueOptions{Format: "jwt"}}
		switch i {
		case 7:
			s["npi"] = "1234567890" // bad check digit
		case 300:
			reqs[i].Options.CredentialID = "urn:uuid:11111111-1111-4111-8111-111111111111"
		case 301:
			reqs[i].Options.CredentialID = "urn:uuid:11111111-1111-4111-8111-111111111111" // repeated
		}
	}
	i := 0
	next := func() (IssueRequest, int, error) {
		if i == len(reqs) {
			return IssueRequest{}, 0, io.EOF
		}
		i++
		return reqs[i-1], 0, nil
	}
	var got []BatchResult
	sum, err := e.svc.IssueBatch(context.Background(), tn.ID, next, func(r BatchResult) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Err != nil && r.Index != 7 && r.Index != 301 {
			t.Log(r.Index, r.Err)
			break
		}
	}
	if sum.Total != n || sum.Failed != 2 || sum.Issued != n-2 || len(got) != n {
		t.Fatalf("summary %+v, %d results", sum, len(got))
	}
	for i, r := range got {
		if r.Index != i {
			t.Fatalf("result %d has index %d: out of order", i, r.Index)
		}
		if (r.Err != nil) != (i == 7 || i == 301) {
			t.Errorf("item %d: err %v", i, r.Err)
		}
	}
	e.verify(t, got[599].Issued.Credential)
	recs, next2, err := e.svc.Inventory(context.Background(), tn.ID, Query{Limit: 1000})
	if err != nil || len(recs) != n-2 || next2 != "" {
		t.Fatalf("inventory: %d records, next %q, %v", len(recs), next2, err)
	}
	page, cursor, _ := e.svc.Inventory(context.Background(), tn.ID, Query{Limit: 250})
	rest, _, _ := e.svc.Inventory(context.Background(), tn.ID, Query{Limit: 1000, After: cursor})
	if len(page) != 250 || len(rest) != n-2-250 {
		t.Errorf("paging: %d then %d", len(page), len(rest))
	}
	if r, err := e.svc.Record(context.Background(), tn.ID, "urn:uuid:11111111-1111-4111-8111-111111111111"); err != nil || r.Format != "jwt" {
		t.Errorf("record %+v %v", r, err)
	}
	stop := fmt.Errorf("client went away")
	i = 0
	_, err = e.svc.IssueBatch(context.Background(), tn.ID, next, func(BatchResult) error { return stop })
	if err != stop {
		t.Errorf("an emit error must stop the batch: %v", err)
	}
}
